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


@dataclass(frozen=True, slots=True)
class Decision:
    """A verdict and why it was reached (for logs and metrics)."""

    verdict: Verdict
    reason: str


def _ignore(reason: str) -> Decision:
    return Decision(Verdict.IGNORE, reason)


def decide(event: Event) -> Decision:
    """Decide whether the bot answers, ignores, pauses or resumes on ``event``."""
    if isinstance(event, MessageEvent):
        return _decide_message(event)
    if isinstance(event, ConversationEvent):
        return _decide_conversation(event)
    return _ignore(f"{event.event} events are not handled")


def _decide_message(event: MessageEvent) -> Decision:
    if event.event != "message_created":
        return _ignore(f"{event.event} is a change to an existing message, not new input")
    if event.private:
        return _ignore("private note")
    kind = event.message_type
    sender = event.sender
    if kind == "template":
        return _ignore("template message (greeting, out of office or campaign)")
    if kind == "outgoing":
        if event.external_echo:
            return Decision(Verdict.PAUSE, "message sent from the channel's native app")
        if sender is None:
            return _ignore("outgoing message without sender (system message)")
        if sender.kind == "user":
            return Decision(Verdict.PAUSE, "a human agent replied")
        if sender.kind in BOT_SENDERS:
            return _ignore(f"the bot's own message ({sender.kind})")
        return _ignore(f"outgoing message from {sender.kind}")
    if kind != "incoming":
        return _ignore(f"{kind} message")
    if sender is not None and sender.kind != "contact":
        return _ignore(f"incoming message written by {sender.kind}, not a contact")
    conversation = event.conversation
    if conversation.status != "pending":
        return _ignore(f"conversation is {conversation.status}, not pending: not the bot's")
    if conversation.human_assigned:
        return _ignore("a human agent is assigned to the conversation")
    return Decision(Verdict.ANSWER, "customer message in a pending conversation")


def _decide_conversation(event: ConversationEvent) -> Decision:
    conversation = event.conversation
    status = conversation.status
    if event.event == "conversation_created":
        return _ignore("conversation created: wait for its first message")
    if event.event == "conversation_updated":
        changed = OWNERSHIP_CHANGES.intersection(event.changes)
        if not changed:
            return _ignore("conversation updated without a change of status or owner")
    if conversation.human_assigned:
        return Decision(Verdict.PAUSE, f"conversation {status} and assigned to a human agent")
    if status == "open":
        return Decision(Verdict.PAUSE, "conversation opened: a human owns it")
    if status == "pending":
        return Decision(Verdict.RESUME, "conversation back to pending: the bot owns it")
    return _ignore(f"conversation {status}")
