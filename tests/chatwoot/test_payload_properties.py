"""Owner, delivery-error and e-mail properties of real Chatwoot payloads."""

from __future__ import annotations

import json

from chatwootai.chatwoot.payloads import MessageEvent, parse_event
from fakes.chatwoot_server import FIXTURES, load_fixture


def raw(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def test_owner_properties_from_meta() -> None:
    cases = [
        ("a_incoming_whatsapp", (None, False, False, False)),
        ("incoming_reopened_human_pending", ("User", True, False, False)),
        ("incoming_bot_assigned_open", ("AgentBot", False, True, False)),
        ("incoming_captain_assigned", ("Captain::Assistant", False, False, True)),
    ]
    for name, expected in cases:
        event = parse_event(raw(name))
        assert isinstance(event, MessageEvent)
        c = event.conversation
        assert (c.assignee_type, c.human_assigned, c.bot_assigned, c.captain_assigned) == expected
    data = load_fixture("incoming_captain_assigned")
    del data["conversation"]["meta"]["assignee_type"]  # known from meta.assignee.type alone
    event = parse_event(json.dumps(data).encode())
    assert isinstance(event, MessageEvent)
    assert event.conversation.captain_assigned
    reopened = parse_event(raw("incoming_reopened_human_pending"))
    assert isinstance(reopened, MessageEvent)
    assert reopened.conversation.assignee_name == "Joao"


def test_external_error_and_email_attributes() -> None:
    failed = parse_event(raw("message_updated_failed_whatsapp_window"))
    assert isinstance(failed, MessageEvent)
    assert failed.external_error is not None and failed.external_error.startswith("131047")
    delivered = parse_event(raw("message_updated_bot_reply_delivered"))
    assert isinstance(delivered, MessageEvent)
    assert delivered.external_error is None
    assert delivered.email == {}
    email = parse_event(raw("incoming_email_quoted_thread"))
    assert isinstance(email, MessageEvent)
    assert email.content_type == "incoming_email"
    assert email.email["subject"] == "Re: Seu pedido 1234 foi enviado"
    data = load_fixture("a_incoming_whatsapp")
    data["content_attributes"] = {"email": "not a dict", "external_error": False}
    odd = parse_event(json.dumps(data).encode())
    assert isinstance(odd, MessageEvent)
    assert (odd.email, odd.external_error) == ({}, None)
