"""Fixtures of the tenancy tests: a fake loader and a registry (the store is the suite's)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chatwootai.config.errors import ConfigError, ConfigIssue
from chatwootai.config.registry import DomainRegistry
from chatwootai.config.schema import DomainConfig
from chatwootai.store.base import Store


class FakeLoader:
    """A loader over configs held in memory; an entry may be a ConfigError to raise instead."""

    def __init__(self, configs: dict[str, DomainConfig | ConfigError]) -> None:
        self.configs = configs
        self.loads: list[str] = []

    def names(self) -> list[str]:
        """Names of the domains."""
        return sorted(self.configs)

    def load(self, name: str) -> DomainConfig:
        """The config of `name`."""
        self.loads.append(name)
        found = self.configs[name]
        if isinstance(found, ConfigError):
            raise found
        return found


def domain(name: str, **fields: Any) -> DomainConfig:
    """A small valid domain config with one crew per name in `crews`."""
    crews = fields.pop("crews", ["sales"])
    return DomainConfig.model_validate(
        {
            "name": name,
            "crews": {c: {"name": c.title(), "agents": ["agent"]} for c in crews},
            **fields,
        }
    )


def broken(message: str = "bad value") -> ConfigError:
    """A ConfigError with one issue."""
    return ConfigError([ConfigIssue(Path("domain.yaml"), 3, 1, "agents", message)])


@pytest.fixture
def loader() -> FakeLoader:
    """Domains: abstract _base, cosmetics and health (extending _base), retail."""
    return FakeLoader(
        {
            "_base": domain("_base", abstract=True),
            "cosmetics": domain("cosmetics", extends=["_base"], description="v1"),
            "health": domain("health", extends=["_base"], crews=["scheduling", "support"]),
            "retail": domain("retail"),
        }
    )


@pytest.fixture
def registry(loader: FakeLoader, store: Store) -> DomainRegistry:
    """A DomainRegistry over the fake loader and the parametrised store."""
    return DomainRegistry(loader, store)


@pytest.fixture
def make_domain() -> Callable[..., DomainConfig]:
    """The `domain(name, **fields)` helper."""
    return domain


@pytest.fixture
def make_broken() -> Callable[..., ConfigError]:
    """The `broken(message)` helper."""
    return broken
