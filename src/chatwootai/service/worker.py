"""The turn job: answer a conversation's pending messages, once, and the arq worker around it.

A turn holds its conversation's lease (:mod:`chatwootai.service.lease`); a job that finds the
conversation busy leaves a mark and ends, and the holder runs the work left when it ends. A
turn thinks once (its plan is kept) and delivers apart from thinking
(:mod:`chatwootai.service.delivery`): a delivery Chatwoot cannot take now ends the job with the
messages still pending and a later job scheduled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from arq import Retry
from arq.worker import Worker, func
from redis.exceptions import RedisError

from chatwootai.chatwoot.client import ChatwootError
from chatwootai.config.schema import ChatwootOptions
from chatwootai.console.activity import ConversationActivity
from chatwootai.knowledge.schedule import knowledge_cron_jobs
from chatwootai.outcomes import record_handoff
from chatwootai.service.credentials import CredentialsError
from chatwootai.service.delivery import DeliveryPending, DeliverySchedule, WaitingDelivery
from chatwootai.service.lease import Holding, LeaseLostError, TurnLeases, lost_to_error
from chatwootai.service.lifecycle import LIFECYCLE_FUNCTION, Lifecycle, lifecycle_job
from chatwootai.service.metrics import Metrics
from chatwootai.service.notices import NoticeDesk, rescan_notices
from chatwootai.service.pipeline import Pipeline
from chatwootai.service.queue import (
    TURN_FUNCTION,
    ArqTurnQueue,
    queue_name,
    redis_settings,
    sentinel_pool,
)
from chatwootai.service.replies import PlannedReply, Replier, ReplyTarget
from chatwootai.service.takeover import TurnScheduler, watch_leases
from chatwootai.service.turn_media import TurnMedia
from chatwootai.service.turns import (
    PendingList,
    PendingMessage,
    merge_burst,
    still_bursting,
    turn_id,
)
from chatwootai.service.typing_indicator import TypingIndicator
from chatwootai.service.unservable import UNAVAILABLE, handover_plan
from chatwootai.service.wakeup import WakeUpWorker, wake_key
from chatwootai.settings import Settings
from chatwootai.stopping import stop_task
from chatwootai.store import keys
from chatwootai.store.base import StoreError
from chatwootai.tenancy import NoDomainError

log = logging.getLogger(__name__)

OUTCOME_TTL_S = 86400
RECHECK_AFTER_S = 0.05
"""A turn that thought longer re-reads the pause flag before replying (a human may have come)."""
TIMEOUT_MARGIN_S = 10.0
"""Time kept out of arq's job timeout to count a timed-out turn and, at the end, give up."""
DELIVERY_MARGIN_S = 10.0
"""Time a turn needs after its domain's ``limits.timeout_s`` to post the reply parts."""
STORE_RETRY_S = 1.0
"""Delay of a job retried because its failure could not be counted (the store failed too)."""
RESCAN_EVERY_S = 30.0
"""How often a worker looks for conversations left with pending messages and no turn job."""
RESCAN_LOCK_KEY = "turn:rescan"
"""Held (SET NX, short TTL) by the worker scanning, so one worker at a time scans."""
MORE_TTL_S = 3600
"""Life of the mark a job leaves when it finds the conversation's turn running elsewhere."""


class TurnTimeoutError(Exception):
    """A turn outlasted its share of the job timeout; it is retried, then given up."""


def turn_budget_s(settings: Settings) -> float:
    """How long a turn may run inside arq's job timeout before it is cut and counted as failed."""
    return settings.job_timeout_s - min(TIMEOUT_MARGIN_S, settings.job_timeout_s / 4)


def channel_name(channel: str | None) -> str:
    """``Channel::Whatsapp`` → ``whatsapp``; ``api`` when unknown."""
    if not channel:
        return "api"
    return channel.lower().removeprefix("channel::") or "api"


@dataclass(slots=True)
class TurnRunner:
    """Takes one conversation's turn: lease, pending messages, think, deliver, then forget them."""

    system: Pipeline
    pending: PendingList
    leases: TurnLeases
    replier: Replier
    metrics: Metrics
    burst_window_s: float
    deliveries: DeliverySchedule
    scheduler: TurnScheduler | None = None
    """Where follow-up, retry and take-over runs are enqueued (the deployment's queue)."""
    typing: TypingIndicator | None = None
    """Shown while the turn thinks slowly (default: on the system's store, via the replier)."""
    notices: NoticeDesk | None = None
    """Notices to humans, done under the turn lease before and after a turn (service/notices.py)."""
    media: TurnMedia | None = None
    """Hears, sees and reads the turn's attachments before it is thought (service/turn_media.py)."""
    activity: ConversationActivity | None = None
    """The console's list and transcripts of conversations (console/activity.py)."""
    lifecycle: Lifecycle | None = None
    """Schedules a conversation's opening and idle resolution (service/lifecycle.py)."""

    def __post_init__(self) -> None:
        if self.typing is None:
            self.typing = TypingIndicator(self.system.store, self.replier)

    async def run(self, conversation_key: str, *, job_id: str | None = None) -> str:
        """Take the turn; what happened (``answered``, ``busy``, ``undelivered``, ``paused``...).

        A conversation busy elsewhere gets a mark (``turn:more``) and ``busy``: its holder runs
        the work left when it ends. A lost lease raises :class:`LeaseLostError`. `job_id` is the
        queue job running it (taken off the queue if this worker dies).
        """
        store = self.system.store
        holding = await self.leases.acquire(conversation_key, job_id=job_id)
        if holding is None:
            await store.set(keys.turn_more(conversation_key), "1", MORE_TTL_S)
            holding = await self.leases.acquire(conversation_key, job_id=job_id)
            if holding is None:
                return "busy"
        try:
            outcome = await self._held(holding)
        finally:
            try:
                await self.leases.release(holding)
            except StoreError as exc:
                log.warning("turn lease of %s not released (expires): %s", conversation_key, exc)
        try:
            await self._follow_up(conversation_key)
        except StoreError as exc:  # the work left is found by the scan for stranded turns
            log.warning("work left in %s not scheduled: %s", conversation_key, exc)
        return outcome

    async def _held(self, holding: Holding) -> str:
        try:
            async with self.leases.keep(holding):
                if self.notices is not None:  # notices to humans, before and after the turn
                    return await self.notices.around(holding.conversation_key, self._turn)
                return await self._turn(holding.conversation_key)
        except asyncio.CancelledError:
            lost_to_error(holding)
            raise

    async def _follow_up(self, conversation_key: str) -> None:
        """Run the work a busy job left (its mark), once this turn's burst window has passed."""
        if not await self.system.store.delete(keys.turn_more(conversation_key)):
            return
        messages = await self.pending.peek(conversation_key)
        if not messages:
            if self.notices is not None and await self.notices.waiting.peek(conversation_key):
                await self._schedule(conversation_key, 0.0, "notice")
            return
        newest = max(m.received_at for m in messages)
        await self._schedule(
            conversation_key, max(0.0, newest + self.burst_window_s - time.time()), "more"
        )

    async def _schedule(self, conversation_key: str, defer_s: float, reason: str) -> None:
        if self.scheduler is None:
            log.warning("no queue to schedule the %s turn of %s", reason, conversation_key)
            return
        await self.scheduler.schedule(conversation_key, defer_s, reason)

    async def _turn(self, key: str) -> str:
        assert self.typing is not None
        await self.typing.switch_off_left_on(key)
        messages = await self.pending.peek(key)
        waiting = await self.deliveries.waiting(key)
        if not messages:
            await self.deliveries.delivered(key, waiting)
            return "empty"
        if still_bursting(messages, self.burst_window_s):
            return "bursting"
        ids = [m.message_id for m in messages]
        tid = turn_id(messages)
        if waiting is not None and waiting.turn == tid and waiting.retry_at > time.time() + 0.5:
            return "waiting"  # its retry is scheduled; an early job does not hurry Chatwoot
        state = await self.system.conversations.load(key)
        if state.paused:
            return await self._drop_paused(key, ids, state.paused_reason, waiting)
        target = _target(messages)
        try:
            self.replier.client_for(target)
        except CredentialsError as exc:
            log.error("%s; %d messages of %s dropped", exc, len(ids), key)
            await self._drop(key, ids, "no chatwoot credentials", waiting)
            return "no credentials"
        incoming = merge_burst(messages)
        try:
            domain = await self.system.domains.get_domain_for_conversation(
                key, account_id=target.account_id, inbox_id=target.inbox_id
            )
        except NoDomainError as exc:
            log.error("%s; its messages are dropped", exc)
            await self._drop(key, ids, "no domain", waiting)
            return "no domain"
        before = time.monotonic()
        try:
            options = (await self.system.registry.get_domain_config(domain)).chatwoot
        except UNAVAILABLE as exc:  # a broken domain is handed to humans, never retried
            options = ChatwootOptions()
            plan, fresh = handover_plan(self.metrics, key, domain, exc, len(ids)), False
        else:
            plan, fresh = await self._plan(key, tid, messages, target, options, domain)
        if plan.held_until is not None:  # the flood limit: answered with the later messages
            await self._schedule(key, max(0.0, plan.held_until - time.time()), "flood")
            return "held"
        thought_s = time.monotonic() - before
        if thought_s > RECHECK_AFTER_S:
            state = await self.system.conversations.load(key)
            if state.paused:
                return await self._drop_paused(key, ids, state.paused_reason, waiting)
        try:
            await self.replier.deliver(
                target,
                plan,
                options,
                plan.delivery_id or tid,
                customer_text=incoming.text,
                first_attempt=fresh,
                after_id=max(ids),
            )
        except DeliveryPending as pending:
            deferral = await self.deliveries.deferred(key, tid, pending, waiting)
            self.metrics.deliveries_deferred.labels(pending.kind).inc()
            await self._schedule(key, deferral.retry_in_s, "retry")
            return "undelivered"
        if plan.handoff_reason is not None:  # the handoff reached Chatwoot: silence the bot
            if plan.handoff_opens_at is None:  # (unless it answers until the team is back)
                await self.system.conversations.pause(key, f"handoff: {plan.handoff_reason}")
            self.metrics.handoffs.labels(self.metrics.domain(plan.domain)).inc()
        if self.lifecycle is not None:
            await self.lifecycle.after_turn(key, plan, target)
        await self.pending.remove(key, ids)
        await self.deliveries.delivered(key, waiting)
        domain_label = self.metrics.domain(plan.domain)
        self.metrics.answered.labels(domain_label).inc()
        self.metrics.routed.labels(domain_label, plan.crew, plan.route_method).inc()
        first = min(m.received_at for m in messages)
        if first > 0:
            self.metrics.turn_latency.observe(max(0.0, time.time() - first))
        return "answered"

    async def _drop(
        self, key: str, ids: list[int], reason: str, waiting: WaitingDelivery | None
    ) -> None:
        await self.pending.remove(key, ids)
        await self.deliveries.delivered(key, waiting)
        self.metrics.ignored.labels(reason).inc(len(ids))

    async def _drop_paused(
        self, key: str, ids: list[int], why: str | None, waiting: WaitingDelivery | None
    ) -> str:
        log.info(
            "conversation %s is with the humans (%s): %d message(s) left to them",
            key,
            why or "paused",
            len(ids),
        )
        await self._drop(key, ids, "paused", waiting)
        return "paused"

    async def _plan(
        self,
        key: str,
        tid: str,
        messages: list[PendingMessage],
        target: ReplyTarget,
        options: ChatwootOptions,
        domain: str,
    ) -> tuple[PlannedReply, bool]:
        """The turn's plan: the one kept by an earlier attempt, or a new one (then True)."""
        store = self.system.store
        cached = await store.get(keys.turn_outcome(key, tid))
        if cached is not None:
            return PlannedReply.model_validate_json(cached), False
        started = time.perf_counter()
        assert self.typing is not None
        typing = asyncio.create_task(self.typing.while_slow(target))
        try:
            incoming = merge_burst(messages)
            if self.media is not None:  # voice notes heard, images and documents fetched
                incoming = await self.media.prepare(key, tid, messages, target, domain)
            outcome = await self.system.process_message(incoming, key, target.channel)
        finally:
            typing.cancel()
        if outcome.llm_requests:
            self.metrics.llm_latency.observe(time.perf_counter() - started)
        self.metrics.llm_tokens.labels("input").inc(outcome.input_tokens)
        self.metrics.llm_tokens.labels("output").inc(outcome.output_tokens)
        self.metrics.observe_outcome(outcome.recorded, outcome.budget_alert)
        if self.activity is not None:
            await self.activity.record_turn(
                key, incoming.text, outcome, target.channel, started, self.system
            )
        plan = PlannedReply.from_outcome(outcome, incoming)
        if plan.held_until is None:  # a held turn thinks again when it is let through
            await store.set(keys.turn_outcome(key, tid), plan.model_dump_json(), OUTCOME_TTL_S)
        return plan, True

    async def give_up(self, conversation_key: str) -> None:
        """After repeated failures: apologise and hand off (a plan delivered like any other).

        The conversation is paused only once the handoff reached Chatwoot; until then its
        messages stay pending and the delivery is retried. A delivery Chatwoot refuses outright
        leaves nothing to do but drop the messages (logged as an error, and counted).
        """
        try:
            messages = await self.pending.peek(conversation_key)
            if not messages:
                return
            target = _target(messages)
            domain = await self.system.domains.get_domain_for_conversation(
                conversation_key, account_id=target.account_id, inbox_id=target.inbox_id
            )
            config = await self.system.registry.get_domain_config(domain)
            options = config.chatwoot
            tid = turn_id(messages)
            plan = PlannedReply(
                reply=options.texts.fallback,
                domain=domain,
                crew="fallback",
                route_method="failure",
                handoff_reason="the service failed to answer this conversation",
                handoff_by="service",
                fallback=True,
                planned_at=time.time(),
                delivery_id=tid + "-failed",
            )
            await self.system.store.set(
                keys.turn_outcome(conversation_key, tid), plan.model_dump_json(), OUTCOME_TTL_S
            )
            log.error(
                "turn of %s failed repeatedly: sending the fallback text and a handoff",
                conversation_key,
            )
            await record_handoff(
                self.system.store,
                domain,
                conversation_key,
                "failure",
                messages=len(messages),
                timezone=config.timezone,
                retention_days=self.system.settings.outcomes_retention_days,
            )
            try:
                await self.run(conversation_key)
            except ChatwootError as exc:
                ids = [m.message_id for m in messages]
                log.error(
                    "Chatwoot refused the fallback and handoff of %s too (%s): %d message(s) "
                    "dropped",
                    conversation_key,
                    exc,
                    len(ids),
                )
                await self._drop(conversation_key, ids, "undeliverable", None)
        except LeaseLostError:
            raise
        except Exception:
            log.exception("giving up on %s failed too; its messages stay pending", conversation_key)


def _target(messages: list[PendingMessage]) -> ReplyTarget:
    last = max(messages, key=lambda m: m.message_id)
    return ReplyTarget(
        conversation_key=last.conversation_key,
        account_id=last.account_id,
        display_id=last.display_id,
        inbox_id=last.inbox_id,
        channel=last.channel,
        bot_assigned=last.bot_assigned,
    )


# -- arq --------------------------------------------------------------------------------------


async def turn_job(ctx: dict[str, Any], conversation_key: str) -> str:
    """The arq job: take the conversation's turn; retry it on failures of its own.

    A busy conversation, a deferred delivery or a lost lease end the job (the holder, the
    scheduled retry or the new holder does the rest). Failed attempts (thinking failed, or
    Chatwoot refused the reply) are counted per conversation (``turn_failures``, 1 h TTL); at
    ``turn_attempts`` the service gives up with the fallback text and a handoff. A turn of the
    conversation that goes through resets the count, as does a retried job that ends well. A turn
    is cut at :func:`turn_budget_s`, before arq's own timeout, and counts as a failed attempt.
    """
    runner: TurnRunner = ctx["runner"]
    settings: Settings = ctx["settings"]
    budget = turn_budget_s(settings)
    try:
        job_id = ctx.get("job_id")
        outcome = await asyncio.wait_for(
            runner.run(conversation_key, job_id=job_id if isinstance(job_id, str) else None),
            budget,
        )
    except LeaseLostError:
        runner.metrics.leases_lost.inc()
        runner.metrics.turn_jobs.labels("lease lost").inc()
        return "lease lost"
    except TimeoutError:
        cut = TurnTimeoutError(
            f"turn of {conversation_key} outlasted {budget:g} s (CHATWOOTAI_JOB_TIMEOUT less "
            f"a margin); raise CHATWOOTAI_JOB_TIMEOUT or lower the domain's limits.timeout_s"
        )
        return await _failed(ctx, conversation_key, cut)
    except (StoreError, ChatwootError, OSError) as exc:
        return await _failed(ctx, conversation_key, exc)
    except Exception as exc:
        log.exception("turn of %s failed", conversation_key)
        return await _failed(ctx, conversation_key, exc)
    runner.metrics.turn_jobs.labels(outcome).inc()
    if outcome not in WITHOUT_TURN or int(ctx.get("job_try") or 1) > 1:
        await _succeeded(runner, conversation_key)
    return outcome


WITHOUT_TURN = frozenset({"empty", "bursting", "busy", "waiting", "undelivered", "held"})
"""Outcomes of a job that took no turn to its end (another job, or a later one, does)."""


async def _succeeded(runner: TurnRunner, conversation_key: str) -> None:
    """A turn of the conversation went through: its earlier failures no longer count."""
    try:
        await runner.system.store.delete(keys.turn_failures(conversation_key))
    except StoreError as exc:
        log.warning("failure count of %s not reset (expires): %s", conversation_key, exc)


async def _failed(ctx: dict[str, Any], conversation_key: str, exc: Exception) -> str:
    runner: TurnRunner = ctx["runner"]
    settings: Settings = ctx["settings"]
    runner.metrics.turn_errors.inc()
    store = runner.system.store
    try:
        failures = await store.incr(keys.turn_failures(conversation_key), 3600)
    except StoreError as uncounted:
        # Dropping the job would strand the messages: retry it, uncounted.
        log.warning(
            "turn of %s failed (%s) and the failure was not counted (%s); retrying",
            conversation_key,
            exc,
            uncounted,
        )
        runner.metrics.turn_jobs.labels("retry").inc()
        raise Retry(defer=STORE_RETRY_S) from exc
    if failures >= settings.turn_attempts:
        try:
            await store.delete(keys.turn_failures(conversation_key))
        except StoreError as kept:
            log.warning("failure count of %s not reset (expires): %s", conversation_key, kept)
        await runner.give_up(conversation_key)
        runner.metrics.turn_jobs.labels("gave up").inc()
        return "gave up"
    log.warning("turn of %s failed (%s); retrying", conversation_key, exc)
    runner.metrics.turn_jobs.labels("retry").inc()
    raise Retry(defer=min(0.2 * 2**failures, 10.0)) from exc


async def timeout_warnings(system: Pipeline, settings: Settings) -> list[str]:
    """Why served domains' turns may be cut: time limit plus delivery above the turn budget."""
    budget = turn_budget_s(settings)
    warnings: list[str] = []
    for name in system.registry.names():
        try:
            config = await system.registry.get_domain_config(name, abstract_ok=True)
        except Exception as exc:
            log.debug("domain %s not checked against the job timeout: %s", name, exc)
            continue
        needed = config.limits.timeout_s + DELIVERY_MARGIN_S
        if config.abstract or needed <= budget:
            continue
        warnings.append(
            f"domain {name}: limits.timeout_s ({config.limits.timeout_s:g} s) plus "
            f"{DELIVERY_MARGIN_S:g} s to deliver is above the {budget:g} s a turn may run "
            f"(CHATWOOTAI_JOB_TIMEOUT={settings.job_timeout_s:g} less a margin): its slowest "
            "turns are cut and retried; raise CHATWOOTAI_JOB_TIMEOUT to at least "
            f"{needed + TIMEOUT_MARGIN_S:g} or lower limits.timeout_s"
        )
    return warnings


async def rescan_pending(
    runner: TurnRunner, queue: ArqTurnQueue, *, every_s: float = RESCAN_EVERY_S
) -> list[str]:
    """Re-enqueue the turn of conversations left with pending messages, no lease and no job.

    At most one worker scans per `every_s` (a short lock, left to expire). Messages younger than
    the scan period are left alone: their own job is on its way; so are deliveries whose retry
    is scheduled later.
    """
    store = runner.system.store
    ttl = max(1, int(every_s) - 1)
    if not await store.set(RESCAN_LOCK_KEY, str(time.time()), ttl, nx=True):
        return []
    requeued: list[str] = []
    now = time.time()
    for key in await runner.pending.conversations():
        messages = await runner.pending.peek(key)
        if not messages or max(m.received_at for m in messages) > now - every_s:
            continue
        ids = [m.message_id for m in messages]
        if await runner.leases.held(key) or await queue.has_job(key, ids):
            continue
        waiting = await runner.deliveries.waiting(key)
        if waiting is not None and waiting.retry_at > now:
            continue
        await queue.enqueue(key, max(ids), 0)
        requeued.append(key)
    if requeued:
        log.warning("re-enqueued the turns of %d stranded conversations", len(requeued))
    if runner.notices is not None:
        notices = runner.notices.waiting
        requeued += await rescan_notices(notices, runner.leases, queue, every_s=every_s, now=now)
    return requeued


async def _rescan_forever(runner: TurnRunner, queue: ArqTurnQueue, every_s: float) -> None:
    """Run :func:`rescan_pending` every `every_s` until cancelled; failures are only logged."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await rescan_pending(runner, queue, every_s=every_s)
        except Exception as exc:
            log.warning("scan for stranded conversations failed: %s", exc)


OUTAGE_BACKOFF_MAX_S = 1.0
"""Longest pause between two polls while Redis is unreachable (it never grows past this)."""


class OutageTolerantWorker(WakeUpWorker):
    """An arq worker that waits out a Redis outage instead of exiting.

    arq's poll loop lets a connection error end the worker; here a failed poll is logged once,
    retried with a short capped backoff, and the worker carries on when Redis answers again.
    Jobs are in Redis, so nothing the worker holds in memory is lost meanwhile. Between polls it
    waits for wake-ups (:mod:`chatwootai.service.wakeup`); its polls skip the jobs known to be
    running (:mod:`chatwootai.service.polling`).
    """

    _outage_polls = 0

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except (RedisError, OSError) as exc:
            self._outage_polls += 1
            if self._outage_polls == 1:
                log.warning("Redis unreachable from the worker; waiting for it: %s", exc)
            await asyncio.sleep(min(0.05 * 2**self._outage_polls, OUTAGE_BACKOFF_MAX_S))
            return
        if self._outage_polls:
            log.warning("Redis reachable again after %d failed polls", self._outage_polls)
            self._outage_polls = 0


def build_worker(
    settings: Settings,
    runner_factory: Any,
    *,
    handle_signals: bool = True,
    rescan_every_s: float = RESCAN_EVERY_S,
) -> Worker:
    """An arq worker running turn jobs; `runner_factory()` builds the runner at startup.

    At startup it warns about domains whose turns cannot fit in the job timeout, and starts the
    periodic scan for stranded conversations (:func:`rescan_pending`) and the lease watchdog
    (:func:`chatwootai.service.takeover.watch_leases`).
    """

    async def startup(ctx: dict[str, Any]) -> None:
        runner, close = await runner_factory()
        ctx["runner"] = runner
        ctx["close"] = close
        ctx["settings"] = settings
        for warning in await timeout_warnings(runner.system, settings):
            log.warning("%s", warning)
        queue = ctx["rescan_queue"] = ArqTurnQueue(settings)
        ctx["rescan"] = asyncio.create_task(_rescan_forever(runner, queue, rescan_every_s))
        ctx["watchdog"] = asyncio.create_task(
            watch_leases(runner.leases, queue, runner.metrics, runner.deliveries)
        )

    async def shutdown(ctx: dict[str, Any]) -> None:
        for name in ("rescan", "watchdog"):
            await stop_task(ctx.get(name))  # cancelled again if a store call swallowed it
        if "rescan_queue" in ctx:
            await ctx["rescan_queue"].close()
        close = ctx.get("close")
        if close is not None:
            await close()

    worker = OutageTolerantWorker(
        functions=[
            func(  # type: ignore[arg-type]
                turn_job,
                name=TURN_FUNCTION,
                timeout=settings.job_timeout_s,
                keep_result=0,
                max_tries=100_000,
            ),
            func(  # type: ignore[arg-type]
                lifecycle_job, name=LIFECYCLE_FUNCTION, keep_result=0, max_tries=100_000
            ),
        ],
        queue_name=queue_name(settings),
        redis_settings=redis_settings(settings),
        redis_pool=sentinel_pool(settings),
        wake_key=wake_key(settings),
        safety_poll_s=settings.worker_poll_s,
        on_startup=startup,
        on_shutdown=shutdown,
        cron_jobs=knowledge_cron_jobs(),  # re-syncs due knowledge sources, one worker per tick
        handle_signals=handle_signals,
        job_completion_wait=settings.worker_shutdown_grace_s or max(1, int(settings.job_timeout_s)),
        max_jobs=settings.worker_concurrency,
        job_timeout=settings.job_timeout_s,
        keep_result=0,
        max_tries=100_000,
        log_results=False,
    )
    # A job of a worker that died is run again once its in-progress mark expires (it then finds
    # the turn done: the lease watchdog had the turn taken over within seconds).
    worker.in_progress_timeout_s = settings.job_timeout_s + 2
    return worker
