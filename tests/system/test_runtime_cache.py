"""Domain runtimes in a bounded LRU: eviction, rebuilds and concurrency (issue 15)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from chatwootai.config.schema import DomainConfig
from chatwootai.runtimes import RuntimeCache
from chatwootai.service.metrics import Metrics
from chatwootai.settings import Settings
from chatwootai.system import ChatwootAISystem
from chatwootai.turn import IncomingMessage

DOMAINS = Path(__file__).resolve().parents[2] / "domains"


@dataclass
class FakeRuntime:
    config: DomainConfig
    version: int
    closed: bool = False


class Builds:
    """A build function that counts builds and can be held until released."""

    def __init__(self) -> None:
        self.count: dict[str, int] = {}
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, config: DomainConfig, version: int) -> FakeRuntime:
        self.count[config.name] = self.count.get(config.name, 0) + 1
        await self.release.wait()
        return FakeRuntime(config, version)


def config(name: str) -> DomainConfig:
    return DomainConfig(name=name)


async def test_least_recently_used_runtimes_are_evicted_and_rebuilt_on_next_use() -> None:
    builds = Builds()
    evicted: list[str] = []
    cache = RuntimeCache(builds, max_count=2, on_evict=lambda name, _: evicted.append(name))
    a, b, c = config("a"), config("b"), config("c")
    first_a = await cache.get("a", a, 0)
    await cache.get("b", b, 0)
    assert await cache.get("a", a, 0) is first_a  # a is now the most recently used
    await cache.get("c", c, 0)
    assert evicted == ["b"] and cache.held() == ["a", "c"] and len(cache) == 2
    await cache.get("b", b, 0)
    assert builds.count == {"a": 1, "b": 2, "c": 1} and evicted == ["b", "a"]
    assert cache.stats.evictions == 2 and cache.stats.builds == 4 and cache.stats.hits == 1


async def test_concurrent_first_messages_build_once() -> None:
    builds = Builds()
    builds.release.clear()
    cache = RuntimeCache(builds, max_count=10)
    a = config("a")
    waiting = [asyncio.create_task(cache.get("a", a, 0)) for _ in range(20)]
    await asyncio.sleep(0.05)
    builds.release.set()
    runtimes = await asyncio.gather(*waiting)
    assert builds.count == {"a": 1} and all(r is runtimes[0] for r in runtimes)


async def test_a_failed_build_is_raised_to_every_waiter_and_tried_again_next_time() -> None:
    calls = 0

    async def failing(cfg: DomainConfig, version: int) -> FakeRuntime:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if calls == 1:
            raise RuntimeError("broken tool")
        return FakeRuntime(cfg, version)

    cache = RuntimeCache(failing, max_count=2)
    a = config("a")
    results = await asyncio.gather(
        *(cache.get("a", a, 0) for _ in range(5)), return_exceptions=True
    )
    assert calls == 1 and all(isinstance(r, RuntimeError) for r in results)
    assert (await cache.get("a", a, 0)).config is a and calls == 2


async def test_a_new_version_replaces_the_runtime_and_a_stale_build_is_not_kept() -> None:
    builds = Builds()
    replaced: list[FakeRuntime] = []
    cache = RuntimeCache(builds, max_count=2, on_evict=lambda _, r: replaced.append(r))
    old, new = config("a"), DomainConfig(name="a", description="v2")
    builds.release.clear()
    stale = asyncio.create_task(cache.get("a", old, 0))
    await asyncio.sleep(0.01)
    fresh = asyncio.create_task(cache.get("a", new, 1))  # the config changed during the build
    builds.release.set()
    stale_runtime, fresh_runtime = await stale, await fresh
    assert stale_runtime.config is old  # its turn is served with what it asked for
    assert cache.peek("a") is fresh_runtime and replaced == [stale_runtime]


def test_the_cap_must_hold_one_runtime() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RuntimeCache(Builds(), max_count=0)


@pytest.fixture
async def capped(tmp_path: Path) -> AsyncIterator[ChatwootAISystem]:
    """The example domains served with room for one runtime only."""
    settings = Settings(
        CHATWOOTAI_DOMAINS_DIR=DOMAINS, CHATWOOTAI_DATA_DIR=tmp_path, CHATWOOTAI_MAX_RUNTIMES=1
    )
    system = await ChatwootAISystem.create(settings)
    await system.start()
    yield system
    await system.close()


async def test_turns_of_many_domains_at_once_are_answered_by_their_own_domain_under_a_cap(
    capped: ChatwootAISystem, tmp_path: Path
) -> None:
    metrics = Metrics(CollectorRegistry())
    metrics.watch_runtimes(capped.runtimes)
    accounts = {"1": "cosmetics", "2": "health", "3": "retail"}
    texts = ["quanto custa o protetor solar?", "vocês aceitam pix?", "qual o prazo de entrega?"]
    messages = [
        (IncomingMessage(text=texts[i % 3], account_id=account), f"{account}:{i}")
        for i in range(12)
        for account in accounts
    ]
    settings = Settings(CHATWOOTAI_DOMAINS_DIR=DOMAINS, CHATWOOTAI_DATA_DIR=tmp_path / "free")
    free = await ChatwootAISystem.create(settings)  # no eviction, one message at a time
    expected = [await free.process_message(m, key, "api") for m, key in messages]
    await free.close()

    outcomes = await asyncio.gather(*(capped.process_message(m, k, "api") for m, k in messages))
    for index, (outcome, alone) in enumerate(zip(outcomes, expected, strict=True)):
        assert outcome.domain == list(accounts.values())[index % 3]
        assert (outcome.crew, outcome.reply) == (alone.crew, alone.reply)
    assert len(capped.runtimes) == 1
    assert capped.runtimes.stats.evictions >= 2 and capped.runtimes.stats.builds >= 3
    sample = metrics.registry.get_sample_value
    assert sample("chatwootai_runtimes_held") == 1
    assert sample("chatwootai_runtime_evictions_total") == capped.runtimes.stats.evictions
    assert sample("chatwootai_runtime_build_seconds_count") == capped.runtimes.stats.builds


async def test_a_turn_on_an_evicted_runtime_finishes_with_its_tools_open(
    capped: ChatwootAISystem,
) -> None:
    runtime = await capped.runtime("cosmetics")
    crew = await capped.crews.get_crew("sales", "cosmetics")
    await capped.runtime("health")  # evicts cosmetics: its crews go, its clients close later
    assert "cosmetics" not in capped.runtimes
    assert ("cosmetics", "sales", 0) not in capped.crews.built()
    assert capped._closing
    outcome = await capped.process_message(
        IncomingMessage(text="quanto custa o protetor solar?", account_id="1"), "1:9", "api"
    )
    assert outcome.domain == "cosmetics" and outcome.reply  # rebuilt on its next message
    again = await capped.runtime("cosmetics")
    assert again is not runtime and again.hub.core is runtime.hub.core  # shared, not refitted
    assert crew.proxy is runtime.proxy  # the old crew still holds the old runtime's tools
