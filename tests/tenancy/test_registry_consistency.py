"""DomainRegistry across processes and failures: no stale config written back, no split brain."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest

from chatwootai.config import stored
from chatwootai.config.registry import DomainRegistry
from chatwootai.config.schema import DomainConfig, Tenants
from chatwootai.store import keys
from chatwootai.store.base import Store, StoreUnavailableError
from chatwootai.store.redis import RedisStore
from chatwootai.tenancy import DomainManager

Make = Callable[..., DomainConfig]


class SlowLoader:
    """Wraps a loader; `load` waits (in its thread) until `release` is set."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.started = threading.Event()
        self.release = threading.Event()

    def names(self) -> list[str]:
        """Names of the wrapped loader."""
        return list(self.inner.names())

    def load(self, name: str) -> DomainConfig:
        """The wrapped loader's config, once released."""
        config: DomainConfig = self.inner.load(name)
        self.started.set()
        self.release.wait(timeout=10)
        return config


async def test_a_slow_cold_read_does_not_put_an_old_config_back_in_the_store(
    loader: Any, store: Store, make_domain: Make
) -> None:
    slow = SlowLoader(loader)
    reader, writer = DomainRegistry(slow, store), DomainRegistry(loader, store)
    read = asyncio.create_task(reader.get_domain_config("cosmetics"))
    await asyncio.to_thread(slow.started.wait, 10)  # the reader holds the old files' config
    await writer.update_domain_config("cosmetics", make_domain("cosmetics", description="v2"))
    slow.release.set()
    served = await read
    assert (await stored_config(store, "cosmetics")).description == "v2"
    assert served.description == "v2"  # the store's newer copy wins over the slow read


async def test_deployment_ttls_apply_to_a_config_read_back_from_the_store(
    loader: Any, store: Store
) -> None:
    await DomainRegistry(loader, store, ttl=111).get_domain_config("retail")  # another process
    reader = DomainRegistry(loader, store, ttl=222)
    config = await reader.get_domain_config("retail")  # from the store, through JSON
    await reader.update_domain_config("retail", config)
    ttl = await store.ttl(keys.domain_config("retail"))
    assert ttl is not None and 200 <= ttl <= 222


async def test_conversation_override_uses_the_deployment_ttl_after_a_round_trip(
    loader: Any, store: Store
) -> None:
    await DomainRegistry(loader, store).get_domain_config("retail")
    reader = DomainRegistry(loader, store)
    manager = DomainManager(store, reader, Tenants(), default_domain=None, ttl=500)
    await manager.set_conversation_domain("1:2", "retail")
    ttl = await store.ttl(keys.domain_conversation("1:2"))
    assert ttl is not None and 480 <= ttl <= 500


def _unreachable() -> RedisStore:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return RedisStore.from_url(f"redis://127.0.0.1:{port}/0", timeout=0.2)


async def test_an_update_the_store_refuses_is_not_swapped_in(
    loader: Any, make_domain: Make
) -> None:
    store = _unreachable()
    registry = DomainRegistry(loader, store)
    changed: list[str] = []
    registry.on_change(changed.append)
    old = await registry.get_domain_config("cosmetics")  # from files: the store is down
    with pytest.raises(StoreUnavailableError):
        await registry.update_domain_config("cosmetics", make_domain("cosmetics", description="v2"))
    assert await registry.get_domain_config("cosmetics") is old
    assert registry.version("cosmetics") == 0 and changed == []
    loader.configs["cosmetics"] = make_domain("cosmetics", description="edited")
    with pytest.raises(StoreUnavailableError):
        await registry.update_domain_configuration("cosmetics")
    assert (await registry.get_domain_config("cosmetics")).description == "v1"
    await store.close()


async def stored_config(store: Store, name: str) -> DomainConfig:
    """The config the store keeps for `name`, read as another process would read it."""
    raw = await store.get(keys.domain_config(name))
    assert raw is not None
    return await stored.decode(raw, store.mget)
