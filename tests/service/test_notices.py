"""Notices to humans through the webhook and the in-process worker: once, and only once open."""

from __future__ import annotations

import json
import logging

import pytest
from service_fakes import FakeSystem

from chatwootai.chatwoot.client import ChatwootUnavailable
from chatwootai.chatwoot.filters import Decision, Verdict, decide
from chatwootai.chatwoot.payloads import MessageEvent, parse_event
from chatwootai.service.notices import Notice, NoticeDesk, describe, notice_of
from chatwootai.service.spool import OwnershipChange
from chatwootai.service.webhook import pending_message
from chatwootai.store import keys
from conftest import Harness
from fakes.chatwoot_server import FakeChatwoot, load_fixture

WINDOW = (
    "131047: Message failed to send because more than 24 hours have passed since the customer "
    "last replied to this number."
)


def notes(fake: FakeChatwoot, account: int, display: int) -> list[str]:
    """Private notes posted in a conversation."""
    return [
        str(c.body["content"])
        for c in fake.calls_to("messages.create")
        if (c.account_id, c.conversation_id) == (account, display) and c.body.get("private")
    ]


def desk(harness: Harness) -> NoticeDesk:
    notices = harness.service.runner.notices
    assert notices is not None
    return notices


def resolved_with_human(fake: FakeChatwoot, account: int = 3, display: int = 417) -> None:
    fake.assign_human(account, display)
    fake.conversations[(account, display)].status = "resolved"


def failed_reply(fake: FakeChatwoot, account: int = 3, display: int = 417) -> dict[str, object]:
    """The bot replied, the channel refused it: Chatwoot's ``message_updated`` for it."""
    conversation = fake.conversations[(account, display)]
    message = fake._new_message(
        conversation,
        "Seu pedido saiu para entrega hoje.",
        "outgoing",
        sender_type="AgentBot",
        sender_id=fake.bot["id"],
        content_attributes={"external_error": WINDOW},
    )
    message["status"] = "failed"
    return fake.message_payload(conversation, message, event="message_updated")


async def test_customer_reopening_a_humans_conversation_hands_it_to_that_human(
    harness: Harness, system: FakeSystem
) -> None:
    fake = harness.fake
    resolved_with_human(fake)
    payload = fake.customer_reopens(3, 417, "Oi, o produto veio com defeito")
    assert fake.conversations[(3, 417)].status == "pending"
    response = await harness.post(payload, delivery_id="d-1")
    assert response.json()["status"] == "notice_queued"
    retry = await harness.post(payload, delivery_id="d-1")
    twin = await harness.post(payload, delivery_id="d-2")
    assert [r.json()["status"] for r in (retry, twin)] == ["duplicate", "duplicate"]
    await harness.settle()
    [note] = notes(fake, 3, 417)
    assert "escreveu de novo" in note and "Joao" in note
    assert "Oi, o produto veio com defeito" in note
    assert harness.replies(3, 417) == []  # the bot does not answer the customer
    assert fake.conversations[(3, 417)].status == "open"
    assert fake.conversations[(3, 417)].bot_handoffs == 1
    assert fake.conversations[(3, 417)].team is None  # the human keeps it: no team, no labels
    assert fake.conversations[(3, 417)].labels == []
    assert system.turns == []
    state = await system.conversations.load("3:417")
    assert state.paused
    assert await desk(harness).waiting.peek("3:417") == []
    metrics = (await harness.http.get("/metrics")).text
    assert 'chatwootai_notices_total{kind="customer_wrote_to_human",outcome="done"} 1.0' in metrics
    assert (
        'chatwootai_notices_total{kind="customer_wrote_to_human",outcome="duplicate"} 2.0'
        in metrics
    )


async def test_failed_bot_reply_becomes_one_handoff_whatever_chatwoot_resends(
    harness: Harness, system: FakeSystem
) -> None:
    fake = harness.fake
    payload = failed_reply(fake)
    statuses = [(await harness.post(payload)).json()["status"] for _ in range(4)]
    assert statuses == ["notice_queued", "duplicate", "duplicate", "duplicate"]
    await harness.settle()
    [note] = notes(fake, 3, 417)
    assert "não foi entregue" in note
    assert f"Mensagem {payload['id']} não entregue: Seu pedido saiu para entrega hoje." in note
    assert "131047: Message failed to send" in note
    conversation = fake.conversations[(3, 417)]
    assert (conversation.status, conversation.bot_handoffs) == ("open", 1)
    assert conversation.team == {"id": 2, "name": "vendas"}  # cosmetics' handoff team
    assert conversation.labels == ["handoff", "cosmeticos"]
    assert harness.replies(3, 417) == []
    assert (await system.conversations.load("3:417")).paused
    assert system.turns == []


async def test_the_failed_message_is_not_mistaken_for_the_customer_message_of_the_same_id(
    harness: Harness,
) -> None:
    """Notices are deduplicated on (kind, message id), apart from the messages' own dedupe."""
    fake = harness.fake
    payload = failed_reply(fake)
    await harness.service.dedupe.first_time(int(str(payload["id"])), scope="3")  # created: seen
    assert (await harness.post(payload)).json()["status"] == "notice_queued"
    await harness.settle()
    assert len(notes(fake, 3, 417)) == 1


async def test_pause_is_recorded_only_once_chatwoot_opened_the_conversation(
    harness: Harness, system: FakeSystem
) -> None:
    fake = harness.fake
    payload = failed_reply(fake)
    await desk(harness).waiting.push(_notice(payload))
    fake.fail("toggle_status", "error", times=100)
    with pytest.raises(ChatwootUnavailable):
        await desk(harness).perform("3:417")
    assert not (await system.conversations.load("3:417")).paused
    assert len(notes(fake, 3, 417)) == 1
    assert len(await desk(harness).waiting.peek("3:417")) == 1
    with pytest.raises(ChatwootUnavailable):
        await desk(harness).perform("3:417")  # a retry: the note is not posted again
    assert len(notes(fake, 3, 417)) == 1
    fake._failures.clear()
    assert await desk(harness).perform("3:417") == 1
    assert len(notes(fake, 3, 417)) == 1
    assert fake.conversations[(3, 417)].status == "open"
    assert (await system.conversations.load("3:417")).paused
    assert await desk(harness).waiting.peek("3:417") == []
    assert await system.store.scan(keys.notice_steps("3:417", "*")) == []


async def test_a_conversation_chatwoot_no_longer_has_drops_its_notice(
    harness: Harness, system: FakeSystem
) -> None:
    fake = harness.fake
    payload = failed_reply(fake)
    await desk(harness).waiting.push(_notice(payload))
    del fake.conversations[(3, 417)]
    assert await desk(harness).perform("3:417") == 1
    assert await desk(harness).waiting.peek("3:417") == []
    assert not (await system.conversations.load("3:417")).paused


async def test_notices_are_done_before_the_turn_and_silence_it(
    harness: Harness, system: FakeSystem
) -> None:
    """A customer message queued with a failed delivery: the handoff first, then no answer."""
    fake = harness.fake
    await desk(harness).waiting.push(_notice(failed_reply(fake)))
    customer = _parsed(fake.incoming(3, 417, "ainda estou esperando"))
    await harness.service.pending.push(pending_message(customer, None))
    assert await harness.service.runner.run("3:417") == "paused"
    assert len(notes(fake, 3, 417)) == 1
    assert harness.replies(3, 417) == []


async def test_store_down_answers_500_so_chatwoot_redelivers(store_down: Harness) -> None:
    fake = store_down.fake
    resolved_with_human(fake)
    response = await store_down.post(fake.customer_reopens(3, 417, "oi de novo"))
    assert response.status_code == 500
    assert response.json()["status"] == "unavailable"


async def test_bot_assigned_open_conversation_is_answered(
    harness: Harness, system: FakeSystem
) -> None:
    fake = harness.fake
    fake.assign_bot(3, 417)
    fake.conversations[(3, 417)].status = "open"
    response = await harness.post(fake.incoming(3, 417, "quero trocar o tamanho"))
    assert response.json()["status"] == "queued"
    await harness.settle()
    assert harness.replies(3, 417) == ["[cosmetics/sales] quero trocar o tamanho"]


async def test_handing_off_a_bot_assigned_conversation_takes_the_bot_off_it(
    harness: Harness, system: FakeSystem
) -> None:
    """Else it stays the bot's, open but out of the humans' unassigned view."""
    fake = harness.fake
    fake.assign_bot(3, 417)
    fake.conversations[(3, 417)].status = "open"
    response = await harness.post(fake.incoming(3, 417, "quero falar com um humano"))
    assert response.json()["status"] == "queued"
    await harness.settle()
    conversation = fake.conversations[(3, 417)]
    assert conversation.assignee is None and conversation.status == "open"
    [unassign] = fake.calls_to("assignments")[-1:]
    assert unassign.body == {"assignee_id": None}
    assert (await system.conversations.load("3:417")).paused
    ordered = [c.endpoint for c in fake.calls if c.endpoint in ("assignments", "toggle_status")]
    assert ordered[-2:] == ["assignments", "toggle_status"]  # unassigned, then opened


async def test_a_handoff_leaves_the_assignee_of_a_conversation_not_assigned_to_the_bot(
    harness: Harness, system: FakeSystem
) -> None:
    fake = harness.fake
    await harness.post(fake.incoming(3, 417, "quero falar com um humano"))
    await harness.settle()
    assert not any(c.body == {"assignee_id": None} for c in fake.calls_to("assignments"))
    assert fake.conversations[(3, 417)].status == "open"


async def test_email_reaches_the_brain_without_its_quoted_thread(
    harness: Harness, system: FakeSystem
) -> None:
    fake = harness.fake
    fake.add_conversation(account_id=5, display_id=77, channel="Channel::Email")
    quoted = "Em seg., 22 de jun. de 2026 às 14:05, Loja <s@loja.example> escreveu:\n> Olá!"
    response = await harness.post(fake.incoming_email(5, 77, "Quero trocar o pedido 88", quoted))
    assert response.json()["status"] == "queued"
    await harness.settle()
    [(key, message)] = system.turns
    assert (key, message.text) == ("5:77", "Quero trocar o pedido 88")
    assert harness.replies(5, 77) == ["[retail/sales] Quero trocar o pedido 88"]


async def test_captain_in_a_served_inbox_is_counted_and_warned_once(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    fake = harness.fake
    with caplog.at_level(logging.WARNING, logger="chatwootai.service.other_bots"):
        for text in ("Olá! Sou o Captain.", "Posso ajudar?"):
            response = await harness.post(fake.captain_reply(3, 417, text))
            assert response.json()["status"] == "ignored"
    warnings = [r for r in caplog.records if r.name == "chatwootai.service.other_bots"]
    assert len(warnings) == 1
    assert "inbox 12" in warnings[0].getMessage()
    metrics = (await harness.http.get("/metrics")).text
    assert 'chatwootai_other_bot_messages_total{kind="captain_message"} 2.0' in metrics
    assert harness.fake.calls_to("messages.create") == []


def test_describe_joins_both_kinds_in_one_note() -> None:
    wrote = load_fixture("incoming_reopened_human_pending")
    failed = load_fixture("message_updated_failed_whatsapp_window")
    reason, summary = describe([_notice(failed), _notice(wrote)])
    assert reason.startswith("o cliente escreveu de novo numa conversa atribuída a Joao")
    assert "a resposta do bot não foi entregue" in reason
    assert summary.splitlines()[0].startswith("Cliente (mensagem 152010): Oi, o produto")
    assert "Erro do canal: 131047" in summary


def _parsed(payload: dict[str, object]) -> MessageEvent:
    event = parse_event(json.dumps(payload).encode())
    assert isinstance(event, MessageEvent)
    return event


def _decision(payload: dict[str, object]) -> Decision:
    decision = decide(_parsed(payload))
    assert decision.verdict is Verdict.NOTIFY, decision.reason
    return decision


def _notice(payload: dict[str, object]) -> Notice:
    """The notice the webhook keeps for `payload`."""
    return notice_of(_parsed(payload), _decision(payload), "whatsapp")


async def test_a_notice_waits_behind_the_conversations_spooled_deliveries(
    harness: Harness,
) -> None:
    """Nothing of a conversation overtakes what waits in the spool: Chatwoot re-delivers it."""
    service = harness.service
    assert service._drainer is not None
    service._drainer.cancel()  # keep the spooled entry there for the test
    fake = harness.fake
    resolved_with_human(fake)
    service.spool.write(
        OwnershipChange(conversation_key="3:417", paused=False, reason="x", received_at=1.0)
    )
    response = await harness.post(fake.customer_reopens(3, 417, "oi"))
    assert (response.status_code, response.json()["status"]) == (500, "unavailable")
    assert await desk(harness).waiting.peek("3:417") == []


async def test_a_notice_that_came_during_a_turn_is_done_when_the_turn_ends(
    harness: Harness, system: FakeSystem
) -> None:
    """Its own job found the conversation busy; the turn holding it does it before letting go."""
    fake = harness.fake
    runner = harness.service.runner
    customer = _parsed(fake.incoming(3, 417, "um pedido"))
    await harness.service.pending.push(pending_message(customer, None))
    turn = runner._turn

    async def turn_then_a_failure_arrives(key: str) -> str:
        outcome = await turn(key)
        await desk(harness).waiting.push(_notice(failed_reply(fake)))
        return outcome

    assert await desk(harness).around("3:417", turn_then_a_failure_arrives) == "answered"
    assert harness.replies(3, 417) == ["[cosmetics/sales] um pedido"]
    assert len(notes(fake, 3, 417)) == 1
    assert await desk(harness).waiting.peek("3:417") == []
    assert (await system.conversations.load("3:417")).paused
