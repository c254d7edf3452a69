"""Webhooks built by the fake Chatwoot parse and filter like the real ones."""

from __future__ import annotations

import asyncio
import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chatwootai.chatwoot.client import ChatwootClient
from chatwootai.chatwoot.filters import Decision, Verdict, decide
from chatwootai.chatwoot.payloads import ConversationEvent, MessageEvent, parse_event
from chatwootai.chatwoot.signature import verify_signature
from fakes.chatwoot_server import FakeChatwoot

ACCOUNT, CONVERSATION = 3, 417


def _verdict(payload: dict[str, object]) -> Verdict:
    return decide(parse_event(json.dumps(payload).encode())).verdict


def test_incoming_message_is_answered(fake: FakeChatwoot) -> None:
    payload = fake.incoming(ACCOUNT, CONVERSATION, "Oi, quero um batom")
    assert "type" not in payload["sender"]
    event = parse_event(json.dumps(payload).encode())
    assert isinstance(event, MessageEvent)
    assert event.conversation_key == "3:417"
    assert event.content == "Oi, quero um batom"
    assert decide(event).verdict is Verdict.ANSWER


def test_attachment_message(fake: FakeChatwoot) -> None:
    payload = fake.incoming(
        ACCOUNT, CONVERSATION, None, attachments=[{"file_type": "audio", "data_url": "x"}]
    )
    event = parse_event(json.dumps(payload).encode())
    assert isinstance(event, MessageEvent)
    assert event.content is None and event.attachments[0].file_type == "audio"


def test_human_reply_pauses_and_note_is_ignored(fake: FakeChatwoot) -> None:
    assert _verdict(fake.agent_reply(ACCOUNT, CONVERSATION, "Oi, sou o João")) is Verdict.PAUSE
    note = fake.agent_reply(ACCOUNT, CONVERSATION, "nota", private=True)
    assert _verdict(note) is Verdict.IGNORE


async def test_the_bots_own_reply_is_ignored(fake: FakeChatwoot, client: ChatwootClient) -> None:
    await client.send_message(ACCOUNT, CONVERSATION, "Olá!")
    conversation = fake.conversations[(ACCOUNT, CONVERSATION)]
    payload = fake.message_payload(conversation, conversation.messages[-1])
    assert payload["sender"]["type"] == "agent_bot"
    assert _verdict(payload) is Verdict.IGNORE


async def test_status_events_after_handoff(fake: FakeChatwoot, client: ChatwootClient) -> None:
    await client.toggle_status(ACCOUNT, CONVERSATION, "open")
    conversation = fake.conversations[(ACCOUNT, CONVERSATION)]
    opened = fake.conversation_payload(conversation, "conversation_status_changed")
    assert _verdict(opened) is Verdict.PAUSE
    await client.toggle_status(ACCOUNT, CONVERSATION, "pending")
    updated = fake.conversation_payload(
        conversation,
        "conversation_updated",
        [{"status": {"previous_value": "open", "current_value": "pending"}}],
    )
    event = parse_event(json.dumps(updated).encode())
    assert isinstance(event, ConversationEvent)
    assert decide(event).verdict is Verdict.RESUME


def test_signed_delivery(fake: FakeChatwoot) -> None:
    payload = fake.incoming(ACCOUNT, CONVERSATION, "Oi")
    body, headers = fake.build_delivery(payload)
    verify_signature(
        fake.webhook_secret, headers["X-Chatwoot-Timestamp"], headers["X-Chatwoot-Signature"], body
    )
    assert json.loads(body)["conversation"]["contact_inbox"]["pubsub_token"]


async def test_fake_delivers_the_bots_reply_back_signed(fake: FakeChatwoot) -> None:
    received: list[tuple[bytes, dict[str, str]]] = []

    async def webhook(request: Request) -> Response:
        received.append((await request.body(), dict(request.headers)))
        return Response(status_code=200)

    receiver = FakeChatwoot()  # reuse its server plumbing with another app
    receiver.app = Starlette(routes=[Route("/hook", webhook, methods=["POST"])])
    with receiver:
        fake.webhook_url = receiver.base_url + "/hook"
        async with ChatwootClient(fake.base_url, fake.bot_token) as client:
            await client.send_message(ACCOUNT, CONVERSATION, "Olá, em que posso ajudar?")
        for _ in range(200):
            if fake.deliveries and fake.deliveries[0].status is not None:
                break
            await asyncio.sleep(0.01)
    assert fake.deliveries[0].status == 200
    [(body, headers)] = received
    verify_signature(
        fake.webhook_secret, headers["x-chatwoot-timestamp"], headers["x-chatwoot-signature"], body
    )
    assert headers["x-chatwoot-delivery"]
    assert decide(parse_event(body)) == Decision(
        Verdict.IGNORE, "the bot's own message (agent_bot)", "own_message"
    )
