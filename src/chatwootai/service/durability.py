"""The journal keeper: keeps the journal true to the store, and replays it when the store lost
its data.

Twice a second (in each serve process with Redis):

1. it reads the store's *epoch*, a random value written once (no TTL) under
   :func:`chatwootai.store.keys.store_epoch`. A Redis restarted without persistence, flushed, or
   failed over to an empty replica comes back without it: the keeper writes a new one and
   **replays** every journal entry stored under another epoch: each message is deduplicated
   again (so a copy still in the store, or replayed by another process, is not queued twice),
   pushed to its pending list and queued. The epoch this process saw is kept in its journal
   slot, so a loss that happened while the process was down is found at its next start;
2. it **forgets** entries whose message has left its conversation's pending list (the turn ended:
   answered, handed off, or dropped as the filter decided), checking each entry half a second
   after it was stored, then ever less often. An entry is forgotten only if the epoch is
   unchanged after the check, so a store that lost its data is never read as "the turn ended".

Sooner still, the webhook forgets a conversation's entries when Chatwoot delivers a reply posted
after them (the bot's own reply coming back, or a human's): :meth:`Journal.answered`.

At start it also reads what the Redis server keeps across a restart and logs what is and is not
guaranteed (:mod:`chatwootai.store.persistence`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable

from chatwootai.service.journal import FIRST_CHECK_S, Journal, JournalEntry
from chatwootai.service.metrics import Metrics
from chatwootai.service.turns import PendingList, PendingMessage
from chatwootai.stopping import stop_task
from chatwootai.store import keys
from chatwootai.store.base import Store
from chatwootai.store.persistence import redis_persistence
from chatwootai.store.redis import RedisStore

log = logging.getLogger(__name__)

EVERY_S = 0.5
"""How often the keeper looks at the store."""
MAX_CONVERSATIONS_PER_ROUND = 500
"""Pending lists read per round at most (the rest wait for the next round)."""

Replay = Callable[[PendingMessage], Awaitable[str]]
"""Stores a journaled message again, deduplicated: ``queued`` or ``duplicate``."""


class JournalKeeper:
    """Forgets journal entries whose turn ended; replays the journal after a store data loss."""

    def __init__(
        self,
        journal: Journal,
        store: Store,
        pending: PendingList,
        replay: Replay,
        metrics: Metrics,
        *,
        every_s: float = EVERY_S,
    ) -> None:
        self.journal = journal
        self.store = store
        self.pending = pending
        self.replay = replay
        self.metrics = metrics
        self.every_s = every_s
        self.epoch: str | None = None
        """The store epoch in force, as this process last saw it (None until first read)."""
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Open the journal, report the store's persistence, sync once, then run in a loop."""
        try:
            live = self.journal.open()
        except OSError as exc:
            log.error(
                "the journal cannot be opened (%s): deliveries are refused with 500 (Chatwoot "
                "delivers them again) until it can",
                exc,
            )
        else:
            if live:
                log.info("journal: %d accepted messages whose turn had not ended", live)
        await self._report_persistence()
        with contextlib.suppress(Exception):
            await self.tick()
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        """Stop the loop and close the journal."""
        await stop_task(self._task)  # cancelled again if a store call swallowed the cancel
        self._task = None
        self.journal.close()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await self.tick()
            except Exception as exc:
                log.debug("journal keeper round failed (the store may be down): %s", exc)

    async def _report_persistence(self) -> None:
        if not isinstance(self.store, RedisStore):
            return
        try:
            persistence = await redis_persistence(self.store)
        except Exception as exc:
            log.warning("Redis persistence unknown (%s); the journal covers accepted messages", exc)
            return
        level = logging.INFO if persistence.aof else logging.WARNING
        log.log(
            level,
            "Redis persistence: %s. Guaranteed anyway: every message acknowledged with 200 is "
            "journaled under %s and replayed, deduplicated, if Redis loses it. Not covered by "
            "the journal: conversation state, agent memory, pauses and domain choices.",
            persistence.describe(),
            self.journal.root,
        )

    async def current_epoch(self) -> str:
        """The store's epoch, written now if the store has none (a fresh or emptied store)."""
        epoch = await self.store.get(keys.store_epoch())
        if epoch is None:
            await self.store.set(keys.store_epoch(), uuid.uuid4().hex, nx=True)
            epoch = await self.store.get(keys.store_epoch())
            if epoch is None:
                raise RuntimeError("the store epoch could not be written")
        return epoch

    async def tick(self) -> None:
        """One round: follow the epoch, replay what it left behind, forget ended entries."""
        if self.journal.dir is None:
            self.journal.open()  # it could not be opened at start; the disk may be back
        epoch = await self.current_epoch()
        if epoch != self.epoch:
            saved = self.epoch if self.epoch is not None else self.journal.saved_epoch()
            if saved is not None and saved != epoch:
                self.metrics.store_data_lost.inc()
                log.warning(
                    "the store lost its data (its epoch changed: Redis restarted without "
                    "persistence, or was flushed); replaying %d journaled messages",
                    sum(1 for e in self.journal.entries() if e.stored),
                )
            self.epoch = epoch
            self.journal.save_epoch(epoch)
        await self._replay_stale(epoch)
        await self._forget_ended(epoch)
        self.metrics.journal_entries.set(len(self.journal))

    async def _replay_stale(self, epoch: str) -> None:
        stale = [e for e in self.journal.entries() if e.stored and e.epoch != epoch]
        if not stale:
            return
        queued = 0
        for entry in stale:
            outcome = await self.replay(entry.message)
            entry.epoch = epoch
            entry.next_check_at = time.monotonic() + FIRST_CHECK_S
            entry.check_every_s = FIRST_CHECK_S
            if outcome == "queued":
                queued += 1
        self.metrics.journal_replayed.inc(queued)
        if queued:
            log.warning(
                "journal: %d messages replayed into the store (%d were still there)",
                queued,
                len(stale) - queued,
            )

    async def _forget_ended(self, epoch: str) -> None:
        now = time.monotonic()
        due: dict[str, list[JournalEntry]] = defaultdict(list)
        for entry in self.journal.due(now):
            if entry.epoch == epoch:
                due[entry.message.conversation_key].append(entry)
        ended: list[PendingMessage] = []
        for key in list(due)[:MAX_CONVERSATIONS_PER_ROUND]:
            waiting = {m.message_id for m in await self.pending.peek(key)}
            for entry in due[key]:
                if entry.message.message_id in waiting:
                    self.journal.checked(entry, now)
                else:
                    ended.append(entry.message)
        # Only if the store still holds the same data set is "not pending" "its turn ended".
        if ended and await self.store.get(keys.store_epoch()) == epoch:
            self.journal.ended(ended)
