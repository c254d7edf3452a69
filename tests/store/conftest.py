"""The store fixture: every store test runs on the real Redis and on the embedded store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatwootai.store.base import Store
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.store.redis import RedisStore


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
