"""The turn queue: arq on Redis when configured, else an asyncio task queue in the process.

Each accepted message enqueues one turn job for its conversation, deferred by the burst window;
the job id is unique per message, so a re-delivery never doubles a job. The first job of a burst
to run takes every pending message; the later ones find nothing left and end at once. Follow-up,
delivery retry and take-over runs are scheduled under fresh ids (:meth:`TurnQueue.schedule`).
Each job enqueued in Redis also wakes one idle worker (:mod:`chatwootai.service.wakeup`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import (
    in_progress_key_prefix,
    job_key_prefix,
    result_key_prefix,
    retry_key_prefix,
)
from arq.utils import to_ms
from redis.exceptions import RedisError

from chatwootai.service.lease import LeaseLostError
from chatwootai.service.wakeup import now_ms, wake, wake_key
from chatwootai.settings import Settings
from chatwootai.store.base import StoreUnavailableError
from chatwootai.store.redis_endpoint import RedisEndpoint, RedisTLS, redis_endpoint

log = logging.getLogger(__name__)

TURN_FUNCTION = "turn"
"""Name of the arq function that takes a conversation's turn."""


def queue_name(settings: Settings) -> str:
    """The arq queue of this deployment, under the store's key prefix."""
    return f"{settings.redis_prefix}arq:queue"


def job_id(settings: Settings, conversation_key: str, message_id: int | str) -> str:
    """The job id of one message's turn (arq job keys are global: keep the prefix)."""
    return f"{settings.redis_prefix}turn:{conversation_key}:{message_id}"


def redis_settings(settings: Settings) -> RedisSettings:
    """arq's connection settings: the same endpoint as the store's (URL, host or Sentinel; ACL;
    TLS)."""
    endpoint = redis_endpoint(settings) or RedisEndpoint(timeout_s=settings.redis_timeout_s)
    tls = endpoint.tls or RedisTLS()
    rs = RedisSettings(
        host=list(endpoint.sentinels) if endpoint.sentinels else endpoint.host,
        port=endpoint.port,
        unix_socket_path=endpoint.unix_path,
        database=endpoint.db,
        username=endpoint.username,
        password=endpoint.password,
        ssl=endpoint.tls is not None,
        ssl_keyfile=tls.key_file,
        ssl_certfile=tls.cert_file,
        ssl_cert_reqs=tls.verify,
        ssl_ca_certs=tls.ca_file,
        ssl_check_hostname=tls.check_hostname,
        sentinel=bool(endpoint.sentinels),
        sentinel_master=endpoint.sentinel_master,
    )
    rs.conn_timeout = max(1, int(settings.redis_timeout_s))
    rs.conn_retries = 1
    return rs


def sentinel_pool(settings: Settings) -> ArqRedis | None:
    """With Sentinel, the queue's Redis client, made as the store's is; else None (arq makes it).

    arq's own Sentinel client passes ``ssl=True`` and none of the other TLS settings (CA file,
    client certificate, verification), so the queue makes it from the deployment's endpoint.
    """
    endpoint = redis_endpoint(settings)
    if endpoint is None or not endpoint.sentinels:
        return None
    pool = endpoint.client(decode_responses=False, redis_class=ArqRedis, blocking=True)
    pool.default_queue_name = queue_name(settings)
    return pool


class TurnQueue(ABC):
    """Where accepted messages wait for their conversation's turn."""

    @abstractmethod
    async def enqueue(self, conversation_key: str, message_id: int, defer_s: float) -> None:
        """Schedule the conversation's turn for this message after `defer_s` seconds."""

    @abstractmethod
    async def schedule(self, conversation_key: str, defer_s: float, reason: str) -> None:
        """Run the conversation's turn once more in `defer_s` seconds, as a job of its own."""

    async def later(self, function: str, conversation_key: str, step: str, at: float) -> bool:
        """Run ``function(conversation_key, step)`` at `at` (epoch s), one job per (step,
        conversation): False when that job is queued already (it re-reads its record when it
        runs; see chatwootai.service.lifecycle). A queue that cannot schedule says so."""
        log.warning("this queue cannot schedule the %s step of %s", step, conversation_key)
        return False

    async def drop_job(self, job_id: str) -> None:  # noqa: B027 - nothing to drop in process
        """Forget the job of a worker that died (its turn was taken over)."""

    @abstractmethod
    async def depth(self) -> int:
        """Jobs waiting (for metrics)."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Open connections or start the in-process runner."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Close connections; stop the in-process runner."""


class ArqTurnQueue(TurnQueue):
    """Turn jobs in Redis for ``chatwootai worker`` processes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.queue_name = queue_name(settings)
        self.wake_key = wake_key(settings)
        self._pool: ArqRedis | None = None
        self._opening = asyncio.Lock()

    async def _get_pool(self) -> ArqRedis:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    try:
                        pool = sentinel_pool(self.settings)
                        if pool is None:
                            pool = await create_pool(
                                redis_settings(self.settings), default_queue_name=self.queue_name
                            )
                        else:
                            await pool.ping()
                        self._pool = pool
                    except (RedisError, OSError) as exc:
                        raise StoreUnavailableError(f"queue Redis is unreachable: {exc}") from exc
        return self._pool

    async def enqueue(self, conversation_key: str, message_id: int, defer_s: float) -> None:
        """Enqueue the arq job of this message's turn."""
        await self._enqueue(
            job_id(self.settings, conversation_key, message_id), conversation_key, defer_s
        )

    async def schedule(self, conversation_key: str, defer_s: float, reason: str) -> None:
        """Enqueue a turn job under a fresh id (``…:{reason}:{random}``)."""
        ident = f"{reason}-{uuid.uuid4().hex[:12]}"
        await self._enqueue(
            job_id(self.settings, conversation_key, ident), conversation_key, defer_s
        )

    async def _enqueue(self, job: str, conversation_key: str, defer_s: float) -> None:
        """The arq job, then its wake-up for one idle worker (none if the job already existed)."""
        pool = await self._get_pool()
        try:
            enqueued = await pool.enqueue_job(
                TURN_FUNCTION,
                conversation_key,
                _job_id=job,
                _defer_by=defer_s if defer_s > 0 else None,
            )
        except (RedisError, OSError) as exc:
            raise StoreUnavailableError(f"queue Redis is unreachable: {exc}") from exc
        if enqueued is not None:
            # arq's own rounding of the deferral, so the wake-up is never before the job's score
            await self._wake(pool, now_ms() + (to_ms(defer_s) if defer_s > 0 else 0), job)

    async def _wake(self, pool: ArqRedis, due_ms: int, job: str) -> None:
        """The wake-up of a job just queued (one idle worker starts it at `due_ms`)."""
        try:
            await wake(pool, self.wake_key, due_ms, job)
        except (RedisError, OSError) as exc:  # the job is queued: a worker's safety poll finds it
            log.warning("job %s queued without its wake-up: %s", job, exc)

    async def later(self, function: str, conversation_key: str, step: str, at: float) -> bool:
        """Enqueue the arq job ``{prefix}{step}:{conversation}`` deferred until `at`."""
        pool = await self._get_pool()
        job_id = f"{self.settings.redis_prefix}{step}:{conversation_key}"
        try:
            job = await pool.enqueue_job(
                function,
                conversation_key,
                step,
                _job_id=job_id,
                _defer_until=datetime.fromtimestamp(at, UTC),
            )
        except (RedisError, OSError) as exc:
            raise StoreUnavailableError(f"queue Redis is unreachable: {exc}") from exc
        if job is not None:
            await self._wake(pool, math.ceil(at * 1000), job_id)
        return job is not None

    async def drop_job(self, job_id: str) -> None:
        """Take a dead worker's job off the queue, with its keys: nobody re-checks or reruns it."""
        pool = await self._get_pool()
        try:
            async with pool.pipeline(transaction=True) as pipe:
                pipe.zrem(self.queue_name, job_id)
                pipe.delete(
                    *(
                        prefix + job_id
                        for prefix in (
                            job_key_prefix,
                            in_progress_key_prefix,
                            retry_key_prefix,
                            result_key_prefix,
                        )
                    )
                )
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise StoreUnavailableError(f"queue Redis is unreachable: {exc}") from exc

    async def has_job(self, conversation_key: str, message_ids: Sequence[int]) -> bool:
        """Whether a turn job of any of these messages is queued, deferred or running."""
        if not message_ids:
            return False
        pool = await self._get_pool()
        names = [
            job_key_prefix + job_id(self.settings, conversation_key, mid) for mid in message_ids
        ]
        return bool(await pool.exists(*names))

    async def depth(self) -> int:
        """Jobs in the arq queue."""
        pool = await self._get_pool()
        return int(await pool.zcard(self.queue_name))

    async def start(self) -> None:
        """Connect lazily (the first enqueue opens the pool)."""

    async def close(self) -> None:
        """Close the Redis pool."""
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None


TurnFunction = Callable[[str], Awaitable[object]]
LaterFunction = Callable[[str, str], Awaitable[tuple[str, float | None]]]
"""A step run by :meth:`InProcessTurnQueue.later`: (what happened, when to run again or None)."""


class InProcessTurnQueue(TurnQueue):
    """An asyncio task queue running turns in this process (no Redis configured)."""

    def __init__(
        self,
        run: TurnFunction,
        settings: Settings,
        *,
        on_give_up: Callable[[str], Awaitable[object]] | None = None,
    ) -> None:
        self.run = run
        self.settings = settings
        self.on_give_up = on_give_up
        self._jobs: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(settings.worker_concurrency)
        self.later_functions: dict[str, LaterFunction] = {}
        """What :meth:`later` runs, by function name (the lifecycle steps)."""
        self._later: dict[str, asyncio.Task[None]] = {}

    async def enqueue(self, conversation_key: str, message_id: int | str, defer_s: float) -> None:
        """Start a task that takes the turn after `defer_s` seconds."""
        name = f"{conversation_key}:{message_id}"
        if name in self._jobs:
            return
        self._jobs.add(name)
        task = asyncio.create_task(self._job(name, conversation_key, defer_s))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def schedule(self, conversation_key: str, defer_s: float, reason: str) -> None:
        """Start a task that runs the turn once more after `defer_s` seconds."""
        await self.enqueue(conversation_key, f"{reason}-{uuid.uuid4().hex[:12]}", defer_s)

    async def later(self, function: str, conversation_key: str, step: str, at: float) -> bool:
        """Start a task running the step at `at` (lost if the process stops before)."""
        name = f"{step}:{conversation_key}"
        if name in self._later:
            return False
        task = asyncio.create_task(self._later_job(name, function, conversation_key, step, at))
        self._later[name] = task
        task.add_done_callback(lambda _: self._later.pop(name, None))
        return True

    async def _later_job(
        self, name: str, function: str, conversation_key: str, step: str, at: float | None
    ) -> None:
        while at is not None:
            await asyncio.sleep(max(0.0, at - time.time()))
            run = self.later_functions.get(function)
            if run is None:
                log.warning("no function %r for the %s step of %s", function, step, name)
                return
            try:
                _, at = await run(conversation_key, step)
            except Exception as exc:
                log.warning("%s step of %s failed, retrying: %s", step, conversation_key, exc)
                at = time.time() + 30.0

    async def _job(self, name: str, conversation_key: str, defer_s: float) -> None:
        try:
            if defer_s > 0:
                await asyncio.sleep(defer_s)
            failures = 0
            while True:
                try:
                    async with self._slots:
                        # As arq does: a turn outlasting the job timeout is cut (and retried).
                        await asyncio.wait_for(
                            self.run(conversation_key), self.settings.job_timeout_s
                        )
                    return
                except LeaseLostError:
                    return  # the turn was taken over
                except Exception as exc:
                    failures += 1
                    if failures >= self.settings.turn_attempts:
                        log.error("turn of %s failed %d times: %s", conversation_key, failures, exc)
                        if self.on_give_up is not None:
                            await self.on_give_up(conversation_key)
                        return
                    log.warning("turn of %s failed (%s); retrying", conversation_key, exc)
                    await asyncio.sleep(min(0.2 * 2**failures, 10.0))
        finally:
            self._jobs.discard(name)

    async def depth(self) -> int:
        """Turn tasks not finished."""
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait until every queued turn has run (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Cancel waiting turns: their messages stay pending and are recovered on start."""
        waiting = [*self._tasks, *self._later.values()]
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
