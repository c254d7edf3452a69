"""Notices to humans: handing a conversation to people when the bot must not answer it itself.

Two Chatwoot behaviours need a person and give the bot no turn to take:

* ``customer_wrote_to_human``: the customer wrote to a ``pending`` conversation a human agent is
  assigned to. A resolved conversation the customer writes to again goes back to ``pending`` in a
  bot inbox but keeps its assignee, so without a notice nobody sees it.
* ``delivery_failed``: the channel refused one of the bot's replies (WhatsApp's 24-hour window, a
  provider error); Chatwoot says so only with a ``message_updated`` carrying
  ``content_attributes.external_error``.

The webhook turns such an event into a :class:`Notice`, taken once per (kind, message id) of the
conversation whatever Chatwoot re-sends, keeps it in the conversation's notice list in the store
and enqueues the conversation's turn job: no Chatwoot call happens in the webhook request. The
worker, holding the conversation's turn lock (so one at a time per conversation, and never during
a turn), performs the conversation's notices before any turn (:meth:`NoticeDesk.perform`): one
private note saying what happened (the customer's words, or the failed reply and the channel's
error), the domain's handoff labels and team for a failed delivery, and ``toggle_status open``
with the bot token (Chatwoot's bot handoff: the conversation shows in the agents' Open view and
notifications fire). Only once the conversation is open is the bot's pause recorded and are the
notices removed. The steps done are recorded, so a retry after a failure or a crash skips them;
Chatwoot being unreachable raises, and the job is retried (and, past its attempts, re-enqueued by
the worker's rescan) until the notice is done or expires. A notice Chatwoot refuses for good (the
conversation is gone, the token is wrong) is dropped with an error log.

A notice the store cannot take gets a 500: Chatwoot re-delivers it, and if the store is still
down, Chatwoot's own handling of a failed bot delivery opens the conversation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel, ValidationError

from chatwootai.chatwoot.client import ChatwootError, ChatwootRateLimited, ChatwootUnavailable
from chatwootai.chatwoot.filters import Decision
from chatwootai.chatwoot.handoff import hand_off
from chatwootai.chatwoot.payloads import MessageEvent
from chatwootai.service.credentials import CredentialsError
from chatwootai.service.delivery import DeliveryPending
from chatwootai.service.metrics import Metrics
from chatwootai.service.pipeline import Pipeline
from chatwootai.service.queue import ArqTurnQueue, TurnQueue
from chatwootai.service.replies import Replier, ReplyTarget
from chatwootai.store import keys
from chatwootai.store.base import Store

log = logging.getLogger(__name__)

NOTICE_TTL_S = 7 * 86400
"""A notice list not touched for this long is dropped (as a pending list is)."""
SEEN_TTL_S = 7 * 86400
"""How long a (kind, message id) is remembered as taken."""
STEPS_TTL_S = 86400
EXCERPT_CHARS = 300
"""Longest excerpt of a message (or of an error) quoted in a note."""

NoticeKind = Literal["customer_wrote_to_human", "delivery_failed"]
OUTCOMES = ("queued", "duplicate", "done", "dropped")
"""Values of the ``outcome`` label of ``chatwootai_notices_total``."""


class Notice(BaseModel):
    """Something a human must see in a conversation, kept until it reached Chatwoot."""

    kind: NoticeKind
    message_id: int
    """The customer's message, or the bot's reply that failed."""
    conversation_key: str
    account_id: int
    display_id: int
    inbox_id: int | None = None
    channel: str = "api"
    excerpt: str = ""
    """The customer's words, or the text of the reply that failed (shortened)."""
    error: str = ""
    """What the channel answered (``external_error``), shortened."""
    assignee: str | None = None
    """The name of the human agent assigned to the conversation, if known."""
    received_at: float = 0.0


def shorten(text: str, limit: int = EXCERPT_CHARS) -> str:
    """`text` on one line, cut at `limit` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def notice_of(
    event: MessageEvent, decision: Decision, channel: str, conversation_key: str | None = None
) -> Notice:
    """The notice of a message event the filter decided to notify about.

    `conversation_key` is the key the webhook keys the conversation by (the event's own key by
    default), so the notice is done by the same conversation's jobs, under the same lock.
    """
    kind: NoticeKind = (
        "delivery_failed" if decision.label == "delivery_failed" else "customer_wrote_to_human"
    )
    conversation = event.conversation
    text = event.customer_text if kind != "delivery_failed" else (event.content or "")
    if not text.strip() and event.attachments:
        text = "(" + ", ".join(a.file_type or "file" for a in event.attachments) + ")"
    return Notice(
        kind=kind,
        message_id=event.id,
        conversation_key=conversation_key or event.conversation_key,
        account_id=event.account_id,
        display_id=event.display_id,
        inbox_id=event.inbox_id,
        channel=channel,
        excerpt=shorten(text),
        error=shorten(event.external_error or ""),
        assignee=conversation.assignee_name if conversation.human_assigned else None,
        received_at=time.time(),
    )


def batch_id(notices: Sequence[Notice]) -> str:
    """A stable id of a batch of notices: the same notices give the same id on a retry."""
    names = sorted(f"{n.kind}:{n.message_id}" for n in notices)
    return hashlib.sha256(",".join(names).encode()).hexdigest()[:20]


class NoticeList:
    """Each conversation's notices waiting to be done, in the store, and which were taken."""

    def __init__(self, store: Store, *, ttl: int = NOTICE_TTL_S) -> None:
        self.store = store
        self.ttl = ttl

    async def first_time(self, notice: Notice) -> bool:
        """True the first time this (kind, message id) of the conversation is taken."""
        key = keys.notice_seen(notice.conversation_key, notice.kind, notice.message_id)
        return await self.store.set(key, "1", SEEN_TTL_S, nx=True)

    async def forget(self, notice: Notice) -> None:
        """Unmark a notice that could not be kept, so a re-delivery is taken."""
        key = keys.notice_seen(notice.conversation_key, notice.kind, notice.message_id)
        await self.store.delete(key)

    async def push(self, notice: Notice) -> None:
        """Append a notice to its conversation's list."""
        key = keys.pending_notices(notice.conversation_key)
        await self.store.list_push(key, notice.model_dump_json(), self.ttl)

    async def peek(self, conversation_key: str) -> list[Notice]:
        """The conversation's notices, oldest first (unreadable entries are skipped)."""
        notices: list[Notice] = []
        for raw in await self.store.list_range(keys.pending_notices(conversation_key)):
            try:
                notices.append(Notice.model_validate_json(raw))
            except ValidationError:
                log.error("unreadable notice of %s dropped", conversation_key)
                await self.store.list_remove(keys.pending_notices(conversation_key), [raw])
        return notices

    async def remove(self, conversation_key: str, notices: Sequence[Notice]) -> None:
        """Remove done notices (every copy of each)."""
        done = {(n.kind, n.message_id) for n in notices}
        key = keys.pending_notices(conversation_key)
        gone = []
        for raw in await self.store.list_range(key):
            try:
                item = json.loads(raw)
                if (item["kind"], int(item["message_id"])) in done:
                    gone.append(raw)
            except (ValueError, KeyError, TypeError):
                continue
        await self.store.list_remove(key, gone)

    async def conversations(self) -> list[str]:
        """Conversation keys with notices waiting."""
        prefix = keys.pending_notices("")
        return [key[len(prefix) :] for key in await self.store.scan(prefix + "*")]


async def accept_notice(notices: NoticeList, queue: TurnQueue, notice: Notice) -> str:
    """Keep a notice and enqueue its conversation's job: ``queued`` or ``duplicate``.

    Raises when the store cannot keep it (the caller answers 500: Chatwoot re-delivers).
    """
    if not await notices.first_time(notice):
        return "duplicate"
    try:
        await notices.push(notice)
    except Exception:
        try:
            await notices.forget(notice)
        except Exception as exc:
            log.debug("notice mark of %s not removed: %s", notice.conversation_key, exc)
        raise
    try:
        await queue.enqueue(notice.conversation_key, notice.message_id, 0)
    except Exception as exc:  # kept in the store: the worker's rescan enqueues it
        log.warning("notice of %s kept, its job not enqueued: %s", notice.conversation_key, exc)
    return "queued"


@dataclass(frozen=True, slots=True)
class _Steps:
    done: list[str]
    started: float
    first: bool


@dataclass(slots=True)
class NoticeDesk:
    """Performs a conversation's notices in Chatwoot (inside its turn lock, see module doc)."""

    waiting: NoticeList
    system: Pipeline
    replier: Replier
    metrics: Metrics

    async def around(self, conversation_key: str, turn: Callable[[str], Awaitable[str]]) -> str:
        """Run a turn between the conversation's notices: the waiting ones first (a handoff
        silences the turn), then those that came while it ran (their own job found it busy)."""
        await self.perform(conversation_key)
        outcome = await turn(conversation_key)
        await self.perform(conversation_key)
        return outcome

    async def perform(self, conversation_key: str) -> int:
        """Do the conversation's waiting notices; how many were done (or dropped for good).

        Raises :class:`ChatwootUnavailable` (or rate limiting) when Chatwoot could not be reached:
        the notices stay, and the job is retried.
        """
        notices = await self.waiting.peek(conversation_key)
        if not notices:
            return 0
        latest = max(notices, key=lambda n: n.received_at)
        target = ReplyTarget(
            conversation_key=conversation_key,
            account_id=latest.account_id,
            display_id=latest.display_id,
            inbox_id=latest.inbox_id,
            channel=latest.channel,
        )
        try:
            client = self.replier.client_for(target)
        except CredentialsError as exc:
            log.error("%s; %d notices of %s dropped", exc, len(notices), conversation_key)
            return await self._finish(conversation_key, notices, "dropped")
        reason, summary = describe(notices)
        team_id, labels = await self._handoff_options(target, notices)
        batch = batch_id(notices)
        steps = await self._steps(conversation_key, batch)

        async def step_done(name: str) -> None:
            steps.done.append(name)
            await self._record(conversation_key, batch, steps)

        async def post(step: str, content: str, private: bool) -> None:
            await self.replier.post_once(target, f"notice-{batch}", step, content, private=private)

        try:
            await hand_off(
                client,
                target.account_id,
                target.display_id,
                reason=reason,
                summary=summary,
                team_id=team_id,
                labels=labels,
                done=list(steps.done),
                on_step=step_done,
                post=post,
            )
        except DeliveryPending as pending:  # retried by the turn job, then by the rescan
            raise ChatwootUnavailable(
                "POST", f"conversation {conversation_key}", None, pending.reason
            ) from pending
        except (ChatwootUnavailable, ChatwootRateLimited):
            raise
        except ChatwootError as exc:
            log.error(
                "notices of %s dropped: Chatwoot refused to open the conversation: %s",
                conversation_key,
                exc,
            )
            return await self._finish(conversation_key, notices, "dropped")
        await self.system.conversations.pause(conversation_key, f"handoff: {reason}")
        log.info("handed %s to humans: %s", conversation_key, reason)
        return await self._finish(conversation_key, notices, "done", batch)

    async def _finish(
        self, key: str, notices: list[Notice], outcome: str, batch: str | None = None
    ) -> int:
        await self.waiting.remove(key, notices)
        if batch is not None:
            await self.system.store.delete(keys.notice_steps(key, batch))
        for notice in notices:
            self.metrics.notices.labels(notice.kind, outcome).inc()
        return len(notices)

    async def _steps(self, key: str, batch: str) -> _Steps:
        raw = await self.system.store.get(keys.notice_steps(key, batch))
        if raw is not None:
            try:
                record = json.loads(raw)
                return _Steps([str(s) for s in record["done"]], float(record["started"]), False)
            except (ValueError, KeyError, TypeError):
                pass
        steps = _Steps([], time.time(), True)
        await self._record(key, batch, steps)
        return steps

    async def _record(self, key: str, batch: str, steps: _Steps) -> None:
        record = json.dumps({"done": steps.done, "started": steps.started})
        await self.system.store.set(keys.notice_steps(key, batch), record, STEPS_TTL_S)

    async def _handoff_options(
        self, target: ReplyTarget, notices: Sequence[Notice]
    ) -> tuple[int | None, list[str]]:
        """The domain's handoff team and labels, for a failed delivery (a plain handoff)."""
        if not any(n.kind == "delivery_failed" for n in notices):
            return None, []  # the conversation has its human already: keep team and labels
        try:
            domain = await self.system.domains.get_domain_for_conversation(
                target.conversation_key, account_id=target.account_id, inbox_id=target.inbox_id
            )
            options = (await self.system.registry.get_domain_config(domain)).chatwoot
        except Exception as exc:
            log.warning("no handoff options for %s: %s", target.conversation_key, exc)
            return None, []
        return options.handoff_team_id, list(options.handoff_labels)


def describe(notices: Sequence[Notice]) -> tuple[str, str]:
    """The reason and the summary of the private note of a batch of notices (Portuguese)."""
    ordered = sorted(notices, key=lambda n: n.message_id)
    wrote = [n for n in ordered if n.kind == "customer_wrote_to_human"]
    failed = [n for n in ordered if n.kind == "delivery_failed"]
    reasons: list[str] = []
    lines: list[str] = []
    if wrote:
        owner = next((n.assignee for n in reversed(wrote) if n.assignee), None)
        reasons.append(
            "o cliente escreveu de novo numa conversa atribuída a "
            + (owner or "um agente")
            + "; ela foi aberta para atendimento humano"
        )
        for notice in wrote:
            lines.append(
                f"Cliente (mensagem {notice.message_id}): {notice.excerpt or '(sem texto)'}"
            )
    if failed:
        reasons.append("a resposta do bot não foi entregue ao cliente")
        for notice in failed:
            lines.append(
                f"Mensagem {notice.message_id} não entregue: {notice.excerpt or '(sem texto)'}"
            )
            lines.append(f"Erro do canal: {notice.error or '(não informado)'}")
    return "; ".join(reasons), "\n".join(lines)


class TurnHolds(Protocol):
    """Tells whether a turn of a conversation holds it now (the turn lock or lease)."""

    async def held(self, conversation_key: str) -> bool:
        """Whether a turn of the conversation is running."""
        ...


async def rescan_notices(
    notices: NoticeList, lock: TurnHolds, queue: ArqTurnQueue, *, every_s: float, now: float
) -> list[str]:
    """Re-enqueue the job of conversations whose notices wait with no turn running and no job."""
    requeued: list[str] = []
    for key in await notices.conversations():
        waiting = await notices.peek(key)
        if not waiting or max(n.received_at for n in waiting) > now - every_s:
            continue
        ids = [n.message_id for n in waiting]
        if await lock.held(key) or await queue.has_job(key, ids):
            continue
        await queue.enqueue(key, max(ids), 0)
        requeued.append(key)
    if requeued:
        log.warning("re-enqueued the notices of %d conversations", len(requeued))
    return requeued
