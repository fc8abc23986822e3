"""YAML loading that remembers where every key and item was written.

Validation errors speak in key paths (`badges[1].when.action`); people need `file:line`.
Composing the node tree once gives both the data and a path → line index.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path_ = tuple[str | int, ...]
# libyaml's parser when PyYAML was built with it (the wheels are): ten times faster, same nodes.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlSyntaxError(ValueError):
    """Malformed YAML, with the 1-based line of the problem."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class YamlDoc:
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    offset: int = 0  # lines before the YAML text in its file (front matter fence)
    node: yaml.Node | None = field(default=None, repr=False)  # the composed tree: the compliance gate reads its strings

    def line_of(self, path: Path_) -> int | None:
        """Line of the deepest written ancestor of `path` (a missing key points at its parent)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line + self.offset
        return None


def _index(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                child = (*path, key.value)
                if child in lines:
                    raise YamlSyntaxError(f'duplicate key "{key.value}" (first written on line {lines[child]})',
                                          key.start_mark.line + 1)
                lines[child] = key.start_mark.line + 1
                _index(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), lines)


def load_yaml(text: str, offset: int = 0) -> YamlDoc:
    """Parse one YAML document; raise `YamlSyntaxError` with the file line of the problem."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        # Where the unfinished thing began (an open bracket, a key) is where the fix goes.
        mark = exc.context_mark or exc.problem_mark
        line = mark.line + 1 + offset if mark else None
        raise YamlSyntaxError(f"invalid YAML: {exc.problem or exc.context}", line) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"invalid YAML: {exc}", None) from None
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {}
    if node is not None:
        try:
            _index(node, (), lines)
        except YamlSyntaxError as exc:
            raise YamlSyntaxError(str(exc), (exc.line or 0) + offset) from None
    return YamlDoc(data, lines, offset, node)
