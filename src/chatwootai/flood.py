"""Flood limit: at most N customer messages of a conversation reach the LLM per minute.

The count lives in the conversation's routing state (loaded and saved by the turn anyway, so it
costs no store command of its own). A minute starts with the first turn that reaches the LLM;
that turn goes whatever its size (held messages merged into one turn are one LLM call). Later
turns go while the minute's count stays within the limit; a turn past it is *held*: its messages
stay pending, more merge into them, and the turn runs when the minute is over. A conversation
over the limit in `handoff_after` minutes in a row is handed to a human (reason ``flood``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chatwootai.config.schema import FloodLimits
from chatwootai.conversation import ConversationState

WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class FloodVerdict:
    """What a turn may do: go to the LLM, wait until `until`, or hand off."""

    action: Literal["go", "hold", "handoff"]
    state: ConversationState
    """The conversation's state with its counts updated (saved with the turn)."""
    until: float = 0.0
    changed: bool = True
    """Whether `state` differs from the loaded one (a hold saves it only then)."""


def flood_check(
    state: ConversationState, limits: FloodLimits, messages: int, now: float
) -> FloodVerdict:
    """The verdict on a turn of `messages` customer messages at `now` (epoch seconds)."""
    since, count = state.flood_since, state.flood_messages
    strikes, struck = state.flood_strikes, state.flood_struck_at
    if now >= since + WINDOW_S:  # a new minute; a minute in between without a strike ends it
        if struck != since or now >= since + 2 * WINDOW_S:
            strikes = 0
        since, count = now, 0
    if count == 0 or count + messages <= limits.messages_per_minute:
        updated = _with(state, since, count + messages, strikes, struck)
        return FloodVerdict("go", updated)
    changed = struck != since
    if changed:
        strikes, struck = strikes + 1, since
    updated = _with(state, since, count, strikes, struck)
    if limits.handoff_after and strikes >= limits.handoff_after:
        return FloodVerdict("handoff", _with(state, 0.0, 0, 0, 0.0))
    return FloodVerdict("hold", updated, since + WINDOW_S, changed)


def _with(
    state: ConversationState, since: float, count: int, strikes: int, struck: float
) -> ConversationState:
    return state.model_copy(
        update={
            "flood_since": since,
            "flood_messages": count,
            "flood_strikes": strikes,
            "flood_struck_at": struck,
        }
    )
