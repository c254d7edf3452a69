"""Lexical retrieval: BM25 over stems, robust to accents, plurals, typos and verb forms."""

from __future__ import annotations

import random

import pytest

from chatwootai.tools.retrieval import (
    MAX_FUZZY_TERMS,
    MAX_QUERY_CHARS,
    LexicalIndex,
    edit_distance,
    terms,
)

DOCS = [
    [("Protetores solares FPS 50", 3), ("proteção contra raios UV", 1)],
    [("Hidratante facial", 3), ("para pele seca e sensível", 1)],
    [("Como faço um agendamento?", 3), ("Marque pelo WhatsApp", 1)],
    [("Prazo de entrega", 3), ("Entregamos em 3 dias úteis para todo o Brasil", 1)],
    [("Batom vermelho", 3), ("longa duração", 1)],
]


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    return LexicalIndex(DOCS)


def test_terms_drop_stop_words_and_fold() -> None:
    assert terms("Qual é o prazo de ENTREGA?") == ["praz", "entreg"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("protetor solar", 0),
        ("PROTETOR SOLAR", 0),
        ("hidratante", 1),
        ("hidratnte", 1),  # typo: a letter missing
        ("hidartante", 1),  # typo: letters swapped
        ("agendar", 2),  # verb vs noun
        ("agendamento", 2),
        ("prazo de entrega para Recife", 3),
        ("entregas", 3),
        ("batons vermelhos", 4),
        ("proteçao", 0),  # accent missing
    ],
)
def test_finds_the_right_document(index: LexicalIndex, query: str, expected: int) -> None:
    hits = index.search(query)
    assert hits, query
    assert hits[0].index == expected


def test_plural_query_matches_singular_document() -> None:
    index = LexicalIndex([[("protetor solar", 1)], [("batom", 1)]])
    hits = index.search("protetores solares")
    assert [h.index for h in hits] == [0]
    assert hits[0].coverage == 1.0


def test_nothing_for_unrelated_words(index: LexicalIndex) -> None:
    assert index.search("xyz qwerty") == []
    assert index.search("o de para") == []  # only stop-words
    assert index.search("") == []


def test_short_words_are_not_matched_fuzzily() -> None:
    index = LexicalIndex([[("gel", 1)], [("sol", 1)]])
    assert index.search("mel") == []


def test_coverage_is_the_share_of_the_query_matched(index: LexicalIndex) -> None:
    full = index.search("prazo entrega")[0]
    partial = index.search("prazo entrega zzzzz")[0]
    assert full.coverage == 1.0
    assert 0 < partial.coverage < 1.0


def test_candidates_restrict_the_search(index: LexicalIndex) -> None:
    assert index.search("protetor solar", candidates=[1, 2]) == []


def test_edit_distance() -> None:
    assert edit_distance("hidratant", "hidratant", 2) == 0
    assert edit_distance("hidratnt", "hidratant", 2) == 1
    assert edit_distance("hidartant", "hidratant", 2) == 1  # transposition
    assert edit_distance("abc", "xyzabc", 2) == 3  # above the limit


def test_empty_index() -> None:
    assert LexicalIndex([]).search("qualquer coisa") == []


def synthetic_catalog(products: int) -> list[list[tuple[str, int]]]:
    """`products` documents over a large vocabulary of made-up product words."""
    rng = random.Random(7)
    letters = "abcdefghijlmnoprstuv"
    vocabulary = [
        "".join(rng.choice(letters) for _ in range(rng.randint(5, 12))) for _ in range(6000)
    ]
    return [
        [(" ".join(rng.sample(vocabulary, 6)), 3), (" ".join(rng.sample(vocabulary, 20)), 1)]
        for _ in range(products)
    ]


def test_a_long_junk_query_does_bounded_work() -> None:
    catalog = synthetic_catalog(2000)
    index = LexicalIndex(catalog)
    vocabulary = {t for doc in catalog for text, _ in doc for t in terms(text)}
    rng = random.Random(11)
    junk = " ".join(
        "".join(rng.choice("qwxyzkh") for _ in range(rng.randint(6, 10))) for _ in range(80)
    )
    unknown = [t for t in dict.fromkeys(terms(junk[:MAX_QUERY_CHARS])) if t not in vocabulary]
    assert len(unknown) > 3 * MAX_FUZZY_TERMS  # far more unknown words than the budget
    assert index.search(junk) == []
    # at most MAX_FUZZY_TERMS scans of the vocabulary, however many unknown words there are
    assert 0 < index.comparisons <= MAX_FUZZY_TERMS * len(vocabulary)
    again = index.comparisons
    index.search(junk + " " + junk)  # reads no further than MAX_QUERY_CHARS
    assert index.comparisons == again  # and what it expanded before is cached


def test_typos_still_match_within_the_fuzzy_budget() -> None:
    index = LexicalIndex([[("hidratante facial com vitamina", 1)], [("shampoo anticaspa", 1)]])
    hits = index.search("hidratnte " + "xqzwk " * 30)
    assert hits and hits[0].index == 0
