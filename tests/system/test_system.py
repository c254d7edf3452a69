"""The pipeline on the example domains: tenancy, routing, crews and state, on both stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chatwootai.settings import Settings
from chatwootai.store import keys
from chatwootai.store.base import Store
from chatwootai.system import HANDOFF_CREW, ChatwootAISystem
from chatwootai.tenancy import NoDomainError
from chatwootai.turn import Customer, IncomingMessage

DOMAINS = Path(__file__).resolve().parents[2] / "domains"


@pytest.fixture
async def system(store: Store, tmp_path: Path) -> AsyncIterator[ChatwootAISystem]:
    """A system over the example domains, with the offline model and no default domain."""
    settings = Settings(CHATWOOTAI_DOMAINS_DIR=DOMAINS, CHATWOOTAI_DATA_DIR=tmp_path)
    system = await ChatwootAISystem.create(settings, store=store)
    yield system
    await system.close()


OPEN = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))
"""A Tuesday morning: every example domain's team is at work (their `hours:`), so a handoff
reads the same whatever the machine's clock says."""


def message(
    text: str, account: str = "1", phone: str | None = None, now: datetime = OPEN
) -> IncomingMessage:
    """A text message from account `account` (at a moment the team works, unless `now`)."""
    return IncomingMessage(text=text, account_id=account, customer=Customer(phone=phone), now=now)


async def test_accounts_map_to_their_domains(system: ChatwootAISystem) -> None:
    cosmetics = await system.process_message(message("quanto custa protetor solar?"), "1:7", "api")
    health = await system.process_message(message("quanto custa o check-up?", "2"), "2:7", "api")
    assert cosmetics.domain == "cosmetics"
    assert health.domain == "health"
    assert cosmetics.crew == "sales"
    assert "R$" in cosmetics.reply
    assert cosmetics.offline


async def test_same_display_id_in_two_accounts_shares_nothing(system: ChatwootAISystem) -> None:
    await system.process_message(message("quero agendar uma limpeza de pele"), "1:9", "api")
    other = await system.conversation_summary("3:9")
    assert other["domain"] == "retail"
    assert other["crew"] is None
    assert other["agents"] == {}


async def test_agent_state_and_conversation_state_persist_with_ttls(
    system: ChatwootAISystem, store: Store
) -> None:
    outcome = await system.process_message(message("vocês aceitam pix?"), "1:11", "api")
    assert outcome.crew == "support"
    agent = system.registry.cached("cosmetics")
    assert agent is not None
    agent_id = agent.crews["support"].agents[0]
    key = keys.agent_state("cosmetics", agent_id, "1:11")
    assert await store.get(key) is not None
    ttl = await store.ttl(key)
    assert ttl is not None and 86000 < ttl <= 86400
    summary = await system.conversation_summary("1:11")
    assert summary["crew"] == "support"
    assert summary["agents"][agent_id]["messages"] >= 2


async def test_request_for_a_human_hands_off_without_a_crew(system: ChatwootAISystem) -> None:
    outcome = await system.process_message(message("quero falar com um atendente"), "1:12", "api")
    assert outcome.crew == HANDOFF_CREW
    assert outcome.handoff is not None
    assert outcome.handoff.requested_by == "customer"
    config = await system.registry.get_domain_config("cosmetics")
    assert outcome.reply == config.chatwoot.texts.handoff


async def test_a_request_for_a_human_outside_hours_says_when_the_team_is_back(
    system: ChatwootAISystem,
) -> None:
    sunday_night = datetime(2026, 12, 6, 23, 59, tzinfo=ZoneInfo("America/Sao_Paulo"))
    outcome = await system.process_message(
        message("quero falar com um atendente", now=sunday_night), "1:15", "api"
    )
    assert outcome.handoff is not None and outcome.handoff.kind == "out_of_hours"
    assert outcome.handoff.opens_at is None  # cosmetics: open_now
    assert "Nossa equipe volta amanhã às 09:00." in outcome.reply
    assert "Recebido fora do horário (06/12 23:59)" in outcome.handoff.summary
    # Moema (inbox 12) keeps the bot answering until the team is back at 10:00
    moema = IncomingMessage(
        text="quero falar com um atendente", account_id="1", inbox_id="12", now=sunday_night
    )
    outcome = await system.process_message(moema, "1:16", "api")
    assert outcome.handoff is not None and outcome.handoff.kind == "out_of_hours"
    opens = datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))
    assert outcome.handoff.opens_at == opens.timestamp()
    assert "Nossa equipe volta amanhã às 10:00." in outcome.reply
    assert "posso continuar te ajudando" in outcome.reply


async def test_non_text_message_gets_the_domain_text(system: ChatwootAISystem) -> None:
    audio = IncomingMessage(text="", account_id="1", content_kind="audio")
    outcome = await system.process_message(audio, "1:13", "api")
    config = await system.registry.get_domain_config("cosmetics")
    expected = (
        config.chatwoot.texts.handoff
        if config.chatwoot.non_text == "handoff"
        else config.chatwoot.texts.non_text
    )
    assert outcome.reply == expected


async def test_conversation_override_wins_over_account_mapping(system: ChatwootAISystem) -> None:
    await system.domains.set_conversation_domain("1:14", "health")
    outcome = await system.process_message(message("qual o horário de vocês?"), "1:14", "api")
    assert outcome.domain == "health"


async def test_unmapped_account_without_default_is_a_clear_error(
    system: ChatwootAISystem,
) -> None:
    with pytest.raises(NoDomainError, match=r"tenants\.yaml"):
        await system.process_message(message("oi", account="999"), "999:1", "api")


async def test_crews_are_built_once_per_domain(system: ChatwootAISystem) -> None:
    for n in range(3):
        await system.process_message(message("tem batom vermelho?"), f"1:{20 + n}", "api")
    built = [entry for entry in system.crews.built() if entry[0] == "cosmetics"]
    assert [crew for _, crew, _ in built].count("sales") == 1


@pytest.mark.parametrize(
    ("channel", "verified", "revealed"),
    [("whatsapp", False, True), ("webwidget", False, False), ("webwidget", True, True)],
)
async def test_order_details_need_a_contact_the_channel_or_chatwoot_vouches_for(
    system: ChatwootAISystem, channel: str, verified: bool, revealed: bool
) -> None:
    customer = Customer(phone="+5519987654321", verified=verified)
    text = IncomingMessage(text="cadê meu pedido BP-104521?", account_id="1", customer=customer)
    outcome = await system.process_message(text, f"1:{channel}{verified}", channel)
    lookups = [r for r in outcome.tool_calls if r.tool_id == "pedidos" and r.ok]
    assert lookups and lookups[0].result is not None
    assert lookups[0].result.data["verified"] is revealed
    assert ("Sérum Vitamina C" in lookups[0].result.text) is revealed  # the order's items
