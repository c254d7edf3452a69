"""A throw-away store in which each conversation test sees only its own keys.

Tests run concurrently on one system. Calendar seats are shared by every conversation of a
domain, so without isolation one test's booking could take the slot another test books, and
results would depend on which tests run and in what order. :class:`IsolatedStore` prefixes every
key with the namespace of the test running in the current asyncio task (a context variable).
"""

from __future__ import annotations

import contextvars
import dataclasses
import math
from collections.abc import AsyncIterator, Mapping, Sequence

from chatwootai.store.base import CountBatch, Store

namespace: contextvars.ContextVar[str] = contextvars.ContextVar("convtest_namespace", default="")
"""The key namespace of the test running in this task ("" outside tests)."""


class IsolatedStore(Store):
    """A store whose keys are prefixed by the current test's :data:`namespace`."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.prefix = inner.prefix

    @staticmethod
    def _k(key: str) -> str:
        return namespace.get() + key

    async def get(self, key: str) -> str | None:
        """See :meth:`Store.get`."""
        return await self.inner.get(self._k(key))

    async def mget(self, keys: Sequence[str]) -> list[str | None]:
        """See :meth:`Store.mget`."""
        return await self.inner.mget([self._k(k) for k in keys])

    async def set(self, key: str, value: str, ttl: int | None = None, *, nx: bool = False) -> bool:
        """See :meth:`Store.set`."""
        return await self.inner.set(self._k(key), value, ttl, nx=nx)

    async def mset(self, items: Mapping[str, str], ttl: int | None = None) -> None:
        """See :meth:`Store.mset`."""
        await self.inner.mset({self._k(k): v for k, v in items.items()}, ttl)

    async def delete(self, *keys: str) -> int:
        """See :meth:`Store.delete`."""
        return await self.inner.delete(*(self._k(k) for k in keys))

    async def ttl(self, key: str) -> int | None:
        """See :meth:`Store.ttl`."""
        return await self.inner.ttl(self._k(key))

    async def expire(self, key: str, ttl: int) -> bool:
        """See :meth:`Store.expire`."""
        return await self.inner.expire(self._k(key), ttl)

    async def incr(self, key: str, ttl: int | None = None) -> int:
        """See :meth:`Store.incr`."""
        return await self.inner.incr(self._k(key), ttl)

    async def compare_and_delete(self, key: str, value: str) -> bool:
        """See :meth:`Store.compare_and_delete`."""
        return await self.inner.compare_and_delete(self._k(key), value)

    async def compare_and_expire(self, key: str, value: str, ttl: int) -> bool:
        """See :meth:`Store.compare_and_expire`."""
        return await self.inner.compare_and_expire(self._k(key), value, ttl)

    async def compare_and_set(
        self, key: str, expected: str | None, value: str, ttl: int | None = None
    ) -> bool:
        """See :meth:`Store.compare_and_set`."""
        return await self.inner.compare_and_set(self._k(key), expected, value, ttl)

    async def zadd(self, key: str, members: Mapping[str, float]) -> None:
        """See :meth:`Store.zadd`."""
        await self.inner.zadd(self._k(key), members)

    async def zrange_by_score(
        self, key: str, max_score: float, *, limit: int = 100
    ) -> list[tuple[str, float]]:
        """See :meth:`Store.zrange_by_score`."""
        return await self.inner.zrange_by_score(self._k(key), max_score, limit=limit)

    async def zrange_desc(
        self, key: str, *, below: float | None = None, offset: int = 0, limit: int = 100
    ) -> list[tuple[str, float]]:
        """See :meth:`Store.zrange_desc`."""
        return await self.inner.zrange_desc(self._k(key), below=below, offset=offset, limit=limit)

    async def zrem(self, key: str, *members: str) -> int:
        """See :meth:`Store.zrem`."""
        return await self.inner.zrem(self._k(key), *members)

    async def zcount(self, key: str, max_score: float = math.inf) -> int:
        """See :meth:`Store.zcount`."""
        return await self.inner.zcount(self._k(key), max_score)

    async def list_push(self, key: str, value: str, ttl: int | None = None) -> int:
        """See :meth:`Store.list_push`."""
        return await self.inner.list_push(self._k(key), value, ttl)

    async def list_range(self, key: str) -> list[str]:
        """See :meth:`Store.list_range`."""
        return await self.inner.list_range(self._k(key))

    async def list_remove(self, key: str, values: Sequence[str]) -> int:
        """See :meth:`Store.list_remove`."""
        return await self.inner.list_remove(self._k(key), values)

    async def count(self, batch: CountBatch) -> list[int]:
        """See :meth:`Store.count`."""
        k = self._k
        watch, sweep = batch.watch, batch.sweep
        return await self.inner.count(
            CountBatch(
                counts={k(key): fields for key, fields in batch.counts.items()},
                ttl=batch.ttl,
                read=[(k(key), field) for key, field in batch.read],
                watch=None
                if watch is None
                else dataclasses.replace(watch, key=k(watch.key), target=k(watch.target)),
                sweep=None if sweep is None else dataclasses.replace(sweep, key=k(sweep.key)),
            )
        )

    async def read_counts(self, keys: Sequence[str]) -> list[dict[str, int]]:
        """See :meth:`Store.read_counts`."""
        return await self.inner.read_counts([self._k(key) for key in keys])

    async def scan(self, pattern: str) -> list[str]:
        """See :meth:`Store.scan` (keys of the current test only)."""
        space = namespace.get()
        return [k[len(space) :] for k in await self.inner.scan(space + pattern)]

    async def publish(self, channel: str, message: str) -> None:
        """See :meth:`Store.publish`."""
        await self.inner.publish(channel, message)

    def subscribe(self, channel: str) -> AsyncIterator[str]:
        """See :meth:`Store.subscribe`."""
        return self.inner.subscribe(channel)

    async def ping(self) -> bool:
        """See :meth:`Store.ping`."""
        return await self.inner.ping()

    async def close(self) -> None:
        """See :meth:`Store.close`."""
        await self.inner.close()
