"""The webhook: what is answered, ignored, paused, deduplicated, rejected — and what is replied."""

from __future__ import annotations

import asyncio

import pytest
from service_fakes import FakeSystem

from chatwootai.store import keys
from conftest import Harness
from fakes.chatwoot_server import load_fixture


async def test_customer_message_is_queued_answered_and_labelled(
    harness: Harness, system: FakeSystem
) -> None:
    payload = harness.fake.incoming(3, 417, "Oi, vocês têm protetor solar?")
    response = await harness.post(payload)
    assert response.status_code == 200
    assert response.json() == {"status": "queued"}
    await harness.settle()
    assert harness.replies(3, 417) == ["[cosmetics/sales] Oi, vocês têm protetor solar?"]
    assert harness.fake.conversations[(3, 417)].labels == ["vendas"]
    assert await harness.service.pending.peek("3:417") == []
    assert harness.fake.calls_to("toggle_typing") == []  # answered too fast to show typing


async def test_typing_is_shown_while_a_slow_turn_thinks(harness: Harness) -> None:
    await harness.post(harness.fake.incoming(3, 417, "um pedido lento"))
    await harness.settle()
    assert harness.replies(3, 417) == ["[cosmetics/sales] um pedido lento"]
    for _ in range(100):
        if len(harness.fake.calls_to("toggle_typing")) == 2:
            break
        await asyncio.sleep(0.01)
    typing = [c.body["typing_status"] for c in harness.fake.calls_to("toggle_typing")]
    assert typing == ["on", "off"]


async def test_three_accounts_are_served_by_their_own_domains(harness: Harness) -> None:
    for account, display, text in ((3, 417, "batom"), (4, 51, "consulta"), (5, 9, "tênis")):
        assert (
            await harness.post(harness.fake.incoming(account, display, text))
        ).status_code == 200
    await harness.settle()
    assert harness.replies(3, 417) == ["[cosmetics/sales] batom"]
    assert harness.replies(4, 51) == ["[health/sales] consulta"]
    assert harness.replies(5, 9) == ["[retail/sales] tênis"]


async def test_duplicates_by_delivery_and_by_message_are_answered_once(harness: Harness) -> None:
    payload = harness.fake.incoming(3, 417, "quanto custa?")
    first = await harness.post(payload, delivery_id="d-1")
    retry = await harness.post(payload, delivery_id="d-1")  # Chatwoot retry after a 500
    twin = await harness.post(payload, delivery_id="d-2")  # account webhook + agent bot
    assert [r.json()["status"] for r in (first, retry, twin)] == [
        "queued",
        "duplicate",
        "duplicate",
    ]
    await harness.settle()
    assert harness.replies(3, 417) == ["[cosmetics/sales] quanto custa?"]
    metrics = (await harness.http.get("/metrics")).text
    assert "chatwootai_messages_deduplicated_total 2.0" in metrics


async def test_bot_and_human_messages_are_never_answered(harness: Harness) -> None:
    for name in (
        "outgoing_agent_bot_reply",
        "private_note",
        "template_null_sender",
        "message_updated_bot_reply_delivered",
    ):
        response = await harness.post(load_fixture(name))
        assert response.status_code == 200
        assert response.json()["status"] == "ignored", name
    await harness.settle()
    assert harness.fake.calls_to("messages.create") == []


async def test_human_reply_pauses_the_bot_until_the_conversation_is_pending_again(
    harness: Harness, system: FakeSystem
) -> None:
    human = await harness.post(harness.fake.agent_reply(3, 417, "Oi Maria, aqui é o João"))
    assert human.json()["status"] == "paused"
    assert (await system.conversations.load("3:417")).paused
    queued = await harness.post(harness.fake.incoming(3, 417, "obrigada"))
    assert queued.json()["status"] == "queued"
    await harness.settle()
    assert harness.replies(3, 417) == []
    assert await harness.service.pending.peek("3:417") == []

    conversation = harness.fake.conversations[(3, 417)]
    back = harness.fake.conversation_payload(
        conversation,
        "conversation_updated",
        [{"status": {"previous_value": "open", "current_value": "pending"}}],
    )
    assert (await harness.post(back)).json()["status"] == "resumed"
    await harness.post(harness.fake.incoming(3, 417, "e o frete?"))
    await harness.settle()
    assert harness.replies(3, 417) == ["[cosmetics/sales] e o frete?"]


async def test_handoff_opens_the_conversation_with_team_labels_note_and_silences_the_bot(
    harness: Harness, system: FakeSystem
) -> None:
    await harness.post(harness.fake.incoming(3, 417, "quero falar com um humano"))
    await harness.settle()
    conversation = harness.fake.conversations[(3, 417)]
    assert conversation.status == "open"
    assert conversation.bot_handoffs == 1
    assert conversation.team == {"id": 2, "name": "vendas"}
    assert set(conversation.labels) == {"vendas", "handoff", "cosmeticos"}
    notes = [
        c.body["content"] for c in harness.fake.calls_to("messages.create") if c.body["private"]
    ]
    assert len(notes) == 1 and "customer asked for a human" in notes[0]
    assert "quero falar com um humano" in notes[0]
    assert harness.replies(3, 417) == [
        "Vou transferir você para um atendente humano. Aguarde um momento, por favor."
    ]
    assert (await system.conversations.load("3:417")).paused
    # Chatwoot may still deliver a message as pending (a race): the bot stays silent.
    conversation.status = "pending"
    await harness.post(harness.fake.incoming(3, 417, "alô?"))
    await harness.settle()
    assert len(harness.replies(3, 417)) == 1


async def test_attachments_get_the_non_text_reply_or_a_handoff(harness: Harness) -> None:
    image = {"file_type": "image", "data_url": "https://chat.example.com/x.jpg"}
    await harness.post(harness.fake.incoming(3, 417, None, attachments=[image]))
    await harness.post(harness.fake.incoming(4, 51, None, attachments=[{"file_type": "audio"}]))
    await harness.settle()
    assert harness.replies(3, 417) == [
        "Recebi sua mensagem, mas só consigo ler texto. Pode escrever, por favor?"
    ]
    health = harness.fake.conversations[(4, 51)]
    assert health.status == "open"
    assert health.bot_handoffs == 1


async def test_transcribed_audio_is_answered_as_text(harness: Harness) -> None:
    audio = {"file_type": "audio", "transcribed_text": "qual o horário?"}
    await harness.post(harness.fake.incoming(3, 417, None, attachments=[audio]))
    await harness.settle()
    assert harness.replies(3, 417) == ["[cosmetics/sales] qual o horário?"]


async def test_long_replies_are_split_for_the_channel(harness: Harness) -> None:
    long_text = " ".join(["palavra"] * 1200)  # ~9.6k chars, above WhatsApp's 4096
    await harness.post(harness.fake.incoming(3, 417, long_text))
    await harness.settle()
    parts = harness.replies(3, 417)
    assert len(parts) == 3
    assert all(len(p) <= 4096 for p in parts)
    assert " ".join(parts) == f"[cosmetics/sales] {long_text}"


async def test_rejections_are_4xx_with_a_reason(harness: Harness) -> None:
    post = harness.http.post
    not_json = await post("/webhooks/chatwoot", content=b"{nope")
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["reason"]
    shape = await post("/webhooks/chatwoot", json={"event": "message_created", "conversation": {}})
    assert shape.status_code == 422 and shape.json()["status"] == "rejected"
    size = harness.service.settings.max_body_bytes
    huge = await post("/webhooks/chatwoot", content=b"x" * (size + 1))
    assert huge.status_code == 413


async def test_logs_never_carry_the_pubsub_token_or_api_token(
    harness: Harness, caplog: object
) -> None:
    import logging

    assert hasattr(caplog, "set_level")
    caplog.set_level(logging.DEBUG)  # type: ignore[attr-defined]
    payload = harness.fake.incoming(3, 417, "oi")
    await harness.post(payload)
    await harness.post(load_fixture("outgoing_agent_bot_reply"))
    await harness.settle()
    text = caplog.text  # type: ignore[attr-defined]
    assert "Maria Silva" in text  # the redacted delivery is in the debug log...
    token = harness.fake.conversations[(3, 417)].pubsub_token
    assert token not in text
    assert harness.fake.bot_token not in text


async def test_burst_of_messages_is_one_turn(harness: Harness, system: FakeSystem) -> None:
    harness.service.settings.burst_window_s = 0.3
    harness.service.runner.burst_window_s = 0.3
    for text in ("oi", "queria saber", "do batom vermelho"):
        await harness.post(harness.fake.incoming(3, 417, text))
    await harness.settle()
    assert harness.replies(3, 417) == ["[cosmetics/sales] oi\nqueria saber\ndo batom vermelho"]
    assert len(system.turns) == 1


async def test_a_rerun_after_a_crash_before_forgetting_posts_nothing_twice(
    harness: Harness, system: FakeSystem
) -> None:
    pending = harness.service.pending
    original = pending.remove
    calls = {"n": 0}

    async def crash_once(key: str, ids: object) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("worker died here")
        await original(key, ids)  # type: ignore[arg-type]

    pending.remove = crash_once  # type: ignore[method-assign]
    await harness.post(harness.fake.incoming(3, 417, "quero um hidratante"))
    await harness.settle()
    assert calls["n"] == 2
    assert harness.replies(3, 417) == ["[cosmetics/sales] quero um hidratante"]
    assert len(system.turns) == 1  # the outcome was kept: no second thinking either
    raw = await system.store.get(keys.pending_messages("3:417"))
    assert raw is None


async def test_a_failing_turn_ends_with_the_fallback_and_a_handoff(harness: Harness) -> None:
    harness.service.settings.turn_attempts = 2
    await harness.post(harness.fake.incoming(5, 9, "explode"))
    await harness.settle()
    assert harness.replies(5, 9) == [
        "Desculpe, não consegui ajudar com isso agora. Vou chamar um atendente humano para você."
    ]
    assert harness.fake.conversations[(5, 9)].status == "open"


async def test_messages_survive_the_webhook_process_restarting(harness: Harness) -> None:
    """Pending messages are in the store before the 200: a new process recovers them."""
    message = harness.fake.incoming(3, 417, "ainda aí?")
    service = harness.service
    queue = service.queue
    await queue.close()  # the process stops before the turn ran
    assert (await harness.post(message)).json()["status"] == "queued"
    await queue.close()
    assert harness.replies(3, 417) == []
    assert [m.text for m in await service.pending.peek("3:417")] == ["ainda aí?"]
    await service.start()  # the restarted process recovers stranded turns
    await harness.settle()
    assert harness.replies(3, 417) == ["[cosmetics/sales] ainda aí?"]


async def test_without_chatwoot_credentials_messages_are_dropped_with_a_clear_log(
    harness: Harness, system: FakeSystem, caplog: pytest.LogCaptureFixture
) -> None:
    harness.service.settings.chatwoot_api_token = None
    harness.service.replier._clients.clear()
    await harness.post(harness.fake.incoming(3, 417, "oi"))
    await harness.settle()
    assert harness.fake.calls == []
    assert system.turns == []  # no thinking for a reply that cannot be posted
    assert "CHATWOOT_API_TOKEN" in caplog.text
    assert await harness.service.pending.peek("3:417") == []


async def test_a_human_taking_over_while_the_bot_thinks_gets_no_bot_reply(
    harness: Harness, system: FakeSystem
) -> None:
    await harness.post(harness.fake.incoming(3, 417, "um pedido lento"))
    for _ in range(200):
        if await system.store.get("fake:started:3:417"):
            break
        await asyncio.sleep(0.01)
    assert (await harness.post(harness.fake.agent_reply(3, 417, "deixa comigo"))).json()[
        "status"
    ] == "paused"
    await harness.settle()
    assert system.turns  # it did think...
    assert harness.replies(3, 417) == []  # ...but stayed silent
