"""Suite-wide fixtures: a real Redis (never skipped), a key prefix per test, cleaned up after.

Also how the suite is scheduled (docs/testing.md, "Running the project's test suite"): `make
test` runs it in parallel with pytest-xdist, handing out whole modules (``--dist loadfile``), so
a module's tests run in order on one worker and its module-scoped fixtures are built once.
Modules go longest first, by their tests' ``slow(seconds=N)`` markers, so that no worker starts
a two-minute test when the others are done. And the suite's Hypothesis profile.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
import redis.asyncio as aioredis
from hypothesis import HealthCheck, settings

from chatwootai.store.base import Store
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.store.redis import RedisStore

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
HOW_TO_START = (
    "Redis is not reachable at {url}: the test suite needs a real Redis. Start one with\n"
    "  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no\n"
    "or point REDIS_URL at a running server."
)


SLOW_DEFAULT_S = 10.0
"""What a ``slow`` test without ``seconds=`` is taken to last, for the order only."""

settings.register_profile(
    "chatwootai",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
"""Timing on a shared or parallel machine is not a property: no deadline, no too-slow check.
Example counts are untouched (tests that set their own keep them)."""
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "chatwootai"))


def expected_seconds(item: pytest.Item) -> float:
    """How long a test is expected to take, for ordering: its ``slow`` marker, else 0."""
    marker = item.get_closest_marker("slow")
    if marker is None:
        return 0.0
    return float(marker.kwargs.get("seconds", SLOW_DEFAULT_S))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules longest first, by the ``slow`` seconds of their tests; each module's tests stay
    together and in order (the sort is stable, and so is pytest's order among equals).

    `make unit` hands out whole modules (``--dist loadfile``), so this is the order in which
    workers take them. Serial runs take as long as before; only the order changes."""
    weight: dict[str, float] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        weight[module] = weight.get(module, 0.0) + expected_seconds(item)
    items.sort(key=lambda item: -weight[item.nodeid.split("::", 1)[0]])


def pytest_sessionstart(session: pytest.Session) -> None:
    """Fail the whole run, with instructions, when Redis is unreachable."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise pytest.UsageError(HOW_TO_START.format(url=REDIS_URL) + f"\n({exc})") from None


@pytest.fixture
def redis_url() -> str:
    """URL of the test Redis."""
    return REDIS_URL


WHOLE_DBS = range(9, 16)
"""Database indexes a test may take whole (never 0, where the prefixed tests and the service
live); one at a time per index, across xdist workers and concurrent runs on one Redis."""


@pytest.fixture
def whole_redis_db() -> Iterator[str]:
    """The URL of a Redis database index this test has to itself, emptied before and after.

    Claimed with SET NX on a key in database 0, so two workers (or two runs sharing the Redis)
    never get the same index; prefer `key_prefix` whenever a prefix is enough."""
    claims = redis.Redis.from_url(REDIS_URL)
    token = uuid.uuid4().hex
    index = next(
        (n for n in WHOLE_DBS if claims.set(f"test:whole-db:{n}", token, nx=True, ex=3600)),
        None,
    )
    if index is None:
        claims.close()
        pytest.fail(f"every database index in {WHOLE_DBS} is taken by other tests")
    url = urlsplit(REDIS_URL)._replace(path=f"/{index}").geturl()
    whole = redis.Redis.from_url(url)
    whole.flushdb()
    try:
        yield url
    finally:
        whole.flushdb()
        whole.close()
        if claims.get(f"test:whole-db:{index}") == token.encode():
            claims.delete(f"test:whole-db:{index}")
        claims.close()


@pytest.fixture
def key_prefix() -> Iterator[str]:
    """A key prefix unique to this test; every key under it is deleted afterwards."""
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
async def redis_client(key_prefix: str) -> AsyncIterator[aioredis.Redis]:
    """An asyncio Redis client on the test server (keys must start with `key_prefix`)."""
    client = aioredis.Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture(params=["redis", "embedded"])
async def store(
    request: pytest.FixtureRequest, redis_url: str, key_prefix: str, tmp_path: Path
) -> AsyncIterator[Store]:
    """A RedisStore under the test's prefix, or an EmbeddedStore in a temporary file."""
    opened: Store
    if request.param == "redis":
        opened = RedisStore.from_url(redis_url, prefix=key_prefix)
    else:
        opened = EmbeddedStore(tmp_path / "store.sqlite3", prefix=key_prefix)
    yield opened
    await opened.close()
