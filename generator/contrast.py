"""Readable theme colours: every text/background pairing the stylesheets make, measured with the
WCAG 2 contrast ratio against the campaign's `theme:` before anything is built.

The pairings are data next to the SCSS that makes them: `assets/scss/contrast.yaml` for the page
chrome and prose, `layouts/components/<name>/contrast.yaml` for what a component adds. A pairing
names its colours by theme key (`primary`, `surface`, …), by `on-<key>` (the text shade drawn on a
fill of that key) or as a fixed `#hex`, and says what it is: `text` (4.5:1), `large` text (3:1;
4.5:1 in elder mode, whose readers need the margin) or a `control`'s edge or mark (3:1).

Colours a site chooses for text are never adjusted silently: an unreadable one is a build error
giving the measured ratio and the nearest shade (same hue and saturation) that passes. The text
on a coloured fill (buttons, the top bar, badges) is derived instead: white where white is
readable, else the theme's text colour, else black; no choice of fill can make it unreadable.
"""
from __future__ import annotations

import colorsys
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from .errors import Diagnostics

Use = Literal["text", "large", "control"]
REQUIRED: dict[Use, float] = {"text": 4.5, "large": 3.0, "control": 3.0}
ELDER = {"text": "#000000", "muted": "#222222"}  # what `.h5-elder` sets (assets/scss/_base.scss)
FILLS = ("primary", "accent", "muted")  # keys that get a derived `--h5-on-<key>` text shade
WHITE = "#ffffff"
HEX = re.compile(r"#(?:[0-9a-f]{3}|[0-9a-f]{6})")


@dataclass(frozen=True)
class Pairing:
    fg: str  # theme key, on-<key> or #hex
    bg: str  # theme key or #hex
    use: Use
    where: str  # what draws it, for the message


@dataclass(frozen=True)
class Problem:
    """An unreadable theme colour: the one to change, its worst ratio and what would pass."""

    key: str  # the theme key to change
    ratio: float  # the worst measured ratio among the pairings it fails
    required: float
    suggestion: str | None  # the nearest passing shade, None when no shade of its hue passes
    where: str  # the pairing that measured `ratio`


def rgb(colour: str) -> tuple[float, float, float]:
    """#rgb or #rrggbb as three channels in 0..1."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    r, g, b = (int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return r, g, b


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours, 1..21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def on_colour(fill: str, text: str) -> str:
    """The text shade drawn on `fill`: white if readable, else the theme's text colour, else black."""
    for candidate in (WHITE, text):
        if ratio(candidate, fill) >= REQUIRED["text"]:
            return candidate
    return max(("#000000", WHITE), key=lambda c: ratio(c, fill))


def palette(theme: dict[str, str], elder: bool) -> dict[str, str]:
    """Every colour a pairing can name: the theme (with elder mode's darker text) and its on-colours."""
    colours = {**theme, **(ELDER if elder else {})}
    return {**colours, **{f"on-{key}": on_colour(theme[key], theme["text"]) for key in FILLS}}


def required(pairing: Pairing, elder: bool) -> float:
    return REQUIRED["text"] if elder and pairing.use == "large" else REQUIRED[pairing.use]


def blamed(pairing: Pairing, theme: dict[str, str], elder: bool) -> str | None:
    """The theme key a failing pairing asks the site to change: the text colour when the site chose
    it, else the background; None when neither is the site's (a fixed pairing). In elder mode the
    text and muted colours are elder mode's, not the site's."""
    for name in (pairing.fg, pairing.bg):
        if name in theme and not (elder and name in ELDER):
            return name
    return None


def failures(theme: dict[str, str], elder: bool, pairings: list[Pairing]) -> dict[str, list[tuple[float, Pairing]]]:
    """The failing pairings by the theme key each blames, with their measured ratios."""
    colours = palette(theme, elder)
    failing: dict[str, list[tuple[float, Pairing]]] = {}
    for pairing in pairings:
        measured = ratio(_value(pairing.fg, colours), _value(pairing.bg, colours))
        key = blamed(pairing, theme, elder)
        if key and measured < required(pairing, elder):
            failing.setdefault(key, []).append((measured, pairing))
    return failing


def check(theme: dict[str, str], elder: bool, pairings: list[Pairing]) -> list[Problem]:
    """Each theme key that fails a pairing, once, with its worst ratio and the nearest passing shade."""
    problems = []
    for key, fails in failures(theme, elder, pairings).items():
        worst, pairing = min(fails, key=lambda f: f[0])
        problems.append(Problem(key, round(worst, 2), required(pairing, elder),
                                nearest(key, theme, elder, pairings), pairing.where))
    return problems


def nearest(key: str, theme: dict[str, str], elder: bool, pairings: list[Pairing]) -> str | None:
    """The shade of `theme[key]` closest in lightness that passes every pairing the key is blamed
    for, and breaks none of its other pairings (a darker background must keep the links readable)."""
    involved = [p for p in pairings if key in (p.fg, p.bg)]
    others = {p for fails in failures(theme, elder, involved).values() for _, p in fails if blamed(p, theme, elder) != key}
    h, lightness, s = colorsys.rgb_to_hls(*rgb(theme[key]))
    for step in range(1, 501):
        for candidate_l in (lightness - step / 500, lightness + step / 500):
            if not 0 <= candidate_l <= 1:
                continue
            candidate = "#" + "".join(f"{round(c * 255):02x}" for c in colorsys.hls_to_rgb(h, candidate_l, s))
            after = failures({**theme, key: candidate}, elder, involved)
            if {p for fails in after.values() for _, p in fails} <= others:
                return candidate
    return None


def _value(name: str, colours: dict[str, str]) -> str:
    return name if name.startswith("#") else colours[name]


def read_pairings(path: Path, keys: tuple[str, ...]) -> list[Pairing]:
    """The pairings listed in one contrast.yaml (a list of {fg, bg, use, where}); `keys` are the
    theme's colour keys. A malformed file is the theme developer's error: ValueError naming it."""
    names = {*keys, *(f"on-{key}" for key in FILLS)}
    pairings = []
    for i, item in enumerate(yaml.safe_load(path.read_text("utf-8")) or []):
        try:
            pairing = Pairing(str(item["fg"]), str(item["bg"]), item["use"], str(item["where"]))
        except (KeyError, TypeError):
            raise ValueError(f"{path}: item {i + 1}: expected a mapping with fg, bg, use and where") from None
        for colour in (pairing.fg, pairing.bg):
            if colour not in names and not HEX.fullmatch(colour):
                raise ValueError(f'{path}: item {i + 1}: "{colour}" is neither a theme key, on-<key> nor a #hex colour')
        if pairing.use not in REQUIRED:
            raise ValueError(f'{path}: item {i + 1}: use must be one of {", ".join(REQUIRED)}, got "{pairing.use}"')
        pairings.append(pairing)
    return pairings


def theme_pairings(root: Path, paths: list[Path], keys: tuple[str, ...], report: Diagnostics) -> list[Pairing]:
    """The pairings of the theme and the build's components; a malformed file is an error at its path."""
    pairings: list[Pairing] = []
    for path in paths:
        try:
            pairings += read_pairings(path, keys)
        except (ValueError, yaml.YAMLError) as exc:
            shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else f"(theme) {path}"
            report.error(shown, None, f"contrast pairings: {str(exc).removeprefix(f'{path}: ')}")
    return pairings


def report_campaign(source: str, line_of: Callable[[tuple[str, ...]], int | None], colours: dict[str, str],
                    elder: bool, pairings: list[Pairing], report: Diagnostics) -> None:
    """An error at the campaign.yaml line of each unreadable theme colour."""
    mode = " in elder mode" if elder else ""
    for problem in check(colours, elder, pairings):
        fix = (f'; the nearest shade that passes is "{problem.suggestion}"' if problem.suggestion
               else "; no shade of this hue passes: choose another colour")
        report.error(source, line_of(("theme", problem.key)) or line_of(("theme",)),
                     f'theme.{problem.key}: "{colours[problem.key]}" is unreadable{mode} ({problem.where}): '
                     f"contrast {problem.ratio:.2f}:1, at least {problem.required:g}:1 needed{fix}")
