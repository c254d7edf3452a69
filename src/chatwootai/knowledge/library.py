"""The knowledge of every domain: sync of sources, indexes built once per content hash, attach.

:class:`Library` is one per process. It syncs sources (files read, pages fetched, documents
extracted, chunked and counted, optionally embedded), keeps each source's last good index, and
attaches to each domain's knowledge tools the index they search. Every costly artefact is keyed
by the hash of its content (:mod:`chatwootai.artefacts`), so the domains that inherit a brand's
documents share one index: built once, held once in memory.

A source that fails keeps its last good index and is reported; the domain still serves with it.
Web pages are fetched only by a sync (``chatwootai knowledge sync`` or the service's schedule),
never on a message's path; local document files are indexed when a domain's runtime is built if
no index of their current content exists yet.
"""

from __future__ import annotations

import asyncio
import logging
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from chatwootai.artefacts import ArtefactCache, content_key
from chatwootai.config.schema import DomainConfig, EmbeddingsSettings, KnowledgeSettings
from chatwootai.knowledge.embeddings import EmbeddingError, EmbeddingsClient
from chatwootai.knowledge.extract import ExtractionError, decode_text, kind_for
from chatwootai.knowledge.fetch import Fetcher, FetchError, FetchPolicy, Resolver
from chatwootai.knowledge.index import (
    PassageIndex,
    SourceIndex,
    SourceIndexCodec,
    VectorsCodec,
    faq_key,
    faq_passages,
)
from chatwootai.knowledge.sources import (
    Part,
    Source,
    SourceState,
    StateBook,
    knowledge_tools,
    sources_of,
)
from chatwootai.store.base import Store

log = logging.getLogger(__name__)

SOURCE_CODEC = SourceIndexCodec()
FRESH_SECONDS = 2.0
"""A file modified this recently is hashed again even if its size and mtime look unchanged."""
VECTORS_CODEC = VectorsCodec()

Progress = Callable[[str], None]


@dataclass
class SourceReport:
    """What a sync did with one source."""

    tool: str
    source: str
    kind: str
    status: str
    """"indexed" (new content), "unchanged", "failed" (last good index kept) or "skipped"."""
    pages: int = 0
    chunks: int = 0
    error: str | None = None
    failed_pages: dict[str, str] = field(default_factory=dict)
    embedded: bool = False


@dataclass
class DomainReport:
    """What a sync did with one domain's sources."""

    domain: str
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def failed(self) -> list[SourceReport]:
        """Sources that failed (they keep their last good index)."""
        return [s for s in self.sources if s.status == "failed" or s.failed_pages]


class Library:
    """Knowledge sources, their indexes and the domains' knowledge tools, for one process."""

    def __init__(
        self,
        data_dir: Path | None,
        store: Store | None = None,
        *,
        allow_private_networks: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        base = data_dir / "knowledge" if data_dir is not None else None
        self.artefacts = ArtefactCache(base / "artefacts" if base else None, store)
        self.states = StateBook(base / "sources" if base else None, store)
        self.allow_private_networks = allow_private_networks
        self.transport = transport
        self.resolver = resolver
        self.environ = environ
        self._embedders: dict[str, EmbeddingsClient] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._attached: dict[str, tuple[DomainConfig, dict[str, Any], str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._file_keys: dict[str, tuple[tuple[int, int, int], str]] = {}
        self.source_builds = 0
        """Source indexes built (extracted and chunked) by this process."""

    # -- embeddings ----------------------------------------------------------------------------

    def embedder(self, settings: EmbeddingsSettings | None) -> EmbeddingsClient | None:
        """The (shared) client of an embeddings setting, or None."""
        if settings is None:
            return None
        key = content_key(settings.model_dump_json())
        client = self._embedders.get(key)
        if client is None:
            client = EmbeddingsClient(settings, environ=self.environ, transport=self.transport)
            self._embedders[key] = client
        return client

    # -- sync ----------------------------------------------------------------------------------

    async def sync_domain(
        self,
        config: DomainConfig,
        *,
        only_due: bool = False,
        fetch: bool = True,
        progress: Progress | None = None,
    ) -> DomainReport:
        """Sync the sources of every knowledge tool of `config` (fetching pages if `fetch`)."""
        report = DomainReport(config.name)
        embedder = self.embedder(config.knowledge.embeddings)
        for tool_id, settings in knowledge_tools(config).items():
            for source in sources_of(settings):
                if source.kind != "file" and not fetch:
                    continue
                if only_due:
                    state = await self.states.get(source)
                    if not state.due(config.knowledge.sync_every_s) and not (
                        source.kind == "file" and await self._file_changed(source, state)
                    ):
                        continue
                if progress is not None:
                    progress(f"{config.name}/{tool_id}: {source.name} ...")
                found = await self.sync_source(tool_id, source, settings, config, embedder)
                report.sources.append(found)
                if progress is not None:
                    progress(describe(found))
            if embedder is not None:
                await self._faq_vectors(config, tool_id, embedder)
        return report

    async def sync_source(
        self,
        tool_id: str,
        source: Source,
        settings: KnowledgeSettings,
        config: DomainConfig,
        embedder: EmbeddingsClient | None = None,
    ) -> SourceReport:
        """Sync one source; a failure keeps the last good parts and is reported."""
        async with self._locks.setdefault(source.key, asyncio.Lock()):
            state = await self.states.get(source)
            report = SourceReport(tool_id, source.name, source.kind, "unchanged")
            now = time.time()
            try:
                if source.kind == "sitemap":
                    parts, failed, changed = await self._sync_sitemap(
                        source, settings, config, state
                    )
                    report.failed_pages = failed
                else:
                    content, kind = await self._read(source, settings, config)
                    part, changed = await self._index(source.name, content, kind)
                    parts = [part]
                if changed:
                    report.status = "indexed"
                if parts:
                    state.parts = parts
                    state.synced_at = now
                    state.error = None
                elif report.failed_pages:
                    raise FetchError("no page of the site map could be read")
                state.failed_parts = report.failed_pages
            except (FetchError, ExtractionError, OSError) as exc:
                report.status = "failed"
                report.error = str(exc)
                state.error = str(exc)
                log.warning(
                    "knowledge source %s of %s failed (last good index kept): %s",
                    source.name,
                    config.name,
                    exc,
                )
            state.checked_at = now
            await self.states.put(state)
            report.pages = sum(p.pages for p in state.parts)
            report.chunks = sum(p.chunks for p in state.parts)
            if embedder is not None and state.parts:
                try:
                    for part in state.parts:
                        await self._part_vectors(part, embedder)
                    report.embedded = True
                except EmbeddingError as exc:
                    report.error = (report.error + "; " if report.error else "") + str(exc)
            return report

    async def _file_changed(self, source: Source, state: SourceState) -> bool:
        """True when a file's content has no index in `state` (or the file cannot be read)."""
        path = Path(source.location)
        try:
            stat = path.stat()
            signature = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
            known = self._file_keys.get(source.location)
            settled = time.time() - stat.st_mtime > FRESH_SECONDS  # mtime ticks can be coarse
            if known is not None and known[0] == signature and settled:
                key = known[1]  # unchanged since hashed: 300 stores do not re-read the brand's PDF
            else:
                content = await asyncio.to_thread(path.read_bytes)
                key = index_key(source.name, kind_for(source.location) or "text", content)
                self._file_keys[source.location] = (signature, key)
        except OSError:
            return state.error is None
        return [p.index_key for p in state.parts] != [key]

    async def _read(
        self, source: Source, settings: KnowledgeSettings, config: DomainConfig
    ) -> tuple[bytes, str]:
        if source.kind == "file":
            path = Path(source.location)
            size = path.stat().st_size
            if size > config.knowledge.max_page_bytes:
                raise FetchError(
                    f"{path.name}: {size} bytes, more than knowledge.max_page_bytes "
                    f"({config.knowledge.max_page_bytes})"
                )
            content = await asyncio.to_thread(path.read_bytes)
            kind = kind_for(source.location)
            if kind is None:
                raise ExtractionError(f"{path.name}: unsupported document type")
            return content, kind
        fetched = await self.fetcher(settings, config).fetch(source.location)
        kind = kind_for(fetched.url, fetched.media_type) or kind_for(source.location)
        if kind is None:
            raise ExtractionError(
                f"{source.location}: unsupported content type {fetched.media_type!r}"
            )
        return fetched.content, kind

    def fetcher(self, settings: KnowledgeSettings, config: DomainConfig) -> Fetcher:
        """A fetcher for a tool's allowed hosts under the domain's limits."""
        policy = FetchPolicy(
            allowed_hosts=frozenset(h.lower() for h in settings.allowed_hosts),
            allow_private=self.allow_private_networks,
            max_bytes=config.knowledge.max_page_bytes,
            timeout_s=config.knowledge.fetch_timeout_s,
        )
        return Fetcher(policy, transport=self.transport, resolver=self.resolver)

    async def _index(self, name: str, content: bytes, kind: str) -> tuple[Part, bool]:
        """The part for a document's content: its index found, or built and saved."""
        key = index_key(name, kind, content)
        async with self._locks.setdefault(key, asyncio.Lock()):
            found = await self.artefacts.load(SOURCE_CODEC, key)
            if found is not None:
                return Part(name, key, found.pages, len(found.passages)), False
            built = await asyncio.to_thread(SourceIndex.build, content, kind, name)
            self.source_builds += 1
            await self.artefacts.save(SOURCE_CODEC, key, built)
            return Part(name, key, built.pages, len(built.passages)), True

    async def _sync_sitemap(
        self,
        source: Source,
        settings: KnowledgeSettings,
        config: DomainConfig,
        state: SourceState,
    ) -> tuple[list[Part], dict[str, str], bool]:
        fetcher = self.fetcher(settings, config)
        urls = await self._sitemap_urls(fetcher, source.location, settings.max_pages)
        previous = {p.name: p for p in state.parts}
        parts: list[Part] = []
        failed: dict[str, str] = {}
        changed = False
        for url in urls:
            try:
                fetched = await fetcher.fetch(url)
                kind = kind_for(fetched.url, fetched.media_type) or "html"
                part, new = await self._index(url, fetched.content, kind)
                changed = changed or new
                parts.append(part)
            except (FetchError, ExtractionError) as exc:
                failed[url] = str(exc)
                if url in previous:  # a page that fails keeps its last good index
                    parts.append(previous[url])
        return parts, failed, changed or [p.name for p in parts] != list(previous)

    async def _sitemap_urls(self, fetcher: Fetcher, url: str, limit: int) -> list[str]:
        fetched = await fetcher.fetch(url)
        locations, nested = parse_sitemap(fetched.content)
        for child in nested[:10]:  # a sitemap index: one level of child site maps
            if len(locations) >= limit:
                break
            try:
                more, _ = parse_sitemap((await fetcher.fetch(child)).content)
            except FetchError as exc:
                log.warning("site map %s skipped: %s", child, exc)
                continue
            locations += more
        allowed = fetcher.policy.allowed_hosts
        pages = [u for u in dict.fromkeys(locations) if httpx.URL(u).host.lower() in allowed]
        return pages[:limit]

    # -- embeddings of passages ----------------------------------------------------------------

    async def _part_vectors(self, part: Part, embedder: EmbeddingsClient) -> np.ndarray[Any, Any]:
        key = vectors_key(embedder, part.index_key)
        found = await self.artefacts.load(VECTORS_CODEC, key)
        if found is not None:
            return found
        index = await self.artefacts.load(SOURCE_CODEC, part.index_key)
        if index is None:
            raise EmbeddingError(f"index of {part.name} missing: sync the source again")
        matrix = await embedder.embed([passage_text(p) for p in index.passages])
        await self.artefacts.save(VECTORS_CODEC, key, matrix)
        return matrix

    async def _faq_vectors(
        self, config: DomainConfig, tool_id: str, embedder: EmbeddingsClient
    ) -> np.ndarray[Any, Any] | None:
        faq = faq_passages(config.data.knowledge.get(tool_id, []))
        if not faq.passages:
            return np.zeros((0, 1), dtype=np.float32)
        key = vectors_key(embedder, faq_key(faq))
        found = await self.artefacts.load(VECTORS_CODEC, key)
        if found is not None:
            return found
        try:
            matrix = await embedder.embed([passage_text(p) for p in faq.passages])
        except EmbeddingError as exc:
            log.warning("FAQ of %s/%s not embedded: %s", config.name, tool_id, exc)
            return None
        await self.artefacts.save(VECTORS_CODEC, key, matrix)
        return matrix

    # -- attaching indexes to a domain's tools -------------------------------------------------

    async def attach(self, config: DomainConfig, tools: Mapping[str, Any]) -> None:
        """Give each knowledge tool of `tools` the index of its FAQ and sources."""
        embedder = self.embedder(config.knowledge.embeddings)
        missing_vectors = False
        for tool_id, settings in knowledge_tools(config).items():
            tool = tools.get(tool_id)
            if tool is None or not hasattr(tool, "index"):
                continue
            try:
                index, complete = await self.tool_index(config, tool_id, settings, embedder)
            except Exception:  # the domain serves on with what the tool had (its FAQ)
                log.exception("knowledge of %s/%s not attached", config.name, tool_id)
                continue
            tool.index = index
            tool.embedder = embedder if index.hybrid else None
            missing_vectors = missing_vectors or not complete
        self._attached[config.name] = (config, dict(tools), await self.fingerprint(config))
        if missing_vectors and embedder is not None:
            self._background(self._embed_then_attach(config))

    async def tool_index(
        self,
        config: DomainConfig,
        tool_id: str,
        settings: KnowledgeSettings,
        embedder: EmbeddingsClient | None = None,
    ) -> tuple[PassageIndex, bool]:
        """The index of one knowledge tool (shared by domains with the same content).

        Also True when every passage has its vector (or embeddings are off).
        """
        faq = faq_passages(config.data.knowledge.get(tool_id, []))
        parts: list[SourceIndex] = [faq]
        keys = [faq_key(faq)]
        for source in sources_of(settings):
            state = await self.states.get(source)
            if source.kind == "file":
                state = await self._current_file(tool_id, source, settings, config, state)
            for part in state.parts:
                loaded = await self.artefacts.load(SOURCE_CODEC, part.index_key)
                if loaded is None:
                    log.warning("index of %s missing: run `chatwootai knowledge sync`", part.name)
                    continue
                parts.append(loaded)
                keys.append(part.index_key)
        vectors: list[np.ndarray[Any, Any] | None] | None = None
        complete = True
        if embedder is not None:
            vectors = []
            for key, part_index in zip(keys, parts, strict=True):
                found: np.ndarray[Any, Any] | None = np.zeros((0, 1), dtype=np.float32)
                if part_index.passages:
                    found = await self.artefacts.load(VECTORS_CODEC, vectors_key(embedder, key))
                vectors.append(found)
            complete = all(v is not None for v in vectors)
            if not complete:
                vectors = None
        weight = config.knowledge.embeddings.weight if config.knowledge.embeddings else 0.0
        identity = content_key(
            "tool-index",
            *keys,
            embedder.identity if vectors is not None and embedder else "",
            str(weight),
        )
        found = self.artefacts.peek("tool-index", identity)
        if isinstance(found, PassageIndex):
            return found, complete
        async with self._locks.setdefault(identity, asyncio.Lock()):  # built once per content
            found = self.artefacts.peek("tool-index", identity)
            if isinstance(found, PassageIndex):
                return found, complete
            built = await asyncio.to_thread(PassageIndex.build, parts, vectors, weight)
            self.artefacts.remember("tool-index", identity, built)
            self.artefacts.builds += 1
        return built, complete

    async def _current_file(
        self,
        tool_id: str,
        source: Source,
        settings: KnowledgeSettings,
        config: DomainConfig,
        state: SourceState,
    ) -> SourceState:
        """A file source's state, indexed now if its content has no index yet."""
        if await self._file_changed(source, state):
            await self.sync_source(tool_id, source, settings, config)
            return await self.states.get(source)
        return state

    async def _embed_then_attach(self, config: DomainConfig) -> None:
        await self.sync_domain(config, fetch=False)
        attached = self._attached.get(config.name)
        if attached is not None and attached[0] is config:
            await self.attach(config, attached[1])

    async def fingerprint(self, config: DomainConfig) -> str:
        """A hash of what the domain's indexes are built from (changes when a sync changed it)."""
        parts: list[str] = []
        for tool_id, settings in knowledge_tools(config).items():
            parts.append(tool_id)
            for source in sources_of(settings):
                state = await self.states.get(source)
                parts += [p.index_key for p in state.parts]
        return content_key(*parts)

    async def refresh(self, domain: str) -> bool:
        """Re-attach a domain whose sources changed since it was attached; True if it did."""
        attached = self._attached.get(domain)
        if attached is None:
            return False
        config, tools, before = attached
        if await self.fingerprint(config) == before:
            return False
        await self.attach(config, tools)
        log.info("knowledge of %s re-attached (sources changed)", domain)
        return True

    def attached(self) -> list[DomainConfig]:
        """The configs of the domains whose tools this library feeds."""
        return [config for config, _, _ in self._attached.values()]

    def forget(self, domain: str) -> None:
        """Stop feeding a domain (its runtime was replaced or closed)."""
        self._attached.pop(domain, None)

    def _background(self, work: Any) -> None:
        try:
            task = asyncio.get_running_loop().create_task(work)
        except RuntimeError:
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Cancel background work."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def index_key(name: str, kind: str, content: bytes) -> str:
    """The artefact key of a document's index: its name, type and content, and the format."""
    return content_key(SOURCE_CODEC.kind, str(SOURCE_CODEC.version), name, kind, content)


def vectors_key(embedder: EmbeddingsClient, index_key: str) -> str:
    """The artefact key of the vectors of an index's passages for an embeddings setting."""
    return content_key(VECTORS_CODEC.kind, str(VECTORS_CODEC.version), embedder.identity, index_key)


def passage_text(passage: Any) -> str:
    """What is embedded for a passage: its title and text."""
    return f"{passage.title}\n{passage.text}".strip()


def parse_sitemap(content: bytes) -> tuple[list[str], list[str]]:
    """Page URLs of a site map and child site maps of a site map index."""
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError:
        # some sites serve a plain list of URLs
        lines = [line.strip() for line in decode_text(content).splitlines()]
        return [line for line in lines if line.startswith(("http://", "https://"))], []
    locations = [
        (element.text or "").strip()
        for element in root.iter()
        if element.tag.rsplit("}", 1)[-1] == "loc" and (element.text or "").strip()
    ]
    if root.tag.rsplit("}", 1)[-1] == "sitemapindex":
        return [], locations
    return locations, []


def describe(report: SourceReport) -> str:
    """One line about a source's sync, for the CLI and logs."""
    what = f"{report.source} ({report.kind}): {report.status}"
    what += f", {report.pages} page(s), {report.chunks} chunk(s)"
    if report.embedded:
        what += ", embedded"
    if report.error:
        what += f" — {report.error}"
        if report.status == "failed":
            what += " (last good index kept)" if report.chunks else " (no index yet)"
    for url, why in report.failed_pages.items():
        what += f"\n    failed page {url}: {why}"
    return what


def summary(reports: Sequence[DomainReport]) -> str:
    """Totals of a sync, for the CLI."""
    sources = [s for r in reports for s in r.sources]
    failed = sum(1 for s in sources if s.status == "failed" or s.failed_pages)
    chunks = sum(s.chunks for s in sources)
    return f"{len(sources)} source(s), {chunks} chunk(s), {failed} failed"
