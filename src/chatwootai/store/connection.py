"""Opening the store a deployment asks for: Redis when configured, else the embedded file store."""

from __future__ import annotations

import redis.asyncio as aioredis

from chatwootai.settings import Settings
from chatwootai.store.base import Store
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.store.redis import RedisStore

EMBEDDED_FILE = "store.sqlite3"
"""Name of the embedded store's file inside ``settings.data_dir``."""


def open_store(settings: Settings) -> Store:
    """The store of this deployment: Redis from REDIS_URL or REDIS_HOST, else the embedded store.

    Opening never touches the network: an unreachable Redis shows up as
    :class:`~chatwootai.store.base.StoreUnavailableError` on use and as ``ping() == False``.
    """
    timeout = settings.redis_timeout_s
    if settings.redis_url:
        return RedisStore.from_url(
            settings.redis_url, prefix=settings.redis_prefix, timeout=timeout
        )
    if settings.redis_host:
        password = settings.redis_password.get_secret_value() if settings.redis_password else None
        client = aioredis.Redis(
            host=settings.redis_host,
            port=settings.redis_port,
            db=settings.redis_db,
            password=password,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        return RedisStore(client, settings.redis_prefix)
    return EmbeddedStore(settings.data_dir / EMBEDDED_FILE, prefix=settings.redis_prefix)


async def store_ready(store: Store) -> bool:
    """Readiness of the store: True when it answers, False (never an exception) otherwise."""
    try:
        return await store.ping()
    except Exception:
        return False
