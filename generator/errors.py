"""Diagnostics collected across the whole build, so one run reports every problem.

A stage never raises on bad input: it records a `Diagnostic` and carries on with what it can,
and the build refuses to write output when any error was recorded.
"""
from __future__ import annotations

import sys
import typing
from dataclasses import dataclass, field
from typing import Literal

import click

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """One problem, located as precisely as the input allows (file, then line)."""

    path: str
    line: int | None
    message: str
    level: Level = "error"
    column: int | None = None
    rule: str | None = None  # compliance findings: `file:line:col  rule-id  message`

    def __str__(self) -> str:
        if self.rule:
            return f"{self.path}:{self.line}:{self.column or 1}  {self.rule}  {self.message}"
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


@dataclass
class Diagnostics:
    """An append-only list of diagnostics shared by the stages of one build."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, path: str, line: int | None, message: str) -> None:
        self.items.append(Diagnostic(path, line, message, "error"))

    def warning(self, path: str, line: int | None, message: str) -> None:
        self.items.append(Diagnostic(path, line, message, "warning"))

    def extend(self, other: list[Diagnostic]) -> None:
        self.items.extend(other)

    def _level(self, level: Level) -> list[Diagnostic]:
        """Sorted by file and line, each distinct problem once (a broken layout fails every page)."""
        unique = {(d.path, d.line, d.column, d.message): d for d in self.items if d.level == level}
        return sorted(unique.values(), key=lambda d: (d.path, d.line or 0, d.column or 0, d.message))

    @property
    def errors(self) -> list[Diagnostic]:
        return self._level("error")

    @property
    def warnings(self) -> list[Diagnostic]:
        return self._level("warning")


class BuildError(click.ClickException):
    """The build found errors in the input; carries all of them for one report."""

    exit_code = 1

    def __init__(self, errors: list[Diagnostic], warnings: list[Diagnostic] | None = None, summary: str | None = None) -> None:
        """`summary`: the last line, when not a build's (click's `message` is final once set)."""
        self.errors = errors
        self.warnings = warnings or []
        noun = "error" if len(errors) == 1 else "errors"
        super().__init__(summary or f"build failed with {len(errors)} {noun}")

    def format_message(self) -> str:
        return "\n".join([*(f"warning: {w}" for w in self.warnings), *(f"error: {e}" for e in self.errors), self.message])

    def show(self, file: typing.IO[str] | None = None) -> None:
        click.echo(self.format_message(), file=file or sys.stderr)
