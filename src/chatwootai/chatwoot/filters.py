"""What the bot owns: which webhook events it answers, and which pause or resume it.

Chatwoot sends a bot every message of its inbox, its own replies included. The bot answers only
a customer's public message in a ``pending`` conversation that no human owns; a human reply, a
native-app echo, or the conversation opening or going to a human pauses it; going back to
``pending`` resumes it. Everything else is ignored, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from chatwootai.chatwoot.payloads import ConversationEvent, Event, MessageEvent

BOT_SENDERS = frozenset({"agent_bot", "captain_assistant"})
OWNERSHIP_CHANGES = frozenset({"status", "assignee_id", "assignee_agent_bot_id", "ai_assignee_id"})


class Verdict(Enum):
    """What to do with an event."""

    ANSWER = "answer"
    IGNORE = "ignore"
    PAUSE = "pause"
    RESUME = "resume"


LABELS = frozenset(
    {
        "answer",
        "unhandled_event",
        "message_changed",
        "private_note",
        "template",
        "native_app_echo",
        "system_message",
        "human_reply",
        "own_message",
        "other_outgoing",
        "other_message_type",
        "not_from_contact",
        "not_pending",
        "human_assigned",
        "conversation_created",
        "no_owner_change",
        "human_owner",
        "opened",
        "back_to_pending",
        "other_status",
    }
)
"""Every :attr:`Decision.label`: a fixed set, fit for metric labels (reasons carry payload text)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """A verdict, why it was reached (for logs) and its label from :data:`LABELS` (metrics)."""

    verdict: Verdict
    reason: str
    label: str


def _ignore(reason: str, label: str) -> Decision:
    return Decision(Verdict.IGNORE, reason, label)


def decide(event: Event) -> Decision:
    """Decide whether the bot answers, ignores, pauses or resumes on ``event``."""
    if isinstance(event, MessageEvent):
        return _decide_message(event)
    if isinstance(event, ConversationEvent):
        return _decide_conversation(event)
    return _ignore(f"{event.event} events are not handled", "unhandled_event")


def _decide_message(event: MessageEvent) -> Decision:
    if event.event != "message_created":
        return _ignore(
            f"{event.event} is a change to an existing message, not new input", "message_changed"
        )
    if event.private:
        return _ignore("private note", "private_note")
    kind = event.message_type
    sender = event.sender
    if kind == "template":
        return _ignore("template message (greeting, out of office or campaign)", "template")
    if kind == "outgoing":
        if event.external_echo:
            return Decision(
                Verdict.PAUSE, "message sent from the channel's native app", "native_app_echo"
            )
        if sender is None:
            return _ignore("outgoing message without sender (system message)", "system_message")
        if sender.kind == "user":
            return Decision(Verdict.PAUSE, "a human agent replied", "human_reply")
        if sender.kind in BOT_SENDERS:
            return _ignore(f"the bot's own message ({sender.kind})", "own_message")
        return _ignore(f"outgoing message from {sender.kind}", "other_outgoing")
    if kind != "incoming":
        return _ignore(f"{kind} message", "other_message_type")
    if sender is not None and sender.kind != "contact":
        return _ignore(
            f"incoming message written by {sender.kind}, not a contact", "not_from_contact"
        )
    conversation = event.conversation
    if conversation.status != "pending":
        return _ignore(
            f"conversation is {conversation.status}, not pending: not the bot's", "not_pending"
        )
    if conversation.human_assigned:
        return _ignore("a human agent is assigned to the conversation", "human_assigned")
    return Decision(Verdict.ANSWER, "customer message in a pending conversation", "answer")


def _decide_conversation(event: ConversationEvent) -> Decision:
    conversation = event.conversation
    status = conversation.status
    if event.event == "conversation_created":
        return _ignore("conversation created: wait for its first message", "conversation_created")
    if event.event == "conversation_updated":
        changed = OWNERSHIP_CHANGES.intersection(event.changes)
        if not changed:
            return _ignore(
                "conversation updated without a change of status or owner", "no_owner_change"
            )
    if conversation.human_assigned:
        return Decision(
            Verdict.PAUSE, f"conversation {status} and assigned to a human agent", "human_owner"
        )
    if status == "open":
        return Decision(Verdict.PAUSE, "conversation opened: a human owns it", "opened")
    if status == "pending":
        return Decision(
            Verdict.RESUME, "conversation back to pending: the bot owns it", "back_to_pending"
        )
    return _ignore(f"conversation {status}", "other_status")
