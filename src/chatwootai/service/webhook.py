"""``POST /webhooks/chatwoot``: authenticate, parse, filter, dedupe, store, enqueue; answer at once.

Chatwoot opens the conversation (hands it to humans) when a delivery fails or takes over 5 s, and
retries only 429/500; so nothing slow happens here. The signature (or a tenant's URL token) is
checked *before* the body is parsed (:mod:`chatwootai.service.webhook_auth`): an unsigned or
forged request costs one HMAC at most, whatever its size. A message, pause or resume the store
cannot take goes to the local spool (in arrival order) and still gets its 200; a message the
service could not keep at all (store and spool both failing, or an internal error) gets a 500,
which Chatwoot re-delivers: a 200 always means the message is kept. Bad input gets a 4xx with
the reason, never a 5xx.

Paths: ``/webhooks/chatwoot`` for any tenant, ``/webhooks/chatwoot/accounts/{account_id}`` and
``/webhooks/chatwoot/inboxes/{inbox_id}`` for one tenant (the secret is then known before the
body is read, and ``?token=`` may authenticate a Chatwoot that cannot sign).
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from chatwootai.chatwoot.filters import Decision, Verdict, decide
from chatwootai.chatwoot.payloads import (
    ConversationEvent,
    Event,
    MessageEvent,
    PayloadError,
    load_json,
    parse_event_data,
    redact,
)
from chatwootai.chatwoot.signature import DELIVERY_HEADER
from chatwootai.media.attachments import InboundAttachment
from chatwootai.service.body import BodyTooLargeError, read_body
from chatwootai.service.notices import accept_notice, notice_of
from chatwootai.service.spool import OwnershipChange, SpoolEntry
from chatwootai.service.turns import PendingMessage
from chatwootai.service.webhook_auth import TOKEN_PARAMETER, PathTenant, Rejection
from chatwootai.service.worker import channel_name
from chatwootai.store import keys

if TYPE_CHECKING:
    from chatwootai.service.context import Service

log = logging.getLogger(__name__)

router = APIRouter()

NO_ACCOUNT = "no_account"
"""Label of the ignored-messages counter for an event whose account is unknown."""

DEBUG_CHARS = 2000
"""Longest excerpt of a (redacted) delivery written to the debug log."""


def _reply(status: str, code: int = 200, **extra: Any) -> JSONResponse:
    return JSONResponse({"status": status, **extra}, status_code=code)


def event_ids(event: Event) -> tuple[int | None, int | None]:
    """The account and inbox ids a parsed delivery is keyed by (to pick its webhook secret)."""
    if isinstance(event, MessageEvent):
        return event.account_id_or_none, event.inbox_id
    if isinstance(event, ConversationEvent):
        return event.account_id, event.conversation.inbox_id
    return event.account_id, event.inbox_id


def pending_message(
    event: MessageEvent, delivery_id: str | None, conversation_key: str | None = None
) -> PendingMessage:
    """The pending-list entry of an incoming customer message (keyed by `conversation_key`)."""
    text = event.customer_text
    kind = "text"
    if not text:
        heard = [a.transcribed_text for a in event.attachments if a.transcribed_text]
        if heard:
            text = " ".join(t.strip() for t in heard if t and t.strip())
        elif event.attachments:
            kind = event.attachments[0].file_type or "file"
        else:
            kind = event.content_type if event.content_type != "text" else "empty"
    contact = event.contact
    return PendingMessage(
        message_id=event.id,
        conversation_key=conversation_key or event.conversation_key,
        account_id=event.account_id,
        display_id=event.display_id,
        inbox_id=event.inbox_id,
        channel=channel_name(event.conversation.channel),
        text=text,
        content_kind=kind,
        customer_id=None if contact.id is None else str(contact.id),
        customer_name=contact.name,
        customer_phone=contact.phone_number,
        customer_email=contact.email,
        customer_verified=event.conversation.identity_verified,
        delivery_id=delivery_id,
        received_at=time.time(),
        attachments=[InboundAttachment.model_validate(a.model_dump()) for a in event.attachments],
        bot_assigned=event.conversation.bot_assigned,
    )


@router.post("/webhooks/chatwoot")
async def receive_webhook(request: Request) -> JSONResponse:
    """Receive one Chatwoot delivery (any tenant; the secret is picked from its ids)."""
    return await _guarded(request, PathTenant())


@router.post("/webhooks/chatwoot/accounts/{account_id}")
async def receive_account_webhook(account_id: int, request: Request) -> JSONResponse:
    """Receive one delivery of this account (its secret, or ``?token=`` its URL token)."""
    return await _guarded(request, PathTenant(account_id=account_id))


@router.post("/webhooks/chatwoot/inboxes/{inbox_id}")
async def receive_inbox_webhook(inbox_id: int, request: Request) -> JSONResponse:
    """Receive one delivery of this inbox (its secret, or ``?token=`` its URL token)."""
    return await _guarded(request, PathTenant(inbox_id=inbox_id))


async def _guarded(request: Request, path: PathTenant) -> JSONResponse:
    service: Service = request.app.state.service
    service.metrics.received.inc()
    try:
        return await _receive(service, request, path)
    except Exception:
        # Not kept: a 500 makes Chatwoot deliver again (a 200 would lose the message).
        log.exception("webhook delivery failed inside the service; answered 500 to get it again")
        return _reply("error", 500, reason="internal error, logged; deliver again")


def _answers(event: MessageEvent) -> bool:
    """Whether the message answers the customer's earlier ones: a public reply (the bot's own,
    a human's, another bot's) or the bot's own private note (a handoff)."""
    if event.message_type != "outgoing":
        return False
    return not event.private or (event.sender is not None and event.sender.kind == "agent_bot")


def _source(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _rejected(service: Service, request: Request, rejection: Rejection) -> JSONResponse:
    level = logging.ERROR if rejection.config_error else logging.INFO
    service.rejections.reject(
        _source(request), rejection.label, rejection.code, rejection.reason, level=level
    )
    return _reply("rejected", rejection.code, reason=rejection.reason)


async def _receive(service: Service, request: Request, path: PathTenant) -> JSONResponse:
    settings = service.settings
    token = request.query_params.get(TOKEN_PARAMETER)
    try:
        service.auth.before_body(request.headers, token, path)
        try:
            raw = await read_body(request, settings.max_body_bytes)
        except BodyTooLargeError as exc:
            raise Rejection(str(exc), "too_large", 413) from None
        proof = service.auth.verify(raw, request.headers, token, path)
        try:
            data = load_json(raw.bytes())
        except PayloadError as exc:
            raise Rejection(str(exc), "payload", 400) from None
        try:
            event = parse_event_data(data)
        except PayloadError as exc:
            raise Rejection(str(exc), "payload", 422) from None
        account_id, inbox_id = service.auth.confirm(proof, path, *event_ids(event))
    except Rejection as rejection:
        return _rejected(service, request, rejection)
    if log.isEnabledFor(logging.DEBUG):
        log.debug("delivery: %s", json.dumps(redact(data), ensure_ascii=False)[:DEBUG_CHARS])
    decision = decide(event)
    service.other_bots.observe(event, decision)
    key = None
    if isinstance(event, MessageEvent | ConversationEvent) and account_id is not None:
        installation = service.credentials.installation(account_id, inbox_id)
        key = keys.conversation_key(account_id, event.conversation.id, installation)
    if key is not None and isinstance(event, MessageEvent) and _answers(event):
        service.answered(key, event.id)
    if decision.verdict is Verdict.IGNORE or key is None:
        ignored = decision.verdict is Verdict.IGNORE
        reason = decision.reason if ignored else "conversation without account id"
        service.metrics.ignored.labels(decision.label if ignored else NO_ACCOUNT).inc()
        log.debug("ignored %s: %s", event.event, reason)
        return _reply("ignored", reason=reason)
    if decision.verdict in (Verdict.PAUSE, Verdict.RESUME):
        return await _change_owner(service, key, decision)
    assert isinstance(event, MessageEvent)
    if decision.verdict is Verdict.NOTIFY:
        return await _notify(service, event, decision, key)
    message = pending_message(event, request.headers.get(DELIVERY_HEADER), key)
    if service.spool.holds(key):
        # Older deliveries of this conversation wait in the spool: this one queues behind them.
        return _spool(service, message, "earlier deliveries of the conversation are spooled")
    try:
        outcome = await service.accept(message)
    except Exception as exc:
        return _spool(service, message, str(exc))
    if outcome == "duplicate":
        service.metrics.deduplicated.inc()
        return _reply("duplicate")
    service.metrics.queued.inc()
    log.info("queued message %s of %s", message.message_id, key)
    return _reply("queued")


async def _change_owner(service: Service, key: str, decision: Decision) -> JSONResponse:
    """Pause or resume the conversation; spooled (in arrival order) when the store cannot."""
    change = OwnershipChange(
        conversation_key=key,
        paused=decision.verdict is Verdict.PAUSE,
        reason=decision.reason,
        received_at=time.time(),
    )
    done = "paused" if change.paused else "resumed"
    if service.spool.holds(key):
        return _spool(service, change, "earlier deliveries of the conversation are spooled")
    try:
        await service.change_owner(change)
    except Exception as exc:
        return _spool(service, change, str(exc))
    log.info("%s %s: %s", done, key, decision.reason)
    return _reply(done, reason=decision.reason)


async def _notify(
    service: Service, event: MessageEvent, decision: Decision, key: str
) -> JSONResponse:
    """Keep a notice to humans for the worker (see service/notices.py); 500 if it cannot."""
    notice = notice_of(event, decision, channel_name(event.conversation.channel), key)
    notices = service.runner.notices
    assert notices is not None  # built by build_service
    if service.spool.holds(notice.conversation_key):  # it must not overtake them: come back
        return _reply("unavailable", 500, reason="earlier deliveries are spooled; retry")
    try:
        outcome = await accept_notice(notices.waiting, service.queue, notice)
    except Exception as exc:
        log.error(
            "notice %s of %s not kept (%s); Chatwoot re-delivers",
            notice.kind,
            notice.conversation_key,
            exc,
        )
        return _reply("unavailable", 500, reason="store unavailable; retry")
    service.metrics.notices.labels(notice.kind, outcome).inc()
    if outcome == "duplicate":
        return _reply("duplicate")
    log.info("notice %s of %s queued: %s", notice.kind, notice.conversation_key, decision.reason)
    return _reply("notice_queued", reason=decision.reason)


def _spool(service: Service, entry: SpoolEntry, why: str) -> JSONResponse:
    """Keep an entry in the spool: 200 ``spooled``, or 500 when the disk fails too."""
    what = (
        f"message {entry.message_id}"
        if isinstance(entry, PendingMessage)
        else ("pause" if entry.paused else "resume")
    )
    key = entry.conversation_key
    try:
        service.spool.write(entry)
    except OSError as disk:
        # Neither the store nor the disk took it: a 500 makes Chatwoot re-deliver (3 tries,
        # 3 s apart) rather than the delivery being lost behind a 200.
        log.error("%s of %s lost: store (%s) and spool (%s) both failed", what, key, why, disk)
        return _reply("unavailable", 500, reason="store and spool unavailable; retry")
    service.metrics.spooled.inc()
    log.warning("%s of %s spooled: %s", what, key, why)
    return _reply("spooled")
