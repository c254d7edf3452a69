"""Agent `type:` names resolved to classes, only from allowed packages (YAML is tenant-written).

The config layer does not import the agents package: it resolves types by name and relies on the
protocol below (a `config_model` and a `check_config` class method), so dependencies keep pointing
from agents to config.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from chatwootai.config.errors import did_you_mean

if TYPE_CHECKING:
    from chatwootai.config.schema import AgentConfig, DomainConfig

AGENTS_PACKAGE = "chatwootai.agents"
BUILTIN_MODULE = "chatwootai.agents.builtin"


@runtime_checkable
class AgentType(Protocol):
    """What the loader needs of an agent class."""

    config_model: ClassVar[type[BaseModel]]

    @classmethod
    def check_config(cls, agent_id: str, agent: AgentConfig, domain: DomainConfig) -> list[str]:
        """Problems specific to this agent type (empty when fine)."""
        ...


class AgentTypeNotFound(Exception):
    """An agent `type:` names no usable class; `suggestion` is a likely intended name."""

    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion


def builtin_names() -> list[str]:
    """Short names of the built-in agent types (empty when the module is not importable)."""
    try:
        module = importlib.import_module(BUILTIN_MODULE)
    except ImportError:
        return []
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    return [n for n in names if _is_agent_class(getattr(module, n, None)) and n != "BaseAgent"]


def resolve_agent_type(type_name: str, agent_packages: Sequence[str] = ()) -> type[AgentType]:
    """The class named by `type_name`; raises AgentTypeNotFound with a message and suggestion."""
    if "." not in type_name:
        try:
            module = importlib.import_module(BUILTIN_MODULE)
        except ImportError as exc:
            raise AgentTypeNotFound(
                f"built-in agent types are not available ({BUILTIN_MODULE}: {exc})"
            ) from None
        found = getattr(module, type_name, None)
        if type_name != "BaseAgent" and _is_agent_class(found):
            return found  # type: ignore[no-any-return,return-value]
        names = builtin_names()
        raise AgentTypeNotFound(
            f"unknown agent type {type_name!r}; built-in types: {', '.join(names)}",
            did_you_mean(type_name, names),
        )
    module_name, _, class_name = type_name.rpartition(".")
    packages = (AGENTS_PACKAGE, *agent_packages)
    if not any(module_name == p or module_name.startswith(p + ".") for p in packages):
        raise AgentTypeNotFound(
            f"agent type {type_name!r} is outside the allowed packages ({', '.join(packages)}); "
            "add its package to CHATWOOTAI_AGENT_PACKAGES"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AgentTypeNotFound(
            f"agent type {type_name!r}: cannot import {module_name}: {exc}"
        ) from None
    found = getattr(module, class_name, None)
    if found is None:
        classes = [n for n, v in vars(module).items() if _is_agent_class(v)]
        raise AgentTypeNotFound(
            f"agent type {type_name!r}: {module_name} has no class {class_name!r}",
            _dotted(module_name, did_you_mean(class_name, classes)),
        )
    if not _is_agent_class(found):
        raise AgentTypeNotFound(
            f"agent type {type_name!r} is not an agent class "
            "(it needs a config_model and a check_config class method)"
        )
    return found  # type: ignore[no-any-return]


def _dotted(module_name: str, name: str | None) -> str | None:
    return f"{module_name}.{name}" if name else None


def _is_agent_class(value: object) -> bool:
    if not inspect.isclass(value):
        return False
    model = getattr(value, "config_model", None)
    return (
        inspect.isclass(model)
        and issubclass(model, BaseModel)
        and callable(getattr(value, "check_config", None))
    )
