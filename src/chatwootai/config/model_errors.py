"""Pydantic validation errors turned into :class:`ConfigIssue` s at the YAML line they concern."""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from chatwootai.config.errors import ConfigIssue, did_you_mean
from chatwootai.config.source import Located, issue_at


def issues_from_validation(
    exc: ValidationError,
    root: Located,
    model: Any,
    prefix: Sequence[str | int] = (),
    *,
    file_root: Located | None = None,
) -> list[ConfigIssue]:
    """One issue per pydantic error, located through `root` (the tree that was validated)."""
    issues = []
    for error in exc.errors(include_url=False):
        loc = [part for part in error["loc"] if part != "[key]"]
        path: list[str | int] = [*prefix, *(p if isinstance(p, int) else str(p) for p in loc)]
        kind = error["type"]
        suggestion = None
        if kind == "extra_forbidden":
            key = str(loc[-1]) if loc else ""
            allowed = allowed_keys(model, loc[:-1])
            suggestion = did_you_mean(key, allowed)
            message = f"unknown key {key!r}"
            if not suggestion and allowed:
                message += f"; allowed keys: {', '.join(sorted(allowed))}"
        elif kind == "missing":
            message = f"missing required key {str(loc[-1])!r}" if loc else "missing value"
        else:
            message = _clean(error["msg"])
            if "[key]" in error["loc"]:
                message = f"invalid key: {message}"
        tree = file_root if file_root is not None else root
        issues.append(issue_at(tree, path, message, suggestion=suggestion))
    return issues


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def allowed_keys(model: Any, loc: Sequence[Any]) -> list[str]:
    """Field names accepted at `loc` inside `model` (empty when not a model there)."""
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
            continue
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is dict and len(args) == 2:
            annotation = args[1]
        elif origin is list and args:
            annotation = args[0]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """`X | None` and `Annotated[X, ...]` give X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation
