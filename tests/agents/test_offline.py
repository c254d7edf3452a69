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
    # a sales agent looks in the catalog and in the FAQ, and answers from the one more about
    # the message: one request per tool call, one for the answer
    assert [r.tool_id for r in result.tool_calls] == ["catalogo", "faq"]
    assert "R$ 119,90" in result.reply
    assert result.requests == 3


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


async def test_a_hello_is_answered_without_tools_and_without_handoff(factory, customer):
    result = await factory.build("support").run("oi, boa tarde!", {}, customer)
    assert not result.fallback and result.handoff is None and result.tool_calls == []
    assert "Como posso ajudar" in result.reply


async def test_what_it_cannot_do_is_said_and_handed_off(factory, customer):
    result = await factory.build("support").run("gera o boleto pra mim", {}, customer)
    assert [r.tool_id for r in result.tool_calls] == ["handoff"]
    assert result.handoff is not None and "não consigo fazer por aqui" in result.reply


async def test_a_booking_over_three_turns_with_the_turns_clock(factory, cosmetics):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))
    ctx = ToolContext(domain="cosmetics", conversation_key="7:43", agent_id="", now=now)
    crew = factory.build("scheduling")
    first = await crew.run("quero agendar design com henna", {}, ctx)
    assert first.in_flow and first.states["agendador"].slots == {
        "service": "design-sobrancelha-henna"
    }
    second = await crew.run("quinta às 15h", first.states, ctx)
    assert "Posso confirmar" in second.reply and "quinta 03/12" in second.reply
    third = await crew.run("sim", second.states, ctx)
    assert "Agendado" in third.reply and not third.in_flow
    assert third.states["agendador"].slots == {}


def test_the_turn_reads_the_clock_from_the_prompt():
    from datetime import datetime

    from chatwootai.offline.turn import _now

    assert _now("Hoje é terça-feira, 2026-12-01, 10:30 (fuso America/Sao_Paulo).") == datetime(
        2026, 12, 1, 10, 30
    )
    assert _now("Hoje é sábado, 2026-12-05 (fuso UTC).") == datetime(2026, 12, 5, 0, 0)
