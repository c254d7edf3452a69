"""The running service: the pieces the HTTP app and the workers share, built from settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from chatwootai.config.schema import Tenants
from chatwootai.console.activity import ConversationActivity
from chatwootai.media.outbound import OutboundFiles
from chatwootai.service.credentials import Credentials
from chatwootai.service.dedupe import Deduplicator
from chatwootai.service.delivery import DeliverySchedule
from chatwootai.service.durability import JournalKeeper
from chatwootai.service.journal import Journal
from chatwootai.service.lease import TurnLeases
from chatwootai.service.lifecycle import LIFECYCLE_FUNCTION, Lifecycle
from chatwootai.service.metrics import Metrics
from chatwootai.service.notices import NoticeDesk, NoticeList
from chatwootai.service.other_bots import OtherBotWatch
from chatwootai.service.pipeline import Pipeline
from chatwootai.service.queue import ArqTurnQueue, InProcessTurnQueue, TurnQueue
from chatwootai.service.rejections import RejectionLog
from chatwootai.service.replies import ClientFactory, Replier, default_client_factory
from chatwootai.service.spool import OwnershipChange, Spool
from chatwootai.service.takeover import watch_leases
from chatwootai.service.turn_media import TurnMedia
from chatwootai.service.turns import PendingList, PendingMessage, pending_list_for
from chatwootai.service.webhook_auth import WebhookAuth
from chatwootai.service.worker import TurnRunner
from chatwootai.settings import Settings
from chatwootai.stopping import stop_task
from chatwootai.store import keys
from chatwootai.store.embedded import EmbeddedStore

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
    auth: WebhookAuth
    rejections: RejectionLog
    keeper: JournalKeeper | None = None
    """Keeps the journal of accepted messages (None on the embedded store, durable itself)."""
    _drainer: asyncio.Task[None] | None = field(default=None)
    _watchdog: asyncio.Task[None] | None = field(default=None)

    async def accept(self, message: PendingMessage, *, dedupe: bool = True) -> str:
        """Store a customer message durably and enqueue its turn: ``queued`` or ``duplicate``.

        With Redis, the message is journaled on local disk first (see
        :mod:`chatwootai.service.journal`), so its 200 survives Redis losing its data.
        """
        scope = keys.scope_of(message.conversation_key)
        ids = (message.message_id, message.delivery_id)
        if dedupe and not await self.dedupe.first_time(*ids, scope=scope):
            return "duplicate"
        keeper = self.keeper
        try:
            if keeper is not None:
                await keeper.journal.record(message, keeper.epoch)
            await self.pending.push(message)
            await self.queue.enqueue(
                message.conversation_key, message.message_id, self.settings.burst_window_s
            )
        except BaseException:
            if keeper is not None:
                keeper.journal.discard(message)  # not acknowledged: the spool or a retry has it
            if dedupe:
                with contextlib.suppress(Exception):
                    await self.dedupe.forget(*ids, scope=scope)
            raise
        if keeper is not None:
            keeper.journal.stored(message, keeper.epoch)
        return "queued"

    def answered(self, conversation_key: str, reply_id: int) -> None:
        """A reply was posted in the conversation: its earlier messages need no journal entry."""
        if self.keeper is not None:
            self.keeper.journal.answered(conversation_key, reply_id)

    async def restore(self, message: PendingMessage) -> str:
        """Store a journaled message again after the store lost it (deduplicated, not journaled)."""
        scope = keys.scope_of(message.conversation_key)
        if not await self.dedupe.first_time(message.message_id, message.delivery_id, scope=scope):
            return "duplicate"
        await self.pending.push(message)
        # Its turn waits out what is left of the burst window, as the lost job would have.
        left = message.received_at + self.settings.burst_window_s - time.time()
        await self.queue.enqueue(
            message.conversation_key, message.message_id, left + 0.1 if left > 0 else 0
        )
        return "queued"

    async def _replay(self, message: PendingMessage) -> None:
        """Accept a spooled message, marking it seen so a later copy of it is a duplicate.

        It is accepted even if marked before: the mark may be from the delivery that the store
        failed to keep (and could not unmark).
        """
        scope = keys.scope_of(message.conversation_key)
        await self.dedupe.mark(message.message_id, message.delivery_id, scope=scope)
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
        """Start the queue, recover stranded turns (in-process), the journal and spool drainer."""
        await self.queue.start()
        if self.keeper is not None:
            await self.keeper.start()
        if isinstance(self.queue, InProcessTurnQueue):
            try:
                for key in await self.pending.conversations():
                    await self.queue.enqueue(key, 0, 0)
                if self.runner.notices is not None:
                    for key in await self.runner.notices.waiting.conversations():
                        await self.queue.enqueue(key, 0, 0)
                if self.runner.lifecycle is not None:  # openings and idle resolutions
                    await self.runner.lifecycle.recover()
            except Exception as exc:
                log.warning("pending conversations not recovered: %s", exc)
            runner = self.runner
            self._watchdog = asyncio.create_task(
                watch_leases(runner.leases, self.queue, self.metrics, runner.deliveries)
            )
        self._drainer = asyncio.create_task(
            self.spool.drain_forever(
                self._replay, self.change_owner, self._store_ready, superseded=self._superseded
            )
        )

    async def close(self) -> None:
        """Stop the drainer, the watchdog and the queue; close the journal and API clients."""
        for task in (self._drainer, self._watchdog):
            await stop_task(task)  # cancelled again if a store call swallowed the cancel
        self._drainer = self._watchdog = None
        if self.keeper is not None:
            await self.keeper.close()
        await self.queue.close()
        await self.replier.close()
        if self.runner.media is not None:
            await self.runner.media.aclose()


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
    metrics = metrics or Metrics(domains_labelled=settings.metrics_domains)
    store = system.store
    source: Tenants | Callable[[], Tenants]
    if tenants is not None:
        source = tenants
    else:
        domains = system.domains
        source = lambda: domains.tenants  # noqa: E731 - follows the manager's reloads
    credentials = Credentials(settings, source)
    pending = pending_list_for(store)
    replier = Replier(store, credentials, client_factory=client_factory, metrics=metrics)
    media = TurnMedia.from_settings(settings, system, replier, metrics)
    replier.files = OutboundFiles(media.downloader)
    runner = TurnRunner(
        system=system,
        notices=NoticeDesk(NoticeList(store), system, replier, metrics),
        pending=pending,
        leases=TurnLeases(store, lease_s=settings.turn_lease_s),
        replier=replier,
        metrics=metrics,
        burst_window_s=settings.burst_window_s,
        deliveries=DeliverySchedule(store, horizon_s=settings.delivery_horizon_s),
        media=media,
        activity=ConversationActivity(store, ttl=settings.ttl_conversation),
    )
    inline = not settings.redis_configured if in_process is None else in_process
    queue: TurnQueue
    if inline:
        queue = InProcessTurnQueue(runner.run, settings, on_give_up=runner.give_up)
    else:
        queue = ArqTurnQueue(settings)
    runner.scheduler = queue
    runner.lifecycle = Lifecycle(
        system, pending, runner.leases, replier, queue, settings.burst_window_s
    )
    if isinstance(queue, InProcessTurnQueue):
        queue.later_functions[LIFECYCLE_FUNCTION] = runner.lifecycle.run
    service = Service(
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
        auth=WebhookAuth(credentials),
        rejections=RejectionLog(metrics.rejected),
    )
    if settings.journal and not isinstance(store, EmbeddedStore):
        journal = Journal(settings.data_dir)
        service.keeper = JournalKeeper(journal, store, pending, service.restore, metrics)
    return service
