"""What text the server accepts: valid Unicode a database can store, and names counted as people see them.

A JSON string may spell a lone surrogate (`"\\ud800"`), which no UTF-8 text can hold, or a NUL, which
PostgreSQL text cannot hold: `refusal` finds them anywhere in a request body, with their location.
Names (nicknames, team names) are measured in grapheme clusters (what a person sees as one character,
`regex`'s `\\X`), and a cluster may not pile up combining marks.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

import regex

MAX_DEPTH = 32  # nesting of arrays and objects in a request body
MAX_CLUSTER = 4  # code points in one grapheme cluster: a letter and a few marks, a flag, a keycap, a skin tone
# control, format (e.g. bidirectional overrides, zero-width), surrogate, private-use, line/paragraph separators.
# Unassigned code points pass: they may be characters of a newer Unicode than this Python's (new emoji).
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_GRAPHEME = regex.compile(r"\X")


def _refused_ranges() -> list[tuple[int, int]]:
    """The refused code points of the Basic Multilingual Plane as ranges, from `unicodedata`. Beyond it the
    format characters are emoji tags and notation controls, and private use shows as a box: all harmless."""
    ranges: list[list[int]] = []
    for code in range(0x10000):
        if unicodedata.category(chr(code)) in REFUSED_CATEGORIES:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return [(a, b) for a, b in ranges]


_RANGES = _refused_ranges()
# One character class for the check here and the pattern of the OpenAPI document (ECMA-262 syntax). Surrogates
# are left out of the pattern: UTF-8 JSON cannot hold them (`refusal` finds escaped ones).
_CLASS = "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}"
                 for a, b in ((max(a, 0xE000) if 0xD800 <= a < 0xE000 else a, b) for a, b in _RANGES))
_REFUSED_CHAR = regex.compile(f"[{_CLASS}\\ud800-\\udfff]")


_UNSTORABLE = re.compile("[\ud800-\udfff\0]")


def bad_char(text: str) -> str | None:
    """Why `text` cannot be stored (a lone surrogate or NUL), or None."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\0":
        return "the NUL control character U+0000 is not allowed"
    return f"lone surrogate U+{ord(found.group()):04X} is not text"


def refusal(value: object, where: tuple[str | int, ...] = (), depth: int = 0) -> tuple[tuple[str | int, ...], str] | None:
    """(location, reason) of the first string or key in parsed JSON that is not storable text, or of
    nesting deeper than `MAX_DEPTH`; None when all is well."""
    if isinstance(value, str):
        reason = bad_char(value)
        return (where, reason) if reason else None
    if isinstance(value, (dict, list)):
        if depth >= MAX_DEPTH:
            return where, f"nested deeper than {MAX_DEPTH} levels"
        for key, item in _children(value):
            if isinstance(key, str) and (reason := bad_char(key)):
                return where, f"a key: {reason}"  # not echoed: it cannot be sent back as text either
            found = refusal(item, (*where, key), depth + 1)
            if found:
                return found
    return None


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(rb"[^\[\]{}]")


def may_refuse(body: bytes) -> bool:
    """Whether `refusal` can find anything in this valid JSON text: only `\\u` escapes can make a lone
    surrogate or NUL, and the nesting is counted from the brackets outside strings. Lets a good body skip
    the walk of every value (most of a request's checking time for a batch of 50 events)."""
    if b"\\u" in body:
        return True
    brackets = _NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", body))
    return max(accumulate(1 if b in b"[{" else -1 for b in brackets), default=0) > MAX_DEPTH


def _children(value: dict[str, object] | list[object]) -> Iterator[tuple[str | int, object]]:
    return iter(value.items()) if isinstance(value, dict) else enumerate(value)


def clusters(text: str) -> list[str]:
    return _GRAPHEME.findall(text)


def name_schema(longest: int, example: str) -> dict[str, Any]:
    """The OpenAPI description of a name of at most `longest` clusters (as many code points always fit): one
    pattern holds the length too, as generators drop a pattern combined with length keywords. The example is
    also what a generator sends where it cannot make a string of the pattern."""
    return {"pattern": f"^(?=[^{_CLASS}]*[^\\s{_CLASS}])[^{_CLASS}]{{1,{longest}}}$", "examples": [example]}


def clean_name(value: str, longest: int) -> str:
    """A name as stored: NFC, trimmed, 1-`longest` grapheme clusters of visible text; ValueError saying why not."""
    value = unicodedata.normalize("NFC", value).strip()
    seen = clusters(value)
    if not 1 <= len(seen) <= longest:
        raise ValueError(f"must be 1-{longest} characters after trimming, got {len(seen)}")
    bad = _REFUSED_CHAR.search(value)
    if bad is not None:
        raise ValueError(f"must not contain control or invisible characters (U+{ord(bad.group()):04X})")
    heavy = next((c for c in seen if len(c) > MAX_CLUSTER), None)
    if heavy is not None:
        raise ValueError(f"a character may carry at most {MAX_CLUSTER - 1} marks, got {len(heavy) - 1} on {heavy[0]!r}")
    return value
