"""Resolving an agent's YAML `type:` to its class: a built-in name or an allowed dotted path."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from functools import cache

from chatwootai.agents import builtin
from chatwootai.agents.base import BaseAgent

AGENTS_PACKAGE = "chatwootai.agents"


class AgentTypeError(Exception):
    """An agent `type:` names no usable agent class (unknown, outside allowed packages, invalid)."""


def agent_class(type_name: str, allowed_packages: Sequence[str] = ()) -> type[BaseAgent]:
    """The agent class for `type_name` (short built-in name or `package.module.Class`)."""
    return _agent_class(type_name, tuple(allowed_packages))


@cache
def _agent_class(type_name: str, allowed_packages: tuple[str, ...]) -> type[BaseAgent]:
    if "." not in type_name:
        found = getattr(builtin, type_name, None)
        if isinstance(found, type) and issubclass(found, BaseAgent) and found is not BaseAgent:
            return found
        known = ", ".join(n for n in builtin.__all__ if n != "BaseAgent")
        raise AgentTypeError(f"unknown agent type {type_name!r}; built-in types are: {known}")
    module_name, _, class_name = type_name.rpartition(".")
    packages = (AGENTS_PACKAGE, *allowed_packages)
    if not any(module_name == p or module_name.startswith(p + ".") for p in packages):
        raise AgentTypeError(
            f"agent type {type_name!r} is outside the allowed packages ({', '.join(packages)}); "
            "add its package to CHATWOOTAI_AGENT_PACKAGES"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AgentTypeError(
            f"agent type {type_name!r}: cannot import {module_name}: {exc}"
        ) from None
    found = getattr(module, class_name, None)
    if not (isinstance(found, type) and issubclass(found, BaseAgent)):
        raise AgentTypeError(
            f"agent type {type_name!r} is not an agent class (subclass of BaseAgent)"
        )
    return found
