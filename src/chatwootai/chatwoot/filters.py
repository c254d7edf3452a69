"""What the bot owns: which webhook events it answers, which pause or resume it, which need a human.

Chatwoot sends a bot every message of its inbox, its own replies included, and every message of a
conversation assigned to it (Chatwoot 4.8+), whatever its status. Who owns a conversation:

* a human when a person (``User``) is assigned, a human replied (or wrote from the channel's
  native app), or the conversation is ``open`` and not assigned to the bot;
* the bot when it is ``pending`` without a human assignee, or assigned to the Agent Bot;
* Chatwoot's own AI when it is assigned to a Captain assistant (post-4.15 releases).

The bot answers a customer's public message in a conversation it owns. A human reply, a
native-app echo, or the conversation opening or going to a human (or to Captain) pauses it; going
back to ``pending``, or being assigned to the bot, resumes it. Two events need a human and get a
*notice* (a private note and ``toggle_status open``, done by the worker): a customer writing to
a ``pending`` conversation a human owns (a resolved conversation the customer reopened keeps its
assignee), and a ``message_updated`` telling that the channel refused one of the bot's replies
(``content_attributes.external_error``). ``message_updated`` is never customer input. A message
from Captain in an inbox the bot serves is ignored, and flagged: two bots answer the customer.
Everything else is ignored, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from chatwootai.chatwoot.payloads import ConversationEvent, Event, MessageEvent

OWNERSHIP_CHANGES = frozenset({"status", "assignee_id", "assignee_agent_bot_id", "ai_assignee_id"})
ASSIGNMENT_CHANGES = frozenset({"assignee_id", "assignee_agent_bot_id", "ai_assignee_id"})
CLOSED = frozenset({"resolved", "snoozed"})
OTHER_BOT_SENDERS = frozenset({"captain_assistant"})
"""Senders of messages that are another bot's, never this service's (Captain)."""
NOTICE_LABELS = frozenset({"customer_wrote_to_human", "delivery_failed"})
"""The labels of :attr:`Verdict.NOTIFY` decisions: the kinds of notice to humans."""


class Verdict(Enum):
    """What to do with an event."""

    ANSWER = "answer"
    IGNORE = "ignore"
    PAUSE = "pause"
    RESUME = "resume"
    NOTIFY = "notify"
    """Hand the conversation to its humans with a notice (the bot does not answer)."""


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
        "bot_assigned",
        "assigned_to_bot",
        "bot_assigned_status",
        "captain_owner",
        "other_bot",
        "customer_wrote_to_human",
        "delivery_failed",
        "delivery_failed_closed",
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
        return _decide_message_update(event)
    if event.private:
        return _ignore("private note", "private_note")
    kind = event.message_type
    sender = event.sender
    if kind == "template":
        return _ignore("template message (greeting, out of office or campaign)", "template")
    if kind == "outgoing":
        return _decide_outgoing(event)
    if kind != "incoming":
        return _ignore(f"{kind} message", "other_message_type")
    if sender is not None and sender.kind != "contact":
        return _ignore(
            f"incoming message written by {sender.kind}, not a contact", "not_from_contact"
        )
    conversation = event.conversation
    status = conversation.status
    if conversation.bot_assigned:
        return Decision(
            Verdict.ANSWER,
            f"customer message in a conversation assigned to the bot ({status})",
            "bot_assigned",
        )
    if conversation.captain_assigned:
        return _ignore("the conversation is assigned to Captain, Chatwoot's AI", "captain_owner")
    if conversation.human_assigned:
        if status == "pending":
            return Decision(
                Verdict.NOTIFY,
                "customer wrote to a pending conversation a human agent is assigned to "
                "(reopened by the customer): hand it to that agent",
                "customer_wrote_to_human",
            )
        return _ignore("a human agent is assigned to the conversation", "human_assigned")
    if status != "pending":
        return _ignore(f"conversation is {status}, not pending: not the bot's", "not_pending")
    return Decision(Verdict.ANSWER, "customer message in a pending conversation", "answer")


def _decide_outgoing(event: MessageEvent) -> Decision:
    sender = event.sender
    if event.external_echo:
        return Decision(
            Verdict.PAUSE, "message sent from the channel's native app", "native_app_echo"
        )
    if sender is None:
        return _ignore("outgoing message without sender (system message)", "system_message")
    if sender.kind == "user":
        return Decision(Verdict.PAUSE, "a human agent replied", "human_reply")
    if sender.kind == "agent_bot":
        return _ignore("the bot's own message (agent_bot)", "own_message")
    if sender.kind in OTHER_BOT_SENDERS:
        return _ignore(
            f"{sender.kind} answered in this inbox: another bot answers this customer too",
            "other_bot",
        )
    return _ignore(f"outgoing message from {sender.kind}", "other_outgoing")


def _decide_message_update(event: MessageEvent) -> Decision:
    """A change to a message is never new input; only the bot's failed reply needs someone."""
    sender = event.sender
    failed = (
        event.event == "message_updated"
        and event.external_error is not None
        and event.message_type == "outgoing"
        and not event.private
        and sender is not None
        and sender.kind == "agent_bot"
    )
    if not failed:
        return _ignore(
            f"{event.event} is a change to an existing message, not new input", "message_changed"
        )
    if event.conversation.status == "resolved":
        return _ignore(
            "the bot's reply was not delivered, but the conversation is resolved",
            "delivery_failed_closed",
        )
    return Decision(
        Verdict.NOTIFY,
        "the channel refused the bot's reply: hand the conversation to a human",
        "delivery_failed",
    )


def _decide_conversation(event: ConversationEvent) -> Decision:
    conversation = event.conversation
    status = conversation.status
    if event.event == "conversation_created":
        return _ignore("conversation created: wait for its first message", "conversation_created")
    changes = event.changes
    if event.event == "conversation_updated" and not OWNERSHIP_CHANGES.intersection(changes):
        return _ignore(
            "conversation updated without a change of status or owner", "no_owner_change"
        )
    if conversation.human_assigned:
        return Decision(
            Verdict.PAUSE, f"conversation {status} and assigned to a human agent", "human_owner"
        )
    if conversation.bot_assigned:
        return _decide_bot_assigned(event)
    if conversation.captain_assigned:
        return Decision(
            Verdict.PAUSE, f"conversation {status} and assigned to Captain", "captain_owner"
        )
    if status == "open":
        return Decision(Verdict.PAUSE, "conversation opened: a human owns it", "opened")
    if status == "pending":
        return Decision(
            Verdict.RESUME, "conversation back to pending: the bot owns it", "back_to_pending"
        )
    return _ignore(f"conversation {status}", "other_status")


def _decide_bot_assigned(event: ConversationEvent) -> Decision:
    """A conversation assigned to the Agent Bot is the bot's, whatever its status.

    Being assigned to the bot, going back to pending or being reopened gives it back to the bot;
    other status changes of it change nothing: they neither pause the bot nor undo a handoff the
    bot made (Chatwoot 4.15 keeps the bot assigned when it opens the conversation).
    """
    status = event.conversation.status
    changes = event.changes
    if ASSIGNMENT_CHANGES.intersection(changes) and status not in CLOSED:
        return Decision(
            Verdict.RESUME, f"conversation assigned to the bot ({status})", "assigned_to_bot"
        )
    previous = changes.get("status", (None, None))[0]
    if status == "pending" or (status == "open" and previous in CLOSED):
        return Decision(
            Verdict.RESUME,
            f"conversation assigned to the bot is {status} again: the bot owns it",
            "back_to_pending",
        )
    return _ignore(
        f"conversation assigned to the bot is {status}: no change of owner", "bot_assigned_status"
    )
