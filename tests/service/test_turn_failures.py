"""The per-conversation failure count behind giving up: reset when a turn goes through."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from arq import Retry
from service_fakes import TENANTS, FakeSystem

from chatwootai.outcomes import read_report
from chatwootai.service.context import Service, build_service
from chatwootai.service.turns import PendingMessage
from chatwootai.service.worker import turn_job
from chatwootai.settings import Settings
from chatwootai.store import keys
from conftest import fast_client
from fakes.chatwoot_server import FakeChatwoot

KEY = "3:417"


@pytest.fixture
async def service(settings: Settings, system: FakeSystem) -> AsyncIterator[Service]:
    """The worker's side of a deployment (arq queue, never started), giving up after 3 failures."""
    three = settings.model_copy(update={"turn_attempts": 3})
    built = build_service(
        three, system, tenants=TENANTS, client_factory=fast_client, in_process=False
    )
    yield built
    await built.close()


def ctx_of(service: Service, job_try: int = 1) -> dict[str, Any]:
    """What arq hands the job."""
    return {"runner": service.runner, "settings": service.settings, "job_try": job_try}


async def say(service: Service, message_id: int, text: str) -> None:
    """A customer message waiting in the conversation's pending list."""
    await service.pending.push(
        PendingMessage(
            message_id=message_id,
            conversation_key=KEY,
            account_id=3,
            display_id=417,
            text=text,
            received_at=time.time() - 10,
        )
    )


async def failures(service: Service) -> str | None:
    """The conversation's failure count as stored."""
    return await service.system.store.get(keys.turn_failures(KEY))


async def fail_once(service: Service, message_id: int) -> None:
    """One turn that fails (and is to be retried); its message then taken away."""
    await say(service, message_id, "explode")
    with pytest.raises(Retry):
        await turn_job(ctx_of(service), KEY)
    await service.pending.remove(KEY, [message_id])


async def test_a_turn_that_goes_through_resets_the_failure_count(
    service: Service, fake: FakeChatwoot
) -> None:
    await fail_once(service, 1)
    await fail_once(service, 2)
    assert await failures(service) == "2"

    await say(service, 3, "oi")
    assert await turn_job(ctx_of(service), KEY) == "answered"
    assert await failures(service) is None

    # Two failures later the service still retries: the earlier two no longer count.
    await fail_once(service, 4)
    await fail_once(service, 5)
    assert await failures(service) == "2"
    assert fake.calls_to("toggle_status") == []
    assert not (await service.system.conversations.load(KEY)).paused


async def test_failures_in_a_row_still_give_up(service: Service, fake: FakeChatwoot) -> None:
    await say(service, 1, "explode")
    for _ in range(2):
        with pytest.raises(Retry):
            await turn_job(ctx_of(service), KEY)
    assert await turn_job(ctx_of(service, job_try=3), KEY) == "gave up"
    assert (await service.system.conversations.load(KEY)).paused
    assert len(fake.calls_to("toggle_status")) == 1  # the handoff
    assert await failures(service) is None
    # counted in the domain's outcomes as a handoff of reason "failure"
    today = datetime.now(UTC).date()
    report = await read_report(service.system.store, "cosmetics", today - timedelta(days=1), today)
    assert report.totals.handoffs_by_reason == {"failure": 1}
    assert report.totals.fallbacks == 1 and report.totals.messages == 1


async def test_a_retried_job_finding_its_turn_taken_resets_the_count(service: Service) -> None:
    await fail_once(service, 1)
    assert await turn_job(ctx_of(service, job_try=2), KEY) == "empty"
    assert await failures(service) is None


async def test_a_first_try_finding_nothing_leaves_the_count(service: Service) -> None:
    await fail_once(service, 1)
    assert await turn_job(ctx_of(service), KEY) == "empty"
    assert await failures(service) == "1"
