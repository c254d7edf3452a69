"""Suite-wide fixtures: a real Redis (never skipped), a key prefix per test, cleaned up after.

Also the suite's order and Hypothesis profile. `make test` runs the suite in parallel with
pytest-xdist (docs/testing.md, "Running the suite"): tests marked ``slow`` go first, the longest
(``slow(seconds=N)``) first of all, so that no worker starts a two-minute test at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

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
    """Longest tests first (stable: the rest keep pytest's order), so parallel workers end
    together. Serial runs take as long as before; only the order changes."""
    items.sort(key=lambda item: -expected_seconds(item))


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
