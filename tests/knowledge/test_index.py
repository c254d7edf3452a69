"""The knowledge index: prepared (array) search finds what the plain search finds, faster."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from chatwootai.config.schema import KnowledgeContext
from chatwootai.knowledge.context import ContextBuilder
from chatwootai.knowledge.index import Passage, PassageIndex, SourceIndex, knowledge_terms
from chatwootai.tools.retrieval import LexicalIndex, term_counts

QUESTIONS = Path(__file__).resolve().parents[2] / "bench" / "data" / "knowledge" / "questions.jsonl"
WORDS = [
    "entrega",
    "prazo",
    "frete",
    "gratis",
    "pagamento",
    "cartao",
    "parcelamento",
    "pix",
    "boleto",
    "troca",
    "devolucao",
    "garantia",
    "defeito",
    "reembolso",
    "estorno",
    "loja",
    "horario",
    "sabado",
    "domingo",
    "feriado",
    "endereco",
    "estacionamento",
    "receita",
    "antibiotico",
    "vacina",
    "exame",
    "jejum",
    "ultrassom",
    "coleta",
    "resultado",
    "portal",
    "montagem",
    "guarda-roupa",
    "colchao",
    "sobrancelha",
    "henna",
    "limpeza",
    "maquiagem",
    "noiva",
    "pacote",
    "sinal",
]


def corpus(size: int, seed: int = 3) -> list[dict[str, int]]:
    rng = random.Random(seed)
    texts = [" ".join(rng.choices(WORDS, k=rng.randint(5, 30))) for _ in range(size)]
    return [dict(term_counts([(t, 1)], knowledge_terms)) for t in texts]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_prepared_search_equals_plain_search(seed: int) -> None:
    """Same terms found for typos (except, in words of 8+ letters, two substitutions away),
    and then the same ranking and scores."""
    counts = corpus(300, seed)
    plain = LexicalIndex.from_counts(counts, analyzer=knowledge_terms)
    fast = LexicalIndex.from_counts(counts, analyzer=knowledge_terms)
    fast.prepare()
    questions = [
        json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines() if line
    ]
    rng = random.Random(seed)
    typos = [" ".join(w[:-1] + "x" if len(w) > 6 else w for w in rng.sample(WORDS, 3))]
    queries = [*questions, *typos, "entrgea prazzo", "guardaroupa montagen", "garantai"]
    same = 0
    for query in queries:
        terms = knowledge_terms(query)
        for term in terms:
            found, expected = dict(fast.expand(term)), dict(plain.expand(term))
            assert set(found) <= set(expected), term
            if len(term) < 8:
                assert found == expected, term
        if any(fast.expand(t) != plain.expand(t) for t in terms):
            continue
        same += 1
        a, b = plain.search(query, 10), fast.search(query, 10)
        assert [h.index for h in a] == [h.index for h in b], query
        assert [round(h.score, 6) for h in a] == [round(h.score, 6) for h in b], query
        assert [round(h.coverage, 6) for h in a] == [round(h.coverage, 6) for h in b], query
        candidates = list(range(0, 300, 3))
        a = plain.search(query, 5, candidates=candidates)
        b = fast.search(query, 5, candidates=candidates)
        assert [h.index for h in a] == [h.index for h in b], query
    assert same >= 0.9 * len(queries)


def test_verbs_find_nouns_and_doubled_letters_fold() -> None:
    passages = [
        Passage("Trocas em até 30 dias.", "Troca de produtos", "trocas.html"),
        Passage("Toleramos 15 minutos de atraso.", "Atrasos", "estudio.pdf"),
        Passage("Não molhe a henna por 12 horas.", "Cuidados", "estudio.pdf"),
    ]
    counts = [dict(term_counts(p.fields(), knowledge_terms)) for p in passages]
    index = PassageIndex.build([SourceIndex("x", passages, counts)])
    assert index.search("da pra trocar?", 1)[0][0].title == "Troca de produtos"
    assert index.search("posso me atrasar?", 1)[0][0].title == "Atrasos"
    assert index.search("molhar a hena", 1)[0][0].title == "Cuidados"


def test_context_respects_its_token_budget() -> None:
    builder = ContextBuilder(KnowledgeContext(max_tokens=100, passages=4, products=3))
    long = "Texto longo de política. " * 40
    block = builder.render([long, "Curto."], ["Produto A — R$ 10,00 — em estoque: 1 — SKU A"])
    body = block.split("\n")[1:-1]  # without the header and the guidance
    assert sum(len(line) for line in body) <= 100 * 4 + 40
    assert "Produto A" in block
    assert builder.render([], []) == ""
    off = ContextBuilder(KnowledgeContext(enabled=False))
    assert not off.enabled
