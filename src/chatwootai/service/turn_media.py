"""A turn's media, before it is thought: voice notes heard, images and documents fetched.

Runs in the worker, under the turn's lease, only when a plan is made (never in the webhook
request, never again for a kept plan). For each attachment of the turn's messages:

* **audio** without a usable Chatwoot transcript: downloaded, checked (type, size, duration),
  transcribed (:mod:`chatwootai.media.transcribe`); the transcript joins the message's text, so
  it routes like typed text, stays in the conversation's history and reaches the human in the
  handoff note (and, per domain, at once in a private note). Without a transcription model
  (``CHATWOOTAI_TRANSCRIBE_MODEL``) nothing changes: the non-text policy answers.
* **images** (JPEG, PNG, WebP), when the domain's model reads images: given to the model as
  image parts of the customer's message.
* **documents** (PDF, text) with a real model: their text (capped) is given to the model.

Every failure (a timeout, 404, a file too large or too long, a wrong type, the provider failing)
is counted in ``chatwootai_media_total{kind,outcome}`` and leaves the attachment unread: a turn
with no text left gets the domain's non-text policy, a turn with text is answered, the model
told what could not be read. A turn never fails because of its media. Nothing of a file is
logged or kept beyond the turn (temporary files are removed at once).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from chatwootai.chatwoot.client import ChatwootError
from chatwootai.config.media import MediaOptions
from chatwootai.media.attachments import InboundAttachment, MediaKind, MediaPart
from chatwootai.media.documents import document_text
from chatwootai.media.download import Downloaded, DownloadPolicy, MediaDownloader, Origin
from chatwootai.media.duration import aduration_s
from chatwootai.media.errors import MediaError, Outcome, TooLongError, WrongTypeError
from chatwootai.media.sniff import AUDIO_TYPES, IMAGE_TYPES
from chatwootai.media.transcribe import Transcriber, TranscriptionEndpoint
from chatwootai.media.vision import is_offline, model_name, reads_images
from chatwootai.service.credentials import CredentialsError
from chatwootai.service.delivery import DeliveryPending
from chatwootai.service.metrics import Metrics
from chatwootai.service.pipeline import Pipeline
from chatwootai.service.replies import Replier, ReplyTarget
from chatwootai.service.turns import PendingMessage, merge_burst
from chatwootai.settings import Settings
from chatwootai.turn import IncomingMessage

log = logging.getLogger(__name__)

CONCURRENCY = 4
"""Attachments of one turn fetched at once."""
TRANSCRIPT_NOTE = "Transcrição do áudio do cliente:\n{text}"
UNREAD = {
    "audio": "O cliente também enviou um áudio que não foi possível ouvir.",
    "image": "O cliente também enviou uma imagem que não foi possível ver.",
    "document": "O cliente também enviou um documento que não foi possível ler.",
}
"""What the model is told of media it was meant to get and did not (the turn has text)."""


@dataclass(slots=True)
class _Read:
    """What one attachment gave: a transcript, a part for the model, or a note of a failure."""

    heard: str = ""
    own_transcript: bool = False
    part: MediaPart | None = None
    unread: str = ""


@dataclass(slots=True)
class TurnMedia:
    """Prepares a turn's media (see the module docstring); one per worker process."""

    system: Pipeline
    replier: Replier
    metrics: Metrics
    downloader: MediaDownloader
    transcriber: Transcriber | None = None
    model_override: str | None = None
    _limit: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(CONCURRENCY))

    @classmethod
    def from_settings(
        cls, settings: Settings, system: Pipeline, replier: Replier, metrics: Metrics
    ) -> TurnMedia:
        """The deployment's media preparation (download policy, transcription endpoint)."""
        policy = DownloadPolicy.of(
            settings.media_allowed_hosts,
            allow_private=settings.media_allow_private_networks,
            timeout_s=settings.media_download_timeout_s,
        )
        key = settings.transcribe_api_key
        endpoint = TranscriptionEndpoint.from_settings(
            settings.transcribe_model,
            settings.transcribe_base_url,
            key.get_secret_value() if key is not None else None,
            settings.transcribe_timeout_s,
        )
        return cls(
            system=system,
            replier=replier,
            metrics=metrics,
            downloader=MediaDownloader(policy),
            transcriber=Transcriber(endpoint) if endpoint is not None else None,
            model_override=settings.model_override,
        )

    async def aclose(self) -> None:
        """Close the download and transcription connections."""
        await self.downloader.aclose()
        if self.transcriber is not None:
            await self.transcriber.aclose()

    async def prepare(
        self,
        key: str,
        turn: str,
        messages: Sequence[PendingMessage],
        target: ReplyTarget,
        domain: str,
    ) -> IncomingMessage:
        """The turn's message with its media heard, seen and read (never raises for media)."""
        incoming = merge_burst(messages)
        if not any(m.attachments for m in messages):
            return incoming
        try:
            return await self._prepare(key, turn, messages, target, domain, incoming)
        except (MediaError, CredentialsError, OSError) as exc:
            log.warning("media of %s not prepared: %s", key, exc)
        except Exception:
            log.exception("media of %s not prepared", key)
        return incoming

    async def _prepare(
        self,
        key: str,
        turn: str,
        messages: Sequence[PendingMessage],
        target: ReplyTarget,
        domain: str,
        incoming: IncomingMessage,
    ) -> IncomingMessage:
        config = await self.system.registry.get_domain_config(domain)
        options = config.media
        name = model_name(config.llm.model, self.model_override)
        access = self.replier.credentials.api_access(target.account_id, target.inbox_id)
        origin = Origin(access.base_url, access.token)
        wants = _Wants(
            options=options,
            offline=is_offline(name),
            vision=reads_images(options.images, name),
        )
        images = 0
        jobs: list[tuple[int, asyncio.Task[_Read]]] = []
        for index, message in enumerate(messages):
            for attachment in message.attachments:
                if attachment.kind == "image":
                    images += 1
                    if images > options.images.max_images:
                        self._count("image", "skipped")
                        continue
                job = asyncio.create_task(self._read(attachment, wants, origin, message.text))
                jobs.append((index, job))
        reads = [(index, await job) for index, job in jobs]
        texts = [m.text for m in messages]
        parts: list[MediaPart] = []
        heard: list[str] = []
        notes: list[str] = []
        for index, read in reads:
            if read.heard:
                texts[index] = "\n".join(t for t in (texts[index].strip(), read.heard) if t)
                heard.append(read.heard)
                if read.own_transcript and options.audio.post_transcript:
                    notes.append(TRANSCRIPT_NOTE.format(text=read.heard))
            if read.part is not None:
                parts.append(read.part)
        prepared = [m.model_copy(update={"text": t}) for m, t in zip(messages, texts, strict=True)]
        merged = merge_burst(prepared)
        has_content = bool(merged.text.strip() or parts)
        if has_content and not wants.offline:  # tell the model what it was meant to get
            parts += [MediaPart("text", text=r.unread) for _, r in reads if r.unread]
        merged = replace(merged, media=tuple(parts), heard="\n".join(heard), notes=tuple(notes))
        await self._post_notes(target, turn, merged.notes, max(m.message_id for m in messages))
        return merged

    async def _post_notes(
        self, target: ReplyTarget, turn: str, notes: Sequence[str], after_id: int
    ) -> None:
        """Post the transcripts as private notes now; what fails is posted with the reply."""
        for index, note in enumerate(notes):
            try:
                await self.replier.post_once(
                    target, turn, f"note:{index}", note, private=True, after_id=after_id
                )
            except (DeliveryPending, ChatwootError) as exc:
                log.warning(
                    "transcript note of %s not posted now (%s); it goes with the reply",
                    target.conversation_key,
                    exc,
                )
                return

    async def _read(
        self, attachment: InboundAttachment, wants: _Wants, origin: Origin, text: str
    ) -> _Read:
        kind = attachment.kind
        async with self._limit:
            try:
                return await self._read_one(attachment, kind, wants, origin, text)
            except MediaError as exc:
                log.warning("%s attachment %s not used: %s", kind, attachment.id, exc)
                self._count(kind, exc.outcome)
                return _Read(unread=UNREAD.get(kind, ""))

    async def _read_one(
        self,
        attachment: InboundAttachment,
        kind: MediaKind,
        wants: _Wants,
        origin: Origin,
        text: str,
    ) -> _Read:
        options = wants.options
        if kind == "audio":
            if attachment.heard:
                self._count(kind, "heard_by_chatwoot")
                return _Read(heard="" if attachment.heard in text else attachment.heard)
            if self.transcriber is None or not options.audio.transcribe:
                self._count(kind, "skipped")
                return _Read()
            return await self._hear(attachment, options, origin)
        if kind == "image" and wants.vision:
            return await self._see(attachment, options, origin)
        if kind == "document" and options.documents.read and not wants.offline:
            return await self._read_document(attachment, options, origin)
        self._count(kind, "skipped")
        return _Read()

    async def _fetch(
        self, attachment: InboundAttachment, origin: Origin, max_bytes: int
    ) -> Downloaded:
        if not attachment.data_url:
            raise MediaError("the attachment has no data_url", "not_found")
        started = time.perf_counter()
        download = await self.downloader.download(attachment.data_url, origin, max_bytes=max_bytes)
        self.metrics.media_seconds.labels("download").observe(time.perf_counter() - started)
        return download

    async def _hear(
        self, attachment: InboundAttachment, options: MediaOptions, origin: Origin
    ) -> _Read:
        assert self.transcriber is not None
        audio = options.audio
        with await self._fetch(attachment, origin, audio.max_bytes) as download:
            if download.media_type not in AUDIO_TYPES:
                raise WrongTypeError(f"not an accepted audio type ({download.media_type})")
            seconds = await aduration_s(download.file)
            if seconds is not None and seconds > audio.max_duration_s:
                raise TooLongError(
                    f"{seconds:.0f} s, longer than the {audio.max_duration_s:g} s allowed"
                )
            started = time.perf_counter()
            heard = await self.transcriber.transcribe(
                download, model=audio.model, language=audio.language, name="audio"
            )
            self.metrics.media_seconds.labels("transcribe").observe(time.perf_counter() - started)
        self._count("audio", "transcribed")
        return _Read(heard=heard, own_transcript=True)

    async def _see(
        self, attachment: InboundAttachment, options: MediaOptions, origin: Origin
    ) -> _Read:
        with await self._fetch(attachment, origin, options.images.max_bytes) as download:
            if download.media_type not in IMAGE_TYPES:
                raise WrongTypeError(f"not a JPEG, PNG or WebP image ({download.media_type})")
            part = MediaPart("image", media_type=download.media_type, data=download.read())
        self._count("image", "seen")
        return _Read(part=part)

    async def _read_document(
        self, attachment: InboundAttachment, options: MediaOptions, origin: Origin
    ) -> _Read:
        documents = options.documents
        name = attachment.filename
        with await self._fetch(attachment, origin, documents.max_bytes) as download:
            text = await document_text(download, name, max_chars=documents.max_chars)
        self._count("document", "read")
        return _Read(part=MediaPart("text", text=text, name=name))

    def _count(self, kind: MediaKind, outcome: Outcome) -> None:
        self.metrics.media.labels(kind, outcome).inc()


@dataclass(frozen=True, slots=True)
class _Wants:
    """What a domain takes of the turn's media."""

    options: MediaOptions
    offline: bool
    vision: bool
