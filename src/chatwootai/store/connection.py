"""Opening the store a deployment asks for: Redis when configured, else the embedded file store."""

from __future__ import annotations

from chatwootai.settings import Settings
from chatwootai.store.base import Store
from chatwootai.store.embedded import EmbeddedStore

EMBEDDED_FILE = "store.sqlite3"
"""Name of the embedded store's file inside ``settings.data_dir``."""


def open_store(settings: Settings) -> Store:
    """The store of this deployment: Redis (REDIS_URL, REDIS_HOST or REDIS_SENTINELS), else the
    embedded store.

    Opening never touches the network: an unreachable Redis shows up as
    :class:`~chatwootai.store.base.StoreUnavailableError` on use and as ``ping() == False``.
    """
    if settings.redis_configured:
        # Imported here: an embedded deployment never loads the Redis client.
        from chatwootai.store.redis import RedisStore
        from chatwootai.store.redis_endpoint import redis_endpoint

        endpoint = redis_endpoint(settings)
        assert endpoint is not None
        return RedisStore(endpoint.client(), settings.redis_prefix)
    return EmbeddedStore(settings.data_dir / EMBEDDED_FILE, prefix=settings.redis_prefix)


async def store_ready(store: Store) -> bool:
    """Readiness of the store: True when it answers, False (never an exception) otherwise."""
    try:
        return await store.ping()
    except Exception:
        return False
