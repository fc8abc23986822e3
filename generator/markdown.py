"""The Markdown dialect of h5press: CommonMark with tables and strikethrough (markdown-it-py),
`::: name id` component blocks as a block rule, the site's plugins, and how a few tokens render.

This module knows Markdown syntax only; what a page's tokens mean for the bundle (links
between pages, images, ids, attribute lists, the CSP) is the parse stage's business.
Component blocks are a block rule, so a `:::` line inside fenced or indented code, a block
quote or a list item is text, exactly as a CommonMark reader of the page sees it.
"""
from __future__ import annotations

import importlib
import inspect
import json
import re
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from .schema import did_you_mean

COMPONENT = "h5_component"  # token type of a component block; its meta holds what the line said
VARIANT = "h5_variant"  # `::: variant <experiment> <variant>` … `:::` wraps Markdown shown in one variant
VARIANT_OPEN = re.compile(r":::[ \t]+variant[ \t]+(\S+)[ \t]+(\S+)[ \t]*")
BLOCK_OPEN = re.compile(r":::[ \t]+(\S+)(?:[ \t]+(\S+))?[ \t]*")
BLOCK_CLOSE = re.compile(r":::[ \t]*")

# Plugins authors name in h5press.yaml → where mdit-py-plugins keeps them. `container` and
# `colon_fence` are left out: `:::` opens a component block.
PLUGINS = {
    "admon": "mdit_py_plugins.admon:admon_plugin",
    "attrs": "mdit_py_plugins.attrs:attrs_plugin",
    "attrs_block": "mdit_py_plugins.attrs:attrs_block_plugin",
    "deflist": "mdit_py_plugins.deflist:deflist_plugin",
    "field_list": "mdit_py_plugins.field_list:fieldlist_plugin",
    "footnote": "mdit_py_plugins.footnote:footnote_plugin",
    "gfm_autolink": "mdit_py_plugins.gfm_autolink:gfm_autolink_plugin",
    "subscript": "mdit_py_plugins.subscript:sub_plugin",
    "superscript": "mdit_py_plugins.superscript:superscript_plugin",
    "tasklists": "mdit_py_plugins.tasklists:tasklists_plugin",
}
PluginSpec = tuple[str, dict[str, Any]]  # (name or module:function, keyword options)


class PluginError(ValueError):
    """A plugin named in h5press.yaml that cannot be loaded as written."""


def load_plugin(name: str) -> Callable[..., None]:
    """The plugin function a name stands for: one of PLUGINS, or `package.module:function`."""
    target = PLUGINS.get(name)
    if target is None and ":" not in name:
        raise PluginError(f'unknown Markdown plugin "{name}"{did_you_mean(name, list(PLUGINS))}; built in: '
                          f"{', '.join(PLUGINS)}, or a third-party plugin as package.module:function")
    module_name, _, attr = (target or name).partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        package = "mdit-py-plugins" if target else module_name.split(".")[0]
        raise PluginError(f'Markdown plugin "{name}" cannot be imported ({exc}); install it with '
                          f"`pip install {package}`") from None
    function = getattr(module, attr, None)
    if not callable(function):
        raise PluginError(f'Markdown plugin "{name}": {module_name} has no function "{attr}"')
    return function


def check_plugin(name: str, options: dict[str, Any]) -> None:
    """Raise PluginError unless the plugin loads and takes these options, so a typo is found
    when h5press.yaml is read, with its line, not half-way through a build."""
    function = load_plugin(name)
    try:
        inspect.signature(function).bind(None, **options)
    except TypeError:
        accepted = list(inspect.signature(function).parameters)[1:]
        unknown = [key for key in options if key not in accepted]
        detail = f'unknown option "{unknown[0]}"' if unknown else "missing or wrong options"
        raise PluginError(f'Markdown plugin "{name}": {detail}; it takes: {", ".join(accepted) or "no options"}') from None


def parser(plugins: Sequence[PluginSpec] = ()) -> MarkdownIt:
    """The configured parser; one per distinct plugin list (building one costs ≈1 ms)."""
    return _parser(json.dumps(list(plugins), sort_keys=True))


@cache
def _parser(plugins_json: str) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "xhtmlOut": False}).enable(["table", "strikethrough"])
    md.block.ruler.before("fence", COMPONENT, _component_rule,
                          {"alt": ["paragraph", "reference", "blockquote", "list"]})
    md.block.ruler.before(COMPONENT, VARIANT, _variant_rule, {"alt": ["paragraph", "reference", "blockquote", "list"]})
    for name, options in json.loads(plugins_json):
        md.use(load_plugin(name), **options)
    md.add_render_rule(COMPONENT, _render_component)
    md.add_render_rule("softbreak", _render_softbreak)
    md.add_render_rule("table_open", lambda *_: '<div class="h5-table"><table>\n')
    md.add_render_rule("table_close", lambda *_: "</table></div>\n")
    return md


# -- component blocks -------------------------------------------------------------------------

def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line]:state.eMarks[line]]


def _at_margin(state: StateBlock, line: int) -> bool:
    """The line starts in column 0 of the file: not indented, not inside a quote or list item."""
    start = state.bMarks[line]
    return state.tShift[line] == 0 and (start == 0 or state.src[start - 1] == "\n")


def _opener(state: StateBlock, line: int, pattern: re.Pattern[str]) -> re.Match[str] | None:
    """The `:::` opener `pattern` matches on `line`, if the line stands at the left margin."""
    if not _at_margin(state, line) or not state.src.startswith(":::", state.bMarks[line]):
        return None
    return pattern.fullmatch(_line(state, line))


def _component_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """`::: name [id]`, YAML lines, `:::` → one token; its body is kept raw for the schema."""
    opened = _opener(state, start, BLOCK_OPEN)
    if not opened:
        return False
    if silent:
        return True
    close = start + 1
    while close < end and not (_at_margin(state, close) and (BLOCK_CLOSE.fullmatch(_line(state, close))
                                                             or BLOCK_OPEN.fullmatch(_line(state, close)))):
        close += 1
    closed = close < end and BLOCK_CLOSE.fullmatch(_line(state, close)) is not None
    body = state.src[state.bMarks[start + 1]:state.eMarks[close - 1]] if close > start + 1 else ""
    token = state.push(COMPONENT, "div", 0)
    token.map = [start, close + 1 if closed else close]
    token.meta = {"name": opened.group(1), "id": opened.group(2), "body": body, "opener": opened.group(0).strip(),
                  "unclosed": not closed, "nested": close < end and not closed}
    state.line = token.map[1]
    return True


def _variant_end(state: StateBlock, start: int, end: int) -> int:
    """The line of the `:::` closing a variant block opened at `start` (the closers of the component
    blocks inside it skipped), or `end` when there is none."""
    inside = False
    for line in range(start + 1, end):
        if not _at_margin(state, line):
            continue
        text = _line(state, line)
        if VARIANT_OPEN.fullmatch(text):
            return end
        if BLOCK_CLOSE.fullmatch(text):
            if not inside:
                return line
            inside = False
        elif BLOCK_OPEN.fullmatch(text):
            inside = True
    return end


def _variant_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """`::: variant hero b`, any Markdown and component blocks, `:::` → a <div> shown to that variant only."""
    opened = _opener(state, start, VARIANT_OPEN)
    if not opened:
        return False
    if silent:
        return True
    close = _variant_end(state, start, end)
    token = state.push(VARIANT + "_open", "div", 1)
    token.map = [start, close]
    token.attrs = {"class": "h5-variant", "data-variant": f"{opened.group(1)}:{opened.group(2)}"}
    token.meta = {"experiment": opened.group(1), "variant": opened.group(2), "opener": opened.group(0).strip(),
                  "unclosed": close >= end}
    outer_max, outer_parent = state.lineMax, state.parentType
    state.lineMax, state.parentType = close, VARIANT  # type: ignore[assignment]
    state.md.block.tokenize(state, start + 1, close)
    state.lineMax, state.parentType = outer_max, outer_parent
    state.push(VARIANT + "_close", "div", -1)
    state.line = min(close + 1, end)
    return True


def block_placeholder(index: int) -> str:
    """What a valid block renders as until the render stage puts the component there."""
    return f'<div data-h5-block="{index}"></div>'


def _render_component(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    index = tokens[idx].meta.get("index")
    return "" if index is None else block_placeholder(index) + "\n"


# -- rendering --------------------------------------------------------------------------------

_CJK = re.compile("[\u2e80-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _render_softbreak(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    """A line break between two Chinese characters is no space in Chinese: it disappears."""
    before, after = tokens[idx - 1] if idx else None, tokens[idx + 1] if idx + 1 < len(tokens) else None
    if (before is not None and after is not None and before.type == after.type == "text" and before.content
            and after.content and _CJK.match(before.content[-1]) and _CJK.match(after.content[0])):
        return ""
    return "\n"
