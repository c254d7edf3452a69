"""DomainRegistry: memory → store → files, atomic updates, invalidation, last good config kept."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from chatwootai.config import stored
from chatwootai.config.errors import ConfigError
from chatwootai.config.registry import DomainNotFoundError, DomainRegistry
from chatwootai.config.schema import DomainConfig
from chatwootai.store import keys
from chatwootai.store.base import Store

Make = Callable[..., DomainConfig]


async def test_first_read_comes_from_files_and_is_cached_in_the_store(
    registry: DomainRegistry, loader: Any, store: Store
) -> None:
    config = await registry.get_domain_config("cosmetics")
    assert config.description == "v1"
    assert loader.loads == ["cosmetics"]
    assert await stored_config(store, "cosmetics") == config
    ttl = await store.ttl(keys.domain_config("cosmetics"))
    assert ttl is not None and 3590 <= ttl <= 3600
    assert await registry.get_domain_config("cosmetics") is config
    assert loader.loads == ["cosmetics"]


async def test_store_copy_is_used_before_files(
    loader: Any, store: Store, make_domain: Make
) -> None:
    stored = make_domain("cosmetics", description="from the store")
    await store.set(keys.domain_config("cosmetics"), stored.model_dump_json())
    registry = DomainRegistry(loader, store)
    assert (await registry.get_domain_config("cosmetics")).description == "from the store"
    assert loader.loads == []


async def test_store_copy_not_matching_the_schema_falls_back_to_files(
    registry: DomainRegistry, store: Store
) -> None:
    await store.set(keys.domain_config("cosmetics"), json.dumps({"name": "cosmetics", "x": 1}))
    assert (await registry.get_domain_config("cosmetics")).description == "v1"


async def test_domain_ttl_override_applies_to_its_config_key(
    loader: Any, store: Store, make_domain: Make
) -> None:
    loader.configs["retail"] = make_domain("retail", ttl={"config": 120})
    registry = DomainRegistry(loader, store, ttl=999)
    await registry.get_domain_config("retail")
    await registry.get_domain_config("health")
    retail_ttl = await store.ttl(keys.domain_config("retail"))
    health_ttl = await store.ttl(keys.domain_config("health"))
    assert retail_ttl is not None and 110 <= retail_ttl <= 120
    assert health_ttl is not None and 990 <= health_ttl <= 999


async def test_unknown_domain(registry: DomainRegistry) -> None:
    with pytest.raises(DomainNotFoundError, match=r"'nope' does not exist.*cosmetics"):
        await registry.get_domain_config("nope")


async def test_concurrent_first_reads_load_once(registry: DomainRegistry, loader: Any) -> None:
    configs = await asyncio.gather(*(registry.get_domain_config("health") for _ in range(30)))
    assert all(c is configs[0] for c in configs)
    assert loader.loads == ["health"]


async def test_update_swaps_config_bumps_version_and_notifies(
    registry: DomainRegistry, store: Store, make_domain: Make
) -> None:
    changed: list[str] = []
    registry.on_change(changed.append)
    await registry.get_domain_config("cosmetics")
    assert registry.version("cosmetics") == 0
    new = make_domain("cosmetics", description="v2")
    await registry.update_domain_config("cosmetics", new)
    assert await registry.get_domain_config("cosmetics") == new  # its sections: shared objects
    assert registry.version("cosmetics") == 1
    assert changed == ["cosmetics"]
    assert (await stored_config(store, "cosmetics")).description == "v2"


async def test_update_with_a_config_of_another_name_is_refused(
    registry: DomainRegistry, make_domain: Make
) -> None:
    with pytest.raises(ValueError, match="cannot replace"):
        await registry.update_domain_config("cosmetics", make_domain("retail"))


async def test_reload_from_files_swaps_in_a_valid_config(
    registry: DomainRegistry, loader: Any, make_domain: Make
) -> None:
    await registry.get_domain_config("cosmetics")
    loader.configs["cosmetics"] = make_domain("cosmetics", description="edited")
    assert await registry.update_domain_configuration("cosmetics") == []
    assert (await registry.get_domain_config("cosmetics")).description == "edited"
    assert registry.version("cosmetics") == 1


async def test_broken_yaml_keeps_the_last_good_config(
    registry: DomainRegistry,
    loader: Any,
    store: Store,
    make_broken: Callable[..., ConfigError],
) -> None:
    good = await registry.get_domain_config("cosmetics")
    loader.configs["cosmetics"] = make_broken("unknown agent 'salse'")
    issues = await registry.update_domain_configuration("cosmetics")
    assert [i.message for i in issues] == ["unknown agent 'salse'"]
    assert await registry.get_domain_config("cosmetics") is good
    assert registry.version("cosmetics") == 0
    assert await stored_config(store, "cosmetics") == good


async def test_invalidation_reaches_another_registry_on_the_same_store(
    loader: Any, store: Store, make_domain: Make
) -> None:
    writer, reader = DomainRegistry(loader, store), DomainRegistry(loader, store)
    await reader.start()
    seen = asyncio.Event()
    reader.on_change(lambda name: seen.set())
    assert (await reader.get_domain_config("cosmetics")).description == "v1"
    await writer.update_domain_config("cosmetics", make_domain("cosmetics", description="v2"))
    await asyncio.wait_for(seen.wait(), timeout=5)
    assert reader.version("cosmetics") == 1
    assert (await reader.get_domain_config("cosmetics")).description == "v2"
    assert writer.version("cosmetics") == 1  # its own message is not applied twice
    await reader.stop()
    await reader.stop()  # idempotent


async def test_names_lists_the_loader_domains(registry: DomainRegistry) -> None:
    assert registry.names() == ["_base", "cosmetics", "health", "retail"]


async def stored_config(store: Store, name: str) -> DomainConfig:
    """The config the store keeps for `name`, read as another process would read it."""
    raw = await store.get(keys.domain_config(name))
    assert raw is not None
    return await stored.decode(raw, store.mget)
