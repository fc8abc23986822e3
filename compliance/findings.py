"""A finding: one rule broken at one place, with the offending text and what to write instead."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..generator.errors import Diagnostic, Level


@dataclass(frozen=True)
class Finding:
    source: str
    line: int
    col: int
    rule: str
    level: Level
    message: str
    text: str = ""  # the offending text, as the visitor reads it
    suggest: str = ""  # what to write instead
    context: str = ""  # the sentence or value the text was found in (waivers match against it)

    def detail(self) -> str:
        shown = f"「{self.text}」 " if self.text else ""
        return f"{shown}{self.message}" + (f"; instead: {self.suggest}" if self.suggest else "")

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.col}  {self.rule}  {self.detail()}"

    def diagnostic(self) -> Diagnostic:
        return Diagnostic(self.source, self.line, self.detail(), self.level, self.col, self.rule)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
