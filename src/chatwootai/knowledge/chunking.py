"""Chunks by structure: a heading's paragraphs together, each table row alone, sizes bounded.

A chunk keeps the path of headings above it as its title ("Política de trocas › Prazo") and
where it starts (page, line, anchor), so an answer can cite it and a human can check it.
Paragraphs under one heading are joined up to :data:`TARGET_WORDS`; a paragraph longer than
:data:`MAX_WORDS` is cut at sentence ends. Table rows are chunks of their own, titled by the
heading above the table, so "quanto custa X" finds X's row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatwootai.knowledge.extract import Document

TARGET_WORDS = 110
"""A chunk is closed at the next paragraph once it has this many words."""

MAX_WORDS = 180
"""No chunk is longer (a longer paragraph is cut at sentence ends, or at this many words)."""

TITLE_SEPARATOR = " › "

_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[A-ZÁÉÍÓÚÂÊÔÃÕÇ0-9\"“(])")


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of a document: text, the headings above it and where it is."""

    text: str
    title: str
    location: str


def split_long(text: str, limit: int = MAX_WORDS) -> list[str]:
    """`text` in pieces of at most `limit` words, cut at sentence ends where possible."""
    if len(text.split()) <= limit:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    count = 0
    for sentence in _SENTENCES.split(text):
        words = sentence.split()
        while len(words) > limit:  # a sentence longer than the limit: cut by words
            if current:
                pieces.append(" ".join(current))
                current, count = [], 0
            pieces.append(" ".join(words[:limit]))
            words = words[limit:]
        if count + len(words) > limit and current:
            pieces.append(" ".join(current))
            current, count = [], 0
        current.append(" ".join(words))
        count += len(words)
    if current:
        pieces.append(" ".join(current))
    return [p for p in pieces if p]


def chunk_document(document: Document) -> list[Chunk]:
    """The chunks of `document`, in reading order."""
    chunks: list[Chunk] = []
    headings: list[tuple[int, str]] = []
    buffer: list[str] = []
    words = 0
    start = ""
    end = ""

    def title() -> str:
        path = [text for _, text in headings]
        if not path and document.title:
            path = [document.title]
        return TITLE_SEPARATOR.join(path)

    def where() -> str:
        if start and end and end != start and start.startswith("p. ") and end.startswith("p. "):
            return f"{start}-{end.removeprefix('p. ')}"
        return start

    def flush() -> None:
        nonlocal words, start, end
        if buffer:
            chunks.append(Chunk(" ".join(buffer), title(), where()))
        buffer.clear()
        words, start, end = 0, "", ""

    for block in document.blocks:
        if block.kind == "heading":
            flush()
            headings[:] = [(level, text) for level, text in headings if level < block.level]
            headings.append((block.level, block.text))
            continue
        if block.kind == "row":
            flush()
            chunks.append(Chunk(block.text, title(), block.location))
            continue
        for piece in split_long(block.text):
            size = len(piece.split())
            if buffer and (words >= TARGET_WORDS or words + size > MAX_WORDS):
                flush()
            if not buffer:
                start = block.location
            end = block.location
            buffer.append(piece)
            words += size
    flush()
    return [c for c in chunks if c.text.strip()]
