"""DomainRegistry: the validated config of each domain, from memory, then the store, then YAML.

A change (an admin update or a hot reload) is swapped in whole: the new config is written to the
store, the domain's version is bumped and an invalidation is published on
:data:`chatwootai.store.keys.INVALIDATION_CHANNEL`, so every other process drops its copy and
reads the new one from the store. A config that fails validation is never swapped in.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Protocol

from pydantic import ValidationError

from chatwootai.config.errors import ConfigError, ConfigIssue
from chatwootai.config.schema import DomainConfig
from chatwootai.stopping import stop_task
from chatwootai.store import keys
from chatwootai.store.base import Store, StoreError
from chatwootai.store.ttl import CONFIG_TTL, ttl_or

log = logging.getLogger(__name__)

_RETRY_S = 0.5
"""Pause before the listener subscribes again after losing the store."""


class DomainLoader(Protocol):
    """What the registry needs of the YAML loader."""

    def names(self) -> list[str]:
        """Names of the domains on disk."""
        ...

    def load(self, name: str) -> DomainConfig:
        """The validated, inheritance-resolved config of `name`; raises ConfigError."""
        ...


class DomainNotFoundError(Exception):
    """No servable domain has this name."""

    def __init__(self, name: str, known: list[str] | None = None) -> None:
        self.name = name
        hint = f" Known domains: {', '.join(sorted(known))}." if known else ""
        super().__init__(f"Domain {name!r} does not exist or is abstract.{hint}")


class DomainRegistry:
    """Validated domain configs, cached in memory and in the store, kept equal across processes."""

    def __init__(self, loader: DomainLoader, store: Store, *, ttl: int = CONFIG_TTL) -> None:
        self.loader = loader
        self.store = store
        self.ttl = ttl
        self._configs: dict[str, DomainConfig] = {}
        self._versions: dict[str, int] = {}
        self._callbacks: list[Callable[[str], None]] = []
        self._locks: dict[str, asyncio.Lock] = {}
        self._origin = uuid.uuid4().hex
        self._listener: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None
        self._handshake = ""

    # -- reading -----------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Names of the domains known to the loader (abstract ones included)."""
        return sorted(self.loader.names())

    def version(self, name: str) -> int:
        """How many times `name` changed as seen by this process (0 before any change)."""
        return self._versions.get(name, 0)

    def cached(self, name: str) -> DomainConfig | None:
        """The config held in memory, if any (no I/O)."""
        return self._configs.get(name)

    async def get_domain_config(self, name: str, *, abstract_ok: bool = False) -> DomainConfig:
        """The config to serve for `name` (memory, store, then YAML); abstract ones if asked."""
        config = await self._config(name)
        if config.abstract and not abstract_ok:  # a base is read by listings, never served
            raise DomainNotFoundError(name, self._servable_names())
        return config

    def _servable_names(self) -> list[str]:
        def abstract(name: str) -> bool:
            config = self._configs.get(name)
            return name.startswith("_") if config is None else config.abstract

        return [name for name in self.loader.names() if not abstract(name)]

    async def _config(self, name: str) -> DomainConfig:
        config = self._configs.get(name)
        if config is not None:
            return config
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            config = self._configs.get(name)
            if config is not None:
                return config
            version = self.version(name)
            config = await self._from_store(name)
            if config is None:
                config = await self._fill_from_files(name)
            if self.version(name) == version:  # not invalidated while we read
                self._configs[name] = config
            return config

    async def _from_store(self, name: str) -> DomainConfig | None:
        try:
            raw = await self.store.get(keys.domain_config(name))
        except StoreError as exc:
            log.warning("config of %s not read from the store (%s); reading files", name, exc)
            return None
        if raw is None:
            return None
        try:
            return DomainConfig.model_validate_json(raw)
        except ValidationError:
            log.warning("config of %s in the store does not match the schema; reading files", name)
            return None

    async def _from_files(self, name: str) -> DomainConfig:
        if name not in self.loader.names():
            raise DomainNotFoundError(name, self.loader.names())
        return await asyncio.to_thread(self.loader.load, name)

    async def _fill_from_files(self, name: str) -> DomainConfig:
        """The YAML config, cached in the store only if absent (an update made meanwhile wins)."""
        config = await self._from_files(name)
        try:
            written = await self.store.set(
                keys.domain_config(name), config.model_dump_json(), self._ttl_for(config), nx=True
            )
        except StoreError as exc:
            log.warning("config of %s not cached in the store: %s", name, exc)
            return config
        if not written:
            newer = await self._from_store(name)
            if newer is not None:
                return newer
        return config

    def _ttl_for(self, config: DomainConfig) -> int:
        return ttl_or(config.ttl.config, self.ttl)

    async def _write_store(self, name: str, config: DomainConfig) -> None:
        await self.store.set(
            keys.domain_config(name), config.model_dump_json(), self._ttl_for(config)
        )

    # -- changing ----------------------------------------------------------------------------

    async def update_domain_config(self, name: str, new_config: DomainConfig) -> None:
        """Store `new_config`, then swap it in and tell every process; StoreError swaps nothing."""
        if new_config.name != name:
            raise ValueError(f"config named {new_config.name!r} cannot replace domain {name!r}")
        await self._write_store(name, new_config)
        self._swap(name, new_config)
        try:
            await self.store.publish(
                keys.INVALIDATION_CHANNEL, json.dumps({"domain": name, "origin": self._origin})
            )
        except StoreError as exc:  # listeners that lost the store drop every copy on return
            log.warning("change of %s stored but not announced to other processes: %s", name, exc)

    async def update_domain_configuration(self, name: str) -> list[ConfigIssue]:
        """Reload `name` from YAML; swap it in only if valid (else the issues) and stored."""
        try:
            config = await self._from_files(name)
        except ConfigError as exc:
            log.error("config of %s not reloaded, the last good one is kept:\n%s", name, exc)
            return list(exc.issues)
        await self.update_domain_config(name, config)
        log.info("config of %s reloaded (version %d)", name, self.version(name))
        return []

    def forget(self, name: str | None = None) -> None:
        """Drop the memory copy of `name` (of every domain when None); the next read refetches."""
        names = list(self._configs) if name is None else [name]
        for each in names:
            self._configs.pop(each, None)
            self._changed(each)

    def _swap(self, name: str, config: DomainConfig) -> None:
        self._configs[name] = config
        self._changed(name)

    def _changed(self, name: str) -> None:
        self._versions[name] = self.version(name) + 1
        for callback in list(self._callbacks):
            try:
                callback(name)
            except Exception:
                log.exception("a config change callback failed for %s", name)

    def on_change(self, callback: Callable[[str], None]) -> None:
        """Call `callback(domain)` after a domain changed, here or in another process."""
        self._callbacks.append(callback)

    # -- listening ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen for changes made by other processes (returns once subscribed, or after 2 s)."""
        if self._listener is not None:
            return
        self._ready = asyncio.Event()
        self._handshake = f"{self._origin}:{uuid.uuid4().hex}"
        self._listener = asyncio.create_task(self._listen(), name="domain-config-invalidation")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._greet(), timeout=2.0)

    async def _greet(self) -> None:
        assert self._ready is not None
        while not self._ready.is_set():
            with contextlib.suppress(StoreError):
                await self.store.publish(keys.INVALIDATION_CHANNEL, self._handshake)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), timeout=0.05)

    async def stop(self) -> None:
        """Stop listening."""
        task, self._listener = self._listener, None
        await stop_task(task)  # cancelled again if a store call swallowed the cancel

    async def _listen(self) -> None:
        while True:
            messages = self.store.subscribe(keys.INVALIDATION_CHANNEL)
            try:
                async for message in messages:
                    self._receive(message)
            except StoreError as exc:
                log.warning("config invalidation listener lost the store: %s", exc)
            finally:
                with contextlib.suppress(Exception):
                    await messages.aclose()  # type: ignore[attr-defined]
            await self._reconnect()

    async def _reconnect(self) -> None:
        """Wait for the store, then drop every memory copy: changes may have been missed."""
        while True:
            await asyncio.sleep(_RETRY_S)
            if await self.store.ping():
                break
        self.forget()

    def _receive(self, message: str) -> None:
        if message == self._handshake:
            if self._ready is not None:
                self._ready.set()
            return
        try:
            event = json.loads(message)
            name, origin = str(event["domain"]), str(event["origin"])
        except (ValueError, KeyError, TypeError):
            return  # another process's handshake, or noise
        if origin != self._origin:
            self._configs.pop(name, None)
            self._changed(name)
