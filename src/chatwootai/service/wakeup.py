"""Wake-ups: idle workers block on a Redis list instead of polling the queue every few ms.

Whoever enqueues a turn job also pushes a wake-up on the deployment's list (:func:`wake`): the
job's due time (epoch ms) and its id. An idle worker blocks on that list (BRPOP): each wake-up
reaches one worker only, which goes for that one job (arq's own atomic check and start), without
reading the queue; the other workers do not look at it. A wake-up due later (a deferred job: the
burst window, a delivery retry) is held by the worker that took it until its time. A full worker
takes no wake-ups and hands back the ones it holds when they fall due; it polls the queue as soon
as one of its jobs ends. A stopping worker (SIGTERM: it lets its running jobs finish) takes none
either and hands back all it holds. A job arq retries gets a wake-up at its new time.

arq's full poll remains as a safety net, every ``CHATWOOTAI_WORKER_POLL`` seconds (1 s by
default) per worker: it finds what no wake-up announced (a wake-up lost with a worker that died,
cron jobs, a job whose worker died) and runs arq's housekeeping (cron, health, finished tasks).
An idle worker thus costs two Redis commands per safety poll (the BRPOP that timed out and arq's
ZRANGEBYSCORE), and the commands a job costs do not grow with the number of workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections.abc import Awaitable
from typing import Any, cast

from arq.worker import Worker
from redis.asyncio import Redis
from redis.exceptions import RedisError

from chatwootai.service.polling import SkipRunningJobs
from chatwootai.settings import Settings

log = logging.getLogger(__name__)

WAKE_LIST_MAX = 10_000
"""Longest the wake-up list gets (the oldest are dropped: the safety poll finds their jobs)."""
MIN_BLOCK_S = 0.005
"""Shortest BRPOP (a BRPOP of 0 s would block for ever)."""
LATE_S = 0.002
"""A held wake-up is acted on this long after its time (the job's score is then in the past)."""
BLOCK_MARGIN_S = 2.0
"""A BRPOP not back this long after its own timeout is treated as a lost connection."""
BURST_POLL_S = 0.05
"""Poll period of a worker run in arq's burst mode (tests): it ends once the queue is empty."""

WakeUp = tuple[float, str]
"""When (epoch s) and which job (its id; empty: poll the whole queue)."""


def wake_key(settings: Settings) -> str:
    """The deployment's wake-up list, beside its arq queue."""
    return f"{settings.redis_prefix}arq:wake"


def now_ms() -> int:
    """The time as arq scores jobs (epoch milliseconds)."""
    return int(time.time() * 1000)


async def wake(redis: Redis, key: str, due_ms: int, job_id: str) -> None:
    """Tell one idle worker that `job_id` is due at `due_ms` (one LPUSH; an LTRIM past the cap)."""
    length = await redis.lpush(key, f"{due_ms} {job_id}")  # type: ignore[misc]
    if length > WAKE_LIST_MAX:
        await redis.ltrim(key, 0, WAKE_LIST_MAX - 1)  # type: ignore[misc]


def parse_wake_up(raw: bytes | str) -> WakeUp:
    """``"<due ms> <job id>"`` as (due time in epoch s, job id); anything else: a full poll now."""
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    due, _, job_id = text.partition(" ")
    try:
        return int(due) / 1000, job_id
    except ValueError:
        log.warning("not a wake-up, ignored (the queue is polled instead): %r", text[:80])
        return 0.0, ""


class WakeUpWorker(SkipRunningJobs):
    """An arq worker that waits between polls on the wake-up list, not on a short timer."""

    def __init__(
        self, *args: Any, wake_key: str, safety_poll_s: float = 1.0, **kwargs: Any
    ) -> None:
        kwargs["poll_delay"] = 0  # arq's loop does not sleep: :meth:`_wait` blocks instead
        super().__init__(*args, **kwargs)
        self.wake_key = wake_key
        self.safety_poll_s = safety_poll_s
        self._held: list[WakeUp] = []
        """The wake-ups this worker took for later: a heap."""
        self._woken: list[str] = []
        """Jobs announced to this worker and due: started by the next iteration."""
        self._next_poll = 0.0
        """When (event loop time) the next full poll is due."""
        self._slot_freed = asyncio.Event()
        self._popping: asyncio.Task[list[bytes] | None] | None = None
        """The BRPOP waiting for a wake-up: left running while a held wake-up is acted on (its
        own timeout fires only at Redis's timer resolution, 100 ms by default)."""

    async def _poll_iteration(self) -> None:
        woken, self._woken = self._woken, []
        for n, job in enumerate(woken):
            if not self.allow_pick_jobs or self.job_counter >= self.max_jobs:
                await self._hand_back([(0.0, other) for other in woken[n:]])
                break
            if self._runs_here(job.encode()):
                continue  # a full poll of this worker started it before its wake-up came
            # arq's own start of the announced job (its atomic check: started once, anywhere)
            await Worker.start_jobs(self, [job.encode()])
        now = asyncio.get_running_loop().time()
        if not woken or now >= self._next_poll:  # a steady flow of wake-ups never skips it
            self._next_poll = now + self.safety_poll_s
            await super()._poll_iteration()
        if self.burst:
            await asyncio.sleep(BURST_POLL_S)
        else:
            self._woken = await self._wait()

    async def _wait(self) -> list[str]:
        """Wait for the next thing to do: jobs announced and due now (their ids), or a full
        poll (an empty list) once the safety period has passed or, when full, a slot freed."""
        loop = asyncio.get_running_loop()
        if not self.allow_pick_jobs:  # stopping, its running jobs finishing: takes no new job
            await self._stop_popping()
            if self._held:
                held, self._held = self._held, []
                await self._hand_back(held)
            await asyncio.sleep(max(0.0, self._next_poll - loop.time()))
            return []
        while True:
            now = time.time()
            full = self.job_counter >= self.max_jobs
            due = self._take_due(now)
            if due:
                if not full:
                    jobs = [job for _, job in due]
                    return jobs if all(jobs) else []  # one without a job id: a full poll
                await self._hand_back(due)
            left = self._next_poll - loop.time()
            if left <= 0:
                return []
            if self._held:
                left = min(left, self._held[0][0] - now + LATE_S)
            if full:
                self._slot_freed.clear()
                try:
                    await asyncio.wait_for(self._slot_freed.wait(), left)
                    return []
                except TimeoutError:
                    continue
            if self._popping is None:
                block_s = max(MIN_BLOCK_S, round(self._next_poll - loop.time(), 3))
                self._popping = asyncio.create_task(self._pop(block_s))
            done, _ = await asyncio.wait({self._popping}, timeout=left)
            if not done:
                continue  # a held wake-up's time, or the safety poll's
            popping, self._popping = self._popping, None
            popped = popping.result()
            if popped is not None:
                heapq.heappush(self._held, parse_wake_up(popped[1]))

    async def _pop(self, block_s: float) -> list[bytes] | None:
        """One BRPOP on the wake-up list (None when it timed out)."""
        brpop = cast(
            Awaitable[list[bytes] | None],
            self.pool.brpop(
                [self.wake_key],
                timeout=block_s,  # type: ignore[arg-type]  # Redis takes decimals since 6.0
            ),
        )
        return await asyncio.wait_for(brpop, block_s + BLOCK_MARGIN_S)

    async def _stop_popping(self) -> None:
        """Cancel the waiting BRPOP (a wake-up it took meanwhile is left to the safety polls)."""
        popping, self._popping = self._popping, None
        if popping is None:
            return
        popping.cancel()
        with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
            popped = await popping
            if popped is not None:
                heapq.heappush(self._held, parse_wake_up(popped[1]))

    def _take_due(self, now: float) -> list[WakeUp]:
        due = []
        while self._held and self._held[0][0] <= now:
            due.append(heapq.heappop(self._held))
        return due

    async def _hand_back(self, wake_ups: list[WakeUp]) -> None:
        """Give wake-ups back to the list, for a worker with room (best effort)."""
        try:
            for at, job in wake_ups:
                await wake(self.pool, self.wake_key, int(at * 1000), job)
        except (RedisError, OSError) as exc:  # the safety poll finds their jobs
            log.debug("wake-ups not handed back: %s", exc)

    def _release_sem_dec_counter_on_complete(self) -> None:
        super()._release_sem_dec_counter_on_complete()
        self._slot_freed.set()

    async def finish_job(
        self,
        job_id: str,
        finish: bool,
        result_data: bytes | None,
        result_timeout_s: float | None,
        keep_result_forever: bool,
        incr_score: int | None,
        keep_in_progress: float | None,
    ) -> None:
        """arq's end of a job; a job to be run again (retried, cancelled) gets its wake-up."""
        await super().finish_job(
            job_id,
            finish,
            result_data,
            result_timeout_s,
            keep_result_forever,
            incr_score,
            keep_in_progress,
        )
        if finish:
            return
        try:
            score = await self.pool.zscore(self.queue_name, job_id)
            if score is not None:
                await wake(self.pool, self.wake_key, int(score), job_id)
        except (RedisError, OSError) as exc:  # the safety poll finds it
            log.debug("no wake-up for the retry of %s: %s", job_id, exc)

    async def close(self) -> None:
        """Hand back the wake-ups this worker holds, then close as arq does."""
        await self._stop_popping()
        if self._held and self._pool is not None:
            held, self._held = self._held, []
            await self._hand_back(held)
        await super().close()
