"""Handing a conversation to humans, in the order Chatwoot needs.

Customer message, private note for the agents, labels, team, and last ``toggle_status open``
with the bot token, which runs Chatwoot's bot handoff (metric, notification, auto-assignment).
The optional steps may fail without stopping the handoff; opening the conversation is always
attempted, and its failure is raised.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field

from chatwootai.chatwoot.client import ChatwootClient, ChatwootError

logger = logging.getLogger(__name__)

NOTE_TITLE = "Transferido para atendimento humano"


@dataclass(slots=True)
class HandoffResult:
    """Which optional steps of a handoff failed (the conversation was opened)."""

    failed_steps: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether every step succeeded."""
        return not self.failed_steps


def handoff_note(reason: str, summary: str, *, title: str = NOTE_TITLE) -> str:
    """The private note left for the agents who take the conversation over."""
    lines = [title, f"Motivo: {reason}"]
    if summary.strip():
        lines += ["", summary.strip()]
    return "\n".join(lines)


async def hand_off(
    client: ChatwootClient,
    account_id: int,
    conversation_id: int,
    *,
    reason: str,
    summary: str,
    customer_text: str | None = None,
    team_id: int | None = None,
    labels: Sequence[str] = (),
) -> HandoffResult:
    """Hand the conversation to humans; raise :class:`ChatwootError` if it could not be opened."""
    result = HandoffResult()
    where = f"{account_id}:{conversation_id}"

    async def attempt(step: str, call: Awaitable[object]) -> None:
        try:
            await call
        except ChatwootError as exc:
            result.failed_steps.append(step)
            logger.warning("handoff of %s: %s failed, continuing: %s", where, step, exc)

    if customer_text and customer_text.strip():
        await attempt(
            "customer_message", client.send_message(account_id, conversation_id, customer_text)
        )
    await attempt(
        "private_note",
        client.send_message(
            account_id, conversation_id, handoff_note(reason, summary), private=True
        ),
    )
    if labels:
        await attempt("labels", client.add_labels(account_id, conversation_id, labels))
    if team_id is not None:
        await attempt("team", client.assign_team(account_id, conversation_id, team_id))
    await client.toggle_status(account_id, conversation_id, "open")
    logger.info("handed %s to humans (%s)", where, reason)
    return result
