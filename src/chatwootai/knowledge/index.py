"""Searchable passages: one index per source (built once per content hash) and one per tool.

A :class:`SourceIndex` is a document's chunks with their stemmed term counts: the costly part
(extraction, chunking, stemming), built once per content hash and shared. A
:class:`PassageIndex` is what a knowledge tool searches: its FAQ entries and the chunks of its
sources in one BM25 index (built from the kept term counts, so it takes milliseconds), plus the
passages' vectors when the domain configures embeddings (hybrid ranking: the lexical and the
meaning rankings fused by reciprocal rank).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from chatwootai.artefacts import SHARED, artefact_key, content_key
from chatwootai.config.data import FaqEntry
from chatwootai.knowledge.chunking import chunk_document
from chatwootai.knowledge.extract import extract
from chatwootai.text import stem, words
from chatwootai.tools.retrieval import STOP_WORDS, LexicalIndex, term_counts

MIN_COVERAGE = 0.25
"""Share of the query (by term weight) a passage must match to count as relevant."""

RELATIVE_SCORE = 0.35
"""Lexical hits scoring under this fraction of the best hit are dropped."""

MIN_SIMILARITY = 0.3
"""Cosine similarity under which a passage found only by meaning is not relevant."""

RRF_K = 60
"""Reciprocal rank fusion constant (the usual value from Cormack et al., 2009)."""

CANDIDATES = 50
"""Passages taken from each ranking before fusion."""


VERB_ENDINGS = ("ando", "endo", "indo", "ar", "er", "ir")
"""Infinitive and gerund endings removed before stemming, so a customer's verb finds the noun
of the documents ("trocar" / "troca", "atrasar" / "atraso", "parcelar" / "parcelamento")."""

_REPEATED = re.compile(r"(.)\1+")


def knowledge_stem(word: str) -> str:
    """A folded word's stem for document search: repeated letters and verb endings removed."""
    word = _REPEATED.sub(r"\1", word)  # "henna" / "hena", "shampoo" / "shampo"
    for ending in VERB_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]  # the verb's root is the noun's stem ("troc", "atras")
    return stem(word)


def knowledge_terms(text: str) -> list[str]:
    """The terms of `text` in a knowledge index (stop-words dropped)."""
    return [knowledge_stem(w) for w in words(text) if w not in STOP_WORDS]


@dataclass(frozen=True, slots=True)
class Passage:
    """A searchable passage: an FAQ entry or a chunk of a document, with where it comes from."""

    text: str
    title: str
    source: str
    """The file name or URL it comes from."""
    location: str = ""
    """Page, line or anchor within the source ("p. 2", "linha 14", "#trocas")."""
    kind: str = "document"
    """"faq" or "document"."""
    tags: tuple[str, ...] = ()

    def fields(self) -> list[tuple[str, int]]:
        """The weighted text fields indexed for this passage."""
        if self.kind == "faq":
            return [(self.title, 3), (" ".join(self.tags), 2), (self.text, 1)]
        return [(self.title, 2), (self.text, 1)]

    def citation(self) -> str:
        """Where the passage is, for a human: "trocas.html, #prazo" or "tabela.pdf, p. 2"."""
        return f"{self.source}, {self.location}" if self.location else self.source


@dataclass
class SourceIndex:
    """A document's passages and their term counts (the artefact kept per content hash)."""

    source: str
    passages: list[Passage]
    counts: list[dict[str, int]]
    pages: int = 1

    @classmethod
    def build(cls, content: bytes, kind: str, source: str) -> SourceIndex:
        """Extract, chunk and count a document; raises ExtractionError for bad input."""
        document = extract(content, kind, source)
        passages = [Passage(c.text, c.title, source, c.location) for c in chunk_document(document)]
        counts = [dict(term_counts(p.fields(), knowledge_terms)) for p in passages]
        return cls(source, passages, counts, document.pages)


class SourceIndexCodec:
    """SourceIndex as JSON bytes."""

    kind = "knowledge-source"
    version = 2

    def encode(self, value: SourceIndex) -> bytes:
        """JSON of the index."""
        data = {
            "source": value.source,
            "pages": value.pages,
            "passages": [asdict(p) for p in value.passages],
            "counts": value.counts,
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

    def decode(self, data: bytes) -> SourceIndex:
        """The index from its JSON."""
        raw = json.loads(data)
        passages = [Passage(**{**p, "tags": tuple(p.get("tags", ()))}) for p in raw["passages"]]
        return SourceIndex(raw["source"], passages, raw["counts"], raw.get("pages", 1))


class VectorsCodec:
    """A float32 matrix (one row per passage) as bytes with its shape."""

    kind = "knowledge-vectors"
    version = 1

    def encode(self, value: np.ndarray[Any, Any]) -> bytes:
        """Shape header then raw little-endian float32."""
        rows, cols = int(value.shape[0]), int(value.shape[1])
        header = rows.to_bytes(4, "little") + cols.to_bytes(4, "little")
        body: bytes = np.ascontiguousarray(value, dtype="<f4").tobytes()
        return header + body

    def decode(self, data: bytes) -> np.ndarray[Any, Any]:
        """The matrix from :meth:`encode`'s bytes."""
        rows = int.from_bytes(data[:4], "little")
        cols = int.from_bytes(data[4:8], "little")
        matrix: np.ndarray[Any, Any] = np.frombuffer(data[8:], dtype="<f4").reshape(rows, cols)
        return matrix


FAQ_PASSAGES_KIND = "faq-passages"
FAQ_PASSAGES_VERSION = 1
"""Format of the shared FAQ passages (:func:`faq_passages`); bump when the counting changes."""


def faq_passages(entries: Sequence[FaqEntry], source: str = "faq") -> SourceIndex:
    """FAQ entries as a source of passages (question as title, answer as text).

    Shared in memory by every domain whose FAQ has the same entries (counted once).
    """
    key = artefact_key(
        FAQ_PASSAGES_KIND,
        FAQ_PASSAGES_VERSION,
        source,
        *(f"{e.question}\x1f{e.answer}\x1f{'|'.join(e.tags)}" for e in entries),
    )

    def build() -> SourceIndex:
        passages = [
            Passage(e.answer, e.question, source, kind="faq", tags=tuple(e.tags)) for e in entries
        ]
        counts = [dict(term_counts(p.fields(), knowledge_terms)) for p in passages]
        return SourceIndex(source, passages, counts)

    return SHARED.get_or_build(FAQ_PASSAGES_KIND, key, build)


def faq_key(faq: SourceIndex) -> str:
    """The content key of FAQ passages."""
    return content_key(
        "faq", *(f"{p.title}\x1f{p.text}\x1f{'|'.join(p.tags)}" for p in faq.passages)
    )


def normalised(matrix: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Rows scaled to unit length (zero rows stay zero)."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    scaled: np.ndarray[Any, Any] = matrix / norms
    return scaled


@dataclass
class PassageIndex:
    """The passages a knowledge tool searches, by words and (optionally) by meaning."""

    passages: list[Passage]
    lexical: LexicalIndex
    vectors: np.ndarray[Any, Any] | None = None
    """Unit rows aligned with `passages`, or None (lexical ranking only)."""
    weight: float = 0.5
    """Share of the meaning ranking in the fused ranking."""
    sources: dict[str, int] = field(default_factory=dict)
    """Passages per source name."""

    @classmethod
    def build(
        cls,
        parts: Sequence[SourceIndex],
        vectors: Sequence[np.ndarray[Any, Any] | None] | None = None,
        weight: float = 0.5,
    ) -> PassageIndex:
        """One index over the passages of `parts` (vectors aligned with them, if every part has)."""
        passages = [p for part in parts for p in part.passages]
        counts = [c for part in parts for c in part.counts]
        matrix = None
        if vectors is not None and parts and all(v is not None for v in vectors):
            stacked = [v for v in vectors if v is not None]
            if (
                sum(len(v) for v in stacked) == len(passages)
                and len({v.shape[1] for v in stacked}) == 1
            ):
                matrix = normalised(np.vstack(stacked)) if stacked else None
        sources: dict[str, int] = {}
        for part in parts:
            sources[part.source] = sources.get(part.source, 0) + len(part.passages)
        lexical = LexicalIndex.from_counts(counts, analyzer=knowledge_terms)
        lexical.prepare()  # array scoring and a deletion index for typos: fast on large indexes
        return cls(passages, lexical, matrix, weight, sources)

    def __len__(self) -> int:
        return len(self.passages)

    @property
    def hybrid(self) -> bool:
        """True when passages are also ranked by meaning."""
        return self.vectors is not None

    def search_lexical(self, query: str, limit: int) -> list[tuple[int, float]]:
        """Relevant passages by words: (position, BM25 score), best first."""
        hits = self.lexical.search(query, max(limit, 1))
        if not hits or hits[0].coverage < MIN_COVERAGE:
            return []
        top = hits[0].score
        return [
            (h.index, h.score)
            for h in hits
            if h.coverage >= MIN_COVERAGE and h.score >= RELATIVE_SCORE * top
        ]

    def search(
        self, query: str, limit: int, query_vector: np.ndarray[Any, Any] | None = None
    ) -> list[tuple[Passage, float]]:
        """The best passages for `query` with their scores, best first (empty: none relevant)."""
        if self.vectors is None or query_vector is None or not len(self.passages):
            return [(self.passages[i], round(s, 3)) for i, s in self.search_lexical(query, limit)]
        lexical = self.search_lexical(query, CANDIDATES)
        q = np.asarray(query_vector, dtype=np.float32)
        norm = float(np.linalg.norm(q))
        if norm == 0 or q.shape[0] != self.vectors.shape[1]:
            return [(self.passages[i], round(s, 3)) for i, s in lexical[:limit]]
        similarity = self.vectors @ (q / norm)
        order = np.argsort(-similarity)[:CANDIDATES]
        semantic = [
            (int(i), float(similarity[i])) for i in order if similarity[i] >= MIN_SIMILARITY
        ]
        fused: dict[int, float] = {}
        for rank, (i, _) in enumerate(lexical, 1):
            fused[i] = fused.get(i, 0.0) + (1 - self.weight) / (RRF_K + rank)
        for rank, (i, _) in enumerate(semantic, 1):
            fused[i] = fused.get(i, 0.0) + self.weight / (RRF_K + rank)
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return [(self.passages[i], round(score * 1000, 3)) for i, score in ranked]


def estimate_tokens(text: str) -> int:
    """Tokens of `text` by the usual rule of thumb for GPT-style tokenizers: 4 characters each."""
    return math.ceil(len(text) / 4)
