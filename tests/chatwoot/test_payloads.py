"""Parsing real Chatwoot webhook payloads, and refusing malformed ones with a reason."""

from __future__ import annotations

import json

import pytest

from chatwootai.chatwoot.payloads import (
    ConversationEvent,
    MessageEvent,
    OtherEvent,
    PayloadError,
    parse_event,
    redact,
)
from fakes.chatwoot_server import FIXTURES, load_fixture


def raw(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def test_every_fixture_parses() -> None:
    names = sorted(path.stem for path in FIXTURES.glob("*.json"))
    assert len(names) >= 15
    for name in names:
        assert parse_event(raw(name)).event


def test_incoming_whatsapp_message_fields() -> None:
    event = parse_event(raw("a_incoming_whatsapp"))
    assert isinstance(event, MessageEvent)
    assert event.id == 150233
    assert event.content == "Oi! Meu pedido 1234 ainda nao chegou"
    assert event.message_type == "incoming"
    assert event.private is False
    assert event.content_type == "text"
    assert event.account_id == 3
    assert event.inbox_id == 12
    assert event.display_id == 417
    assert event.conversation_key == "3:417"
    assert event.conversation.status == "pending"
    assert event.conversation.channel == "Channel::Whatsapp"
    assert event.conversation.assignee_type is None
    assert event.sender is not None and event.sender.type is None
    assert event.sender.kind == "contact"
    contact = event.contact
    assert (contact.id, contact.name, contact.phone_number) == (
        8812,
        "Maria Silva",
        "+5511987654321",
    )
    assert event.attachments == []


def test_widget_message_has_no_phone_and_a_uuid_source() -> None:
    event = parse_event(raw("b_incoming_widget"))
    assert isinstance(event, MessageEvent)
    assert event.conversation_key == "1:150"
    assert event.contact.phone_number is None
    assert event.conversation.contact_inbox is not None
    assert event.conversation.contact_inbox.source_id == "f8cf369d-2d88-40b8-9253-887b675a33d3"
    assert event.content_attributes == {"in_reply_to": None}


def test_attachment_message_with_null_content() -> None:
    event = parse_event(raw("incoming_image_no_content"))
    assert isinstance(event, MessageEvent)
    assert event.content is None
    assert [a.file_type for a in event.attachments] == ["image"]
    assert event.attachments[0].data_url is not None
    audio = parse_event(raw("incoming_audio_no_content"))
    assert isinstance(audio, MessageEvent)
    assert audio.attachments[0].file_type == "audio"


def test_bot_and_human_senders_carry_a_type() -> None:
    bot = parse_event(raw("outgoing_agent_bot_reply"))
    human = parse_event(raw("outgoing_human_reply"))
    template = parse_event(raw("template_null_sender"))
    assert isinstance(bot, MessageEvent) and bot.sender is not None
    assert isinstance(human, MessageEvent) and human.sender is not None
    assert isinstance(template, MessageEvent)
    assert bot.sender.kind == "agent_bot"
    assert human.sender.kind == "user"
    assert template.sender is None


def test_conversation_updated_changes() -> None:
    event = parse_event(raw("f_conversation_updated"))
    assert isinstance(event, ConversationEvent)
    assert event.conversation_key == "3:417"
    assert event.conversation.status == "open"
    assert event.conversation.assignee_type == "User"
    assert event.changes["status"] == ("pending", "open")
    assert "updated_at" in event.changes


def test_status_changed_has_null_changed_attributes() -> None:
    event = parse_event(raw("e_conversation_status_changed"))
    assert isinstance(event, ConversationEvent)
    assert event.changed_attributes is None
    assert event.changes == {}
    assert event.conversation_key == "1:150"


def test_account_missing_before_v4_14_2() -> None:
    event = parse_event(raw("e_conversation_status_changed_pre_4_14_2"))
    assert isinstance(event, ConversationEvent)
    assert event.account_id is None
    assert event.conversation_key is None


def test_account_from_last_message_when_conversation_has_none() -> None:
    data = load_fixture("f_conversation_updated")
    data.pop("account")
    data["messages"] = [{"id": 1, "account_id": 9, "message_type": 0}]
    event = parse_event(json.dumps(data).encode())
    assert isinstance(event, ConversationEvent)
    assert event.conversation_key == "9:417"


def test_other_events_are_kept_whole() -> None:
    event = parse_event(raw("g_webwidget_triggered"))
    assert isinstance(event, OtherEvent)
    assert event.event == "webwidget_triggered"
    assert event.model_extra is not None and event.model_extra["source_id"].startswith("f8cf")


def test_unknown_fields_are_tolerated() -> None:
    data = load_fixture("a_incoming_whatsapp")
    data["brand_new_field"] = {"x": 1}
    data["conversation"]["meta"]["ai_assignee"] = None
    event = parse_event(json.dumps(data).encode())
    assert isinstance(event, MessageEvent)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"id": 1}', "no 'event'"),
        (b'{"event": 42}', "no 'event'"),
    ],
)
def test_malformed_bodies(body: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        parse_event(body)


def _mutated(change: dict[str, object], *, drop: str | None = None) -> bytes:
    data = load_fixture("a_incoming_whatsapp")
    data.update(change)
    if drop:
        data.pop(drop)
    return json.dumps(data).encode()


def test_missing_conversation() -> None:
    with pytest.raises(PayloadError, match="no 'conversation' object"):
        parse_event(_mutated({}, drop="conversation"))


def test_wrong_types_name_the_field() -> None:
    with pytest.raises(PayloadError, match=r"message_created payload is not valid: id:"):
        parse_event(_mutated({"id": "abc"}))
    with pytest.raises(PayloadError, match="message_type"):
        parse_event(_mutated({"message_type": 0}))
    with pytest.raises(PayloadError, match="private"):
        parse_event(_mutated({"private": [1]}))
    with pytest.raises(PayloadError, match=r"conversation\.id"):
        data = load_fixture("a_incoming_whatsapp")
        data["conversation"]["id"] = None
        parse_event(json.dumps(data).encode())


def test_missing_message_id() -> None:
    with pytest.raises(PayloadError, match=r"id: Field required"):
        parse_event(_mutated({}, drop="id"))


def test_no_account_anywhere_in_a_message_event() -> None:
    data = load_fixture("a_incoming_whatsapp")
    data.pop("account")
    data["conversation"].pop("account")
    data["conversation"]["messages"] = []
    with pytest.raises(PayloadError, match="no account id"):
        parse_event(json.dumps(data).encode())


def test_huge_content_and_huge_body() -> None:
    with pytest.raises(PayloadError, match="content has 150001 characters"):
        parse_event(_mutated({"content": "a" * 150_001}))
    with pytest.raises(PayloadError, match="above the limit of 1000"):
        parse_event(raw("a_incoming_whatsapp"), max_bytes=1000)


def test_redact_drops_pubsub_token_everywhere() -> None:
    data = load_fixture("a_incoming_whatsapp")
    data["extra"] = [{"pubsub_token": "x", "keep": 1}]
    clean = redact(data)
    text = json.dumps(clean)
    assert "pubsub_token" not in text
    assert "Zk3pQm9xT2vB7cLwR4nD8sYe" not in text
    assert clean["extra"] == [{"keep": 1}]
    assert clean["conversation"]["contact_inbox"]["source_id"] == "5511987654321"
    assert "pubsub_token" in json.dumps(data)  # the original is untouched


def test_lone_surrogates_and_invalid_utf8_become_the_replacement_character() -> None:
    payload = load_fixture("a_incoming_whatsapp")
    body = json.dumps({**payload, "content": "oi \ud800 tchau \udfff"}).encode()
    assert b"\\ud800" in body  # valid JSON, but no text: it cannot be encoded as UTF-8
    event = parse_event(body)
    assert isinstance(event, MessageEvent)
    assert event.content == "oi \ufffd tchau \ufffd"
    event.model_dump_json().encode("utf-8")  # encodable now
    pair = parse_event(json.dumps({**payload, "content": "\ud83d\ude00"}).encode())
    assert isinstance(pair, MessageEvent) and pair.content == "😀"  # a pair stays a character
    invalid = json.dumps({**payload, "content": "caf\u00e9"}, ensure_ascii=False).encode()
    invalid = invalid.replace("café".encode(), b"caf\xe9")  # Latin-1, not UTF-8
    latin = parse_event(invalid)
    assert isinstance(latin, MessageEvent) and latin.content == "caf\ufffd"


def test_surrogates_in_keys_and_nested_values_are_replaced_too() -> None:
    payload = load_fixture("a_incoming_whatsapp")
    payload["content_attributes"] = {"k\ud801": ["x\udc00"]}
    event = parse_event(json.dumps(payload).encode())
    assert isinstance(event, MessageEvent)
    assert event.content_attributes == {"k\ufffd": ["x\ufffd"]}


def test_widget_and_typing_events_name_their_account_and_inbox() -> None:
    widget = parse_event(raw("g_webwidget_triggered"))
    assert isinstance(widget, OtherEvent)
    assert (widget.account_id, widget.inbox_id) == (1, 1)
    typing = parse_event(
        json.dumps(
            {
                "event": "conversation_typing_on",
                "conversation": {"inbox_id": 4, "account": {"id": 9}},
            }
        ).encode()
    )
    assert isinstance(typing, OtherEvent)
    assert (typing.account_id, typing.inbox_id) == (9, 4)
    assert isinstance(odd := parse_event(b'{"event": "x", "account": {"id": true}}'), OtherEvent)
    assert (odd.account_id, odd.inbox_id) == (None, None)
    flat = parse_event(b'{"event": "inbox_created", "id": 30, "account_id": 5, "inbox_id": 30}')
    assert isinstance(flat, OtherEvent) and (flat.account_id, flat.inbox_id) == (5, 30)
