"""Artefacts built once per content hash and shared: in memory, on disk and in the shared store.

An artefact is anything expensive derived from content (a document's chunks and index, passage
vectors, a domain tool's search index). Its key is a hash of everything it was built from, so two
domains that inherit the same document ask for the same key and share one artefact: built once,
kept once in memory, written once to disk and to the shared store.

Layers, looked up in order and filled on the way back:

* memory: a bounded LRU of live objects, shared by every domain of the process;
* disk: ``<directory>/<kind>/<key[:2]>/<key>.v<version>`` (zlib-compressed), shared by the
  processes of one host (the service and ``chatwootai knowledge sync``);
* store: the deployment's Redis when one is configured (``artefact:<kind>:v<version>:<key>``,
  base64 of the compressed bytes, with a TTL refreshed on use), shared by every host.

A :class:`Codec` turns an artefact into bytes and back; its ``version`` is part of the location,
so changing an artefact's format never reads an old one.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import tempfile
import threading
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
"""Live artefacts kept in memory at most (least recently used dropped first)."""


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
        store_ttl_s: int = STORE_TTL_S,
    ) -> None:
        self.directory = directory
        self.store = store
        self.memory_items = memory_items
        self.store_ttl_s = store_ttl_s
        self._memory: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0
        """Artefacts built by :meth:`get_or_build` in this process (for tests and benchmarks)."""

    # -- memory --------------------------------------------------------------------------------

    def peek(self, kind: str, key: str) -> Any | None:
        """The live artefact if this process holds it, else None."""
        with self._lock:
            value = self._memory.get((kind, key))
            if value is not None:
                self._memory.move_to_end((kind, key))
            return value

    def remember(self, kind: str, key: str, value: Any) -> None:
        """Keep `value` in memory under (kind, key)."""
        with self._lock:
            self._memory[(kind, key)] = value
            self._memory.move_to_end((kind, key))
            while len(self._memory) > self.memory_items:
                self._memory.popitem(last=False)

    def get_or_build(self, kind: str, key: str, build: Callable[[], Any]) -> Any:
        """The live artefact (kind, key), built by `build()` the first time (memory only)."""
        found = self.peek(kind, key)
        if found is not None:
            return found
        value = build()
        self.builds += 1
        self.remember(kind, key, value)
        return value

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
