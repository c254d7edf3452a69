"""Taking over the turns of a worker that died, and scheduling turns that must come later.

Each worker (and ``serve`` running turns itself) runs :func:`watch_leases`: once a second it
reads the leases past their expiry (``turn:leases``, one command) and re-enqueues their
conversations' turns under fresh job ids, so a dead worker's conversations do not wait for its
arq job to time out. The same loop refreshes the deployment-wide delivery gauges.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from chatwootai.service.delivery import DeliverySchedule
from chatwootai.service.lease import TurnLeases
from chatwootai.service.metrics import Metrics

log = logging.getLogger(__name__)

WATCH_EVERY_S = 1.0
"""How often a worker looks for expired leases."""
GAUGES_EVERY = 5
"""The delivery gauges are refreshed every this many watchdog rounds."""


class TurnScheduler(Protocol):
    """Schedules one more run of a conversation's turn (a fresh job, never merged with others)."""

    async def schedule(self, conversation_key: str, defer_s: float, reason: str) -> None:
        """Run the conversation's turn in `defer_s` seconds; `reason` names the job."""
        ...

    async def drop_job(self, job_id: str) -> None:
        """Forget the job of a worker that died (its turn was taken over)."""
        ...


async def take_over_expired(
    leases: TurnLeases, scheduler: TurnScheduler, metrics: Metrics | None = None
) -> list[str]:
    """Re-enqueue the turns whose lease expired without being released; the conversations."""
    taken: list[str] = []
    for expired in await leases.expired():
        if not await leases.claim(expired):
            continue
        key = expired.conversation_key
        log.warning(
            "turn of %s: its worker stopped renewing the lease (it died or stalled); "
            "taking the turn over",
            key,
        )
        await scheduler.schedule(key, 0.0, "takeover")
        if expired.job_id is not None:
            # arq would keep the dead job "in progress" (and every poll re-checking it) for
            # CHATWOOTAI_JOB_TIMEOUT + 2 s, then run it again for nothing.
            await scheduler.drop_job(expired.job_id)
        if metrics is not None:
            metrics.takeovers.inc()
        taken.append(key)
    return taken


async def watch_leases(
    leases: TurnLeases,
    scheduler: TurnScheduler,
    metrics: Metrics,
    deliveries: DeliverySchedule,
    *,
    every_s: float = WATCH_EVERY_S,
) -> None:
    """Run :func:`take_over_expired` every `every_s` until cancelled; failures are logged."""
    rounds = 0
    failing = False
    while True:
        await asyncio.sleep(every_s)
        try:
            await take_over_expired(leases, scheduler, metrics)
            if rounds % GAUGES_EVERY == 0:
                total, past = await deliveries.counts()
                metrics.undelivered.set(total)
                metrics.undelivered_past_horizon.set(past)
            rounds += 1
            if failing:
                log.warning("lease watchdog running again")
                failing = False
        except Exception as exc:
            if not failing:
                log.warning("lease watchdog failed (retrying every %.0f s): %s", every_s, exc)
            failing = True
