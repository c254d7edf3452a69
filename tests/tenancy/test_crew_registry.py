"""CrewRegistry: built once per (domain, crew, version), concurrent first calls build once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from chatwootai.agents.registry import CrewNotFoundError, CrewRegistry
from chatwootai.config.registry import DomainRegistry
from chatwootai.config.schema import DomainConfig


class Builder:
    """Counts builds; each crew is a tuple (domain, crew, description, build number)."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.builds = 0
        self.delay = delay
        self.fail = fail

    async def __call__(self, config: DomainConfig, crew_id: str) -> tuple[str, str, str, int]:
        self.builds += 1
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("model not available")
        return (config.name, crew_id, config.description, self.builds)


async def test_concurrent_first_calls_build_once(registry: DomainRegistry) -> None:
    builder = Builder(delay=0.05)
    crews = CrewRegistry(builder, registry)
    results = await asyncio.gather(*(crews.get_crew("sales", "cosmetics") for _ in range(20)))
    assert builder.builds == 1
    assert all(r is results[0] for r in results)
    assert results[0] == ("cosmetics", "sales", "v1", 1)
    assert await crews.get_crew("sales", "cosmetics") is results[0]
    assert crews.built() == [("cosmetics", "sales", 0)]


async def test_sync_builder_and_crews_are_per_domain(registry: DomainRegistry) -> None:
    crews: CrewRegistry[str] = CrewRegistry(lambda config, crew: f"{config.name}/{crew}", registry)
    assert await crews.get_crew("scheduling", "health") == "health/scheduling"
    assert await crews.get_crew("sales", "retail") == "retail/sales"


async def test_invalidation_rebuilds(registry: DomainRegistry) -> None:
    builder = Builder()
    crews = CrewRegistry(builder, registry)
    first = await crews.get_crew("sales", "cosmetics")
    crews.invalidate_crew("sales", "cosmetics")
    second = await crews.get_crew("sales", "cosmetics")
    assert second is not first and builder.builds == 2
    await crews.get_crew("sales", "retail")
    crews.invalidate_domain("cosmetics")
    await crews.get_crew("sales", "cosmetics")
    await crews.get_crew("sales", "retail")
    assert builder.builds == 4


async def test_config_change_rebuilds_with_the_new_config(
    registry: DomainRegistry, make_domain: Callable[..., DomainConfig]
) -> None:
    crews = CrewRegistry(Builder(), registry)
    assert (await crews.get_crew("sales", "cosmetics"))[2] == "v1"
    await registry.update_domain_config("cosmetics", make_domain("cosmetics", description="v2"))
    crew = await crews.get_crew("sales", "cosmetics")
    assert crew[2] == "v2"
    assert crews.built() == [("cosmetics", "sales", 1)]


async def test_unknown_crew(registry: DomainRegistry) -> None:
    crews = CrewRegistry(Builder(), registry)
    with pytest.raises(CrewNotFoundError, match=r"no crew 'billing'.*sales"):
        await crews.get_crew("billing", "cosmetics")


async def test_failed_build_is_not_cached(registry: DomainRegistry) -> None:
    builder = Builder(delay=0.02, fail=True)
    crews = CrewRegistry(builder, registry)
    results = await asyncio.gather(
        *(crews.get_crew("sales", "cosmetics") for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    assert builder.builds == 1
    builder.fail = False
    assert (await crews.get_crew("sales", "cosmetics"))[0] == "cosmetics"
    assert builder.builds == 2
