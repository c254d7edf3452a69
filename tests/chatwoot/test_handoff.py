"""Handing a conversation to humans: the order of the calls, and tolerance of failed steps."""

from __future__ import annotations

import pytest

from chatwootai.chatwoot.client import ChatwootClient, ChatwootNotFound, ChatwootUnavailable
from chatwootai.chatwoot.handoff import hand_off, handoff_note
from fakes.chatwoot_server import FakeChatwoot

ACCOUNT, CONVERSATION = 3, 417


async def test_full_sequence_in_order(fake: FakeChatwoot, client: ChatwootClient) -> None:
    conversation = fake.conversations[(ACCOUNT, CONVERSATION)]
    conversation.labels = ["pedido"]
    result = await hand_off(
        client,
        ACCOUNT,
        CONVERSATION,
        reason="cliente pediu reembolso",
        summary="Pedido 1234 atrasado; cliente quer o dinheiro de volta.",
        customer_text="Vou transferir você para um atendente humano.",
        team_id=2,
        labels=["handoff", "reembolso"],
    )
    assert result.complete
    assert fake.endpoints() == [
        "messages.create",
        "messages.create",
        "labels.index",
        "labels.create",
        "assignments",
        "toggle_status",
    ]
    customer, note = fake.calls[0].body, fake.calls[1].body
    assert customer["content"] == "Vou transferir você para um atendente humano."
    assert customer["private"] is False
    assert note["private"] is True
    assert "cliente pediu reembolso" in note["content"]
    assert "Pedido 1234 atrasado" in note["content"]
    assert fake.calls[3].body == {"labels": ["pedido", "handoff", "reembolso"]}
    assert fake.calls[4].body == {"team_id": 2}
    assert fake.calls[5].body == {"status": "open"}
    assert conversation.status == "open"
    assert conversation.bot_handoffs == 1
    assert conversation.team == {"id": 2, "name": "vendas"}


async def test_minimal_handoff(fake: FakeChatwoot, client: ChatwootClient) -> None:
    await hand_off(
        client, ACCOUNT, CONVERSATION, reason="pedido de humano", summary="", customer_text=None
    )
    assert fake.endpoints() == ["messages.create", "toggle_status"]
    assert fake.calls[0].body["private"] is True


async def test_failed_optional_steps_do_not_stop_the_handoff(fake: FakeChatwoot) -> None:
    fake.fail("messages.create", "error", times=2)  # the customer message fails for good
    fake.fail("assignments", "error", times=5)
    async with ChatwootClient(fake.base_url, fake.bot_token, retries=1, backoff=0.01) as client:
        result = await hand_off(
            client,
            ACCOUNT,
            CONVERSATION,
            reason="erro",
            summary="resumo",
            customer_text="Um momento, por favor.",
            team_id=2,
            labels=["handoff"],
        )
    assert result.failed_steps == ["customer_message", "team"]
    assert not result.complete
    conversation = fake.conversations[(ACCOUNT, CONVERSATION)]
    assert conversation.status == "open"
    assert conversation.labels == ["handoff"]
    assert [m["private"] for m in conversation.messages] == [True]


async def test_failure_to_open_is_raised(fake: FakeChatwoot) -> None:
    fake.fail("toggle_status", "error", times=5)
    async with ChatwootClient(fake.base_url, fake.bot_token, retries=1, backoff=0.01) as client:
        with pytest.raises(ChatwootUnavailable):
            await hand_off(client, ACCOUNT, CONVERSATION, reason="r", summary="s")
    assert fake.conversations[(ACCOUNT, CONVERSATION)].status == "pending"


async def test_unknown_conversation_is_raised(client: ChatwootClient) -> None:
    with pytest.raises(ChatwootNotFound):
        await hand_off(client, ACCOUNT, 999, reason="r", summary="s")


def test_note_text() -> None:
    note = handoff_note("pediu humano", "  Cliente quer trocar o produto.  ")
    assert note.splitlines() == [
        "Transferido para atendimento humano",
        "Motivo: pediu humano",
        "",
        "Cliente quer trocar o produto.",
    ]
