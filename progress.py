"""Progress of a long run of similar steps (pages checked, objects uploaded), on stderr."""
from __future__ import annotations

import sys

import click


class Progress:
    """A bar on a terminal; a line every 10 % in CI logs, so they stay short."""

    def __init__(self, verb: str) -> None:
        self.verb = verb
        self.tty = sys.stderr.isatty()
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        share = done / total if total else 1
        if self.tty:
            bar = "#" * int(share * 30)
            click.echo(f"\r[{bar:<30}] {done}/{total}", nl=False, err=True)
            if done == total:
                click.echo("", err=True)
        elif int(share * 10) != self.shown:
            self.shown = int(share * 10)
            click.echo(f"{self.verb} {done}/{total}", err=True)
