"""Sending a turn's answer to Chatwoot: typing, crew label, reply parts and human handoff.

Each step of a turn's delivery is recorded under its delivery id (``turn:sent``) once done, and a
re-run (after a crash, a timeout or a deferral) skips the recorded steps. Posting a message is
written ahead: before the ``POST`` the step is recorded as being tried, with its *mark* (kept by
Chatwoot in the message's ``content_attributes``) and the id of the newest message known before
it. A step found being tried is not posted again until the conversation is read back
(:meth:`chatwootai.chatwoot.client.ChatwootClient.read_back`) and that is conclusive:

* the message with the mark is there: it was posted, the step is done;
* the newest message is no newer than the one known before the post, and the post's request can
  no longer be in progress (it failed with an answer, or three request timeouts have passed):
  it was not posted, it is posted now;
* otherwise (another message came after it, so it cannot be seen) it is not posted again: the
  step is counted as unconfirmed and logged.

Chatwoot being down, slow or rate-limiting makes a delivery stop at the failing step and raise
:class:`~chatwootai.service.delivery.DeliveryPending`; it resumes there on the next attempt. A
handoff records each of its steps (customer text, private note, labels, team, status), so an
attempt resumes it where it stopped. Labels are merged, so adding one twice is harmless.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, Field, ValidationError

from chatwootai.chatwoot.client import (
    TRANSIENT,
    ChatwootClient,
    ChatwootDeliveryUnknown,
    ChatwootError,
    ChatwootRateLimited,
)
from chatwootai.chatwoot.handoff import hand_off
from chatwootai.chatwoot.split import split_reply
from chatwootai.config.schema import ChatwootOptions
from chatwootai.media.attachments import OutboundAttachment
from chatwootai.media.errors import MediaError
from chatwootai.media.outbound import PER_REPLY, FilePart, OutboundFiles, attachment_messages
from chatwootai.service.credentials import ApiAccess, Credentials
from chatwootai.service.delivery import DeliveryPending
from chatwootai.service.metrics import Metrics
from chatwootai.store import keys
from chatwootai.store.base import Store
from chatwootai.turn import IncomingMessage, TurnOutcome

log = logging.getLogger(__name__)

SENT_TTL_S = 86400
HANDOFF_STEP = "handoff:"
"""Prefix of the recorded handoff sub-steps (``handoff:private_note``...)."""
SUMMARY_CHARS = 500


class PlannedReply(BaseModel):
    """What a turn decided to say and do, kept so a re-run after a crash does not think twice."""

    reply: str
    domain: str
    crew: str
    route_method: str = ""
    handoff_reason: str | None = None
    handoff_by: str = ""
    handoff_summary: str = ""
    handoff_kind: str = ""
    """Why, as a code (``out_of_hours``); empty: an ordinary handoff."""
    handoff_opens_at: float | None = None
    """Outside hours with ``bot_until_open``: when the conversation is opened (epoch s); the
    handoff leaves only its messages and labels now. None: opened now."""
    resolve: bool = False
    """Resolve the conversation after the reply (an agent's resolve tool)."""
    fallback: bool = False
    offline: bool = False
    planned_at: float = 0.0
    """When the plan was made (epoch seconds)."""
    delivery_id: str = ""
    """Id under which its delivery steps are recorded (default: the turn id)."""
    attachments: list[OutboundAttachment] = Field(default_factory=list)
    """Files posted after the reply's text (from the tools the turn called)."""
    heard: str = ""
    """Transcripts of the customer's voice notes, for the handoff note."""
    notes: list[str] = Field(default_factory=list)
    """Private notes posted first (transcripts; maybe already posted while thinking)."""
    held_until: float | None = None
    """Nothing to deliver yet: the flood limit holds the turn until then (epoch seconds)."""

    @classmethod
    def from_outcome(
        cls, outcome: TurnOutcome, incoming: IncomingMessage | None = None
    ) -> PlannedReply:
        """The plan of a pipeline outcome (and of the turn's prepared message)."""
        handoff = outcome.handoff
        attachments: list[OutboundAttachment] = []
        if not outcome.fallback:
            for call in outcome.tool_calls:
                if call.ok and call.result is not None:
                    attachments += call.result.attachments
        return cls(
            reply=outcome.reply,
            domain=outcome.domain,
            crew=outcome.crew,
            route_method=outcome.route_method,
            handoff_reason=handoff.reason if handoff else None,
            handoff_by=handoff.requested_by if handoff else "",
            handoff_summary=handoff.summary if handoff else "",
            handoff_kind=handoff.kind if handoff else "",
            handoff_opens_at=handoff.opens_at if handoff else None,
            resolve=outcome.resolved and handoff is None,
            fallback=outcome.fallback,
            offline=outcome.offline,
            planned_at=time.time(),
            attachments=list(dict.fromkeys(attachments))[:PER_REPLY],
            heard=incoming.heard if incoming is not None else "",
            notes=list(incoming.notes) if incoming is not None else [],
            held_until=outcome.held_until,
        )


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """The Chatwoot conversation a turn answers."""

    conversation_key: str
    account_id: int
    display_id: int
    inbox_id: int | None
    channel: str
    bot_assigned: bool = False
    """Assigned to the bot: a handoff also takes the bot off as assignee."""


class Attempt(BaseModel):
    """A post being tried: its mark, the newest message known before it, and until when
    Chatwoot may still be saving it."""

    mark: str
    after: int
    settle_until: float


class SentSteps(BaseModel):
    """The record of a delivery: steps done, posts being tried, the last message posted."""

    done: list[str] = Field(default_factory=list)
    trying: dict[str, Attempt] = Field(default_factory=dict)
    last_id: int = 0


ClientFactory = Callable[[ApiAccess], ChatwootClient]


def default_client_factory(access: ApiAccess) -> ChatwootClient:
    """A Chatwoot client for the access (bot token)."""
    return ChatwootClient(access.base_url, access.token)


def _pending(exc: ChatwootError) -> DeliveryPending:
    """The deferral of a delivery that met a transient Chatwoot failure."""
    if isinstance(exc, ChatwootRateLimited):
        return DeliveryPending(str(exc), kind="rate_limited", retry_in_s=exc.retry_after)
    return DeliveryPending(str(exc), kind="unavailable")


class Replier:
    """Posts replies, labels and handoffs through the Chatwoot API, once per turn step."""

    def __init__(
        self,
        store: Store,
        credentials: Credentials,
        *,
        client_factory: ClientFactory = default_client_factory,
        metrics: Metrics | None = None,
        files: OutboundFiles | None = None,
    ) -> None:
        self.store = store
        self.credentials = credentials
        self.client_factory = client_factory
        self.metrics = metrics
        self.files = files or OutboundFiles()
        """Loads the files a reply carries (a domain's files, catalog image URLs)."""
        self._clients: dict[ApiAccess, ChatwootClient] = {}

    def client_for(self, target: ReplyTarget) -> ChatwootClient:
        """The (cached) client for the target's account and inbox."""
        access = self.credentials.api_access(target.account_id, target.inbox_id)
        client = self._clients.get(access)
        if client is None:
            client = self._clients[access] = self.client_factory(access)
        return client

    async def typing(self, target: ReplyTarget, on: bool) -> None:
        """Show or hide the typing indicator; failures are only logged."""
        try:
            await self.client_for(target).toggle_typing(target.account_id, target.display_id, on)
        except Exception as exc:  # best effort: typing never fails a turn
            log.debug("typing %s in %s failed: %s", on, target.conversation_key, exc)

    async def _load(self, target: ReplyTarget, delivery_id: str) -> SentSteps:
        raw = await self.store.get(keys.turn_sent(target.conversation_key, delivery_id))
        if raw is None:
            return SentSteps()
        try:
            steps = json.loads(raw)
        except ValueError:
            return SentSteps()
        if isinstance(steps, list):  # the record of earlier versions: the steps done
            return SentSteps(done=[str(step) for step in steps])
        try:
            return SentSteps.model_validate(steps)
        except ValidationError:
            return SentSteps()

    async def _save(self, target: ReplyTarget, delivery_id: str, record: SentSteps) -> None:
        key = keys.turn_sent(target.conversation_key, delivery_id)
        await self.store.set(key, record.model_dump_json(), SENT_TTL_S)

    async def deliver(
        self,
        target: ReplyTarget,
        plan: PlannedReply,
        options: ChatwootOptions,
        turn_id: str,
        *,
        customer_text: str = "",
        first_attempt: bool = False,
        after_id: int = 0,
    ) -> list[str]:
        """Post the plan's reply parts, crew label and handoff; the steps done by this call.

        `turn_id` is the delivery id its steps are recorded under. With `first_attempt` (the plan
        was just made, so nothing of it can have been sent) the record is not read. `after_id` is
        the newest message the turn knows of (its last customer message). Raises
        :class:`DeliveryPending` when Chatwoot cannot take it now, :class:`ChatwootError` when
        Chatwoot refuses it.
        """
        client = self.client_for(target)
        fresh = first_attempt and not plan.notes  # notes may have been posted while thinking
        record = SentSteps() if fresh else await self._load(target, turn_id)
        performed: list[str] = []

        async def mark(name: str) -> None:
            record.done.append(name)
            performed.append(name)
            await self._save(target, turn_id, record)

        async def post(
            name: str, content: str, private: bool, files: list[FilePart] | None = None
        ) -> None:
            await self._post(
                client, target, turn_id, record, name, content, private, after_id, files
            )
            performed.append(name)

        for index, note in enumerate(plan.notes):
            if f"note:{index}" not in record.done:
                await post(f"note:{index}", note, True)
        label = options.crew_labels.get(plan.crew)
        if label and "label" not in record.done:
            try:
                await client.add_labels(target.account_id, target.display_id, [label])
            except TRANSIENT as exc:
                raise _pending(exc) from exc
            except ChatwootError as exc:
                log.warning("crew label on %s failed: %s", target.conversation_key, exc)
            await mark("label")
        for index, part in enumerate(split_reply(plan.reply, target.channel)):
            name = f"reply:{index}"
            if name not in record.done:
                await post(name, part, False)
        for index, (caption, group) in enumerate(attachment_messages(plan.attachments)):
            name = f"files:{index}"
            if name in record.done:
                continue
            files = await self._files(target, group)
            if files:
                await post(name, caption, False, files)
            else:
                await mark(name)
        if plan.handoff_reason is not None and "handoff" not in record.done:
            summary = _summary(plan, customer_text)

            async def handoff_step(name: str) -> None:
                if f"{HANDOFF_STEP}{name}" not in record.done:
                    await mark(f"{HANDOFF_STEP}{name}")

            async def handoff_post(step: str, content: str, private: bool) -> None:
                await post(f"{HANDOFF_STEP}{step}", content, private)

            done = [s.removeprefix(HANDOFF_STEP) for s in record.done if s.startswith(HANDOFF_STEP)]
            try:
                await hand_off(
                    client,
                    target.account_id,
                    target.display_id,
                    reason=plan.handoff_reason,
                    summary=summary,
                    customer_text=None if plan.reply.strip() else options.texts.handoff,
                    team_id=options.handoff_team_id,
                    labels=options.handoff_labels,
                    unassign_bot=target.bot_assigned,
                    done=done,
                    on_step=handoff_step,
                    post=handoff_post,
                    open_now=plan.handoff_opens_at is None,
                )
            except TRANSIENT as exc:
                raise _pending(exc) from exc
            await mark("handoff")
        if plan.resolve and plan.handoff_reason is None and "resolve" not in record.done:
            try:
                await client.toggle_status(target.account_id, target.display_id, "resolved")
            except TRANSIENT as exc:
                raise _pending(exc) from exc
            except ChatwootError as exc:  # the reply went out; the conversation stays as it is
                log.warning("resolving %s refused: %s", target.conversation_key, exc)
            await mark("resolve")
        return performed

    async def post_once(
        self,
        target: ReplyTarget,
        delivery_id: str,
        step: str,
        content: str,
        *,
        private: bool,
        after_id: int = 0,
    ) -> None:
        """Post one message of delivery `delivery_id` (step `step`) at most once, as replies are.

        `after_id` is the newest message known before it. Raises :class:`DeliveryPending` when
        Chatwoot cannot take it now (or the outcome of an earlier post is not yet known),
        :class:`ChatwootError` when Chatwoot refuses it.
        """
        record = await self._load(target, delivery_id)
        if step in record.done:
            return
        client = self.client_for(target)
        await self._post(client, target, delivery_id, record, step, content, private, after_id)

    async def _files(self, target: ReplyTarget, group: list[OutboundAttachment]) -> list[FilePart]:
        """The files of one attachment message; those that cannot be loaded are left out."""
        loaded: list[FilePart] = []
        for attachment in group:
            try:
                loaded.append(await self.files.load(attachment))
            except MediaError as exc:
                log.warning(
                    "file %s of the reply in %s not sent: %s",
                    attachment.name,
                    target.conversation_key,
                    exc,
                )
                if self.metrics is not None:
                    self.metrics.reply_attachments.labels("failed").inc()
        return loaded

    async def _post(
        self,
        client: ChatwootClient,
        target: ReplyTarget,
        delivery_id: str,
        record: SentSteps,
        step: str,
        content: str,
        private: bool,
        after_id: int,
        files: list[FilePart] | None = None,
    ) -> None:
        """Post one message of a delivery, written ahead and never twice (module docstring)."""
        where = target.conversation_key
        tried = record.trying.get(step)
        if tried is not None:
            try:
                seen = await client.read_back(target.account_id, target.display_id, tried.mark)
            except TRANSIENT as exc:
                raise _pending(exc) from exc
            if seen.found:
                log.info("message %s of %s had been posted; not posting it again", step, where)
                self._posted(record, step, seen.message)
                await self._save(target, delivery_id, record)
                return
            if not seen.absent_after(tried.after):
                log.warning(
                    "message %s of %s may have been posted (a lost post, and a later message "
                    "hides it): not posting it again",
                    step,
                    where,
                )
                if self.metrics is not None:
                    self.metrics.replies_unconfirmed.inc()
                self._posted(record, step, None)
                await self._save(target, delivery_id, record)
                return
            left = tried.settle_until - time.time()
            if left > 0:
                raise DeliveryPending(
                    f"message {step} may still be saved by Chatwoot; read back in {left:.1f} s",
                    kind="unconfirmed",
                    retry_in_s=left,
                )
            log.info("message %s of %s was not posted; posting it again", step, where)
        mark = f"{delivery_id}:{step}"
        attempt = Attempt(
            mark=mark,
            after=max(after_id, record.last_id),
            settle_until=time.time() + client.settle_s,
        )
        record.trying[step] = attempt  # written ahead: a re-run reads back before posting
        await self._save(target, delivery_id, record)
        try:
            message = await client.send_message(
                target.account_id,
                target.display_id,
                content,
                private=private,
                echo_id=mark,
                mark=mark,
                files=files,
            )
        except ChatwootDeliveryUnknown as exc:
            settle = client.settle_s if exc.settle else 0.0
            attempt.settle_until = time.time() + settle
            await self._save(target, delivery_id, record)
            raise DeliveryPending(
                f"message {step}: {exc.reason}",
                kind="unconfirmed",
                retry_in_s=settle or None,
            ) from exc
        except ChatwootError as exc:  # not sent: refused (raised as is), or to try again later
            del record.trying[step]
            await self._save(target, delivery_id, record)
            if isinstance(exc, TRANSIENT):
                raise _pending(exc) from exc
            raise
        self._posted(record, step, message)
        await self._save(target, delivery_id, record)
        if files and self.metrics is not None:
            self.metrics.reply_attachments.labels("sent").inc(len(files))

    @staticmethod
    def _posted(record: SentSteps, step: str, message: dict[str, object] | None) -> None:
        record.trying.pop(step, None)
        record.done.append(step)
        ident = (message or {}).get("id")
        if isinstance(ident, int):
            record.last_id = max(record.last_id, ident)

    async def close(self) -> None:
        """Close every client's connections."""
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


def _summary(plan: PlannedReply, customer_text: str) -> str:
    lines = [f"Domínio: {plan.domain} · equipe: {plan.crew}"]
    if plan.handoff_by:
        lines.append(f"Pedido por: {plan.handoff_by}")
    if plan.handoff_summary.strip():
        lines.append(plan.handoff_summary.strip())
    heard = plan.heard.strip()
    if heard:
        if len(heard) > SUMMARY_CHARS:
            heard = heard[: SUMMARY_CHARS - 1] + "…"
        lines.append(f"Transcrição do áudio do cliente: {heard}")
    text = customer_text.strip()
    if text:
        if len(text) > SUMMARY_CHARS:
            text = text[: SUMMARY_CHARS - 1] + "…"
        lines.append(f"Cliente: {text}")
    return "\n".join(lines)
