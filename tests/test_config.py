"""Site and campaign config: typed validation with file:line errors, windows, references."""
from __future__ import annotations

import datetime as dt

from h5press.generator.config import CampaignConfig, SiteConfig, references, window
from h5press.generator.errors import Diagnostics
from h5press.generator.schema import validate
from h5press.generator.yamldoc import load_yaml


def check(model, text: str):
    report = Diagnostics()
    result = validate(model, load_yaml(text), "x.yaml", report)
    return result, [str(d) for d in report.errors]


def test_defaults_are_complete():
    site, errors = check(SiteConfig, "base_url: https://a.example.com\n")
    assert errors == []
    assert site.base_url == "https://a.example.com/"
    assert site.timezone == "Asia/Shanghai" and site.budgets.precache_kb == 2048


def test_unknown_key_suggests_the_right_one():
    _, errors = check(CampaignConfig, "title: t\ndisclosur: x\n")
    assert errors == ['x.yaml:2: disclosur: unknown key "disclosur" (did you mean "disclosure"?)']


def test_unknown_nested_key_names_its_path_and_line():
    _, errors = check(CampaignConfig, "title: t\npoints:\n  actions:\n    read: {points: 1, per_dya: 2}\n")
    assert errors == ['x.yaml:4: points.actions.read.per_dya: unknown key "per_dya" (did you mean "per_day"?)']


def test_wrong_type_shows_the_value():
    _, errors = check(CampaignConfig, "title: t\nlevels:\n  - {name: a, min: 0}\n  - {name: b, min: lots}\n")
    assert len(errors) == 1
    assert errors[0].startswith("x.yaml:4: levels[1].min: input should be a valid integer")
    assert "'lots'" in errors[0]


def test_end_before_start_compares_instants():
    def problems(**window):
        return [m for path, m in references(CampaignConfig(title="t", **window), "Asia/Shanghai") if path == ("end",)]

    assert problems(start=dt.date(2026, 11, 10), end=dt.date(2026, 11, 1)) == ["end (2026-11-01) is before start (2026-11-10)"]
    assert problems(start=dt.datetime(2026, 3, 1, 10), end=dt.date(2026, 3, 1)) == []  # end's whole day counts
    utc = dt.UTC
    assert problems(start=dt.datetime(2026, 3, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))),
                    end=dt.datetime(2026, 3, 1, 5, tzinfo=utc)) == []  # 13:00 in Shanghai
    assert problems(start=dt.datetime(2026, 3, 1, 10), end=dt.datetime(2026, 3, 1, 1, tzinfo=utc)) != []


def test_duplicate_keys_are_errors():
    import pytest

    from h5press.generator.yamldoc import YamlSyntaxError

    with pytest.raises(YamlSyntaxError) as info:
        load_yaml("title: a\ntheme:\n  primary: '#000000'\ntitle: b\n")
    assert str(info.value) == 'duplicate key "title" (first written on line 1)' and info.value.line == 4


def test_missing_title_and_bad_colour_reported_together():
    _, errors = check(CampaignConfig, "theme:\n  primary: green\n")
    assert 'x.yaml:2: theme.primary: expected a hex colour like "#15824d", got "green"' in errors
    assert "x.yaml:1: title: is required" in errors


def test_levels_must_increase_from_zero():
    _, errors = check(CampaignConfig, "title: t\nlevels:\n  - {name: a, min: 10}\n")
    assert errors == ["x.yaml:2: levels: level thresholds must start at 0 and strictly increase, got [10]"]


def test_badge_rule_needs_exactly_one_kind():
    _, errors = check(CampaignConfig, "title: t\nbadges:\n  - id: b\n    name: B\n    when: {streak: 3, points: 5}\n")
    assert errors == ["x.yaml:5: badges[0].when: expected exactly one of action (with count), streak or points"]


def test_lottery_odds_cannot_exceed_one():
    text = "title: t\nlottery:\n  - id: w\n    name: W\n    prizes:\n      - {name: a, probability: 0.7}\n      - {name: b, probability: 0.5}\n"
    _, errors = check(CampaignConfig, text)
    assert errors == ["x.yaml:5: lottery[0].prizes: prize probabilities add up to 1.2, more than 1"]


def test_references_between_sections():
    cfg = CampaignConfig.model_validate({
        "title": "t",
        "points": {"actions": {"checkin": {"points": 1}}},
        "badges": [{"id": "a", "name": "A", "when": {"action": "checkn"}}, {"id": "a", "name": "B", "when": {"points": 3}}],
        "team": {"unlock": {"points": 10, "reward": "coupon"}},
    })
    problems = dict(references(cfg, "Asia/Shanghai"))
    assert problems[("badges", 0, "when", "action")] == '"checkn" is not an action in points.actions (did you mean "checkin"?)'
    assert problems[("badges", 1, "id")] == 'duplicate id "a"'
    assert problems[("team", "unlock", "reward")] == '"coupon" is not a reward id'


def test_window_is_local_midnight_to_after_last_day():
    cfg = CampaignConfig(title="t", start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30))
    assert window(cfg, "Asia/Shanghai") == ("2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00")
    cfg = CampaignConfig(title="t", timezone="Europe/Berlin", start=dt.datetime(2026, 7, 1, 9, 30))
    assert window(cfg, "Asia/Shanghai") == ("2026-07-01T09:30:00+02:00", None)


def test_unknown_timezone():
    _, errors = check(SiteConfig, "timezone: Mars/Olympus\n")
    assert errors == ['x.yaml:1: timezone: unknown timezone "Mars/Olympus" (expected an IANA name like "Asia/Shanghai")']


def test_yaml_syntax_error_has_a_line():
    import pytest

    from h5press.generator.yamldoc import YamlSyntaxError

    with pytest.raises(YamlSyntaxError) as info:
        load_yaml("title: a\nlist: [1, 2\nother: 3\n", offset=1)
    assert info.value.line is not None and info.value.line >= 3


def test_markdown_plugins_are_checked_where_they_are_named():
    text = ("markdown:\n  plugins:\n    - footnote\n    - fotnote\n    - tasklists: {enabld: true}\n"
            "    - no_such_package.plugin:run\n    - json:no_function\n    - {admon: {}, deflist: {}}\n")
    _, errors = check(SiteConfig, text)
    assert errors == [
        'x.yaml:4: markdown.plugins[1]: unknown Markdown plugin "fotnote" (did you mean "footnote"?); built in: admon, '
        "attrs, attrs_block, deflist, field_list, footnote, gfm_autolink, subscript, superscript, tasklists, or a "
        "third-party plugin as package.module:function",
        'x.yaml:5: markdown.plugins[2]: Markdown plugin "tasklists": unknown option "enabld"; it takes: enabled, label, '
        "label_after",
        'x.yaml:6: markdown.plugins[3]: Markdown plugin "no_such_package.plugin:run" cannot be imported (No module named '
        "'no_such_package'); install it with `pip install no_such_package`",
        'x.yaml:7: markdown.plugins[4]: Markdown plugin "json:no_function": json has no function "no_function"',
        "x.yaml:8: markdown.plugins[5]: expected one plugin name with its options, like {footnote: {inline: false}}, got 2 keys",
    ]


def test_markdown_plugins_with_options_and_by_import_path():
    site, errors = check(SiteConfig, "markdown:\n  plugins: [footnote, {tasklists: {enabled: true}}, "
                                     "'mdit_py_plugins.deflist:deflist_plugin']\n")
    assert errors == []
    assert site.markdown.specs() == (("footnote", {}), ("tasklists", {"enabled": True}),
                                     ("mdit_py_plugins.deflist:deflist_plugin", {}))
