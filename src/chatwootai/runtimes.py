"""Domain runtimes kept in a bounded LRU: built once under concurrency, rebuilt after eviction.

A process serving thousands of tenants cannot keep every domain's runtime (hub, tools, crews)
forever. :class:`RuntimeCache` keeps at most ``CHATWOOTAI_MAX_RUNTIMES`` of them, the least
recently used dropped first; an evicted domain is rebuilt on its next message (cheap: what it
inherits comes from :data:`chatwootai.artefacts.SHARED`). Concurrent first messages of a domain
build its runtime once; a turn still running on an evicted runtime keeps its reference and
finishes (the owner closes the runtime's clients later, see ``on_evict``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from chatwootai.config.schema import DomainConfig

log = logging.getLogger(__name__)

DEFAULT_MAX_RUNTIMES = 1000
"""Runtimes a process keeps by default (about 50 KiB each, crews included, for a tenant sharing
its parent's data, measured by bench/tenants.py; more for a domain with its own large data)."""


class Versioned(Protocol):
    """What the cache needs of a runtime: the config and version it was built from."""

    @property
    def config(self) -> DomainConfig:
        """The config the runtime was built from."""
        ...

    @property
    def version(self) -> int:
        """The registry's version of the domain when it was built."""
        ...


R = TypeVar("R", bound=Versioned)


class RuntimeListener(Protocol):
    """Told of builds and evictions (the service's metrics)."""

    def built(self, domain: str, seconds: float) -> None:
        """A runtime of `domain` was built in `seconds`."""
        ...

    def evicted(self, domain: str) -> None:
        """The runtime of `domain` was evicted to respect the cap."""
        ...


@dataclass(slots=True)
class RuntimeStats:
    """Counts since the cache was made (for benchmarks, tests and the admin API)."""

    hits: int = 0
    builds: int = 0
    evictions: int = 0
    build_seconds: list[float] = field(default_factory=list)
    """Durations of the last builds (at most 1000 kept)."""

    def record_build(self, seconds: float) -> None:
        """Count one build of `seconds`."""
        self.builds += 1
        self.build_seconds.append(seconds)
        if len(self.build_seconds) > 1000:
            del self.build_seconds[:500]


class RuntimeCache(Generic[R]):
    """At most `max_count` domain runtimes, least recently used evicted first."""

    def __init__(
        self,
        build: Callable[[DomainConfig, int], Awaitable[R]],
        *,
        max_count: int = DEFAULT_MAX_RUNTIMES,
        on_evict: Callable[[str, R], None] | None = None,
    ) -> None:
        if max_count < 1:
            raise ValueError("max_count must be at least 1")
        self._build = build
        self.max_count = max_count
        self._on_evict = on_evict
        self._held: OrderedDict[str, R] = OrderedDict()
        self._building: dict[str, tuple[DomainConfig, int, asyncio.Future[R]]] = {}
        self.stats = RuntimeStats()
        self.listeners: list[RuntimeListener] = []

    def __len__(self) -> int:
        return len(self._held)

    def __contains__(self, domain: object) -> bool:
        return domain in self._held

    def held(self) -> list[str]:
        """Domains whose runtime is held, least recently used first."""
        return list(self._held)

    def peek(self, domain: str) -> R | None:
        """The held runtime of `domain` (no build, no change of order), or None."""
        return self._held.get(domain)

    async def get(self, domain: str, config: DomainConfig, version: int) -> R:
        """The runtime of `domain` for `config` at `version`, built once if not held."""
        runtime = self._held.get(domain)
        if runtime is not None and runtime.version == version and runtime.config is config:
            self._held.move_to_end(domain)
            self.stats.hits += 1
            return runtime
        pending = self._building.get(domain)
        if pending is not None and pending[0] is config and pending[1] == version:
            return await asyncio.shield(pending[2])  # a concurrent first message builds it
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._building[domain] = (config, version, future)
        started = time.perf_counter()
        try:
            runtime = await self._build(config, version)
        except BaseException as exc:
            if self._building.get(domain, (None, None, None))[2] is future:
                del self._building[domain]
            if isinstance(exc, Exception):
                future.set_exception(exc)
                future.exception()  # retrieved: waiters re-raise it, no "never retrieved" noise
            else:
                future.cancel()
            raise
        seconds = time.perf_counter() - started
        if self._building.get(domain, (None, None, None))[2] is future:
            del self._building[domain]
            self._put(domain, runtime)
        elif self._on_evict is not None:  # its config changed meanwhile: served once, not kept
            self._on_evict(domain, runtime)
        future.set_result(runtime)
        self.stats.record_build(seconds)
        for listener in self.listeners:
            listener.built(domain, seconds)
        return runtime

    def _put(self, domain: str, runtime: R) -> None:
        replaced = self._held.pop(domain, None)
        self._held[domain] = runtime
        if replaced is not None and replaced is not runtime and self._on_evict is not None:
            self._on_evict(domain, replaced)
        while len(self._held) > self.max_count:
            old_domain, old = self._held.popitem(last=False)
            self.stats.evictions += 1
            log.debug("runtime of %s evicted (%d held at most)", old_domain, self.max_count)
            for listener in self.listeners:
                listener.evicted(old_domain)
            if self._on_evict is not None:
                self._on_evict(old_domain, old)

    def discard(self, domain: str) -> R | None:
        """Forget `domain`'s runtime (its config changed); the caller closes it. A build under
        way for the old config is not kept when it ends."""
        self._building.pop(domain, None)
        return self._held.pop(domain, None)

    def clear(self) -> list[R]:
        """Forget every runtime and return them (to be closed)."""
        runtimes = list(self._held.values())
        self._held.clear()
        self._building.clear()
        return runtimes
