"""The knowledge tool answers from the FAQ, tolerating how customers write."""

from __future__ import annotations

import pytest

from chatwootai.config.data import FaqEntry
from chatwootai.config.schema import DomainConfig, KnowledgeSettings
from chatwootai.store.base import Store
from chatwootai.tools.base import ToolContext
from chatwootai.tools.knowledge import KnowledgeArgs, KnowledgeTool
from chatwootai.tools.registry import ToolRegistry


@pytest.fixture
def faq(config: DomainConfig, store: Store) -> KnowledgeTool:
    tool = ToolRegistry.build(config, store)["faq"]
    assert isinstance(tool, KnowledgeTool)
    return tool


@pytest.mark.parametrize(
    ("query", "answer_fragment"),
    [
        ("qual o prazo de entrega?", "3 dias úteis"),
        ("Quanto tempo demora o frete pra chegar", "3 dias úteis"),
        ("quero agendar um horário", "marcar horário"),
        ("como funciona o agendamento", "marcar horário"),
        ("protetores solares pra pele oleosa", "toque seco"),
        ("hidratnte para pele sensivel", "hipoalergênico"),
        ("PARCELAMENTO NO CARTAO", "3x sem juros"),
        ("devoluçoes", "30 dias"),
    ],
)
async def test_answers_the_question(
    faq: KnowledgeTool, ctx: ToolContext, query: str, answer_fragment: str
) -> None:
    result = await faq.run(ctx, KnowledgeArgs(query=query))
    assert result.found
    assert answer_fragment in result.data[0]["answer"]
    assert answer_fragment in result.text.split("\n\n")[0]
    assert result.data[0]["score"] > 0


async def test_nothing_relevant_is_not_found(faq: KnowledgeTool, ctx: ToolContext) -> None:
    result = await faq.run(ctx, KnowledgeArgs(query="vocês vendem pneus de caminhão?"))
    assert not result.found
    assert result.data == []


async def test_returns_at_most_max_results(store: Store, ctx: ToolContext) -> None:
    entries = [
        FaqEntry(question=f"Entrega na região {i}?", answer=f"Sim, entrega {i}.") for i in range(10)
    ]
    tool = KnowledgeTool("faq", "", store, KnowledgeSettings(files=["x"], max_results=2), entries)
    result = await tool.run(ctx, KnowledgeArgs(query="entrega"))
    assert len(result.data) == 2
    scores = [d["score"] for d in result.data]
    assert scores == sorted(scores, reverse=True)


async def test_empty_knowledge_base(store: Store, ctx: ToolContext) -> None:
    tool = KnowledgeTool("faq", "", store, KnowledgeSettings(files=["x"]), [])
    result = await tool.run(ctx, KnowledgeArgs(query="entrega"))
    assert not result.found
