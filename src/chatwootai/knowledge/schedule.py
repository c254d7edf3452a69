"""Re-sync on a schedule, off the message path, and picking up what another process synced.

Every serving process runs :meth:`KnowledgeSchedule.run_forever`: each tick it re-attaches the
domains whose sources changed since they were attached (a sync by ``chatwootai knowledge
sync``, the schedule of another process, or an edited document file). Syncing the sources that
are due (``knowledge.sync_every_s`` per domain) runs in that same tick when the deployment has
no Redis (one process serves); with Redis, an arq cron job on the workers does it
(:func:`knowledge_cron_job`, one worker per tick), so a brand's pages are fetched once for all
its stores.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from chatwootai.config.loader import DomainLoader
from chatwootai.config.registry import DomainRegistry
from chatwootai.config.schema import DomainConfig
from chatwootai.knowledge.library import DomainReport, Library, describe

log = logging.getLogger(__name__)

CHECK_EVERY_S = 60.0
"""Seconds between two ticks: how soon a sync made elsewhere reaches a serving process."""

CRON_MINUTES = frozenset(range(0, 60, 5))
"""Minutes of the hour at which the arq cron job looks for due sources (every 5 minutes)."""

Domains = Callable[[], Awaitable[list[DomainConfig]]]
"""The servable domains' configs (for due syncs)."""


async def served_configs(registry: DomainRegistry, loader: DomainLoader) -> list[DomainConfig]:
    """The configs of the domains that are served (abstract and broken ones skipped)."""
    configs = []
    for name in registry.names():
        if loader.is_abstract(name):
            continue
        try:
            configs.append(await registry.get_domain_config(name))
        except Exception as exc:  # a broken domain is reported by its own loads
            log.warning("knowledge: domain %s skipped: %s", name, exc)
    return configs


async def sync_due(library: Library, domains: list[DomainConfig]) -> list[DomainReport]:
    """Sync the sources of `domains` that are due; log what changed or failed."""
    reports = []
    for config in domains:
        if config.knowledge.sync_every_s <= 0:
            continue
        report = await library.sync_domain(config, only_due=True)
        for source in report.sources:
            level = logging.WARNING if source.status == "failed" else logging.INFO
            log.log(level, "knowledge sync %s: %s", config.name, describe(source))
        reports.append(report)
    return reports


class KnowledgeSchedule:
    """The periodic knowledge task of one serving process."""

    def __init__(
        self,
        library: Library,
        domains: Domains,
        *,
        sync: bool,
        every_s: float = CHECK_EVERY_S,
    ) -> None:
        self.library = library
        self.domains = domains
        self.sync = sync
        self.every_s = every_s
        self.ticks = 0

    async def tick(self) -> None:
        """Sync what is due (when this process syncs) and re-attach changed domains."""
        if self.sync:
            await sync_due(self.library, await self.domains())
        for config in self.library.attached():
            await self.library.refresh(config.name)
        self.ticks += 1

    async def run_forever(self) -> None:
        """Tick every `every_s` seconds until cancelled; a failed tick is logged, not fatal."""
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("knowledge tick failed (retried at the next one)")


async def knowledge_cron_job(ctx: dict[str, Any]) -> int:
    """arq cron job: sync the due sources of every servable domain; the number synced."""
    runner = ctx.get("runner")
    system = getattr(runner, "system", None)
    due = getattr(system, "knowledge_domains", None)
    library = getattr(system, "knowledge", None)
    if due is None or not isinstance(library, Library):
        return 0
    reports = await sync_due(library, await due())
    return sum(len(r.sources) for r in reports)


def knowledge_cron_jobs() -> list[Any]:
    """The arq cron jobs of the knowledge schedule (for the worker's settings)."""
    from arq.cron import cron

    return [
        cron(
            knowledge_cron_job,  # type: ignore[arg-type]
            name="knowledge-sync",
            minute=set(CRON_MINUTES),
            unique=True,
            run_at_startup=False,
            timeout=3600,
            keep_result=0,
        )
    ]


@contextlib.asynccontextmanager
async def running(schedule: KnowledgeSchedule) -> Any:
    """Run `schedule` in the background for the duration of the block."""
    task = asyncio.create_task(schedule.run_forever())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
