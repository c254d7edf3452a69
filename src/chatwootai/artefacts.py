"""Artefacts built once per content hash and shared: in memory, on disk and in the shared store.

An artefact is anything expensive derived from content (a document's chunks and index, passage
vectors, a domain tool's search index). Its key is a hash of everything it was built from, so two
domains that inherit the same document ask for the same key and share one artefact: built once,
kept once in memory, written once to disk and to the shared store.

Layers, looked up in order and filled on the way back:

* memory: every artefact some domain of the process still holds (weakly referenced, so a runtime
  that is dropped frees what only it used), plus a bounded LRU of recently used ones;
* disk: ``<directory>/<kind>/<key[:2]>/<key>.v<version>`` (zlib-compressed), shared by the
  processes of one host (the service and ``chatwootai knowledge sync``);
* store: the deployment's Redis when one is configured (``artefact:<kind>:v<version>:<key>``,
  base64 of the compressed bytes, with a TTL refreshed on use), shared by every host.

A :class:`Codec` turns an artefact into bytes and back; its ``version`` is part of the location,
so changing an artefact's format never reads an old one.

:data:`SHARED` is the process's memory-only cache for artefacts built while a domain's runtime is
built (routing classifiers and matchers, catalog and FAQ indexes): a tenant that inherits its
parent's routing and data asks for the parent's keys and gets the parent's objects, so it costs
little more than its own facts. A tenant overriding something gets another key, never its parent's
artefact; a changed parent changes the keys of its children, which rebuild on their next load.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import tempfile
import threading
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from chatwootai.store import keys
from chatwootai.store.base import Store, StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")

STORE_TTL_S = 30 * 86400
"""Lifetime of an artefact in the shared store, renewed each time a process loads it."""

MEMORY_ITEMS = 512
"""Recently used artefacts kept in memory even when no domain holds them any more (least
recently used dropped first); those some domain holds stay findable whatever their number."""

PLAIN_ITEMS = 4096
"""Artefacts that cannot be weakly referenced (lists and dicts: config sections, parsed data)
kept in memory at most; small, and only found again while kept, so there is room for many."""


def artefact_key(kind: str, version: int, *parts: bytes | str) -> str:
    """The content key of a `kind` artefact (format `version`) built from `parts`."""
    return content_key(kind, str(version), *parts)


def content_key(*parts: bytes | str) -> str:
    """The hex SHA-256 of `parts` (each length-prefixed, so ("ab", "c") != ("a", "bc"))."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


class Codec(Protocol[T]):
    """How one kind of artefact becomes bytes and back."""

    kind: str
    version: int

    def encode(self, value: T) -> bytes:
        """The artefact as bytes."""
        ...

    def decode(self, data: bytes) -> T:
        """The artefact from :meth:`encode`'s bytes."""
        ...


class ArtefactCache:
    """Content-addressed artefacts in memory, on disk and (optionally) in the shared store."""

    def __init__(
        self,
        directory: Path | None,
        store: Store | None = None,
        *,
        memory_items: int = MEMORY_ITEMS,
        plain_items: int = PLAIN_ITEMS,
        store_ttl_s: int = STORE_TTL_S,
    ) -> None:
        self.directory = directory
        self.store = store
        self.memory_items = memory_items
        self.plain_items = plain_items
        self.store_ttl_s = store_ttl_s
        self._memory: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._plain: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._live: weakref.WeakValueDictionary[tuple[str, str], Any] = (
            weakref.WeakValueDictionary()
        )
        self._lock = threading.Lock()
        self._building: dict[tuple[str, str], threading.Lock] = {}
        self.builds = 0
        """Artefacts built by :meth:`get_or_build` in this process (for tests and benchmarks)."""
        self.hits = 0
        """Artefacts :meth:`get_or_build` found already built (for tests and benchmarks)."""

    # -- memory --------------------------------------------------------------------------------

    def peek(self, kind: str, key: str) -> Any | None:
        """The live artefact if this process holds it, else None."""
        with self._lock:
            return self._peek((kind, key))

    def _peek(self, name: tuple[str, str]) -> Any | None:
        for recent in (self._memory, self._plain):
            value = recent.get(name)
            if value is not None:
                recent.move_to_end(name)
                return value
        value = self._live.get(name)  # dropped from the LRU but still held by some domain
        if value is not None:
            self._keep(name, value)
        return value

    def remember(self, kind: str, key: str, value: Any) -> None:
        """Keep `value` in memory under (kind, key)."""
        with self._lock:
            self._keep((kind, key), value)

    def _keep(self, name: tuple[str, str], value: Any) -> None:
        try:
            self._live[name] = value
        except TypeError:  # lists, dicts: not weakly referable, kept in their own LRU
            self._plain[name] = value
            self._plain.move_to_end(name)
            while len(self._plain) > self.plain_items:
                self._plain.popitem(last=False)
            return
        self._memory[name] = value
        self._memory.move_to_end(name)
        while len(self._memory) > self.memory_items:
            self._memory.popitem(last=False)

    def get_or_build(self, kind: str, key: str, build: Callable[[], T]) -> T:
        """The live artefact (kind, key), built by `build()` the first time (memory only).

        Threads asking for the same artefact at once build it once; the others wait for it.
        An exception of `build` is raised to its caller and nothing is kept.
        """
        name = (kind, key)
        with self._lock:
            found = self._peek(name)
            if found is not None:
                self.hits += 1
                return found  # type: ignore[no-any-return]
            building = self._building.setdefault(name, threading.Lock())
        with building:
            with self._lock:
                found = self._peek(name)
                if found is not None:
                    self.hits += 1
                    return found  # type: ignore[no-any-return]
            try:
                value = build()
            except BaseException:
                with self._lock:
                    self._building.pop(name, None)
                raise
            with self._lock:  # kept before the lock is dropped: a later caller finds it
                self.builds += 1
                self._keep(name, value)
                self._building.pop(name, None)
            return value

    def forget(self, kind: str) -> None:
        """Forget every artefact of `kind` (benchmarks timing a build from scratch; tests)."""
        with self._lock:
            for layer in (self._memory, self._plain, self._live):
                for name in [n for n in list(layer.keys()) if n[0] == kind]:
                    layer.pop(name, None)

    def held(self) -> int:
        """How many artefacts this process holds in memory (in the LRU or used by a domain)."""
        with self._lock:
            return len(set(self._memory) | set(self._plain) | set(self._live.keys()))

    # -- persistent layers ---------------------------------------------------------------------

    def path(self, codec: Codec[Any], key: str) -> Path | None:
        """Where the artefact lives on disk (None without a directory)."""
        if self.directory is None:
            return None
        return self.directory / codec.kind / key[:2] / f"{key}.v{codec.version}"

    async def load(self, codec: Codec[T], key: str) -> T | None:
        """The artefact from memory, disk or the store (promoted to the faster layers), or None."""
        found = self.peek(codec.kind, key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        data = self._read_disk(codec, key)
        from_store = False
        if data is None:
            data = await self._read_store(codec, key)
            from_store = data is not None
        if data is None:
            return None
        try:
            value = codec.decode(zlib.decompress(data))
        except Exception as exc:  # a damaged copy is rebuilt, never served
            log.warning("artefact %s/%s unreadable (%s): ignored", codec.kind, key[:12], exc)
            return None
        if from_store:
            self._write_disk(codec, key, data)
        self.remember(codec.kind, key, value)
        return value

    async def save(self, codec: Codec[T], key: str, value: T) -> None:
        """Keep `value` in every layer."""
        self.remember(codec.kind, key, value)
        data = zlib.compress(codec.encode(value), 6)
        self._write_disk(codec, key, data)
        if self.store is not None:
            text = base64.b64encode(data).decode("ascii")
            try:
                await self.store.set(
                    keys.artefact(codec.kind, codec.version, key), text, self.store_ttl_s
                )
            except StoreError as exc:
                log.warning("artefact %s/%s not shared (store: %s)", codec.kind, key[:12], exc)

    async def exists(self, codec: Codec[Any], key: str) -> bool:
        """True when some layer holds the artefact."""
        if self.peek(codec.kind, key) is not None:
            return True
        path = self.path(codec, key)
        if path is not None and path.is_file():
            return True
        return await self._read_store(codec, key) is not None

    def _read_disk(self, codec: Codec[Any], key: str) -> bytes | None:
        path = self.path(codec, key)
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError:
            return None

    def _write_disk(self, codec: Codec[Any], key: str, data: bytes) -> None:
        path = self.path(codec, key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)  # atomic: a reader sees the old file or the whole new one
        except OSError as exc:
            log.warning("artefact %s/%s not written to disk: %s", codec.kind, key[:12], exc)
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)

    async def _read_store(self, codec: Codec[Any], key: str) -> bytes | None:
        if self.store is None:
            return None
        name = keys.artefact(codec.kind, codec.version, key)
        try:
            text = await self.store.get(name)
            if text is None:
                return None
            await self.store.expire(name, self.store_ttl_s)
        except StoreError as exc:
            log.warning("artefact %s/%s not read from the store: %s", codec.kind, key[:12], exc)
            return None
        try:
            return base64.b64decode(text)
        except ValueError:
            return None


SHARED = ArtefactCache(None)
"""Artefacts shared in memory by every domain of the process (keyed by content, never stale)."""
