"""CrewRegistry: each crew built once per domain and config version, then reused by every turn."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar, cast

from chatwootai.config.registry import DomainRegistry
from chatwootai.config.schema import DomainConfig

T = TypeVar("T")


class CrewNotFoundError(Exception):
    """The domain has no crew with this id."""

    def __init__(self, crew_id: str, domain: str, known: list[str]) -> None:
        self.crew_id = crew_id
        self.domain = domain
        super().__init__(
            f"Domain {domain!r} has no crew {crew_id!r}; its crews are: "
            f"{', '.join(sorted(known)) or 'none'}."
        )


class CrewRegistry(Generic[T]):
    """Built crews keyed by (domain, crew, config version); concurrent first calls build once.

    `builder(config, crew_id)` builds a crew (e.g. ``CrewFactory(config, ...).build``); it may be
    sync or async. Crews of a domain are dropped whenever the registry reports it changed.
    """

    def __init__(
        self, builder: Callable[[DomainConfig, str], Awaitable[T] | T], registry: DomainRegistry
    ) -> None:
        self.builder = builder
        self.registry = registry
        self._crews: dict[tuple[str, str, int], asyncio.Future[T]] = {}
        registry.on_change(self.invalidate_domain)

    async def get_crew(self, crew_id: str, domain_name: str) -> T:
        """The crew `crew_id` of `domain_name`, built on first use of this config version."""
        version = self.registry.version(domain_name)
        key = (domain_name, crew_id, version)
        future = self._crews.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._crews[key] = future
            try:
                future.set_result(await self._build(crew_id, domain_name))
            except BaseException as exc:
                if self._crews.get(key) is future:
                    del self._crews[key]
                if isinstance(exc, Exception):
                    future.set_exception(exc)
                    future.exception()  # marked as retrieved: the waiters re-raise it
                else:
                    future.cancel()
                raise
        return await asyncio.shield(future)

    async def _build(self, crew_id: str, domain_name: str) -> T:
        config = await self.registry.get_domain_config(domain_name)
        if crew_id not in config.crews:
            raise CrewNotFoundError(crew_id, domain_name, list(config.crews))
        crew = self.builder(config, crew_id)
        if inspect.isawaitable(crew):
            return cast(T, await crew)
        return crew

    def invalidate_crew(self, crew_id: str, domain_name: str) -> None:
        """Forget crew `crew_id` of `domain_name`; the next call rebuilds it."""
        for key in [k for k in self._crews if k[0] == domain_name and k[1] == crew_id]:
            del self._crews[key]

    def invalidate_domain(self, domain_name: str) -> None:
        """Forget every crew of `domain_name`."""
        for key in [k for k in self._crews if k[0] == domain_name]:
            del self._crews[key]

    def built(self) -> list[tuple[str, str, int]]:
        """Keys (domain, crew, version) of the crews held."""
        return [k for k, f in self._crews.items() if f.done() and not f.cancelled()]
