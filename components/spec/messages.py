"""pydantic's validation errors -> Problems at the file's line and column, in words a user of
sandboxes.yaml understands (what was given, what is allowed, the closest allowed key)."""

from __future__ import annotations

import datetime as dt
import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from . import egress
from .models import SpecFile
from .problems import Problem
from .source import INVALID, Path_, Source, dotted


def validation_problems(exc: ValidationError, source: Source) -> list[Problem]:
    problems = []
    reported = {p.path for p in source.problems}
    for err in exc.errors(include_url=False):
        loc: Path_ = _untagged(tuple(err["loc"]))
        is_key = bool(loc) and loc[-1] == "[key]"
        if is_key:
            loc = loc[:-1]
        if err.get("input") is INVALID or dotted(loc) in reported:
            continue  # already said, more precisely, while reading the YAML
        path = dotted(loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            line, col = source.position(loc, of_key=True)
            message = _unknown_key(loc)
        elif kind == "missing":
            line, col = source.position(loc[:-1], of_key=True)
            message = f"missing required key '{loc[-1]}'"
            if loc == ("sandboxes",):
                message += " (an empty fleet is written `sandboxes: {}`)"
        else:
            line, col = source.position(loc, of_key=is_key)
            message = _message(kind, err, loc)
        problems.append(Problem(line, col, path, message, source.file))
    return problems


_TYPE_WORDS = {
    "int_type": "a whole number", "int_from_float": "a whole number", "float_type": "a number",
    "string_type": "text", "bool_type": "true or false", "list_type": "a list",
    "dict_type": "a mapping (key: value)", "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)", "date_type": "a date (YYYY-MM-DD)",
}  # fmt: skip
_BOUNDS = {
    "greater_than": "must be greater than {gt}", "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}", "less_than_equal": "must be at most {le}",
    "too_long": "has {actual_length} items; at most {max_length} allowed",
}  # fmt: skip


def _untagged(loc: Path_) -> Path_:
    """`egress` is `any` or a list, told apart by a tag pydantic adds to the location."""
    for i in range(len(loc) - 1):
        if loc[i] == "egress" and loc[i + 1] in egress.TAGS:
            return loc[: i + 1] + loc[i + 2 :]
    return loc


def _message(kind: str, err: Any, loc: Path_) -> str:
    given = err.get("input")
    ctx = err.get("ctx") or {}
    if loc[-1:] == ("egress",) and kind in ("literal_error", "list_type"):
        return (
            f'expected `any` or a list of host names (e.g. [github.com, "*.pypi.org"]), '
            f"got {kind_of(given)}"
        )
    if kind in _TYPE_WORDS:
        if loc == ("sandboxes",) and given is None:
            return "no sandboxes given; an empty fleet is written `sandboxes: {}`"
        return f"expected {_TYPE_WORDS[kind]}, got {kind_of(given)}"
    if kind in _BOUNDS:
        return f"{given!r} " + _BOUNDS[kind].format(**ctx)
    if kind == "enum":
        allowed = [a.strip(" '") for a in ctx["expected"].replace(" or ", ", ").split(",")]
        return f"{given!r} is not one of: {', '.join(allowed)}" + did_you_mean(given, allowed)
    if kind == "literal_error" and loc == ("version",):
        if isinstance(given, str) and given.strip() == "1":
            return "version is the text '1'; write the number: `version: 1` (no quotes)"
        return f"unsupported version {given!r}; this release reads version 1"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return f"{err['msg']} (got {given!r})"


def _unknown_key(loc: Path_) -> str:
    key = str(loc[-1])
    allowed = sorted(_fields_at(loc[:-1]))
    return (
        f"unknown key '{key}'"
        + did_you_mean(key, allowed)
        + (f"; allowed: {', '.join(allowed)}" if allowed else "")
    )


def did_you_mean(given: Any, allowed: list[str]) -> str:
    close = difflib.get_close_matches(str(given), allowed, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _fields_at(loc: Path_) -> set[str]:
    """The keys the model allows at `loc`, found by walking the model's annotations."""
    annotation: Any = SpecFile
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field_info = annotation.model_fields.get(str(part))
            if field_info is None:
                return set()
            annotation = field_info.annotation
        elif typing.get_origin(annotation) in (dict, list):
            annotation = typing.get_args(annotation)[-1]
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return set(annotation.model_fields)
    return set()


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0]
        else:
            return annotation


def kind_of(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, dt.date):
        return f"the date {value}"
    return f"'{value}'"
