"""Which events the bot answers, ignores, pauses on or resumes on: every real payload shape."""

from __future__ import annotations

import json

import pytest

from chatwootai.chatwoot.filters import LABELS, Verdict, decide
from chatwootai.chatwoot.payloads import parse_event
from fakes.chatwoot_server import FIXTURES, load_fixture

ANSWER, IGNORE, PAUSE, RESUME = Verdict.ANSWER, Verdict.IGNORE, Verdict.PAUSE, Verdict.RESUME

EXPECTED = {
    "a_incoming_whatsapp": (ANSWER, "customer message"),
    "b_incoming_widget": (ANSWER, "customer message"),
    "c_message_updated": (IGNORE, "not new input"),
    "d_conversation_created": (IGNORE, "wait for its first message"),
    "e_conversation_status_changed": (RESUME, "back to pending"),
    "e_conversation_status_changed_pre_4_14_2": (RESUME, "back to pending"),
    "f_conversation_updated": (PAUSE, "human agent"),
    "g_webwidget_triggered": (IGNORE, "not handled"),
    "outgoing_agent_bot_reply": (IGNORE, "bot's own message"),
    "outgoing_captain_assistant": (IGNORE, "bot's own message"),
    "outgoing_human_reply": (PAUSE, "human agent replied"),
    "outgoing_external_echo": (PAUSE, "native app"),
    "private_note": (IGNORE, "private note"),
    "template_null_sender": (IGNORE, "template"),
    "incoming_image_no_content": (ANSWER, "customer message"),
    "incoming_audio_no_content": (ANSWER, "customer message"),
    "incoming_open_conversation": (IGNORE, "not pending"),
    "incoming_assigned_to_user": (IGNORE, "human agent is assigned"),
    "conversation_resolved": (IGNORE, "resolved"),
    "conversation_updated_back_to_pending": (RESUME, "back to pending"),
    "conversation_updated_labels_only": (IGNORE, "without a change"),
}


def test_every_fixture_has_an_expectation() -> None:
    assert {p.stem for p in FIXTURES.glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_verdict(name: str) -> None:
    verdict, reason = EXPECTED[name]
    decision = decide(parse_event((FIXTURES / f"{name}.json").read_bytes()))
    assert decision.verdict is verdict, decision.reason
    assert reason in decision.reason
    assert decision.label in LABELS


def _decide(data: dict[str, object]) -> Verdict:
    return decide(parse_event(json.dumps(data).encode())).verdict


def test_only_pending_conversations_are_answered() -> None:
    for status, verdict in [
        ("pending", ANSWER),
        ("open", IGNORE),
        ("resolved", IGNORE),
        ("snoozed", IGNORE),
    ]:
        data = load_fixture("a_incoming_whatsapp")
        data["conversation"]["status"] = status
        assert _decide(data) is verdict, status


def test_bot_assignee_does_not_stop_answers() -> None:
    data = load_fixture("a_incoming_whatsapp")
    data["conversation"]["meta"]["assignee"] = {"id": 5, "name": "Acme AI", "type": "agent_bot"}
    data["conversation"]["meta"]["assignee_type"] = "AgentBot"
    assert _decide(data) is ANSWER


def test_private_note_from_a_human_does_not_pause() -> None:
    data = load_fixture("outgoing_human_reply")
    data["private"] = True
    assert _decide(data) is IGNORE


def test_human_message_updated_is_ignored() -> None:
    data = load_fixture("outgoing_human_reply")
    data["event"] = "message_updated"
    assert _decide(data) is IGNORE


def test_incoming_message_updated_is_ignored() -> None:
    data = load_fixture("a_incoming_whatsapp")
    data["event"] = "message_updated"
    assert _decide(data) is IGNORE


def test_conversation_opened_pauses_and_pending_resumes() -> None:
    data = load_fixture("conversation_resolved")
    data["event"], data["status"] = "conversation_opened", "open"
    assert _decide(data) is PAUSE
    data["event"], data["status"] = "conversation_status_changed", "pending"
    assert _decide(data) is RESUME


def test_assigned_to_a_user_while_pending_pauses() -> None:
    data = load_fixture("f_conversation_updated")
    data["status"] = "pending"
    data["changed_attributes"] = [{"assignee_id": {"previous_value": None, "current_value": 21}}]
    assert _decide(data) is PAUSE


def test_bot_assigned_resumes() -> None:
    data = load_fixture("conversation_updated_back_to_pending")
    data["meta"]["assignee"] = {"id": 5, "name": "Acme AI", "type": "agent_bot"}
    data["meta"]["assignee_type"] = "AgentBot"
    data["changed_attributes"] = [
        {"assignee_agent_bot_id": {"previous_value": None, "current_value": 5}}
    ]
    assert _decide(data) is RESUME
