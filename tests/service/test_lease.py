"""The turn lease: held and renewed by the running turn, taken over when its holder stops.

On Redis and on the embedded store alike (the ``store`` fixture).
"""

from __future__ import annotations

import asyncio

import pytest

from chatwootai.service.lease import LeaseLostError, TurnLeases, lost_to_error
from chatwootai.service.metrics import Metrics
from chatwootai.service.takeover import take_over_expired
from chatwootai.store import keys
from chatwootai.store.base import Store


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Scheduled:
    """A turn scheduler recording what it was asked."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, float, str]] = []
        self.dropped: list[str] = []

    async def schedule(self, conversation_key: str, defer_s: float, reason: str) -> None:
        self.runs.append((conversation_key, defer_s, reason))

    async def drop_job(self, job_id: str) -> None:
        self.dropped.append(job_id)


async def test_one_holder_at_a_time_and_release_by_token(store: Store) -> None:
    leases = TurnLeases(store, lease_s=10)
    first = await leases.acquire("3:417")
    assert first is not None and await leases.held("3:417")
    assert await leases.acquire("3:417") is None
    ttl = await store.ttl(keys.turn_lock("3:417"))
    assert ttl is not None and ttl <= 10
    assert await leases.renew(first)
    stale = type(first)("3:417", "someone-else")
    assert not await leases.renew(stale) and not await leases.release(stale)
    assert await leases.release(first)
    assert not await leases.held("3:417")
    assert await store.zcount(keys.turn_leases()) == 0


async def test_expired_leases_are_claimed_once_and_live_ones_left_alone(store: Store) -> None:
    clock = Clock()
    leases = TurnLeases(store, lease_s=10, clock=clock)
    dead = await leases.acquire("3:1", job_id="prefix:turn:3:1:99")
    alive = await leases.acquire("3:2")
    assert dead is not None and alive is not None
    assert await leases.expired() == []
    clock.now += 11  # neither was renewed in time (by the clock of the list)...
    await store.delete(keys.turn_lock("3:1"))  # ...and the dead holder's lease expired
    expired = await leases.expired()
    assert sorted((e.conversation_key, e.job_id) for e in expired) == [
        ("3:1", "prefix:turn:3:1:99"),
        ("3:2", None),
    ]
    scheduler = Scheduled()
    metrics = Metrics()
    assert await take_over_expired(leases, scheduler, metrics) == ["3:1"]
    assert scheduler.runs == [("3:1", 0.0, "takeover")]
    assert scheduler.dropped == ["prefix:turn:3:1:99"]  # the dead worker's job, off the queue
    assert await take_over_expired(leases, scheduler, metrics) == []  # claimed once
    assert metrics.takeovers._value.get() == 1
    assert await leases.renew(alive)  # the live holder renews: listed again, not expired
    assert await leases.expired() == []


async def test_a_turn_that_loses_its_lease_is_stopped(store: Store) -> None:
    leases = TurnLeases(store, lease_s=2)  # renewed every 0.5 s
    holding = await leases.acquire("3:417")
    assert holding is not None
    stopped = asyncio.Event()

    async def turn() -> None:
        try:
            async with leases.keep(holding):
                await store.delete(keys.turn_lock("3:417"))  # taken away (it expired)
                await asyncio.sleep(10)
        except asyncio.CancelledError:
            stopped.set()
            lost_to_error(holding)
            raise

    with pytest.raises(LeaseLostError):
        await asyncio.wait_for(turn(), 5)
    assert stopped.is_set() and holding.lost


async def test_a_renewed_lease_outlives_its_length(store: Store) -> None:
    leases = TurnLeases(store, lease_s=2)
    holding = await leases.acquire("3:417")
    assert holding is not None
    async with leases.keep(holding):
        await asyncio.sleep(3)  # longer than the lease: renewed meanwhile
        assert await leases.held("3:417")
    assert not holding.lost
    assert await leases.release(holding)
