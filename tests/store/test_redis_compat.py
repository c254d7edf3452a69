"""RedisStore works on the Redis 6 often run beside Chatwoot (no `EXPIRE ... NX` there)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from chatwootai.store.redis import RedisStore


@pytest.fixture
async def without_expire(
    redis_url: str, redis_client: aioredis.Redis, key_prefix: str
) -> AsyncIterator[RedisStore]:
    """A store whose Redis user may not call EXPIRE (as if its NX option did not exist)."""
    user = f"{key_prefix.rstrip(':')}-no-expire"
    await redis_client.execute_command(
        "ACL", "SETUSER", user, "on", "nopass", f"~{key_prefix}*", "+@all", "-expire"
    )
    client = aioredis.Redis.from_url(redis_url, username=user, password="", decode_responses=True)
    store = RedisStore(client, prefix=key_prefix)
    try:
        yield store
    finally:
        await store.close()
        await redis_client.execute_command("ACL", "DELUSER", user)


async def test_incr_sets_the_ttl_on_creation_without_expire(without_expire: RedisStore) -> None:
    store = without_expire
    assert await store.incr("failures", 3600) == 1
    ttl = await store.ttl("failures")
    assert ttl is not None and 3590 <= ttl <= 3600
    assert await store.incr("failures", 60) == 2
    ttl = await store.ttl("failures")
    assert ttl is not None and ttl > 60  # the TTL is set once, when the counter is created
    assert await store.incr("plain") == 1
    assert await store.ttl("plain") is None
