"""The Markdown dialect against the CommonMark 0.31.2 spec examples (spec by John MacFarlane,
CC BY-SA 4.0; the examples are in tests/data/commonmark-0.31.2.json).

HTML is compared after the spec's own kind of normalisation: attributes sorted, void elements
without a slash, whitespace collapsed outside <pre> and dropped next to block-level tags.
"""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from h5press.generator.markdown import PLUGINS, parser

EXAMPLES = json.loads((Path(__file__).parent / "data" / "commonmark-0.31.2.json").read_text("utf-8"))
BLOCK = set("article aside blockquote body dd div dl dt fieldset figure footer form h1 h2 h3 h4 h5 h6 head header hr "
            "html li link meta ol p pre section table tbody td tfoot th thead title tr ul".split())


class _Normal(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.pre += tag == "pre"
        self.tag(tag, "".join(f' {k}="{v or ""}"' for k, v in sorted(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)  # <br /> is <br>

    def handle_endtag(self, tag: str) -> None:
        self.pre -= tag == "pre"
        self.tag(tag, "", "/")

    def tag(self, name: str, attrs: str, slash: str = "") -> None:
        if name in BLOCK and self.out and not self.pre:
            self.out[-1] = self.out[-1].rstrip() if not self.out[-1].startswith("<") else self.out[-1]
        self.out.append(f"<{slash}{name}{attrs}>")

    def handle_data(self, data: str) -> None:
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
            if self.out and self.out[-1].startswith("<") and self.out[-1].strip("</>").split(" ")[0] in BLOCK:
                data = data.lstrip()
        self.out.append(data.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"))


def normal(html: str) -> str:
    parser_ = _Normal()
    parser_.feed(html)
    parser_.close()
    return "".join(parser_.out).strip()


def passed(md) -> list[int]:
    return [e["example"] for e in EXAMPLES if normal(md.render(e["markdown"])) == normal(e["html"])]


def test_the_default_dialect_follows_the_spec(capsys):
    ok = passed(parser())
    with capsys.disabled():
        print(f"\nCommonMark 0.31.2 spec: {len(ok)} of {len(EXAMPLES)} examples as the spec renders them (default dialect)")
    assert len(EXAMPLES) == 652 and len(ok) >= 649


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_each_plugin_changes_only_its_own_syntax(name, capsys):
    ok = passed(parser([(name, {})]))
    with capsys.disabled():
        print(f"\nCommonMark 0.31.2 spec with {name}: {len(ok)} of {len(EXAMPLES)}")
    assert len(ok) >= 640
