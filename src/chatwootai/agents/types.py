"""Resolving an agent's YAML `type:` to its class: a built-in name or an allowed dotted path.

The lookup rules (built-in short names, dotted paths only inside allowed packages) live in
:mod:`chatwootai.config.agent_types`, shared with the loader; this module adds the runtime's
requirement that the class is a :class:`BaseAgent`, and caches the lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from chatwootai.agents.base import BaseAgent
from chatwootai.config.agent_types import AgentTypeNotFound, resolve_agent_type


class AgentTypeError(Exception):
    """An agent `type:` names no usable agent class (unknown, outside allowed packages, invalid)."""


def agent_class(type_name: str, allowed_packages: Sequence[str] = ()) -> type[BaseAgent]:
    """The agent class for `type_name` (short built-in name or `package.module.Class`)."""
    return _agent_class(type_name, tuple(allowed_packages))


@cache
def _agent_class(type_name: str, allowed_packages: tuple[str, ...]) -> type[BaseAgent]:
    try:
        found = resolve_agent_type(type_name, allowed_packages)
    except AgentTypeNotFound as exc:
        hint = f" (did you mean {exc.suggestion!r}?)" if exc.suggestion else ""
        raise AgentTypeError(exc.message + hint) from None
    if not (isinstance(found, type) and issubclass(found, BaseAgent)):
        raise AgentTypeError(
            f"agent type {type_name!r} is not an agent class (subclass of BaseAgent)"
        )
    return found
