"""The turn lease: one turn at a time per conversation, and a dead holder replaced in seconds.

A turn holds its conversation's lease, a random token under ``turn:lock:{key}`` with a short
TTL (``CHATWOOTAI_TURN_LEASE``, 10 s), renewed in the background every quarter of it with
compare-token-then-extend. A holder that cannot renew (its token is gone, or the store did not
answer for the lease's length) stops its turn at once (:class:`LeaseLostError`): another worker may
have taken over, so it must not reply.

Every held lease is also listed in the sorted set ``turn:leases``, scored by its expiry (the
entry also names the queue job running the turn). Each worker's watchdog
(:func:`chatwootai.service.takeover.watch_leases`) reads the entries past their expiry (one
command), and re-enqueues the turns of conversations whose holder stopped renewing: a worker
killed mid-turn is replaced within the lease's length plus a second, whatever arq does with its
job (which the watchdog also takes off the queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from chatwootai.stopping import stop_task
from chatwootai.store import keys
from chatwootai.store.base import Store, StoreError

log = logging.getLogger(__name__)


class LeaseLostError(Exception):
    """The turn's lease was lost (not renewed in time): the turn stops without replying."""


JOB_SEPARATOR = "\n"
"""Between the conversation key and the job id in an entry of ``turn:leases``."""


@dataclass(slots=True)
class Holding:
    """A held lease: its token, the job holding it, and whether it was lost while held."""

    conversation_key: str
    token: str
    job_id: str | None = None
    lost: bool = False

    @property
    def entry(self) -> str:
        """Its entry in ``turn:leases``."""
        return entry_of(self.conversation_key, self.job_id)


@dataclass(frozen=True, slots=True)
class Expired:
    """A lease past its expiry in ``turn:leases``: its conversation and the job that held it."""

    conversation_key: str
    job_id: str | None
    entry: str


def entry_of(conversation_key: str, job_id: str | None) -> str:
    """The ``turn:leases`` entry of a lease held by a job (or by no queue job)."""
    return conversation_key if not job_id else f"{conversation_key}{JOB_SEPARATOR}{job_id}"


class TurnLeases:
    """Acquire, renew and release conversations' turn leases; find the expired ones."""

    def __init__(
        self, store: Store, *, lease_s: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.lease_s = max(2, int(lease_s))
        self.renew_every_s = self.lease_s / 4
        self.clock = clock

    async def acquire(self, conversation_key: str, *, job_id: str | None = None) -> Holding | None:
        """The lease of the conversation for a job, or None when another turn holds it."""
        token = uuid.uuid4().hex
        if not await self.store.set(keys.turn_lock(conversation_key), token, self.lease_s, nx=True):
            return None
        holding = Holding(conversation_key, token, job_id)
        await self.store.zadd(keys.turn_leases(), {holding.entry: self.clock() + self.lease_s})
        return holding

    async def renew(self, holding: Holding) -> bool:
        """Extend the lease if this holding still has it; False when it was lost."""
        key = holding.conversation_key
        if not await self.store.compare_and_expire(
            keys.turn_lock(key), holding.token, self.lease_s
        ):
            return False
        await self.store.zadd(keys.turn_leases(), {holding.entry: self.clock() + self.lease_s})
        return True

    async def release(self, holding: Holding) -> bool:
        """Give the lease up if this holding still has it."""
        await self.store.zrem(keys.turn_leases(), holding.entry)
        return await self.store.compare_and_delete(
            keys.turn_lock(holding.conversation_key), holding.token
        )

    async def held(self, conversation_key: str) -> bool:
        """Whether a turn of the conversation holds the lease now."""
        return await self.store.get(keys.turn_lock(conversation_key)) is not None

    async def expired(self, *, limit: int = 100) -> list[Expired]:
        """Leases listed whose holder should have renewed them by now."""
        rows = await self.store.zrange_by_score(keys.turn_leases(), self.clock(), limit=limit)
        found = []
        for entry, _ in rows:
            key, _, job = entry.partition(JOB_SEPARATOR)
            found.append(Expired(key, job or None, entry))
        return found

    async def claim(self, expired: Expired) -> bool:
        """Take an expired entry off the list; True for the one caller that should take over.

        An entry whose lease is still there belongs to a holder that renewed it (its entry is
        refreshed on the next renewal) and is left alone.
        """
        if await self.held(expired.conversation_key):
            return False
        return await self.store.zrem(keys.turn_leases(), expired.entry) == 1

    @contextlib.asynccontextmanager
    async def keep(self, holding: Holding) -> AsyncIterator[Holding]:
        """Renew the lease in the background while the block runs; cancel it if the lease is lost.

        The block's task is cancelled on loss; the caller turns that cancellation into
        :class:`LeaseLostError` (see :func:`lost_to_error`).
        """
        guarded = asyncio.current_task()
        assert guarded is not None

        async def renew_forever() -> None:
            last_ok = self.clock()
            while True:
                await asyncio.sleep(self.renew_every_s)
                try:
                    if await self.renew(holding):
                        last_ok = self.clock()
                        continue
                    reason = "its token is gone"
                except StoreError as exc:
                    if self.clock() - last_ok < self.lease_s - self.renew_every_s:
                        log.warning(
                            "lease of %s not renewed (%s); trying again",
                            holding.conversation_key,
                            exc,
                        )
                        continue
                    reason = f"the store did not answer for {self.lease_s} s"
                log.error(
                    "turn of %s lost its lease (%s): stopped without replying",
                    holding.conversation_key,
                    reason,
                )
                holding.lost = True
                guarded.cancel()
                return

        renewer = asyncio.create_task(renew_forever())
        try:
            yield holding
        finally:
            await stop_task(renewer)  # cancelled again if a store call swallowed the cancel


def lost_to_error(holding: Holding) -> None:
    """Inside ``except CancelledError``: raise LeaseLostError when the lease's loss caused it."""
    task = asyncio.current_task()
    if holding.lost and task is not None and task.uncancel() == 0:
        raise LeaseLostError(f"turn of {holding.conversation_key} lost its lease") from None
