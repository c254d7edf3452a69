"""Knowledge sources of a domain and their sync state (last good index, last failure).

A source is one entry of a knowledge tool's settings: a document file of the domain's folder,
a web page, or a site map. Its key is a hash of what it is (kind and location), so the domains
that inherit the same source share its state and its index. The state is kept on disk under the
data directory and, when Redis is configured, in the store, so ``chatwootai knowledge sync`` in
one process and the service in others see the same thing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from chatwootai.artefacts import content_key
from chatwootai.config.loader import is_document
from chatwootai.config.schema import DomainConfig, KnowledgeSettings
from chatwootai.store import keys
from chatwootai.store.base import Store, StoreError

log = logging.getLogger(__name__)

SourceKind = Literal["file", "url", "sitemap"]


@dataclass(frozen=True, slots=True)
class Source:
    """One configured knowledge source."""

    kind: SourceKind
    location: str
    """Absolute file path (as the loader resolved it) or URL."""

    @property
    def key(self) -> str:
        """Identity of the source, shared by every domain that names it."""
        return content_key("knowledge-source", self.kind, self.location)[:32]

    @property
    def name(self) -> str:
        """How the source is shown: the file's name, or the URL."""
        return Path(self.location).name if self.kind == "file" else self.location


def sources_of(settings: KnowledgeSettings) -> list[Source]:
    """The document sources of a knowledge tool (FAQ YAML/Markdown files are not sources)."""
    found: list[Source] = [Source("file", f) for f in settings.files if is_document(f)]
    found += [Source("url", u) for u in settings.urls]
    found += [Source("sitemap", u) for u in settings.sitemaps]
    return found


def knowledge_tools(config: DomainConfig) -> dict[str, KnowledgeSettings]:
    """The knowledge tools of a domain with their settings (tools with bad settings skipped)."""
    tools: dict[str, KnowledgeSettings] = {}
    for tool_id, tool in config.tools.items():
        if tool.kind != "knowledge":
            continue
        try:
            settings = tool.typed_settings()
        except ValueError:
            continue
        if isinstance(settings, KnowledgeSettings):
            tools[tool_id] = settings
    return tools


@dataclass(frozen=True, slots=True)
class Part:
    """One indexed document of a source (a sitemap has one per page)."""

    name: str
    index_key: str
    pages: int = 1
    chunks: int = 0


@dataclass
class SourceState:
    """A source's last good index (its parts) and its last failure."""

    key: str
    kind: str
    location: str
    parts: list[Part] = field(default_factory=list)
    synced_at: float | None = None
    """When the source last synced without error."""
    checked_at: float | None = None
    """When a sync last looked at the source (successful or not)."""
    error: str | None = None
    """Why the last sync failed (None when it succeeded); the parts are the last good ones."""
    failed_parts: dict[str, str] = field(default_factory=dict)
    """Pages of a site map that failed at the last sync, with why."""

    @classmethod
    def new(cls, source: Source) -> SourceState:
        """A source never synced."""
        return cls(source.key, source.kind, source.location)

    def to_json(self) -> str:
        """The state as JSON."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> SourceState:
        """A state from :meth:`to_json`."""
        raw = json.loads(text)
        raw["parts"] = [Part(**p) for p in raw.get("parts", [])]
        return cls(**raw)

    def due(self, every_s: int, now: float | None = None) -> bool:
        """True when the source should be synced again (never synced, or `every_s` elapsed)."""
        if every_s <= 0:
            return self.checked_at is None
        last = self.checked_at or 0.0
        return (now or time.time()) - last >= every_s


class StateBook:
    """Source states on disk (``<directory>/<key>.json``) and in the shared store when given."""

    def __init__(self, directory: Path | None, store: Store | None = None) -> None:
        self.directory = directory
        self.store = store

    async def get(self, source: Source) -> SourceState:
        """The state of `source` (a new one when never synced)."""
        text: str | None = None
        if self.store is not None:
            try:
                text = await self.store.get(keys.knowledge_source(source.key))
            except StoreError as exc:
                log.warning("knowledge state of %s not read from the store: %s", source.name, exc)
        if text is None and self.directory is not None:
            with contextlib.suppress(OSError):
                text = (self.directory / f"{source.key}.json").read_text(encoding="utf-8")
        if text is None:
            return SourceState.new(source)
        try:
            return SourceState.from_json(text)
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("knowledge state of %s unreadable (%s): starting afresh", source.name, exc)
            return SourceState.new(source)

    async def put(self, state: SourceState) -> None:
        """Keep `state` on disk and in the store."""
        text = state.to_json()
        if self.directory is not None:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                os.replace(tmp, self.directory / f"{state.key}.json")
            except OSError as exc:
                log.warning("knowledge state %s not written: %s", state.key, exc)
        if self.store is not None:
            try:
                await self.store.set(keys.knowledge_source(state.key), text)
            except StoreError as exc:
                log.warning("knowledge state %s not shared (store: %s)", state.key, exc)
