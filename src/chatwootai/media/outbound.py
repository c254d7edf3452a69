"""Files a reply carries: grouped into Chatwoot messages, and loaded when they are posted.

A file of the domain's folder is read from disk; an https URL (a catalog's image column) is
downloaded, on a public address only (unless the deployment allows private networks). Chatwoot
takes up to 15 files per message (``attachments[]``); a file with a caption is posted alone,
its caption as the message text (WhatsApp shows it under the picture).
"""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from chatwootai.media.attachments import OutboundAttachment
from chatwootai.media.download import MediaDownloader
from chatwootai.media.errors import MediaError, TooLargeError
from chatwootai.media.sniff import sniff

PER_MESSAGE = 15
"""Files Chatwoot accepts in one message (``NUMBER_OF_PERMITTED_ATTACHMENTS``)."""
PER_REPLY = 6
"""Files one reply carries at most (a model asking for more is cut)."""
MAX_BYTES = 16_000_000
"""Largest file a reply carries (WhatsApp takes images up to 5 MB, documents up to 100 MB)."""

FilePart = tuple[str, bytes, str]
"""A file to post: name, content and media type."""


def attachment_messages(
    attachments: Sequence[OutboundAttachment],
) -> list[tuple[str, list[OutboundAttachment]]]:
    """The messages carrying `attachments`: (text, files), captioned files alone."""
    messages: list[tuple[str, list[OutboundAttachment]]] = []
    plain: list[OutboundAttachment] = []
    for attachment in list(dict.fromkeys(attachments))[:PER_REPLY]:
        if attachment.caption.strip():
            messages.append((attachment.caption.strip(), [attachment]))
        else:
            plain.append(attachment)
    for start in range(0, len(plain), PER_MESSAGE):
        messages.append(("", plain[start : start + PER_MESSAGE]))
    return messages


def _media_type(name: str, content: bytes) -> str:
    return sniff(content[:64]) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def _read(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise TooLargeError(f"{path.name}: {size} bytes, more than the {MAX_BYTES} allowed")
    return path.read_bytes()


class OutboundFiles:
    """Loads a reply's files (one at a time, in memory while posted)."""

    def __init__(self, downloader: MediaDownloader | None = None) -> None:
        self.downloader = downloader

    async def load(self, attachment: OutboundAttachment) -> FilePart:
        """The file's name, bytes and type; raises :class:`MediaError`."""
        name = attachment.name
        if attachment.path:
            try:
                content = await asyncio.to_thread(_read, Path(attachment.path))
            except OSError as exc:
                raise MediaError(f"{name}: cannot read the file ({exc.strerror})") from None
            return name, content, _media_type(name, content)
        url = attachment.url or ""
        if urlsplit(url).scheme != "https":
            raise MediaError(f"{name}: only https URLs are sent")
        if self.downloader is None:
            raise MediaError(f"{name}: no downloader for URLs")
        with await self.downloader.download(
            url, None, max_bytes=MAX_BYTES, trust_url_host=True
        ) as download:
            content = download.read()
        return name, content, _media_type(name, content)
