"""Theme colours are readable: every pairing the stylesheets make meets WCAG 2 (generator/contrast.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from h5fixtures import CAMPAIGN_YAML, build, run
from h5press.generator.assets import THEME_DIR
from h5press.generator.config import Theme
from h5press.generator.contrast import (
    REQUIRED,
    Pairing,
    check,
    failures,
    on_colour,
    palette,
    ratio,
    read_pairings,
)

KEYS = tuple(Theme.model_fields)
PAIRING_FILES = [THEME_DIR / "assets/scss/contrast.yaml", *sorted((THEME_DIR / "layouts/components").glob("*/contrast.yaml"))]
GREEN = {**Theme().model_dump(), "primary": "#1a9e5f", "accent": "#f5a623", "background": "#f4f8f5", "text": "#1f2a24"}


def every_pairing() -> list[Pairing]:
    return [p for path in PAIRING_FILES for p in read_pairings(path, KEYS)]


def test_ratio_is_wcag_2():
    assert ratio("#000000", "#ffffff") == pytest.approx(21)
    assert ratio("#fff", "#ffffff") == pytest.approx(1)
    assert round(ratio("#1a9e5f", "#ffffff"), 2) == 3.44 and round(ratio("#15824d", "#ffffff"), 2) == 4.85
    assert round(ratio("#767676", "#ffffff"), 2) == 4.54  # the well-known lightest grey that passes on white


def test_text_on_a_fill_is_derived_readable():
    assert on_colour("#15824d", "#1a1a1a") == "#ffffff"
    assert on_colour("#f5a623", "#1f2a24") == "#1f2a24"  # white on orange is 2:1: the theme's text instead
    assert on_colour("#808080", "#777777") == "#000000"  # neither white nor a grey text reads: black
    for fill in ("#f5a623", "#ffeb3b", "#808080", "#0000ff", "#ff0000"):
        assert ratio(on_colour(fill, "#999999"), fill) >= 4.5


def test_the_old_green_is_rejected_with_its_ratio_and_a_passing_shade():
    (problem,) = check(GREEN, False, every_pairing())
    assert (problem.key, problem.ratio, problem.required) == ("primary", 3.21, 4.5)
    assert problem.suggestion and not failures({**GREEN, "primary": problem.suggestion}, False, every_pairing())
    assert abs(ratio(problem.suggestion, "#f4f8f5") - 4.5) < 0.1  # the nearest shade, not black
    assert not check({**GREEN, "primary": "#15824d"}, False, every_pairing())


def test_elder_mode_holds_large_text_to_the_text_ratio_and_blames_the_background():
    large = [Pairing("primary", "surface", "large", "a big figure")]
    theme = {**Theme().model_dump(), "primary": "#3c9c3c"}  # 3.6:1 on white
    assert not check(theme, False, large)
    (problem,) = check(theme, True, large)
    assert problem.required == REQUIRED["text"] and problem.key == "primary"
    # elder mode draws text in #000: on a dark background it is the background that must change
    dark = {**Theme().model_dump(), "background": "#333333"}
    (problem,) = check(dark, True, [Pairing("text", "background", "text", "body text")])
    assert problem.key == "background" and problem.suggestion and ratio("#000000", problem.suggestion) >= 4.5
    assert palette(dark, True)["text"] == "#000000"


def test_every_pairing_file_is_valid_and_the_fixed_pairings_pass():
    pairings = every_pairing()
    assert len(PAIRING_FILES) > 5 and pairings
    fixed = [p for p in pairings if p.fg.startswith("#") and p.bg.startswith("#")]
    for elder in (False, True):
        for p in fixed:
            assert ratio(p.fg, p.bg) >= (4.5 if elder and p.use == "large" else REQUIRED[p.use]), p


def test_the_default_theme_and_the_demo_themes_pass_in_both_modes():
    import yaml

    repo = Path(__file__).resolve().parent.parent
    themes = [Theme().model_dump()] + [Theme(**(yaml.safe_load(p.read_text())["theme"])).model_dump()
                                       for p in sorted((repo / "content").glob("*/campaign.yaml"))]
    for theme in themes:
        for elder in (False, True):
            assert check(theme, elder, every_pairing()) == [], theme


def test_build_rejects_an_unreadable_theme_at_its_line(make_project):
    campaign = CAMPAIGN_YAML.replace('primary: "#15824d"', 'primary: "#1a9e5f"\n  muted: "#aaaaaa"') + "elder_mode: true\n"
    root = make_project({"content/demo/campaign.yaml": campaign})
    result = build(root)
    assert result.exit_code == 1 and not (root / "dist").exists()
    assert 'content/demo/campaign.yaml:6: theme.primary: "#1a9e5f" is unreadable in elder mode' in result.output
    assert "contrast 3.2" in result.output and "at least 4.5:1 needed; the nearest shade that passes is" in result.output
    assert "theme.muted" not in result.output  # elder mode draws secondary text in #222, whatever the theme says


def test_lint_reports_an_unreadable_theme_as_the_build_does(make_project):
    campaign = CAMPAIGN_YAML.replace('primary: "#15824d"', 'primary: "#1a9e5f"')
    root = make_project({"content/demo/campaign.yaml": campaign})
    result = run("lint", "--project", str(root))
    assert result.exit_code == 1
    assert 'content/demo/campaign.yaml:6: theme.primary: "#1a9e5f" is unreadable' in result.output
    assert run("lint", "--project", str(make_project(name="fine"))).exit_code == 0


def test_build_reports_a_malformed_pairing_file(make_project):
    root = make_project({"assets/scss/contrast.yaml": "- {fg: primry, bg: surface, use: text, where: links}\n"})
    result = build(root)
    assert result.exit_code == 1
    assert 'assets/scss/contrast.yaml: contrast pairings: item 1: "primry" is neither a theme key, on-<key> nor a #hex colour' in result.output


def test_a_suggested_background_keeps_the_pairings_that_passed():
    pairings = every_pairing()
    for background in ("#c8c8c8", "#b0b8c0", "#d0a8a0", "#9aa0a8"):
        theme = {**Theme().model_dump(), "background": background, "primary": "#1f4fa0", "muted": "#404040"}
        problems = {p.key: p for p in check(theme, False, pairings)}
        assert "background" in problems, background  # the fixed reds of budget and survey fail on it
        fixed = {**theme, "background": problems["background"].suggestion}
        assert not failures(fixed, False, pairings), (background, fixed["background"])


def test_no_suggestion_that_would_break_another_pairing():
    pairings = [Pairing("#ffffff", "surface", "text", "a white label on a card"), Pairing("text", "surface", "text", "card text")]
    theme = {**Theme().model_dump(), "surface": "#999999", "text": "#222222"}  # card text passes at 5.6:1
    (problem,) = check(theme, False, pairings)
    # white needs a surface darker than #767676, where the card text would fall under 4.5:1
    assert problem.key == "surface" and problem.suggestion is None
