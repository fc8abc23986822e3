"""A/B experiments: campaign.yaml's `experiments`, `::: variant` blocks in pages, and what the build
writes for them (the head script, the CSS that shows one variant)."""
from __future__ import annotations

import datetime as dt
import re

from h5fixtures import build, one_page_site
from h5press.generator.config import CampaignConfig, client_experiments, references
from h5press.generator.errors import Diagnostics
from h5press.generator.schema import validate
from h5press.generator.yamldoc import load_yaml

CAMPAIGN = "title: t\nstart: 2020-01-01\nend: 2099-12-31\npoints: {actions: {quiz: {points: 10}}}\nexperiments:\n  - {id: hero, variants: {a: 50, b: 50}}\n"


def config_errors(text: str) -> list[str]:
    report = Diagnostics()
    validate(CampaignConfig, load_yaml(text), "x.yaml", report)
    return [str(d) for d in report.errors]


def test_experiment_config_errors_name_their_line():
    assert config_errors("title: t\nexperiments:\n  - id: hero\n    variants: {a: 100}\n") == [
        "x.yaml:4: experiments[0].variants: dictionary should have at least 2 items after validation, not 1 (got dict)"]
    assert config_errors("title: t\nexperiments:\n  - {id: hero, variants: {a: 0, b: 0}}\n") == [
        "x.yaml:3: experiments[0].variants: at least one variant needs a weight above 0"]
    assert config_errors("title: t\nexperiments:\n  - {id: Hero, variants: {a: 1, b: 1}}\n")[0].startswith(
        'x.yaml:3: experiments[0].id: "Hero" is not a valid id')
    assert config_errors("title: t\nexperiments:\n  - {id: hero, variant: {a: 1, b: 1}}\n")[0] == (
        'x.yaml:3: experiments[0].variant: unknown key "variant" (did you mean "variants"?)')


def test_duplicate_experiments_and_a_window_that_ends_before_it_starts():
    cfg = CampaignConfig.model_validate({"title": "t", "experiments": [
        {"id": "hero", "variants": {"a": 1, "b": 1}, "start": dt.date(2026, 12, 10), "end": dt.date(2026, 12, 1)},
        {"id": "hero", "variants": {"a": 1, "b": 1}}]})
    assert references(cfg, "Asia/Shanghai") == [
        (("experiments", 1, "id"), 'duplicate id "hero"'),
        (("experiments", 0, "end"), "the experiment ends (2026-12-02T00:00:00+08:00) before it starts "
                                    "(2026-12-10T00:00:00+08:00)")]


def test_an_experiment_runs_in_the_campaign_window_unless_it_has_its_own():
    cfg = CampaignConfig.model_validate({"title": "t", "start": dt.date(2026, 11, 1), "end": dt.date(2026, 12, 31), "experiments": [
        {"id": "hero", "variants": {"a": 1, "b": 3}}, {"id": "cta", "variants": {"x": 1, "y": 1}, "start": dt.date(2026, 12, 1)}]})
    assert client_experiments(cfg, "Asia/Shanghai") == [
        {"id": "hero", "variants": [["a", 1], ["b", 3]], "start": "2026-11-01T00:00:00+08:00",
         "end": "2027-01-01T00:00:00+08:00"},
        {"id": "cta", "variants": [["x", 1], ["y", 1]], "start": "2026-12-01T00:00:00+08:00",
         "end": "2027-01-01T00:00:00+08:00"}]


def test_variant_blocks_wrap_markdown_and_components_and_are_hidden_by_css(tmp_path):
    body = ("::: variant hero a\n文案 **A**\n:::\n\n::: variant hero b\n文案 B\n\n::: quiz q-b\nquestions:\n"
            "  - q: 一？\n    options: [是, 否]\n    answer: 1\n:::\n\n还是 B\n:::\n\n之后\n")
    root = one_page_site(tmp_path, body, CAMPAIGN)
    result = build(root)
    assert result.exit_code == 0, result.output
    html = (root / "dist/c/index.html").read_text()
    a = re.search(r"<div class=h5-variant data-variant=hero:a>(.*?)</div>", html)
    assert a and a.group(1) == "<p>文案 <strong>A</strong></p>"
    b_start = html.index("data-variant=hero:b>")
    assert b_start < html.index('data-h5c=quiz') < html.index("<p>还是 B</p>") < html.index("<p>之后</p>")
    style = re.search(r"<style>(.*?)</style>", html).group(1)  # type: ignore[union-attr]
    assert style == ("html[data-v-hero]:not([data-v-hero=a]) [data-variant~=hero\\:a],"
                     "html:not([data-v-hero=b]) [data-variant~=hero\\:b]{display:none}")
    assert "data-v-" in html and "sha256-" in html  # the head script, allowed by its CSP hash


def test_variant_blocks_must_name_an_experiment_and_variant_of_the_campaign(tmp_path):
    body = "::: variant hreo a\nx\n:::\n\n::: variant hero c\ny\n:::\n\n::: variant hero b\nnever closed\n"
    result = build(one_page_site(tmp_path, body, CAMPAIGN))
    assert result.exit_code == 1
    assert 'index.md:5: variant block: no experiment "hreo" in campaign.yaml (did you mean "hero"?); ' \
           "experiments: hero" in result.output
    assert 'index.md:9: variant block: experiment "hero" has no variant "c"; variants: a, b' in result.output
    assert 'index.md:13: "::: variant hero b" is not closed by a ":::" line' in result.output


def test_pages_without_experiments_have_no_head_script_and_no_variant_css(tmp_path):
    root = one_page_site(tmp_path, "正文\n")
    assert build(root).exit_code == 0
    html = (root / "dist/c/index.html").read_text()
    assert "<style>" not in html and "<script>" not in html and "sha256-" not in html
