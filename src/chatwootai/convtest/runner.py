"""Running conversation tests through the service's own pipeline on a throw-away store.

Every turn goes through :meth:`ChatwootAISystem.process_message`, as a Chatwoot message does in a
worker and as `chat` does: tenancy, config, the hub, the crew built once per domain, agent
state, tools behind the DataProxy. The store is an in-memory embedded store in which each test
sees only its own keys (:mod:`chatwootai.convtest.store`), so tests run concurrently and their
results do not depend on which others run. The turn's clock is the test's `now`, so dates such
as "amanhã" and the calendar's free slots are the same whatever the real date.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chatwootai.convtest.expectations import Observed, check, texts
from chatwootai.convtest.judge import Judge
from chatwootai.convtest.loader import LoadedTest
from chatwootai.convtest.schema import Contact
from chatwootai.convtest.store import IsolatedStore, namespace
from chatwootai.settings import Settings
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.system import ChatwootAISystem
from chatwootai.tools.base import ToolContext
from chatwootai.tools.calendar import CalendarTool
from chatwootai.turn import Customer, IncomingMessage, TurnOutcome

DEFAULT_NOW = datetime(2026, 12, 1, 10, 0)
"""The clock of a test that sets none: Tuesday 2026-12-01, 10:00, local time of the domain."""

DEFAULT_CHANNEL = "whatsapp"
"""The channel of a test that sets none."""

OFFLINE = "offline"
CONFIGURED = "configured"

Status = Literal["passed", "failed", "skipped", "error"]


@dataclass
class TurnReport:
    """One turn as it ran: what was said, what came back, and what was missed."""

    index: int
    say: str
    now: datetime
    outcome: TurnOutcome | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    bookings: list[dict[str, Any]] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    judged: list[str] = field(default_factory=list)
    """Verdicts of the LLM judge on `says:` (passed ones too), labelled as such."""
    unchecked: list[str] = field(default_factory=list)
    """`says:` statements not checked (no judge)."""


@dataclass
class TestResult:
    """The result of one conversation test."""

    __test__ = False  # not a pytest class

    test: LoadedTest
    status: Status
    turns: list[TurnReport] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    @property
    def failed_turn(self) -> TurnReport | None:
        """The first turn with a miss, if any."""
        return next((t for t in self.turns if t.misses), None)


def model_settings(settings: Settings, model: str) -> Settings:
    """`settings` answering with `model`: 'offline' (default), 'configured' or a model string."""
    if model == CONFIGURED:
        return settings
    return settings.model_copy(update={"model_override": model})


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class ConversationTestRunner:
    """Runs conversation tests concurrently on one system with an isolated store per test."""

    __test__ = False  # not a pytest class

    def __init__(
        self,
        settings: Settings,
        *,
        model: str = OFFLINE,
        jobs: int = 4,
        judge: Judge | None = None,
    ) -> None:
        self.settings = model_settings(settings, model)
        self.jobs = max(1, jobs)
        self.judge = judge

    async def run(
        self,
        tests: list[LoadedTest],
        on_result: Callable[[TestResult], None] | None = None,
    ) -> list[TestResult]:
        """Run `tests` (skipped ones are reported, not run); results in the order given."""
        store = IsolatedStore(EmbeddedStore(":memory:", prefix=self.settings.redis_prefix))
        system = await ChatwootAISystem.create(self.settings, store=store)
        try:
            for domain in dict.fromkeys(t.domain for t in tests if t.skip is None):
                await system.runtime(domain)  # build each domain once, before the tests start
            gate = asyncio.Semaphore(self.jobs)

            async def one(index: int, test: LoadedTest) -> TestResult:
                async with gate:
                    namespace.set(f"convtest:{index}:")
                    result = await self.run_one(system, test, index)
                if on_result is not None:
                    on_result(result)
                return result

            tasks = [asyncio.create_task(one(i, t)) for i, t in enumerate(tests)]
            return list(await asyncio.gather(*tasks))
        finally:
            await system.close()

    async def run_one(self, system: ChatwootAISystem, test: LoadedTest, index: int) -> TestResult:
        """Run one test's turns in order, stopping at the first turn with a miss."""
        if test.skip is not None:
            return TestResult(test, "skipped", error=test.skip)
        started = time.perf_counter()
        result = TestResult(test, "passed")
        key = f"convtest:{test.domain}:{index}:{test.id}"
        try:
            config = await system.registry.get_domain_config(test.domain)
            zone = _zone(config.timezone)
            await system.domains.set_conversation_domain(key, test.domain)
            spec, defaults = test.test, test.defaults
            now = spec.now or defaults.now or DEFAULT_NOW
            for number, turn in enumerate(spec.turns, 1):
                now = turn.now or now
                moment = now if now.tzinfo else now.replace(tzinfo=zone)
                contact = turn.contact or spec.contact or defaults.contact or Contact()
                channel = turn.channel or spec.channel or defaults.channel or DEFAULT_CHANNEL
                message = IncomingMessage(
                    text=turn.say,
                    customer=Customer(
                        id=contact.id or f"contact:{test.id}",
                        name=contact.name,
                        phone=contact.phone,
                        email=contact.email,
                        verified=contact.verified,
                    ),
                    channel=channel.lower(),
                    content_kind=turn.attachment or "text",
                    now=moment,
                )
                report = TurnReport(number, turn.say, now)
                result.turns.append(report)
                outcome = await system.process_message(message, key, channel.lower())
                report.outcome = outcome
                report.slots = await self._slots(system, test.domain, key)
                report.bookings = await self._bookings(system, test.domain, key, config.timezone)
                observed = Observed(outcome, report.slots, report.bookings)
                report.misses = check(turn.expect, observed)
                await self._says(report, turn.say, outcome.reply, texts(turn.expect.says))
                if report.misses:
                    result.status = "failed"
                    break
        except Exception as exc:  # a broken turn is reported as the test's error, never raised
            result.status = "error"
            result.error = f"{type(exc).__name__}: {exc}"
        result.seconds = time.perf_counter() - started
        return result

    async def _slots(self, system: ChatwootAISystem, domain: str, key: str) -> dict[str, Any]:
        config = await system.registry.get_domain_config(domain)
        states = await system.states.load_many(domain, list(config.agents), key)
        slots: dict[str, Any] = {}
        for state in states.values():
            slots.update(state.slots)
        return slots

    async def _bookings(
        self, system: ChatwootAISystem, domain: str, key: str, timezone: str
    ) -> list[dict[str, Any]]:
        runtime = await system.runtime(domain)
        ctx = ToolContext(domain=domain, conversation_key=key, agent_id="", timezone=timezone)
        found: list[dict[str, Any]] = []
        for tool in runtime.proxy.tools.values():
            if isinstance(tool, CalendarTool):
                found += [b.public() for b in await tool.bookings(ctx)]
        return found

    async def _says(
        self, report: TurnReport, customer: str, reply: str, statements: list[str]
    ) -> None:
        if not statements:
            return
        if self.judge is None:
            report.unchecked += statements
            return
        label = f"[LLM judge {self.judge.name}]"
        for statement in statements:
            try:
                verdict = await self.judge.check(customer, reply, statement)
            except Exception as exc:  # the judge's model failed: a miss, said as such
                report.misses.append(f"says {statement!r}: {label} failed: {exc}")
                continue
            line = f"says {statement!r}: {label} {'yes' if verdict.holds else 'no'}"
            line += f" ({verdict.reason})" if verdict.reason else ""
            report.judged.append(line)
            if not verdict.holds:
                report.misses.append(line)
