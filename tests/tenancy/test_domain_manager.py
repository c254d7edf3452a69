"""DomainManager: resolution order, overrides with TTL, caching, concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from chatwootai.config.registry import DomainRegistry
from chatwootai.config.schema import DomainConfig, Tenants
from chatwootai.store import keys
from chatwootai.store.base import Store
from chatwootai.tenancy import DefaultDomainError, DomainManager, DomainNotFoundError, NoDomainError

TENANTS = Tenants.model_validate(
    {"accounts": {"1": "retail", "2": {"domain": "health"}}, "inboxes": {"10": "cosmetics"}}
)


def manager(store: Store, registry: DomainRegistry, **kwargs: Any) -> DomainManager:
    kwargs.setdefault("default_domain", None)
    return DomainManager(store, registry, kwargs.pop("tenants", TENANTS), **kwargs)


async def test_resolution_order_layer_by_layer(store: Store, registry: DomainRegistry) -> None:
    dm = manager(store, registry, default_domain="retail", cache_seconds=0)
    # 5. the default, when nothing else matches
    assert await dm.get_domain_for_conversation("9:1") == "retail"
    # 4. the global active domain beats the default
    await dm.set_active_domain("health")
    assert await dm.get_domain_for_conversation("9:1") == "health"
    # 3. the account mapping beats the active domain (account from the key or given)
    assert await dm.get_domain_for_conversation("2:5") == "health"
    assert await dm.get_domain_for_conversation("1:5") == "retail"
    assert await dm.get_domain_for_conversation("x", account_id="1") == "retail"
    # 2. the inbox mapping beats the account mapping
    assert await dm.get_domain_for_conversation("1:5", inbox_id="10") == "cosmetics"
    # 1. the conversation override beats everything
    await dm.set_conversation_domain("1:5", "health")
    assert await dm.get_domain_for_conversation("1:5", inbox_id="10") == "health"
    assert await dm.get_domain_for_conversation("1:6", inbox_id="10") == "cosmetics"
    # clearing the active domain falls back to the default
    await dm.set_active_domain(None)
    assert await dm.get_domain_for_conversation("9:1") == "retail"
    assert await dm.get_active_domain() is None


async def test_no_domain_anywhere(store: Store, registry: DomainRegistry) -> None:
    dm = manager(store, registry, tenants=Tenants())
    with pytest.raises(NoDomainError, match=r"tenants.yaml.*CHATWOOT_DOMAIN"):
        await dm.get_domain_for_conversation("3:4")


async def test_override_key_value_and_ttl(store: Store, registry: DomainRegistry) -> None:
    dm = manager(store, registry)
    await dm.set_conversation_domain("7:42", "cosmetics")
    assert await store.get("domain:conversation:7:42") == "cosmetics"
    ttl = await store.ttl(keys.domain_conversation("7:42"))
    assert ttl is not None and 86390 <= ttl <= 86400
    short = manager(store, registry, ttl=60)
    await short.set_conversation_domain("7:43", "cosmetics")
    ttl = await store.ttl(keys.domain_conversation("7:43"))
    assert ttl is not None and 50 <= ttl <= 60
    await dm.clear_conversation_domain("7:42")
    assert await store.get("domain:conversation:7:42") is None


async def test_domain_ttl_override_for_conversations(
    store: Store, loader: Any, make_domain: Callable[..., DomainConfig]
) -> None:
    loader.configs["retail"] = make_domain("retail", ttl={"conversation": 300})
    dm = manager(store, DomainRegistry(loader, store))
    await dm.set_conversation_domain("1:1", "retail")
    ttl = await store.ttl(keys.domain_conversation("1:1"))
    assert ttl is not None and 290 <= ttl <= 300


async def test_unknown_or_abstract_domains_are_refused(
    store: Store, registry: DomainRegistry
) -> None:
    dm = manager(store, registry)
    with pytest.raises(DomainNotFoundError, match="'nope'"):
        await dm.set_conversation_domain("1:1", "nope")
    with pytest.raises(DomainNotFoundError, match=r"'_base'.*abstract"):
        await dm.set_conversation_domain("1:1", "_base")
    with pytest.raises(DomainNotFoundError):
        await dm.set_active_domain("nope")
    assert await store.get(keys.domain_conversation("1:1")) is None


async def test_cache_is_bounded_and_refresh_bypasses_it(
    store: Store, registry: DomainRegistry
) -> None:
    dm = manager(store, registry, cache_seconds=60)
    other_process = manager(store, registry, cache_seconds=60)
    assert await dm.get_domain_for_conversation("1:1") == "retail"
    await other_process.set_conversation_domain("1:1", "health")
    assert await dm.get_domain_for_conversation("1:1") == "retail"  # cached
    assert await dm.get_domain_for_conversation("1:1", refresh_cache=True) == "health"

    quick = manager(store, registry, cache_seconds=0.05)
    assert await quick.get_domain_for_conversation("1:2") == "retail"
    await other_process.set_conversation_domain("1:2", "cosmetics")
    await asyncio.sleep(0.1)
    assert await quick.get_domain_for_conversation("1:2") == "cosmetics"


async def test_own_changes_are_seen_at_once(store: Store, registry: DomainRegistry) -> None:
    dm = manager(store, registry, cache_seconds=60)
    assert await dm.get_domain_for_conversation("1:1") == "retail"
    await dm.set_conversation_domain("1:1", "health")
    assert await dm.get_domain_for_conversation("1:1") == "health"


async def test_set_tenants_replaces_mappings(store: Store, registry: DomainRegistry) -> None:
    dm = manager(store, registry)
    dm.set_tenants(Tenants.model_validate({"accounts": {"1": "health"}}))
    assert await dm.get_domain_for_conversation("1:1") == "health"


async def test_concurrent_sets_and_gets(store: Store, registry: DomainRegistry) -> None:
    dm = manager(store, registry, cache_seconds=0)
    domains = ["cosmetics", "health", "retail"]

    async def one(i: int) -> str:
        key = f"5:{i}"
        await dm.set_conversation_domain(key, domains[i % 3])
        return await dm.get_domain_for_conversation(key)

    results = await asyncio.gather(*(one(i) for i in range(150)))
    assert results == [domains[i % 3] for i in range(150)]
    assert len(await store.scan("domain:conversation:5:*")) == 150


async def test_an_abstract_domain_is_never_served(store: Store, registry: DomainRegistry) -> None:
    with pytest.raises(DomainNotFoundError, match="'_base' does not exist or is abstract"):
        await registry.get_domain_config("_base")
    assert (await registry.get_domain_config("_base", abstract_ok=True)).abstract
    with pytest.raises(DomainNotFoundError, match=r"abstract\. Known domains: cosmetics, health"):
        await registry.get_domain_config("_base")  # cached now, still refused
    dm = manager(store, registry)
    with pytest.raises(DomainNotFoundError):
        await dm.set_conversation_domain("1:1", "_base")


async def test_an_abstract_or_unknown_default_domain_is_reported_clearly(
    store: Store, registry: DomainRegistry
) -> None:
    for default in ("_base", "nope"):
        dm = manager(store, registry, tenants=Tenants(), default_domain=default)
        with pytest.raises(DefaultDomainError, match=rf"CHATWOOT_DOMAIN='{default}'.*cosmetics"):
            await dm.check_default_domain()
        with pytest.raises(DefaultDomainError):
            await dm.get_domain_for_conversation("5:5")
    dm = manager(store, registry, tenants=Tenants(), default_domain="retail")
    await dm.check_default_domain()
    assert await dm.get_domain_for_conversation("5:5") == "retail"
    await manager(store, registry, default_domain=None).check_default_domain()  # unset is fine
