"""Rules as data: the YAML files shipped in compliance/rules/ (one per profile) and the site's own.

A rule either lists `patterns` (regular expressions over the visible text, with `unless`
contexts that excuse a match) or names a Python `check` (in `checks`, or `package.module:function`)
with its `params`; both cite their `source`. Which rules apply to a campaign follows its
`product:` and `channels:`.
"""
from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ..generator.errors import Diagnostics
from ..generator.load import read_yaml
from ..generator.schema import Strict, validate
from .config import Channel, Product

RULES_DIR = Path(__file__).parent / "rules"


class Rule(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="named by findings and waivers")
    level: Literal["error", "warning"] = Field(description="errors fail the build; warnings fail it only with --strict")
    source: str = Field(min_length=1, description="the law, regulation or platform rule the rule applies")
    message: str = Field(min_length=1, description="what is wrong, as the finding says it")
    suggest: str = Field(min_length=1, description="what to write instead")
    products: list[Product] | None = Field(None, description="campaign products the rule applies to; default: all")
    channels: list[Channel] | None = Field(None, description="applies when the campaign targets one of these; default: all")
    where: list[str] | None = Field(None, description='text kinds checked: markdown, front, campaign, block (or "block:quiz")')
    patterns: list[str] = Field(default_factory=list, description="regular expressions of the offending text")
    unless: list[str] = Field(default_factory=list, description="contexts (regular expressions) that excuse a match they cover")
    check: str | None = Field(None, description="instead of patterns: a function of compliance.checks or module:function")
    params: dict[str, Any] = Field(default_factory=dict, description="what the check reads")

    @field_validator("patterns", "unless")
    @classmethod
    def _regex(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f'"{value}" is not a regular expression: {exc}') from None
        return values

    @model_validator(mode="after")
    def _one_kind(self) -> Rule:
        if bool(self.patterns) == bool(self.check):
            raise ValueError("a rule has either patterns or a check")
        return self

    def applies(self, product: str, channels: list[str]) -> bool:
        return (self.products is None or product in self.products) and (
            self.channels is None or bool(set(self.channels) & set(channels)))

    def reads(self, where: str) -> bool:
        return self.where is None or any(where == w or where.startswith(w + ":") for w in self.where)


class RuleFile(Strict):
    rules: list[Rule] = Field(description="the rules of this file")


def load_rules(profile: str, extra: list[Path], root: Path, report: Diagnostics) -> list[Rule]:
    """The profile's rules, then the site's files in order (a rule with a known id replaces it)."""
    shipped = RULES_DIR / f"{profile}.yaml"
    if not shipped.is_file():
        known = ", ".join(sorted(p.stem for p in RULES_DIR.glob("*.yaml")))
        report.error("h5press.yaml", None, f'compliance.profile: unknown profile "{profile}" (shipped: {known})')
        return []
    rules: dict[str, Rule] = {}
    for path in [shipped, *extra]:
        shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        if not path.is_file():
            report.error("h5press.yaml", None, f"compliance.rules: no file {shown}")
            continue
        doc = read_yaml(path, shown, report)
        loaded = validate(RuleFile, doc, shown, report) if doc else None
        for rule in loaded.rules if loaded else []:
            if rule.check and resolve_check(rule.check) is None:
                report.error(shown, doc.line_of(("rules",)) if doc else None, f'rule {rule.id}: unknown check "{rule.check}"')
                continue
            rules[rule.id] = rule
    return list(rules.values())


def resolve_check(name: str) -> Callable[..., Any] | None:
    """A check named in a rule: a function of compliance.checks, or `package.module:function`."""
    module_name, _, attr = name.rpartition(":") if ":" in name else (f"{__package__}.checks", "", name)
    try:
        function = getattr(importlib.import_module(module_name), attr, None)
    except ImportError:
        return None
    return function if callable(function) and not attr.startswith("_") else None
