"""The offline model on a real example domain: tools picked by the message, grants kept."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from chatwootai.agents.factory import CrewFactory, dry_run
from chatwootai.config.loader import DomainLoader
from chatwootai.config.schema import DomainConfig
from chatwootai.llm import ModelResolver
from chatwootai.offline import intent_kinds
from chatwootai.settings import Settings
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.tools.base import ToolContext
from chatwootai.tools.proxy import DataProxy

DOMAINS = Path(__file__).resolve().parents[2] / "domains"


@pytest.fixture(scope="module")
def cosmetics() -> DomainConfig:
    return DomainLoader(DOMAINS).load("cosmetics")


@pytest.fixture
def factory(cosmetics: DomainConfig) -> CrewFactory:
    proxy = DataProxy.for_domain(cosmetics, EmbeddedStore(":memory:"))
    return CrewFactory(cosmetics, proxy, ModelResolver(Settings()))


@pytest.fixture
def customer() -> ToolContext:
    return ToolContext(
        domain="cosmetics", conversation_key="7:42", agent_id="", contact_phone="+5511987654321"
    )


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("quanto custa o sérum?", "catalog"),
        ("cadê meu pedido 104587?", "orders"),
        ("quero marcar um horário", "calendar"),
        ("vocês entregam em Campinas?", "knowledge"),
    ],
)
def test_intent_picks_the_tool_kind(message: str, kind: str) -> None:
    assert intent_kinds(message)[0] == kind


async def test_price_question_answers_from_catalog(factory, customer, caplog):
    caplog.set_level(logging.INFO)
    crew = factory.build("sales")
    assert "offline" in caplog.text
    result = await crew.run("quanto custa o sérum de vitamina c?", {}, customer)
    assert result.offline and not result.fallback
    assert [r.tool_id for r in result.tool_calls] == ["catalogo"]
    assert "R$ 119,90" in result.reply
    assert result.requests == 2


async def test_order_number_answers_order_status(factory, customer):
    result = await factory.build("support").run("meu pedido BP-104587", {}, customer)
    assert result.tool_calls[0].args == {"order_id": "BP-104587"}
    assert "em transporte" in result.reply


async def test_scheduling_words_list_free_slots(factory, customer):
    result = await factory.build("scheduling").run("quero agendar uma limpeza", {}, customer)
    assert result.tool_calls[0].args["action"] == "availability"
    assert "Limpeza de pele" in result.reply


async def test_grants_apply_offline(factory, customer):
    # the support agent has no catalog: a price question goes to its knowledge base
    result = await factory.build("support").run("quanto custa o frete?", {}, customer)
    assert [r.tool_id for r in result.tool_calls] == ["faq"]


async def test_nothing_found_falls_back_with_handoff(factory, customer, cosmetics):
    result = await factory.build("support").run("xyzzy plugh", {}, customer)
    assert result.fallback and result.offline
    assert result.reply == cosmetics.chatwoot.texts.fallback
    assert result.handoff is not None


def test_dry_run_builds_every_crew(cosmetics):
    lines = dry_run(cosmetics)
    assert any(line.startswith("crew sales: sequential") for line in lines)
    assert any(line.startswith("agent vendedor: SalesAgent") for line in lines)
    assert all("offline" in line for line in lines if line.startswith("crew"))
