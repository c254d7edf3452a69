"""Lexical retrieval shared by the knowledge and catalog tools: BM25 over stems, typo-tolerant.

Documents are lists of weighted text fields. Text is folded and stemmed with
:mod:`chatwootai.text`, so accents, case and plurals do not matter; Portuguese stop-words are
dropped. A query term missing from the vocabulary is matched to close vocabulary terms: a shared
prefix of at least five letters ("agendar" / "agendamento") or an edit distance of one (two for
long words) for words of five letters or more ("hidratnte" / "hidratante"), with a lower weight;
two adjacent query words also match their joined form ("derma care" / "DermaCare").

Fuzzy matching is bounded per query: only the first :data:`MAX_FUZZY_TERMS` unknown terms are
expanded, and only the first :data:`MAX_QUERY_CHARS` characters are read, so a long run of typos
or junk costs a few thousand comparisons, not one scan of the vocabulary per word.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from chatwootai.text import stem, words

_STOP_WORDS_TEXT = """
    a ao aos as ate com como da das de dela dele deles do dos e ela elas ele eles em entre era
    essa essas esse esses esta estas este estes eu foi for ha isso isto ja la lhe mais mas me
    meu minha muito na nas nem no nos nossa nosso o os ou para pela pelas pelo pelos por qual
    quais quando que quem se sem ser seu sua so sobre tambem te tem tenho ter teu tua um uma
    umas uns voce voces vc vcs pra pro the and of to is in for ola oi obrigado obrigada
    gostaria queria quero saber pode poderia favor porfavor ai aqui tudo bem bom boa dia
    quanto quanta quantos quantas qto qtos qnto qnt onde cade fica ficou ta sai custa custam
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
"""Folded words ignored in documents and queries."""

FUZZY_MIN_LENGTH = 5
"""Shortest query term matched approximately (shorter terms must match exactly)."""

PREFIX_WEIGHT = 0.8
FUZZY_WEIGHT = 0.7
UNKNOWN_TERM_WEIGHT = 0.5

MAX_FUZZY_TERMS = 8
"""Unknown query terms expanded approximately per query; later ones must match exactly."""

MAX_QUERY_CHARS = 500
"""Characters of a query read by a search (the rest is ignored)."""


def terms(text: str) -> list[str]:
    """The stems of the words of `text` that are not stop-words."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS]


Analyzer = Callable[[str], list[str]]
"""Text to index terms (default :func:`terms`)."""


def term_counts(fields: Iterable[tuple[str, int]], analyzer: Analyzer = terms) -> Counter[str]:
    """Terms of weighted text fields counted: a field's terms count `weight` times."""
    counts: Counter[str] = Counter()
    for text, weight in fields:
        for term in analyzer(text):
            counts[term] += weight
    return counts


def _deletions(term: str, depth: int) -> set[str]:
    """`term` and every string made by deleting up to `depth` of its letters."""
    found = {term}
    frontier = {term}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, or `limit + 1` when above it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked document: its position in the index, BM25 score and share of the query matched."""

    index: int
    score: float
    coverage: float


class LexicalIndex:
    """An in-memory BM25 index (inverted postings) over weighted text fields of documents."""

    def __init__(
        self,
        documents: Sequence[Sequence[tuple[str, int]]],
        k1: float = 1.5,
        b: float = 0.75,
        analyzer: Analyzer = terms,
    ) -> None:
        """Index `documents`, each a list of (text, weight); a field counts `weight` times."""
        self._build([term_counts(fields, analyzer) for fields in documents], k1, b, analyzer)

    @classmethod
    def from_counts(
        cls,
        counts: Sequence[Mapping[str, int]],
        k1: float = 1.5,
        b: float = 0.75,
        analyzer: Analyzer = terms,
    ) -> LexicalIndex:
        """An index of documents given as term counts (from :func:`term_counts`, kept built)."""
        index = cls.__new__(cls)
        index._build([Counter(c) for c in counts], k1, b, analyzer)
        return index

    def _build(
        self, documents: list[Counter[str]], k1: float, b: float, analyzer: Analyzer
    ) -> None:
        self._analyzer = analyzer
        self.k1 = k1
        self.b = b
        self._tf = documents
        self._length = [sum(c.values()) for c in self._tf]
        self._avg = (sum(self._length) / len(self._length)) if self._length else 0.0
        df: Counter[str] = Counter()
        for counts in self._tf:
            df.update(counts.keys())
        n = len(self._tf)
        self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        # A query word found nowhere in the documents says little about which one is relevant:
        # it weighs half an average term when measuring how much of the query a document covers.
        mean_idf = (sum(self._idf.values()) / len(self._idf)) if self._idf else 1.0
        self._unknown_idf = UNKNOWN_TERM_WEIGHT * mean_idf
        self._norm = [k1 * (1 - b + b * length / (self._avg or 1.0)) for length in self._length]
        self._postings: dict[str, list[tuple[int, int]]] = {}
        for index, counts in enumerate(self._tf):
            for term, tf in counts.items():
                self._postings.setdefault(term, []).append((index, tf))
        self._by_length: dict[int, list[str]] = {}
        for term in self._idf:
            self._by_length.setdefault(len(term), []).append(term)
        self._sorted = sorted(t for t in self._idf if len(t) >= FUZZY_MIN_LENGTH)
        self._expansions: dict[str, list[tuple[str, float]]] = {}
        self.comparisons = 0
        """Vocabulary terms compared with query terms by fuzzy expansion so far (bounded work)."""
        self._arrays: dict[str, tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]] | None = None
        self._deletes: dict[str, tuple[str, ...]] | None = None

    def prepare(self) -> None:
        """Precompute for large indexes: postings as arrays, a deletion index for typos.

        Searches then score with numpy, and find the vocabulary terms close to an unknown word
        by looking up its deletions (symmetric delete: the word's and each term's strings with
        letters removed, up to the word's limit for the word and one for a term) instead of
        comparing it with every term of a similar length. The same terms are found, except, for
        words of 8 letters or more, terms two substitutions away or with two extra letters.
        """
        norm = np.asarray(self._norm, dtype=np.float64)
        arrays = {}
        for term, postings in self._postings.items():
            docs = np.fromiter((i for i, _ in postings), dtype=np.int64, count=len(postings))
            tf = np.fromiter((t for _, t in postings), dtype=np.float64, count=len(postings))
            arrays[term] = (docs, tf * (self.k1 + 1) / (tf + norm[docs]))
        deletes: dict[str, set[str]] = {}
        for term in self._idf:
            if len(term) < FUZZY_MIN_LENGTH - 1 or term.isdigit():
                continue
            for variant in _deletions(term, 1):
                deletes.setdefault(variant, set()).add(term)
        self._deletes = {k: tuple(v) for k, v in deletes.items()}
        self._arrays = arrays

    def __len__(self) -> int:
        return len(self._tf)

    def expand(self, term: str) -> list[tuple[str, float]]:
        """Vocabulary terms standing for a query term, with weights (itself, or close terms)."""
        if term in self._idf:
            return [(term, 1.0)]
        cached = self._expansions.get(term)
        if cached is not None:
            return cached
        found: dict[str, float] = {}
        if len(term) >= FUZZY_MIN_LENGTH and not term.isdigit():
            limit = 1 if len(term) < 8 else 2
            for candidate in self._close_terms(term, limit):
                self.comparisons += 1
                if edit_distance(term, candidate, limit) <= limit:
                    found[candidate] = FUZZY_WEIGHT
            for candidate in self._prefixed(term):
                found[candidate] = max(found.get(candidate, 0.0), PREFIX_WEIGHT)
        expansion = sorted(found.items())
        if len(self._expansions) < 10_000:
            self._expansions[term] = expansion
        return expansion

    def _close_terms(self, term: str, limit: int) -> Iterable[str]:
        """Vocabulary terms that may be within `limit` edits of `term` (a superset)."""
        if self._deletes is None:
            for length in range(len(term) - limit, len(term) + limit + 1):
                yield from self._by_length.get(length, ())
            return
        seen: set[str] = set()
        for variant in _deletions(term, limit):
            for candidate in self._deletes.get(variant, ()):
                if candidate not in seen and abs(len(candidate) - len(term)) <= limit:
                    seen.add(candidate)
                    yield candidate

    def _prefixed(self, term: str) -> list[str]:
        """Vocabulary terms (five letters or more) that start with `term` or that it starts with."""
        found = [term[:n] for n in range(FUZZY_MIN_LENGTH, len(term)) if term[:n] in self._idf]
        at = bisect_left(self._sorted, term)
        while at < len(self._sorted) and self._sorted[at].startswith(term):
            self.comparisons += 1
            found.append(self._sorted[at])
            at += 1
        return found

    def _joined(self, query: str) -> list[str]:
        """Stems of adjacent query words written together in the documents ("derma care")."""
        tokens = [w for w in words(query) if w not in STOP_WORDS]
        joined = (t for a, b in pairwise(tokens) for t in self._analyzer(a + b)[:1])
        return [t for t in joined if t in self._idf]

    def search(
        self, query: str, limit: int = 5, candidates: Iterable[int] | None = None
    ) -> list[Hit]:
        """Documents matching `query`, best first (only those sharing at least one term)."""
        query = query[:MAX_QUERY_CHARS]
        query_terms = list(dict.fromkeys(self._analyzer(query) + self._joined(query)))
        if not query_terms or not self._tf:
            return []
        allowed = None if candidates is None else set(candidates)
        expanded: list[list[tuple[str, float]]] = []
        fuzzy_left = MAX_FUZZY_TERMS
        for term in query_terms:
            if term in self._idf:
                expanded.append([(term, 1.0)])
            elif fuzzy_left > 0:
                fuzzy_left -= 1
                expanded.append(self.expand(term))
            else:
                expanded.append([])  # past the fuzzy budget: an unknown word matches nothing
        total_weight = sum(
            max((self._idf[v] for v, _ in exp), default=self._unknown_idf) for exp in expanded
        )
        if self._arrays is not None:
            return self._search_arrays(expanded, total_weight, limit, allowed)
        scores: dict[int, float] = {}
        matched: dict[int, float] = {}
        for expansion in expanded:
            best: dict[int, tuple[float, float]] = {}
            for vocab, weight in expansion:
                idf = self._idf[vocab]
                for index, tf in self._postings[vocab]:
                    if allowed is not None and index not in allowed:
                        continue
                    value = weight * idf * tf * (self.k1 + 1) / (tf + self._norm[index])
                    if value > best.get(index, (0.0, 0.0))[0]:
                        best[index] = (value, idf)
            for index, (value, idf) in best.items():
                scores[index] = scores.get(index, 0.0) + value
                matched[index] = matched.get(index, 0.0) + idf
        best_first = heapq.nsmallest(limit, scores.items(), key=lambda item: (-item[1], item[0]))
        return [
            Hit(index, score, min(1.0, matched[index] / total_weight))
            for index, score in best_first
        ]

    def _search_arrays(
        self,
        expanded: list[list[tuple[str, float]]],
        total_weight: float,
        limit: int,
        allowed: set[int] | None,
    ) -> list[Hit]:
        """The scoring of :meth:`search` with numpy (after :meth:`prepare`)."""
        assert self._arrays is not None
        size = len(self._tf)
        scores = np.zeros(size)
        matched = np.zeros(size)
        for expansion in expanded:
            best = np.zeros(size)
            best_idf = np.zeros(size)
            for vocab, weight in expansion:
                idf = self._idf[vocab]
                docs, part = self._arrays[vocab]
                values = weight * idf * part
                better = values > best[docs]
                best[docs[better]] = values[better]
                best_idf[docs[better]] = idf
            scores += best
            matched += best_idf
        if allowed is not None:
            mask = np.zeros(size, dtype=bool)
            mask[list(allowed)] = True
            scores[~mask] = 0.0
        found = np.flatnonzero(scores > 0)
        if not len(found):
            return []
        order = found[np.lexsort((found, -scores[found]))][:limit]
        return [
            Hit(int(i), float(scores[i]), min(1.0, float(matched[i]) / total_weight)) for i in order
        ]
