"""The resolve tool through the real path: an LLM (a fake OpenAI-compatible server) calls it, the
turn answers with the domain's closing text in one request, the worker posts it and resolves the
conversation in Chatwoot, and the next message starts fresh routing with the history kept."""

from __future__ import annotations

import time
from typing import Any

import pytest

from chatwootai.service.context import Service
from chatwootai.service.lifecycle import IDLE
from chatwootai.service.turns import PendingMessage
from chatwootai.store import keys
from chatwootai.system import ChatwootAISystem
from fakes.chatwoot_server import FakeChatwoot

openai_server: Any = __import__("sys").modules["fakes_openai_server"]

CLOSING = "Que bom que pude ajudar! Vou encerrar este atendimento por aqui."


@pytest.fixture
def model(fake_openai: Any) -> dict[str, str]:
    """Every agent on the fake OpenAI server."""
    return {
        "OPENAI_BASE_URL": fake_openai.base_url,
        "OPENAI_API_KEY": "sk-test-not-secret",
        "CHATWOOTAI_MODEL": "openai:gpt-4o-mini",
    }


async def say(service: Service, fake: FakeChatwoot, display: int, text: str) -> str:
    payload = fake.incoming(1, display, text)
    await service.pending.push(
        PendingMessage(
            message_id=payload["id"],
            conversation_key=f"1:{display}",
            account_id=1,
            display_id=display,
            inbox_id=1,
            channel="whatsapp",
            text=text,
            received_at=time.time(),
        )
    )
    return await service.runner.run(f"1:{display}")


def tools_of(body: dict[str, Any]) -> set[str]:
    return {t["function"]["name"] for t in body.get("tools") or []}


async def test_an_agent_resolves_the_conversation_with_the_closing_text(
    service: Service, fake: FakeChatwoot, fake_openai: Any
) -> None:
    fake.add_conversation(account_id=1, display_id=601, inbox_id=1)
    key = "1:601"
    fake_openai.script(openai_server.text("Fica na Av. Norte-Sul, 1250."))
    assert await say(service, fake, 601, "onde fica a loja?") == "answered"
    assert await service.system.store.get(keys.conversation_lifecycle(key, IDLE)) is not None
    assert "encerrar" in tools_of(fake_openai.requests[0])

    fake_openai.script(openai_server.tool_call("encerrar", {"summary": "endereço informado"}))
    requests = fake_openai.count
    assert await say(service, fake, 601, "perfeito, obrigada") == "answered"
    assert fake_openai.count == requests + 1  # the resolution ends the run: one request
    conversation = fake.conversations[(1, 601)]
    replies = [m["content"] for m in conversation.messages if m["message_type"] == 1]
    assert replies[-1].startswith(CLOSING)
    assert conversation.status == "resolved"
    [toggle] = [c for c in fake.calls_to("toggle_status")]
    assert toggle.body == {"status": "resolved"}
    # no idle resolution is left for a conversation already resolved
    assert await service.system.store.get(keys.conversation_lifecycle(key, IDLE)) is None
    state = await service.system.conversations.load(key)
    assert state.crew is None and not state.in_flow
    system = service.system
    assert isinstance(system, ChatwootAISystem)
    history = (await system.states.load_many("cosmetics", ["atendente"], key))["atendente"]
    assert "perfeito, obrigada" in str(history.messages)  # kept within its TTL

    # the customer comes back: the conversation is the bot's again, routed afresh
    fake.customer_reopens(1, 601, "oi de novo")
    conversation.messages.pop()
    fake_openai.script(openai_server.text("Olá de novo! Como posso ajudar?"))
    assert await say(service, fake, 601, "oi, voltei") == "answered"
    assert "onde fica a loja?" in str(fake_openai.requests[-1]["messages"])  # history kept


async def test_a_resolution_refused_by_the_proxy_goes_back_to_the_model(
    service: Service, fake: FakeChatwoot, fake_openai: Any
) -> None:
    fake.add_conversation(account_id=1, display_id=602, inbox_id=1)
    fake_openai.script(
        openai_server.tool_call("encerrar", {"motivo": "x"}),  # not an argument of the tool
        openai_server.text("Posso ajudar em algo mais?"),
    )
    assert await say(service, fake, 602, "obrigada") == "answered"
    assert fake.conversations[(1, 602)].status == "pending"
    assert not fake.calls_to("toggle_status")


def instructions(body: dict[str, Any]) -> str:
    return "\n".join(
        str(m.get("content")) for m in body["messages"] if m["role"] in ("system", "developer")
    )


async def test_the_agents_are_told_whether_the_team_works_now(
    service: Service, fake_openai: Any
) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from chatwootai.turn import IncomingMessage

    zone = ZoneInfo("America/Sao_Paulo")
    fake_openai.script(openai_server.text("ok"), openai_server.text("ok"))
    for when in (
        datetime(2026, 12, 1, 10, 0, tzinfo=zone),
        datetime(2026, 12, 5, 18, 0, tzinfo=zone),
    ):
        message = IncomingMessage(text="vocês vendem protetor solar?", account_id="1", now=when)
        await service.system.process_message(message, f"1:{when.day}", "api")
    open_now, closed = (instructions(body) for body in fake_openai.requests[-2:])
    week = "Horário da equipe humana: seg 09:00–19:00; ter 09:00–19:00"
    assert week in open_now and week in closed
    assert "Equipe humana: em expediente agora (até 19:00)" in open_now
    assert "Equipe humana: fora do horário agora; volta segunda-feira às 09:00." in closed
