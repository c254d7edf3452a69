"""The running service: the pieces the HTTP app and the workers share, built from settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from chatwootai.config.schema import Tenants
from chatwootai.service.credentials import Credentials
from chatwootai.service.dedupe import Deduplicator
from chatwootai.service.metrics import Metrics
from chatwootai.service.notices import NoticeDesk, NoticeList
from chatwootai.service.other_bots import OtherBotWatch
from chatwootai.service.pipeline import Pipeline
from chatwootai.service.queue import ArqTurnQueue, InProcessTurnQueue, TurnQueue
from chatwootai.service.replies import ClientFactory, Replier, default_client_factory
from chatwootai.service.spool import OwnershipChange, Spool
from chatwootai.service.turns import PendingList, PendingMessage, TurnLock, pending_list_for
from chatwootai.service.worker import TurnRunner
from chatwootai.settings import Settings

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Service:
    """Intake (dedupe, pending list, queue, spool) and the turn runner, around one pipeline."""

    settings: Settings
    system: Pipeline
    credentials: Credentials
    metrics: Metrics
    other_bots: OtherBotWatch
    dedupe: Deduplicator
    pending: PendingList
    queue: TurnQueue
    spool: Spool
    runner: TurnRunner
    replier: Replier
    _drainer: asyncio.Task[None] | None = field(default=None)

    async def accept(self, message: PendingMessage, *, dedupe: bool = True) -> str:
        """Store a customer message durably and enqueue its turn: ``queued`` or ``duplicate``."""
        if dedupe and not await self.dedupe.first_time(message.message_id, message.delivery_id):
            return "duplicate"
        try:
            await self.pending.push(message)
        except Exception:
            if dedupe:
                with contextlib.suppress(Exception):
                    await self.dedupe.forget(message.message_id, message.delivery_id)
            raise
        await self.queue.enqueue(
            message.conversation_key, message.message_id, self.settings.burst_window_s
        )
        return "queued"

    async def _replay(self, message: PendingMessage) -> None:
        """Accept a spooled message, marking it seen so a later copy of it is a duplicate.

        It is accepted even if marked before: the mark may be from the delivery that the store
        failed to keep (and could not unmark).
        """
        await self.dedupe.mark(message.message_id, message.delivery_id)
        await self.accept(message, dedupe=False)

    async def change_owner(self, change: OwnershipChange) -> None:
        """Record that a human took the conversation over (pause) or handed it back (resume)."""
        conversations = self.system.conversations
        if change.paused:
            await conversations.pause(change.conversation_key, change.reason)
        else:
            await conversations.resume(change.conversation_key)

    def _superseded(self, message: PendingMessage) -> None:
        self.metrics.spool_superseded.inc()

    async def _store_ready(self) -> bool:
        try:
            return await self.system.store.ping()
        except Exception:
            return False

    async def drain_spool(self) -> int:
        """Replay spooled messages and ownership changes now; the number replayed or dropped."""
        return await self.spool.drain(self._replay, self.change_owner, superseded=self._superseded)

    async def start(self) -> None:
        """Start the queue, recover stranded turns (in-process) and the spool drainer."""
        await self.queue.start()
        if isinstance(self.queue, InProcessTurnQueue):
            try:
                for key in await self.pending.conversations():
                    await self.queue.enqueue(key, 0, 0)
                if self.runner.notices is not None:
                    for key in await self.runner.notices.waiting.conversations():
                        await self.queue.enqueue(key, 0, 0)
            except Exception as exc:
                log.warning("pending conversations not recovered: %s", exc)
        self._drainer = asyncio.create_task(
            self.spool.drain_forever(
                self._replay, self.change_owner, self._store_ready, superseded=self._superseded
            )
        )

    async def close(self) -> None:
        """Stop the drainer and the queue; close API clients."""
        if self._drainer is not None:
            self._drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drainer
            self._drainer = None
        await self.queue.close()
        await self.replier.close()


def build_service(
    settings: Settings,
    system: Pipeline,
    *,
    tenants: Tenants | None = None,
    client_factory: ClientFactory = default_client_factory,
    in_process: bool | None = None,
    metrics: Metrics | None = None,
) -> Service:
    """The service of a deployment: arq when Redis is configured, else the in-process queue."""
    metrics = metrics or Metrics()
    store = system.store
    source: Tenants | Callable[[], Tenants]
    if tenants is not None:
        source = tenants
    else:
        domains = system.domains
        source = lambda: domains.tenants  # noqa: E731 - follows the manager's reloads
    credentials = Credentials(settings, source)
    pending = pending_list_for(store)
    replier = Replier(store, credentials, client_factory=client_factory)
    runner = TurnRunner(
        system=system,
        notices=NoticeDesk(NoticeList(store), system, replier, metrics),
        pending=pending,
        lock=TurnLock(store, ttl_s=settings.turn_lock_ttl_s),
        replier=replier,
        metrics=metrics,
        burst_window_s=settings.burst_window_s,
    )
    inline = not settings.redis_configured if in_process is None else in_process
    queue: TurnQueue
    if inline:
        queue = InProcessTurnQueue(runner.run, settings, on_give_up=runner.give_up)
    else:
        queue = ArqTurnQueue(settings)
    return Service(
        settings=settings,
        system=system,
        credentials=credentials,
        metrics=metrics,
        other_bots=OtherBotWatch(metrics),
        dedupe=Deduplicator(store),
        pending=pending,
        queue=queue,
        spool=Spool(settings.data_dir),
        runner=runner,
        replier=replier,
    )
