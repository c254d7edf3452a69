"""What the console knows of served conversations: a cheap index and each one's transcript.

Written at the end of every turn a worker (or the in-process queue) thinks:

* ``console:recent:{domain}``, a sorted set of the domain's conversations scored by their last
  turn's time, so the newest page of 10,000 conversations is one ``ZREVRANGE`` and one ``MGET``;
* ``console:activity:{key}``, the last turn in brief (domain, crew, when, excerpts);
* ``console:transcript:{key}``, the turns as the bot saw them (message, reply, tool calls).

All three live as long as the conversation's own state (its domain's conversation TTL); the
sorted set drops members older than that TTL as turns are added, and a member whose activity
expired is skipped (and dropped) when listed.
"""

from __future__ import annotations

import heapq
import json
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from chatwootai.console.trace import trace_of
from chatwootai.store import keys
from chatwootai.store.base import Store
from chatwootai.store.ttl import CONVERSATION_TTL, ttl_or

if TYPE_CHECKING:
    from chatwootai.service.pipeline import Pipeline
    from chatwootai.turn import TurnOutcome

log = logging.getLogger(__name__)

MAX_TURNS = 200
"""Turns kept in a transcript (the oldest are dropped beyond)."""
EXCERPT_CHARS = 160
BATCH = 200
"""Members read per sorted set and per round trip while listing."""

StateFilter = Literal["any", "active", "paused", "handed_off"]
STATES: tuple[str, ...] = ("any", "active", "paused", "handed_off")


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


@dataclass(frozen=True, slots=True)
class ConversationRow:
    """One conversation of the console's list."""

    conversation_id: str
    domain: str
    crew: str | None
    last_activity: float
    last_message: str
    last_reply: str
    paused: bool
    paused_reason: str | None
    handed_off: bool

    def public(self) -> dict[str, Any]:
        """The row as the JSON API gives it."""
        return {
            "conversation_id": self.conversation_id,
            "domain": self.domain,
            "crew": self.crew,
            "last_activity": self.last_activity,
            "last_message": self.last_message,
            "last_reply": self.last_reply,
            "paused": self.paused,
            "paused_reason": self.paused_reason,
            "handed_off": self.handed_off,
        }


@dataclass(slots=True)
class ConversationPage:
    """A page of the conversation list, newest first."""

    rows: list[ConversationRow] = field(default_factory=list)
    total: int = 0
    """Conversations indexed in the domains asked for (before crew and state filters)."""
    more: bool = False
    """Whether another page follows."""


def _ownership(raw: str | None) -> tuple[bool, str | None]:
    if raw is None:
        return False, None
    try:
        record = json.loads(raw)
    except ValueError:
        return False, None
    if not isinstance(record, dict):
        return False, None
    reason = record.get("reason")
    return record.get("paused", True) is not False, reason if isinstance(reason, str) else None


class ConversationActivity:
    """Records turns for the console and lists and reads them back."""

    def __init__(self, store: Store, *, ttl: int = CONVERSATION_TTL) -> None:
        self.store = store
        self.ttl = ttl

    async def record(
        self, conversation_key: str, trace: dict[str, Any], *, ttl: int | None = None
    ) -> None:
        """Add a turn (a :func:`chatwootai.console.trace.trace_of`) to the index and transcript."""
        lifetime = ttl or self.ttl
        domain = str(trace["domain"])
        at = float(trace["at"])
        store = self.store
        previous = await store.get(keys.console_activity(conversation_key))
        if previous is not None:
            try:
                before = json.loads(previous).get("domain")
            except (ValueError, AttributeError):
                before = None
            if isinstance(before, str) and before != domain:  # its domain was changed
                await store.zrem(keys.console_recent(before), conversation_key)
        activity = {
            "domain": domain,
            "crew": trace.get("crew"),
            "at": at,
            "last_message": _excerpt(str(trace.get("customer", ""))),
            "last_reply": _excerpt(str(trace.get("reply", ""))),
            "handoff": trace.get("handoff") is not None,
        }
        await store.set(keys.console_activity(conversation_key), json.dumps(activity), lifetime)
        recent = keys.console_recent(domain)
        await store.zadd(recent, {conversation_key: at})
        await store.expire(recent, lifetime)
        stale = await store.zrange_by_score(recent, time.time() - lifetime, limit=100)
        if stale:
            await store.zrem(recent, *(member for member, _ in stale))
        transcript = keys.console_transcript(conversation_key)
        length = await store.list_push(transcript, json.dumps(trace, default=str), lifetime)
        if length > MAX_TURNS + 20:  # trimmed now and then, not at every turn
            items = await store.list_range(transcript)
            await store.list_remove(transcript, items[: len(items) - MAX_TURNS])

    async def record_turn(
        self,
        conversation_key: str,
        customer: str,
        outcome: TurnOutcome,
        channel: str,
        started: float,
        system: Pipeline,
    ) -> None:
        """Record a worker's turn (begun at perf-counter `started`); never raises."""
        turn_ms = (time.perf_counter() - started) * 1000
        try:
            config = system.registry.cached(outcome.domain)
            ttl = self.ttl if config is None else ttl_or(config.ttl.conversation, self.ttl)
            trace = trace_of(
                outcome, customer=customer, channel=channel, at=time.time(), turn_ms=turn_ms
            )
            await self.record(conversation_key, trace, ttl=ttl)
        except Exception as exc:  # the console's record must never cost a customer a reply
            log.warning("console: turn of %s not recorded: %s", conversation_key, exc)

    async def backfill(self, system: Pipeline) -> int:
        """Index the conversations whose state predates the index (once per store); how many.

        Their last activity is their state's last save; their transcript starts at their next
        turn. One process does it: the first to set ``console:indexed``.
        """
        if not await self.store.set(keys.console_indexed(), str(time.time()), nx=True):
            return 0
        prefix = keys.conversation_state("")
        names = await self.store.scan(prefix + "*")
        added = 0
        for start in range(0, len(names), BATCH):
            chunk = names[start : start + BATCH]
            conversations = [name[len(prefix) :] for name in chunk]
            values = await self.store.mget(chunk)
            known = await self.store.mget([keys.console_activity(c) for c in conversations])
            for key, raw, indexed in zip(conversations, values, known, strict=True):
                if raw is None or indexed is not None:
                    continue
                try:
                    state = json.loads(raw)
                    domain = await system.domains.get_domain_for_conversation(
                        key, inbox_id=state.get("inbox_id")
                    )
                except Exception:  # no domain (or unreadable): nothing to list it under
                    continue
                at = float(state.get("updated_at") or 0.0)
                left = await self.store.ttl(keys.conversation_state(key))
                activity = {"domain": domain, "crew": state.get("crew"), "at": at,
                            "last_message": "", "last_reply": "", "handoff": False}  # fmt: skip
                await self.store.set(
                    keys.console_activity(key), json.dumps(activity), left or self.ttl
                )
                await self.store.zadd(keys.console_recent(domain), {key: at})
                added += 1
        if added:
            log.info("console: %d conversations kept before the index were added to it", added)
        return added

    async def transcript(self, conversation_key: str) -> list[dict[str, Any]]:
        """The conversation's recorded turns, oldest first (empty when none or expired)."""
        turns: list[dict[str, Any]] = []
        for item in await self.store.list_range(keys.console_transcript(conversation_key)):
            try:
                turn = json.loads(item)
            except ValueError:
                continue
            if isinstance(turn, dict):
                turns.append(turn)
        return turns

    async def domain_of(self, conversation_key: str) -> str | None:
        """The domain of the conversation's last recorded turn, if any."""
        raw = await self.store.get(keys.console_activity(conversation_key))
        if raw is None:
            return None
        try:
            domain = json.loads(raw).get("domain")
        except (ValueError, AttributeError):
            return None
        return domain if isinstance(domain, str) else None

    async def _newest(
        self, domains: Sequence[str], batch: int = BATCH, below: float | None = None
    ) -> AsyncIterator[tuple[str, str, float]]:
        """(domain, conversation, time) across the domains' sorted sets, newest first (read
        `batch` members of a set at a time)."""
        offsets = dict.fromkeys(domains, 0)
        heap: list[tuple[float, str, str]] = []
        buffers: dict[str, list[tuple[str, float]]] = {}

        async def refill(domain: str) -> None:
            rows = await self.store.zrange_desc(
                keys.console_recent(domain), below=below, offset=offsets[domain], limit=batch
            )
            offsets[domain] += len(rows)
            buffers[domain] = rows[::-1]  # popped from the end: newest first
            if rows:
                member, score = buffers[domain].pop()
                heapq.heappush(heap, (-score, member, domain))

        for domain in domains:
            await refill(domain)
        while heap:
            negative, member, domain = heapq.heappop(heap)
            yield domain, member, -negative
            if buffers[domain]:
                nxt, score = buffers[domain].pop()
                heapq.heappush(heap, (-score, nxt, domain))
            elif offsets[domain] % batch == 0:
                await refill(domain)

    async def page(
        self,
        domains: Sequence[str],
        *,
        crew: str | None = None,
        state: StateFilter = "any",
        offset: int = 0,
        limit: int = 50,
        before: float | None = None,
    ) -> ConversationPage:
        """A page of the domains' conversations, newest first, filtered by crew and state.

        `before` (a last activity time, the last row of the page before) starts the page there
        at the cost of a first page; `offset` skips rows by reading them.
        """
        result = ConversationPage()
        for domain in domains:
            result.total += await self.store.zcount(keys.console_recent(domain))
        skipped = 0
        candidates: list[tuple[str, str, float]] = []

        async def settle(batch: list[tuple[str, str, float]]) -> bool:
            """Filter a batch into the page; True once the page is full and one more exists."""
            nonlocal skipped
            names = [keys.console_activity(key) for _, key, _ in batch]
            names += [keys.conversation_paused(key) for _, key, _ in batch]
            values = await self.store.mget(names)
            half = len(batch)
            gone: dict[str, list[str]] = {}
            for index, (domain, key, at) in enumerate(batch):
                raw = values[index]
                if raw is None:  # expired: drop it from the index
                    gone.setdefault(domain, []).append(key)
                    continue
                try:
                    activity = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(activity, dict) or activity.get("domain") != domain:
                    continue  # moved to another domain; listed there
                paused, reason = _ownership(values[half + index])
                handed_off = paused and (reason or "").startswith("handoff")
                if crew is not None and activity.get("crew") != crew:
                    continue
                if state == "active" and paused:
                    continue
                if state == "paused" and not paused:
                    continue
                if state == "handed_off" and not handed_off:
                    continue
                if skipped < offset:
                    skipped += 1
                    continue
                if len(result.rows) == limit:
                    result.more = True
                    break
                result.rows.append(
                    ConversationRow(
                        conversation_id=key,
                        domain=domain,
                        crew=activity.get("crew"),
                        last_activity=at,
                        last_message=str(activity.get("last_message", "")),
                        last_reply=str(activity.get("last_reply", "")),
                        paused=paused,
                        paused_reason=reason,
                        handed_off=handed_off,
                    )
                )
            for domain, members in gone.items():
                await self.store.zrem(keys.console_recent(domain), *members)
            return result.more

        filtered = crew is not None or state != "any"
        size = BATCH if filtered else min(BATCH, offset + limit + 1)
        async for item in self._newest(domains, size, before):
            candidates.append(item)
            if len(candidates) >= size:
                if await settle(candidates):
                    return result
                candidates = []
        if candidates:
            await settle(candidates)
        return result
