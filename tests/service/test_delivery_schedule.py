"""Deferred deliveries: capped backoff, Retry-After honoured, errors past the horizon."""

from __future__ import annotations

import itertools
import logging

import pytest

from chatwootai.service.delivery import BACKOFF_CAP_S, DeliveryPending, DeliverySchedule
from chatwootai.store.base import Store


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


DOWN = DeliveryPending("Chatwoot down", kind="unavailable")


async def test_backoff_doubles_up_to_its_cap_then_past_the_horizon_logs_errors(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    schedule = DeliverySchedule(store, horizon_s=600, clock=clock)
    delays = []
    waiting = None
    with caplog.at_level(logging.WARNING):
        for _ in range(8):
            deferral = await schedule.deferred("3:417", "t1", DOWN, waiting)
            delays.append(deferral.retry_in_s)
            waiting = await schedule.waiting("3:417")
            assert waiting is not None and waiting.since == 1000.0
            clock.now += deferral.retry_in_s
    assert 1.6 <= delays[0] <= 2.4 and 3.2 <= delays[1] <= 4.8
    assert all(later >= earlier * 1.3 for earlier, later in itertools.pairwise(delays[:5]))
    assert max(delays) <= BACKOFF_CAP_S and delays[-1] >= 0.8 * BACKOFF_CAP_S
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert await schedule.counts() == (1, 0)

    clock.now = 1000.0 + 600  # the horizon: kept, retried every 30 s, an error each time
    deferral = await schedule.deferred("3:417", "t1", DOWN, waiting)
    assert deferral.past_horizon and deferral.retry_in_s == 30
    assert "past the 600 s horizon" in caplog.records[-1].getMessage()
    assert caplog.records[-1].levelno == logging.ERROR
    assert await schedule.counts() == (1, 1)

    await schedule.delivered("3:417", await schedule.waiting("3:417"))
    assert await schedule.waiting("3:417") is None
    assert await schedule.counts() == (0, 0)


async def test_retry_after_is_honoured_even_when_long(store: Store) -> None:
    schedule = DeliverySchedule(store, horizon_s=600, clock=Clock())
    limited = DeliveryPending("429", kind="rate_limited", retry_in_s=120)
    deferral = await schedule.deferred("3:417", "t1", limited, None)
    assert deferral.retry_in_s == 120
    waiting = await schedule.waiting("3:417")
    assert waiting is not None and waiting.retry_at == 1120.0 and waiting.attempts == 1
