"""Which events the bot answers, ignores, pauses on or resumes on: every real payload shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chatwootai.chatwoot.filters import LABELS, NOTICE_LABELS, Verdict, decide
from chatwootai.chatwoot.payloads import parse_event
from fakes.chatwoot_server import FIXTURES, load_fixture

ANSWER, IGNORE, PAUSE, RESUME = Verdict.ANSWER, Verdict.IGNORE, Verdict.PAUSE, Verdict.RESUME
NOTIFY = Verdict.NOTIFY

EXPECTED = {
    "a_incoming_whatsapp": (ANSWER, "customer message"),
    "b_incoming_widget": (ANSWER, "customer message"),
    "c_message_updated": (NOTIFY, "refused the bot's reply"),
    "message_updated_failed_whatsapp_window": (NOTIFY, "refused the bot's reply"),
    "message_updated_bot_reply_delivered": (IGNORE, "not new input"),
    "incoming_bot_assigned_open": (ANSWER, "assigned to the bot (open)"),
    "incoming_reopened_human_pending": (NOTIFY, "hand it to that agent"),
    "incoming_captain_assigned": (IGNORE, "assigned to Captain"),
    "incoming_email_quoted_thread": (ANSWER, "customer message"),
    "conversation_updated_assigned_to_bot": (RESUME, "assigned to the bot (open)"),
    "d_conversation_created": (IGNORE, "wait for its first message"),
    "e_conversation_status_changed": (RESUME, "back to pending"),
    "e_conversation_status_changed_pre_4_14_2": (RESUME, "back to pending"),
    "f_conversation_updated": (PAUSE, "human agent"),
    "g_webwidget_triggered": (IGNORE, "not handled"),
    "outgoing_agent_bot_reply": (IGNORE, "bot's own message"),
    "outgoing_captain_assistant": (IGNORE, "another bot answers"),
    "outgoing_human_reply": (PAUSE, "human agent replied"),
    "outgoing_external_echo": (PAUSE, "native app"),
    "private_note": (IGNORE, "private note"),
    "template_null_sender": (IGNORE, "template"),
    "incoming_image_no_content": (ANSWER, "customer message"),
    "incoming_audio_no_content": (ANSWER, "customer message"),
    "incoming_open_conversation": (IGNORE, "not pending"),
    "incoming_assigned_to_user": (NOTIFY, "hand it to that agent"),
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


def test_only_pending_conversations_are_answered_unless_assigned_to_the_bot() -> None:
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


def _bot_assigned(data: dict[str, Any]) -> dict[str, Any]:
    meta = data["conversation"]["meta"] if "conversation" in data else data["meta"]
    meta["assignee"] = {"id": 5, "name": "Acme AI", "avatar_url": "", "type": "agent_bot"}
    meta["assignee_type"] = "AgentBot"
    return data


def test_bot_assigned_conversations_are_answered_whatever_their_status() -> None:
    for status in ("pending", "open", "snoozed", "resolved"):
        data = _bot_assigned(load_fixture("a_incoming_whatsapp"))
        data["conversation"]["status"] = status
        decision = decide(parse_event(json.dumps(data).encode()))
        assert decision.verdict is ANSWER, status
        assert decision.label == "bot_assigned"


def test_bot_assignee_known_only_from_the_assignee_type() -> None:
    data = load_fixture("a_incoming_whatsapp")
    data["conversation"]["status"] = "open"
    data["conversation"]["meta"]["assignee"] = {"id": 5, "name": "Acme AI", "type": "agent_bot"}
    data["conversation"]["meta"].pop("assignee_type")
    assert _decide(data) is ANSWER


def test_human_reply_still_pauses_a_bot_assigned_conversation() -> None:
    data = load_fixture("outgoing_human_reply")
    _bot_assigned(data)
    data["conversation"]["status"] = "open"
    assert _decide(data) is PAUSE


def test_human_assignee_wins_over_an_open_status() -> None:
    data = load_fixture("f_conversation_updated")
    assert _decide(data) is PAUSE
    data["changed_attributes"] = [{"assignee_id": {"previous_value": None, "current_value": 21}}]
    assert _decide(data) is PAUSE


def test_status_changes_of_a_bot_assigned_conversation() -> None:
    """Open is not a takeover (and does not undo a handoff); pending and a reopen resume."""
    data = _bot_assigned(load_fixture("conversation_resolved"))
    cases = [
        ("conversation_opened", "open", None, IGNORE),
        ("conversation_status_changed", "open", None, IGNORE),
        ("conversation_status_changed", "pending", None, RESUME),
        ("conversation_resolved", "resolved", None, IGNORE),
        ("conversation_updated", "open", ("pending", "open"), IGNORE),
        ("conversation_updated", "open", ("resolved", "open"), RESUME),
        ("conversation_updated", "open", ("snoozed", "open"), RESUME),
        ("conversation_updated", "snoozed", ("open", "snoozed"), IGNORE),
    ]
    for event, status, change, verdict in cases:
        data["event"], data["status"] = event, status
        data["changed_attributes"] = (
            None
            if change is None
            else [{"status": {"previous_value": change[0], "current_value": change[1]}}]
        )
        assert _decide(data) is verdict, (event, status, change)


def test_assigning_the_bot_resumes_and_assigning_a_human_pauses() -> None:
    data = load_fixture("conversation_updated_assigned_to_bot")
    assert _decide(data) is RESUME
    for name in ("assignee_agent_bot_id", "ai_assignee_id", "assignee_id"):
        data["changed_attributes"] = [{name: {"previous_value": None, "current_value": 5}}]
        assert _decide(data) is RESUME, name
    data["status"] = "resolved"
    assert _decide(data) is IGNORE
    human = load_fixture("conversation_updated_assigned_to_bot")
    human["meta"]["assignee"] = {"id": 21, "name": "Joao", "type": "user"}
    human["meta"]["assignee_type"] = "User"
    human["changed_attributes"] = [
        {"assignee_agent_bot_id": {"previous_value": 5, "current_value": None}},
        {"assignee_id": {"previous_value": None, "current_value": 21}},
    ]
    assert _decide(human) is PAUSE


def test_captain_ownership_pauses_and_its_messages_are_flagged() -> None:
    data = load_fixture("conversation_updated_assigned_to_bot")
    data["meta"]["assignee"] = {"id": 2, "name": "Captain", "type": "captain_assistant"}
    data["meta"]["assignee_type"] = "Captain::Assistant"
    data["changed_attributes"] = [{"ai_assignee_id": {"previous_value": None, "current_value": 2}}]
    data["status"] = "pending"
    decision = decide(parse_event(json.dumps(data).encode()))
    assert (decision.verdict, decision.label) == (PAUSE, "captain_owner")
    captain = decide(parse_event(json.dumps(load_fixture("outgoing_captain_assistant")).encode()))
    assert (captain.verdict, captain.label) == (IGNORE, "other_bot")
    owned = decide(parse_event(json.dumps(load_fixture("incoming_captain_assigned")).encode()))
    assert (owned.verdict, owned.label) == (IGNORE, "captain_owner")


def test_customer_writing_to_a_human_notifies_only_while_pending() -> None:
    for status, verdict in [
        ("pending", NOTIFY),
        ("open", IGNORE),
        ("snoozed", IGNORE),
        ("resolved", IGNORE),
    ]:
        data = load_fixture("incoming_reopened_human_pending")
        data["conversation"]["status"] = status
        assert _decide(data) is verdict, status


def test_only_the_bots_failed_public_reply_notifies() -> None:
    base = load_fixture("message_updated_failed_whatsapp_window")
    assert _decide(base) is NOTIFY
    variants: list[tuple[str, Any]] = [
        ("sender", {"id": 21, "name": "Joao", "type": "user"}),
        ("sender", {"id": 2, "name": "Captain", "type": "captain_assistant"}),
        ("sender", None),
        ("private", True),
        ("message_type", "incoming"),
        ("event", "message_created"),
        ("content_attributes", {"external_error": ""}),
        ("content_attributes", {"external_error": None}),
        ("content_attributes", {"deleted": True}),
    ]
    for field, value in variants:
        data = load_fixture("message_updated_failed_whatsapp_window")
        data[field] = value
        assert _decide(data) is not NOTIFY, (field, value)
    closed = load_fixture("message_updated_failed_whatsapp_window")
    closed["conversation"]["status"] = "resolved"
    decision = decide(parse_event(json.dumps(closed).encode()))
    assert (decision.verdict, decision.label) == (IGNORE, "delivery_failed_closed")
    opened = load_fixture("message_updated_failed_whatsapp_window")
    opened["conversation"]["status"] = "open"
    assert _decide(opened) is NOTIFY


def test_message_updated_is_never_input_even_for_a_customer_message() -> None:
    for name in ("a_incoming_whatsapp", "incoming_reopened_human_pending", "b_incoming_widget"):
        data = load_fixture(name)
        data["event"] = "message_updated"
        data["content_attributes"] = {"external_error": "boom"}
        assert _decide(data) is IGNORE, name


def test_null_sender_outgoing_messages() -> None:
    echo = load_fixture("outgoing_external_echo")
    assert echo["sender"] is None
    assert _decide(echo) is PAUSE
    echo["content_attributes"] = {"automation_rule_id": 4}
    assert _decide(echo) is IGNORE
    template = load_fixture("template_null_sender")
    template["content_attributes"] = {"external_echo": True}
    assert _decide(template) is IGNORE


def test_every_notify_label_is_a_notice_kind() -> None:
    assert NOTICE_LABELS <= LABELS
