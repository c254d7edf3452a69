"""The store interface: the few key-value operations the service needs, on Redis or embedded.

Keys passed to a store are *logical* names built by :mod:`chatwootai.store.keys` (e.g.
``domain:config:cosmetics``); the store adds its namespace prefix (default ``chatwootai:``).
Values are strings (JSON where structured). Every method is a coroutine.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field


class StoreError(Exception):
    """The store could not complete an operation."""


class StoreUnavailableError(StoreError):
    """The store is unreachable (Redis down, timeout); the operation may be retried later."""


@dataclass(frozen=True, slots=True)
class Watch:
    """Remember that `member` last counted into the hash `target` at `score` (None: forget it).

    Members are kept in the sorted set `key`, their targets in the hash ``key + ":targets"``.
    """

    key: str
    member: str
    score: float | None
    target: str = ""


@dataclass(frozen=True, slots=True)
class Sweep:
    """Members of the watch set `key` scored at most `before`: add 1 to `field` of their target
    hash (if it still exists) and forget them; at most `limit` per call."""

    key: str
    before: float
    field: str
    limit: int = 200


@dataclass(frozen=True, slots=True)
class CountBatch:
    """Integer amounts added to fields of hashes in one atomic step (see :meth:`Store.count`)."""

    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """Hash key → field → amount to add."""
    ttl: int | None = None
    """Seconds each hash of `counts` lives from now (None: untouched)."""
    read: Sequence[tuple[str, str]] = ()
    """(hash key, field) whose values, after the additions, the call returns."""
    watch: Watch | None = None
    sweep: Sweep | None = None


class Store(ABC):
    """Async key-value store with TTLs, set-if-absent, counters, lists, sorted sets and pub/sub."""

    prefix: str
    """Namespace prefix added to every key (e.g. ``chatwootai:``)."""

    @abstractmethod
    async def get(self, key: str) -> str | None:
        """The value of `key`, or None when absent or expired."""

    @abstractmethod
    async def mget(self, keys: Sequence[str]) -> list[str | None]:
        """The values of `keys`, in order, in one round trip."""

    @abstractmethod
    async def set(self, key: str, value: str, ttl: int | None = None, *, nx: bool = False) -> bool:
        """Set `key` (with a TTL in seconds if given); with `nx`, only if absent. True if set."""

    async def mset(self, items: Mapping[str, str], ttl: int | None = None) -> None:
        """Set several keys (each with `ttl` seconds if given) in one round trip."""
        for key, value in items.items():
            await self.set(key, value, ttl)

    @abstractmethod
    async def delete(self, *keys: str) -> int:
        """Delete keys; the number deleted."""

    @abstractmethod
    async def ttl(self, key: str) -> int | None:
        """Seconds `key` has left; None when absent or without expiry."""

    @abstractmethod
    async def expire(self, key: str, ttl: int) -> bool:
        """Give `key` a new TTL; False when absent."""

    @abstractmethod
    async def incr(self, key: str, ttl: int | None = None) -> int:
        """Increment an integer counter (setting the TTL when the key is created)."""

    @abstractmethod
    async def compare_and_delete(self, key: str, value: str) -> bool:
        """Delete `key` only if it holds `value` (safe lock release). True if deleted."""

    @abstractmethod
    async def compare_and_expire(self, key: str, value: str, ttl: int) -> bool:
        """Give `key` a new TTL only if it holds `value` (renewing a lease). True if renewed."""

    @abstractmethod
    async def compare_and_set(
        self, key: str, expected: str | None, value: str, ttl: int | None = None
    ) -> bool:
        """Set `key` only if it holds `expected` (None: only if absent). True if set."""

    @abstractmethod
    async def zadd(self, key: str, members: Mapping[str, float]) -> None:
        """Add members to the sorted set at `key`, or move them to new scores."""

    @abstractmethod
    async def zrange_by_score(
        self, key: str, max_score: float, *, limit: int = 100
    ) -> list[tuple[str, float]]:
        """Members scored at most `max_score`, lowest first (at most `limit`), with their scores."""

    async def zrange_desc(
        self, key: str, *, below: float | None = None, offset: int = 0, limit: int = 100
    ) -> list[tuple[str, float]]:
        """Members highest scored first (only those scored under `below`, if given), from
        `offset` (at most `limit`), with their scores."""
        raise StoreError(f"{type(self).__name__} cannot list a sorted set from the top")

    @abstractmethod
    async def zrem(self, key: str, *members: str) -> int:
        """Remove members from the sorted set; how many were there."""

    @abstractmethod
    async def zcount(self, key: str, max_score: float = math.inf) -> int:
        """How many members of the sorted set are scored at most `max_score`."""

    @abstractmethod
    async def list_push(self, key: str, value: str, ttl: int | None = None) -> int:
        """Append `value` to the list at `key` (giving the list `ttl` seconds); its new length."""

    @abstractmethod
    async def list_range(self, key: str) -> list[str]:
        """Every item of the list at `key`, oldest first; empty when absent."""

    @abstractmethod
    async def list_remove(self, key: str, values: Sequence[str]) -> int:
        """Remove every occurrence of each of `values` from the list, atomically; how many."""

    @abstractmethod
    async def count(self, batch: CountBatch) -> list[int]:
        """Apply `batch` atomically in one round trip: sweep, add, watch, then read.

        Returns the values of ``batch.read`` (0 for an absent field), in order.
        """

    @abstractmethod
    async def read_counts(self, keys: Sequence[str]) -> list[dict[str, int]]:
        """Every field of each hash of `keys` (empty when absent), in one round trip."""

    @abstractmethod
    async def scan(self, pattern: str) -> list[str]:
        """Logical keys matching a glob `pattern` (without the prefix)."""

    @abstractmethod
    async def publish(self, channel: str, message: str) -> None:
        """Publish `message` to every subscriber of `channel`, in every process."""

    @abstractmethod
    def subscribe(self, channel: str) -> AsyncIterator[str]:
        """Messages published on `channel` from now on, until the iterator is closed."""

    @abstractmethod
    async def ping(self) -> bool:
        """True when the store is reachable."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections and files."""
