"""Share codes carried by events: the share component puts the sharer's device code in the shared URL
(`ref=<code>`, in a `share` event's `payload.url`); the page opened from that link sends it back
(`payload.ref` of its `view` event). Ingestion and the migration that fills `refs` read them alike.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

CODE = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


def ref_of(type_: str, payload: dict[str, Any]) -> tuple[str, str] | None:
    """(`share` or `view`, code) for an event that carries a share code, else None."""
    code: object = None
    if type_ == "share" and isinstance(payload.get("url"), str) and len(payload["url"]) <= 2048:
        try:
            code = (parse_qs(urlsplit(payload["url"]).query).get("ref") or [None])[0]
        except ValueError:  # not a URL
            return None
    elif type_ == "view":
        code = payload.get("ref")
    else:
        return None
    return (type_, code) if isinstance(code, str) and CODE.match(code) else None

