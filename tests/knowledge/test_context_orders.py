"""The orders part of the context: which words are looked up, and its place in the budget."""

from __future__ import annotations

from chatwootai.config.schema import KnowledgeContext
from chatwootai.knowledge.context import (
    GUIDANCE,
    ORDERS_HEADER,
    ContextBuilder,
    order_references,
)


def test_words_with_three_digits_are_looked_up_once_in_order() -> None:
    text = "meu pedido #BP-104587 (ou 1234?) e o BP-104587 de novo, cep 13025-320, qb123456789br"
    assert order_references(text) == ["BP-104587", "1234", "13025-320", "qb123456789br"]
    assert order_references("cadê meu pedido? paguei 12 reais") == []
    assert order_references("x" * 50 + "123") == []  # longer than any order number


def test_orders_come_first_and_count_against_the_budget() -> None:
    builder = ContextBuilder(KnowledgeContext(max_tokens=60))
    order = "Pedido 1234: em transporte\nPrevisão de entrega: 25/11/2026."
    passage = "Trocas (FAQ): " + "troca em até 7 dias " * 10
    block = builder.render([passage], [], [order])
    assert block.index(ORDERS_HEADER) < block.index("Trechos:")
    assert "Pedido 1234" in block and block.endswith(GUIDANCE)
    assert ("troca em até 7 dias " * 10) not in block  # cut to what the order left
