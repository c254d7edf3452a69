"""A customer's document (PDF, plain text, CSV) as text for the model, capped.

The knowledge package's extractors read it (``pypdf`` for PDF), in a thread. A PDF without text
(a scanned page, a photo saved as PDF) has nothing to give: :class:`NoTextError`, and the
domain's non-text policy applies.
"""

from __future__ import annotations

import asyncio

from chatwootai.knowledge.extract import ExtractionError, extract, kind_for
from chatwootai.media.download import Downloaded
from chatwootai.media.errors import NoTextError, WrongTypeError
from chatwootai.media.sniff import PDF

TEXT_KINDS = frozenset({"text", "csv", "markdown"})


def document_kind(download: Downloaded, name: str) -> str:
    """The extractor kind of a downloaded document: ``pdf`` by its bytes, text kinds by name."""
    if download.media_type == PDF:
        return "pdf"
    if download.media_type is not None:  # an image or audio sent as a file
        raise WrongTypeError(f"a {download.media_type} file is not a document")
    kind = kind_for(name, download.declared_type)
    if kind not in TEXT_KINDS:
        raise WrongTypeError("not a PDF or text document")
    return kind


def _read(content: bytes, kind: str, max_chars: int) -> str:
    try:
        document = extract(content, kind)
    except ExtractionError as exc:
        raise NoTextError(str(exc)) from None
    parts: list[str] = []
    size = 0
    for block in document.blocks:
        text = block.text.strip()
        if not text:
            continue
        parts.append(text)
        size += len(text) + 1
        if size >= max_chars:
            break
    text = "\n".join(parts)
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "…"
    if not text.strip():
        raise NoTextError("no text found in the document")
    return text


async def document_text(download: Downloaded, name: str, *, max_chars: int) -> str:
    """The text of a downloaded document, at most `max_chars` characters."""
    kind = document_kind(download, name)
    return await asyncio.to_thread(_read, download.read(), kind, max_chars)
