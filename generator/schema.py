"""Validation of YAML documents against typed models, reported as `file:line: key: problem`.

Site config, campaign config, front matter and (later) component blocks all go through
`validate`, so every schema error in h5press reads the same way.
"""
from __future__ import annotations

import difflib
import types
import typing
from typing import Any, TypeVar, Union

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from .errors import Diagnostics
from .yamldoc import Path_, YamlDoc

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base of every config section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def format_path(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _unwrap(tp: Any, step: str | int) -> Any:
    """The type found one step below `tp` (list item, dict value, optional member)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        for arg in args:
            found = _unwrap(arg, step)
            if found is not None:
                return found
        return None
    if origin in (list, tuple, set, frozenset) and isinstance(step, int):
        return args[0] if args else None
    if origin is dict and args:
        return args[1]
    if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(step, str):
        field = tp.model_fields.get(step)
        return field.annotation if field else None
    return None


def _known_keys(model: type[BaseModel], parent: Path_) -> list[str]:
    tp: Any = model
    for step in parent:
        tp = _unwrap(tp, step)
        if tp is None:
            return []
    while typing.get_origin(tp) in (Union, types.UnionType):
        tp = next((a for a in typing.get_args(tp) if isinstance(a, type) and issubclass(a, BaseModel)), None)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or name for name, f in tp.model_fields.items()]
    return []


def did_you_mean(word: str, candidates: list[str]) -> str:
    match = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f' (did you mean "{match[0]}"?)' if match else ""


def _describe(err: ErrorDetails, model: type[BaseModel]) -> tuple[Path_, str]:
    loc: Path_ = tuple(p for p in err["loc"] if isinstance(p, (str, int)))
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = _known_keys(model, loc[:-1])
        return loc, f'unknown key "{key}"{did_you_mean(key, known)}'
    if kind == "missing":
        return loc, "is required"
    msg = err["msg"]
    msg = msg[len("Value error, "):] if msg.startswith("Value error, ") else msg
    if kind not in ("value_error", "assertion_error") and "input" in err:
        value = err["input"]
        shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
        msg = f"{msg[0].lower()}{msg[1:]} (got {shown})"
    return loc, msg


def validate(model: type[M], doc: YamlDoc, path: str, report: Diagnostics, what: str = "") -> M | None:
    """Build `model` from `doc`; on failure record one diagnostic per problem and return None."""
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        report.error(path, doc.line_of(()), f"{what or 'document'} must be a mapping of keys to values")
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        seen: set[tuple[Path_, str]] = set()
        for err in exc.errors():
            loc, msg = _describe(err, model)
            if (loc, msg) in seen:
                continue
            seen.add((loc, msg))
            key = format_path(loc)
            prefix = f"{what}: " if what else ""
            report.error(path, doc.line_of(loc), f"{prefix}{key}: {msg}" if key else f"{prefix}{msg}")
        return None
