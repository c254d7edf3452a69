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


async def test_refused_optional_steps_do_not_stop_the_handoff(fake: FakeChatwoot) -> None:
    fake.fail("messages.create", "error", status=422)  # the customer message is refused
    fake.fail("assignments", "error", status=422)
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


async def test_chatwoot_down_stops_the_handoff_and_it_resumes_where_it_stopped(
    fake: FakeChatwoot,
) -> None:
    steps: list[str] = []

    async def record(step: str) -> None:
        steps.append(step)

    fake.fail("labels.index", "error", times=5)  # down while the labels are added
    async with ChatwootClient(fake.base_url, fake.bot_token, retries=1, backoff=0.01) as client:
        options = {"reason": "erro", "summary": "resumo", "team_id": 2, "labels": ["handoff"]}
        with pytest.raises(ChatwootUnavailable):
            await hand_off(client, ACCOUNT, CONVERSATION, on_step=record, **options)  # type: ignore[arg-type]
        assert steps == ["private_note"]
        conversation = fake.conversations[(ACCOUNT, CONVERSATION)]
        assert conversation.status == "pending"  # not handed off: nothing says it was
        fake.reset_failures()
        result = await hand_off(
            client,
            ACCOUNT,
            CONVERSATION,
            on_step=record,
            done=steps[:],
            **options,  # type: ignore[arg-type]
        )
    assert result.complete and steps == ["private_note", "labels", "team", "status"]
    assert [m["private"] for m in conversation.messages] == [True]  # the note once
    assert conversation.status == "open" and conversation.labels == ["handoff"]


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
