"""The ids read off a raw body without parsing it agree with the parsed ones for every shape
Chatwoot sends (reference sections 1.4 and 0.2), at bounded cost whatever the body."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chatwootai.chatwoot.payloads import parse_event
from chatwootai.chatwoot.sniff import WINDOW, SniffedIds, sniff_ids
from chatwootai.service.webhook import event_ids
from fakes.chatwoot_server import FIXTURES, load_fixture

SHAPES = sorted(path.stem for path in FIXTURES.glob("*.json"))


def spellings(payload: dict[str, Any]) -> list[bytes]:
    """Chatwoot's compact JSON, and Python's default spacing (tests and tools send that)."""
    return [
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(),
        json.dumps(payload).encode(),
    ]


@pytest.mark.parametrize("name", SHAPES)
def test_sniffed_ids_are_the_parsed_ones(name: str) -> None:
    for raw in spellings(load_fixture(name)):
        parsed = event_ids(parse_event(raw))
        assert sniff_ids(raw) == SniffedIds(*parsed), name


def test_an_email_with_a_large_html_part_still_shows_its_ids() -> None:
    payload = load_fixture("a_incoming_whatsapp")
    html = "<p>Prezados, segue o pedido &amp; a nota</p>" * 20_000  # ~900 KB, sent twice
    payload["content_attributes"] = {"email": {"html_content": {"full": html, "reply": html}}}
    payload["content"] = "Segue o pedido\n\n> Em 10/06, Loja escreveu:\n> " + "x" * 100_000
    payload["conversation"]["messages"][0]["content_attributes"] = payload["content_attributes"]
    for raw in spellings(payload):
        assert len(raw) > 1024 * 1024
        assert sniff_ids(raw) == SniffedIds(3, 12)


def test_old_conversation_events_carry_no_account() -> None:
    raw = (FIXTURES / "e_conversation_status_changed_pre_4_14_2.json").read_bytes()
    assert sniff_ids(raw).account_id is None


def test_only_the_ids_asked_for_are_looked_for() -> None:
    raw = (FIXTURES / "a_incoming_whatsapp.json").read_bytes()
    assert sniff_ids(raw, account=False) == SniffedIds(None, 12)
    assert sniff_ids(raw, inbox=False) == SniffedIds(3, None)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json at all",
        b'{"account": {"id": "x"}, "inbox": {"id": true}}',
        b'{"account":{"id":1e3},"inbox_id":-4}',
        (b'"account":{"id":' * 100_000)[: 1024 * 1024],
        (b'"inbox"' * 200_000)[: 1024 * 1024],
        bytes(range(256)) * 4096,
    ],
)
def test_garbage_gives_no_ids(raw: bytes) -> None:
    assert sniff_ids(raw) == SniffedIds(None, None)


def test_ids_spelt_as_strings_or_whole_floats_are_read_as_the_parser_reads_them() -> None:
    assert sniff_ids(b'{"account": {"id": "005"}, "inbox": {"id": 12.0}}') == SniffedIds(5, 12)


def test_only_both_ends_of_the_body_are_searched() -> None:
    middle = b'"account":{"id":7}'
    raw = b"[" + b" " * WINDOW + middle + b" " * WINDOW + b"]"
    assert sniff_ids(raw) == SniffedIds(None, None)


@pytest.mark.parametrize("typist", ["user", "contact"])
def test_typing_events_show_the_conversations_ids(typist: str) -> None:
    conversation = load_fixture("f_conversation_updated")
    del conversation["event"], conversation["changed_attributes"]
    user = {"id": 21, "name": "Joao", "email": "joao@acme.example", "type": "user"}
    if typist == "contact":
        user = load_fixture("a_incoming_whatsapp")["sender"]
    payload = {
        "event": "conversation_typing_on",
        "user": user,
        "conversation": conversation,
        "is_private": False,
    }
    for raw in spellings(payload):
        assert event_ids(parse_event(raw)) == (3, 12)
        assert sniff_ids(raw) == SniffedIds(3, 12)
