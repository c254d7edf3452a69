"""``POST /webhooks/chatwoot``: parse, verify, filter, dedupe, store, enqueue; answer at once.

Chatwoot opens the conversation (hands it to humans) when a delivery fails or takes over 5 s, and
retries only 429/500; so nothing slow happens here, and no failure of our own becomes a 5xx: a
message, pause or resume the store cannot take goes to the local spool (in arrival order) and
still gets its 200. Only when the spool cannot write it either is the answer a 500, which
Chatwoot re-delivers.
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
    parse_event_data,
    redact,
)
from chatwootai.chatwoot.signature import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    verify_signature,
)
from chatwootai.service.credentials import CredentialsError
from chatwootai.service.notices import accept_notice, notice_of
from chatwootai.service.spool import OwnershipChange, SpoolEntry
from chatwootai.service.turns import PendingMessage
from chatwootai.service.worker import channel_name

if TYPE_CHECKING:
    from chatwootai.service.context import Service

log = logging.getLogger(__name__)

router = APIRouter()

NO_ACCOUNT = "no_account"
"""Label of the ignored-messages counter for an event whose account is unknown."""

DEBUG_CHARS = 2000
"""Longest excerpt of a (redacted) delivery written to the debug log."""


class BodyTooLargeError(Exception):
    """The request body is above ``max_body_bytes``."""


def _reply(status: str, code: int = 200, **extra: Any) -> JSONResponse:
    return JSONResponse({"status": status, **extra}, status_code=code)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than `limit` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(f"body of {declared} bytes is above the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(f"body is above the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _ids(event: Event | None) -> tuple[int | None, int | None]:
    """The account and inbox ids a parsed delivery is keyed by (to pick its webhook secret)."""
    if isinstance(event, MessageEvent):
        return event.account_id_or_none, event.inbox_id
    if isinstance(event, ConversationEvent):
        return event.account_id, event.conversation.inbox_id
    return None, None


def pending_message(event: MessageEvent, delivery_id: str | None) -> PendingMessage:
    """The pending-list entry of an incoming customer message."""
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
        conversation_key=event.conversation_key,
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
    )


@router.post("/webhooks/chatwoot")
async def receive_webhook(request: Request) -> JSONResponse:
    """Receive one Chatwoot delivery."""
    service: Service = request.app.state.service
    service.metrics.received.inc()
    try:
        return await _receive(service, request)
    except Exception:
        log.exception("webhook delivery failed inside the service; answered 200 to keep the bot")
        return _reply("error", reason="internal error, logged")


def _rejected(service: Service, reason: str, code: int, kind: str) -> JSONResponse:
    service.metrics.rejected.labels(kind).inc()
    log.info("webhook rejected (%s): %s", code, reason)
    return _reply("rejected", code, reason=reason)


async def _receive(service: Service, request: Request) -> JSONResponse:
    settings = service.settings
    try:
        raw = await read_body(request, settings.max_body_bytes)
    except BodyTooLargeError as exc:
        return _rejected(service, str(exc), 413, "too_large")
    # The body is decoded and parsed before its signature is checked, so that the secret is
    # picked from the very ids the event is keyed by; nothing acts on it before the check.
    event: Event | None = None
    problem, problem_code = "", 400
    try:
        data: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        data = None
        problem = f"webhook body is not JSON: {exc}"
    else:
        try:
            event = parse_event_data(data)
        except PayloadError as exc:
            problem, problem_code = str(exc), 422
    refused = _check_signature(service, request, raw, event)
    if refused is not None:
        return refused
    if event is None:
        return _rejected(service, problem, problem_code, "payload")
    if log.isEnabledFor(logging.DEBUG):
        log.debug("delivery: %s", json.dumps(redact(data), ensure_ascii=False)[:DEBUG_CHARS])
    decision = decide(event)
    service.other_bots.observe(event, decision)
    key = getattr(event, "conversation_key", None)
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
    message = pending_message(event, request.headers.get(DELIVERY_HEADER))
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


def _check_signature(
    service: Service, request: Request, raw: bytes, event: Event | None
) -> JSONResponse | None:
    """None when the delivery may be processed, else its 401.

    The secret is the one of the parsed event's inbox, else of its account, else the global one.
    Once any secret is configured, a delivery no secret applies to is refused (fail closed);
    only a deployment without any secret accepts unsigned deliveries.
    """
    credentials = service.credentials
    if not credentials.any_secret:
        return None
    account_id, inbox_id = _ids(event)
    try:
        secret = credentials.webhook_secret(account_id, inbox_id)
    except CredentialsError as exc:
        log.error("%s", exc)
        return _rejected(service, "webhook secret is not configured", 401, "signature")
    if secret is None:
        return _rejected(
            service,
            f"no webhook secret applies to account {account_id}, inbox {inbox_id}: set "
            "CHATWOOT_WEBHOOK_SECRET or webhook_secret_env for it in tenants.yaml",
            401,
            "signature",
        )
    try:
        verify_signature(
            secret,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            raw,
        )
    except SignatureError as exc:
        return _rejected(service, str(exc), 401, "signature")
    return None


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
