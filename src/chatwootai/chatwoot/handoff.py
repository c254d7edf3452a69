"""Handing a conversation to humans, in the order Chatwoot needs.

Customer message, private note for the agents, labels, team, the bot taken off as assignee of a
conversation assigned to it (else it stays the bot's, out of the humans' unassigned view), and
last ``toggle_status open`` with the bot token, which runs Chatwoot's bot handoff (metric,
notification, auto-assignment).
An optional step refused by Chatwoot (a 4xx) is skipped; one failing because Chatwoot is down
or rate-limiting stops the handoff (raised), to be resumed later. Opening the conversation is
always attempted, and its failure is raised.

Each step is named (:data:`STEPS`); a caller that records the steps it is told about
(``on_step``) and passes them back as ``done`` resumes an interrupted handoff where it stopped.
A caller may post the messages itself (``post``), e.g. to mark them and read them back after a
lost post.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field

from chatwootai.chatwoot.client import TRANSIENT, ChatwootClient, ChatwootError

logger = logging.getLogger(__name__)

NOTE_TITLE = "Transferido para atendimento humano"

STEPS = ("customer_message", "private_note", "labels", "team", "unassign", "status")
"""The steps of a handoff, in order."""

StepDone = Callable[[str], Awaitable[object]]
Poster = Callable[[str, str, bool], Awaitable[object]]
"""Posts a handoff message: ``post(step, content, private)``."""


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
    unassign_bot: bool = False,
    done: Collection[str] = (),
    on_step: StepDone | None = None,
    post: Poster | None = None,
    open_now: bool = True,
) -> HandoffResult:
    """Hand the conversation to humans; raise :class:`ChatwootError` if it could not be opened.

    Steps in `done` are skipped; `on_step` is awaited after each step (done, or refused and
    skipped). A transient failure of any step is raised (the handoff is resumed later). Without
    `open_now` only the messages and labels are left: the team and the opening come later
    (:func:`open_conversation`, when the team is back). `unassign_bot` clears the assignee
    first (a conversation assigned to the bot).
    """
    result = HandoffResult()
    where = f"{account_id}:{conversation_id}"

    async def finished(step: str) -> None:
        if on_step is not None:
            await on_step(step)

    async def attempt(step: str, call: Callable[[], Awaitable[object]]) -> None:
        if step in done:
            return
        try:
            await call()
        except TRANSIENT:
            raise
        except ChatwootError as exc:
            result.failed_steps.append(step)
            logger.warning("handoff of %s: %s failed, continuing: %s", where, step, exc)
        await finished(step)

    def message(step: str, content: str, private: bool) -> Callable[[], Awaitable[object]]:
        async def call() -> None:
            if post is not None:
                await post(step, content, private)
            else:
                await client.send_message(account_id, conversation_id, content, private=private)

        return call

    if customer_text and customer_text.strip():
        await attempt("customer_message", message("customer_message", customer_text, False))
    await attempt("private_note", message("private_note", handoff_note(reason, summary), True))
    if labels:
        await attempt("labels", lambda: client.add_labels(account_id, conversation_id, labels))
    if not open_now:
        logger.info("left the handoff of %s for the team's return (%s)", where, reason)
        return result
    if team_id is not None:
        await attempt("team", lambda: client.assign_team(account_id, conversation_id, team_id))
    if unassign_bot:
        await attempt("unassign", lambda: client.unassign(account_id, conversation_id))
    if "status" not in done:
        await client.toggle_status(account_id, conversation_id, "open")
        await finished("status")
    logger.info("handed %s to humans (%s)", where, reason)
    return result


async def open_conversation(
    client: ChatwootClient,
    account_id: int,
    conversation_id: int,
    *,
    team_id: int | None = None,
    unassign_bot: bool = False,
) -> None:
    """The last steps of a deferred handoff: the team (if any), the bot off as assignee (if it
    is), then ``toggle_status open``.

    A refused team assignment or unassignment is logged and skipped; a failure to open is raised.
    """
    if team_id is not None:
        try:
            await client.assign_team(account_id, conversation_id, team_id)
        except TRANSIENT:
            raise
        except ChatwootError as exc:
            logger.warning("team of %s:%s not assigned: %s", account_id, conversation_id, exc)
    if unassign_bot:
        try:
            await client.unassign(account_id, conversation_id)
        except TRANSIENT:
            raise
        except ChatwootError as exc:
            logger.warning("bot left assigned to %s:%s: %s", account_id, conversation_id, exc)
    await client.toggle_status(account_id, conversation_id, "open")
