"""Scheduled steps of a conversation's life: open it when the team is back, resolve it when idle.

After each delivered turn the worker calls :meth:`Lifecycle.after_turn`, which keeps one record
per conversation and step in the store (``conversation:{idle|opening}:{key}``: when it is due and
where the conversation is) and enqueues one queue job per conversation and step, deferred to the
due time (arq ``_defer_until``, job id ``{prefix}{step}:{key}``). A newer answer only moves the
record's due time: the job already queued keeps its id, and when it runs it reads the record and
defers itself again (arq ``Retry``) while the due time lies ahead. So a customer who writes again
pushes the resolution back without a job per message, and nothing is a hand-made timer.

Without Redis the in-process queue keeps these jobs in memory; at start the service enqueues
them again from their records (:meth:`Lifecycle.recover`).

* ``opening`` (a handoff outside hours with ``hours.outside_handoff: bot_until_open``): at the
  team's return, the team is assigned and the conversation opened (``toggle_status open``), and
  the bot stops answering it, unless a human took it over meanwhile.
* ``idle`` (``resolution.inactivity_hours``): a conversation the bot answered and the customer
  left idle that long is resolved, after the domain's closing message. Never one a human holds
  (paused here, not ``pending`` in Chatwoot or assigned to a person), one with messages waiting,
  or one waiting for its opening.

Each step runs under the conversation's turn lease, so it never races a turn. A resolved
conversation's routing starts fresh (no crew, no slots) and keeps its history within its TTL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from arq import Retry
from pydantic import BaseModel, ValidationError

from chatwootai.agents.state import fresh_states
from chatwootai.chatwoot.client import TRANSIENT, ChatwootClient, ChatwootError
from chatwootai.chatwoot.handoff import open_conversation
from chatwootai.config.schema import DomainConfig
from chatwootai.service.credentials import CredentialsError
from chatwootai.service.delivery import DeliveryPending
from chatwootai.service.lease import Holding, LeaseLostError, TurnLeases, lost_to_error
from chatwootai.service.pipeline import Pipeline
from chatwootai.service.replies import PlannedReply, Replier, ReplyTarget
from chatwootai.service.turns import PendingList
from chatwootai.store import keys
from chatwootai.store.ttl import deployment_ttls, effective_ttls

log = logging.getLogger(__name__)

LIFECYCLE_FUNCTION = "lifecycle"
"""Name of the queue function running a scheduled step: ``lifecycle(conversation_key, step)``."""
IDLE = "idle"
OPENING = "opening"
STEPS = (IDLE, OPENING)
BUSY_RETRY_S = 5.0
"""A step that finds a turn running waits this long."""
FAILED_RETRY_S = 30.0
"""A step Chatwoot could not take now (down, rate limiting) is tried again after this."""
RECORD_SLACK_S = 86400
"""A record outlives its due time by this much (a worker down for hours still finds it)."""


class StepRecord(BaseModel):
    """A scheduled step of one conversation: when it is due and where the conversation is."""

    due: float
    domain: str
    account_id: int
    display_id: int
    inbox_id: int | None = None
    channel: str = "api"
    reason: str = ""

    def target(self, conversation_key: str) -> ReplyTarget:
        """The Chatwoot conversation of the record."""
        return ReplyTarget(
            conversation_key, self.account_id, self.display_id, self.inbox_id, self.channel
        )


class LaterQueue(Protocol):
    """A queue that runs ``function(conversation_key, step)`` at a time, one job per pair."""

    async def later(self, function: str, conversation_key: str, step: str, at: float) -> bool:
        """Enqueue the job for `at` (epoch s); False when one with its id is queued already."""
        ...

    async def schedule(self, conversation_key: str, defer_s: float, reason: str) -> None:
        """Run the conversation's turn once more in `defer_s` seconds."""
        ...


def _assignee_kind(conversation: dict[str, Any]) -> str | None:
    meta = conversation.get("meta")
    meta = meta if isinstance(meta, dict) else {}
    kind = meta.get("assignee_type")
    assignee = meta.get("assignee")
    if not kind and isinstance(assignee, dict):
        kind = assignee.get("type")  # "user", "agent_bot"... when meta gives only the assignee
    return str(kind) if kind else None


def bot_assigned(conversation: dict[str, Any]) -> bool:
    """Whether Chatwoot's conversation (``GET``) is assigned to the Agent Bot."""
    return _assignee_kind(conversation) in ("AgentBot", "agent_bot")


def human_holds(conversation: dict[str, Any]) -> bool:
    """Whether Chatwoot's conversation (``GET``) is a human's: not pending, or a person (or
    Captain) assigned, unless it is assigned to the Agent Bot and still active."""
    kind = _assignee_kind(conversation)
    status = conversation.get("status")
    if bot_assigned(conversation):
        return status in ("resolved", "snoozed")
    if kind:  # a person, or Captain
        return True
    return status != "pending"


@dataclass(slots=True)
class Lifecycle:
    """Schedules and runs the ``opening`` and ``idle`` steps of conversations."""

    system: Pipeline
    pending: PendingList
    leases: TurnLeases
    replier: Replier
    queue: LaterQueue | None = None
    burst_window_s: float = 0.0

    # -- scheduling, after a turn ----------------------------------------------------------

    async def after_turn(self, key: str, plan: PlannedReply, target: ReplyTarget) -> None:
        """Schedule what the delivered turn calls for: the opening of a deferred handoff, the
        idle resolution of a plain answer; a handoff or a resolution cancels the latter.
        Failures are logged: the turn was delivered, and the next one schedules again."""
        try:
            await self._after_turn(key, plan, target)
        except Exception as exc:
            log.warning("lifecycle of %s not scheduled: %s", key, exc)

    async def _after_turn(self, key: str, plan: PlannedReply, target: ReplyTarget) -> None:
        store = self.system.store
        if plan.handoff_reason is not None or plan.resolve:
            await store.delete(keys.conversation_lifecycle(key, IDLE))
            if plan.handoff_opens_at is not None:
                await self._arm(key, OPENING, plan, target, plan.handoff_opens_at)
            return
        try:
            config = await self.system.registry.get_domain_config(plan.domain)
        except Exception as exc:  # a broken domain: nothing scheduled for it
            log.debug("no lifecycle for %s: %s", key, exc)
            return
        hours = config.resolution.inactivity_hours
        if hours is not None:
            await self._arm(key, IDLE, plan, target, time.time() + hours * 3600)

    async def _arm(
        self, key: str, step: str, plan: PlannedReply, target: ReplyTarget, due: float
    ) -> None:
        record = StepRecord(
            due=due,
            domain=plan.domain,
            account_id=target.account_id,
            display_id=target.display_id,
            inbox_id=target.inbox_id,
            channel=target.channel,
            reason=plan.handoff_reason or "",
        )
        ttl = max(1, int(due - time.time()) + RECORD_SLACK_S)
        await self.system.store.set(
            keys.conversation_lifecycle(key, step), record.model_dump_json(), ttl
        )
        if self.queue is None:
            log.warning("no queue to schedule the %s step of %s", step, key)
            return
        await self.queue.later(LIFECYCLE_FUNCTION, key, step, due)

    async def recover(self) -> int:
        """Enqueue again the steps whose records are in the store (the in-process queue keeps
        its jobs in memory: after a restart they come back from the records); how many."""
        if self.queue is None:
            return 0
        count = 0
        for step in STEPS:
            marker = keys.conversation_lifecycle("", step)
            for name in await self.system.store.scan(marker + "*"):
                key = name[len(marker) :]
                record = await self.record(key, step)
                if record is not None:
                    await self.queue.later(LIFECYCLE_FUNCTION, key, step, record.due)
                    count += 1
        return count

    async def record(self, key: str, step: str) -> StepRecord | None:
        """The conversation's record of `step`, if any."""
        raw = await self.system.store.get(keys.conversation_lifecycle(key, step))
        if raw is None:
            return None
        try:
            return StepRecord.model_validate_json(raw)
        except ValidationError:
            return None

    # -- running a step --------------------------------------------------------------------

    async def run(self, key: str, step: str) -> tuple[str, float | None]:
        """Run the due step of a conversation: (what happened, when to run it again or None)."""
        if step not in STEPS:
            return "unknown step", None
        holding = await self.leases.acquire(key, job_id=None)
        if holding is None:
            return "busy", time.time() + BUSY_RETRY_S
        try:
            return await self._held(holding, key, step)
        except LeaseLostError:
            return "lease lost", time.time() + BUSY_RETRY_S
        except CredentialsError as exc:  # nobody can act for this tenant: the step is dropped
            log.error("%s step of %s dropped: %s", step, key, exc)
            await self.system.store.delete(keys.conversation_lifecycle(key, step))
            return "no credentials", None
        finally:
            await self.leases.release(holding)
            await self._work_left(key)

    async def _held(self, holding: Holding, key: str, step: str) -> tuple[str, float | None]:
        try:
            async with self.leases.keep(holding):
                if step == OPENING:
                    return await self._opening(key)
                return await self._idle(key)
        except asyncio.CancelledError:
            lost_to_error(holding)  # a lost lease: another holder has the conversation
            raise

    async def _work_left(self, key: str) -> None:
        """A turn that found the conversation busy left a mark: run it now (as turns do)."""
        if await self.system.store.delete(keys.turn_more(key)) and self.queue is not None:
            await self.queue.schedule(key, self.burst_window_s, "more")

    async def _opening(self, key: str) -> tuple[str, float | None]:
        record = await self.record(key, OPENING)
        if record is None:
            return "nothing", None
        now = time.time()
        if record.due > now + 1:
            return "not yet", record.due
        store = self.system.store
        if (await self.system.conversations.load(key)).paused:
            await store.delete(keys.conversation_lifecycle(key, OPENING))
            return "held by a human", None
        team_id = None
        try:
            config = await self.system.registry.get_domain_config(record.domain)
            team_id = config.chatwoot.handoff_team_id
        except Exception as exc:  # the domain broke since: open it anyway
            log.warning("opening %s without its domain's team: %s", key, exc)
        target = record.target(key)
        try:
            client = self.replier.client_for(target)
            shown = await self._shown(client, target)
            if shown is not None and shown.get("status") in ("resolved", "snoozed"):
                await store.delete(keys.conversation_lifecycle(key, OPENING))
                return "closed meanwhile", None  # never reopened by the bot
            if shown is None or not human_holds(shown):
                await open_conversation(
                    client,
                    target.account_id,
                    target.display_id,
                    team_id=team_id,
                    unassign_bot=shown is not None and bot_assigned(shown),
                )
        except TRANSIENT as exc:
            log.warning("opening %s for the team failed, retrying: %s", key, exc)
            return "retry", now + FAILED_RETRY_S
        except ChatwootError as exc:
            log.warning("opening %s for the team refused: %s", key, exc)
        await self.system.conversations.pause(key, f"handoff: {record.reason}")
        await store.delete(keys.conversation_lifecycle(key, OPENING))
        log.info("opened %s to the team, back at work (%s)", key, record.reason)
        return "opened", None

    @staticmethod
    async def _shown(client: ChatwootClient, target: ReplyTarget) -> dict[str, Any] | None:
        """The conversation as Chatwoot shows it; None when Chatwoot refuses the bot (older
        versions): the service's own record decides. Transient failures are raised."""
        try:
            return await client.get_conversation(target.account_id, target.display_id)
        except TRANSIENT:
            raise
        except ChatwootError as exc:
            log.info(
                "%s not readable (%s): deciding on our own record", target.conversation_key, exc
            )
            return None

    async def _idle(self, key: str) -> tuple[str, float | None]:
        record = await self.record(key, IDLE)
        if record is None:
            return "nothing", None
        now = time.time()
        if record.due > now + 1:
            return "not yet", record.due
        store = self.system.store
        name = keys.conversation_lifecycle(key, IDLE)
        skip = await self._skip_idle(key)
        if skip is not None:
            await store.delete(name)
            return skip, None
        try:
            config = await self.system.registry.get_domain_config(record.domain)
        except Exception as exc:
            log.warning("idle %s not resolved, its domain is unavailable: %s", key, exc)
            await store.delete(name)
            return "no domain", None
        if config.resolution.inactivity_hours is None:  # switched off since
            await store.delete(name)
            return "off", None
        target = record.target(key)
        client = self.replier.client_for(target)
        try:
            conversation = await self._shown(client, target)
        except TRANSIENT as exc:
            log.warning("idle %s: Chatwoot unavailable, retrying: %s", key, exc)
            return "retry", now + FAILED_RETRY_S
        if conversation is not None and human_holds(conversation):
            await store.delete(name)
            return "held by a human", None
        try:
            if config.resolution.closing_message.strip():
                await self.replier.post_once(
                    target,
                    f"idle-{int(record.due)}",
                    "closing",
                    config.resolution.closing_message.strip(),
                    private=False,
                )
            await client.toggle_status(target.account_id, target.display_id, "resolved")
        except (DeliveryPending, *TRANSIENT) as exc:
            log.warning("idle %s: not resolved yet, retrying: %s", key, exc)
            return "retry", now + FAILED_RETRY_S
        except ChatwootError as exc:
            log.warning("idle %s: Chatwoot refused to resolve it: %s", key, exc)
            await store.delete(name)
            return "refused", None
        await self.start_fresh(key, config)
        await store.delete(name)
        log.info("resolved %s, idle since the bot's last answer", key)
        return "resolved", None

    async def _skip_idle(self, key: str) -> str | None:
        """Why an idle conversation is not the bot's to resolve now; None when it is."""
        if (await self.system.conversations.load(key)).paused:
            return "held by a human"
        if await self.pending.peek(key):
            return "customer wrote"
        if await self.record(key, OPENING) is not None:
            return "waiting for the team"
        return None

    async def start_fresh(self, key: str, config: DomainConfig) -> None:
        """Forget the resolved conversation's crew, flow and slots; keep its history."""
        system = self.system
        ttls = effective_ttls(deployment_ttls(system.settings), config.ttl)
        state = await system.conversations.load(key)
        await system.conversations.save(
            key, state.model_copy(update={"crew": None, "in_flow": False}), ttl=ttls.conversation
        )
        states = getattr(system, "states", None)
        if states is None:  # a pipeline without agent states
            return
        loaded = await states.load_many(config.name, list(config.agents), key)
        kept = {a: s for a, s in loaded.items() if s.slots}
        if kept:
            await states.save_many(config.name, fresh_states(kept), key, ttl=ttls.agent_state)


StepRunner = Callable[[str, str], Awaitable[tuple[str, float | None]]]
"""Runs a step: ``run(conversation_key, step)`` → (what happened, when again or None)."""


async def lifecycle_job(ctx: dict[str, Any], conversation_key: str, step: str) -> str:
    """The arq job of a scheduled step; deferred again (``Retry``) while not yet due or busy."""
    lifecycle: Lifecycle | None = getattr(ctx["runner"], "lifecycle", None)
    if lifecycle is None:
        return "no lifecycle"
    outcome, again = await lifecycle.run(conversation_key, step)
    if again is not None:
        raise Retry(defer=max(0.1, again - time.time()))
    return outcome
