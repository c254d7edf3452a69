"""Chatwoot's API failing while the service replies: retried, and one reply per turn, always.

Through the whole service (webhook, pending list, turn, replier, client) in process, with the
fake brain of ``service_fakes`` and the fake Chatwoot injecting failures on ``messages.create``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from resilience_support import InProcess, quick_client, running
from service_fakes import TENANTS, FakeSystem

from chatwootai.service.app import create_app
from chatwootai.settings import Settings
from chatwootai.store.redis import RedisStore
from fakes.chatwoot_server import FakeChatwoot


@pytest.fixture
async def service(
    fake: FakeChatwoot, redis_url: str, key_prefix: str, tmp_path: Path
) -> AsyncIterator[InProcess]:
    """The app around the fake brain on the test Redis, turns in process."""
    settings = Settings.model_validate(
        {
            "REDIS_URL": redis_url,
            "CHATWOOTAI_REDIS_PREFIX": key_prefix,
            "CHATWOOT_BASE_URL": fake.base_url,
            "CHATWOOT_API_TOKEN": fake.bot_token,
            "CHATWOOTAI_BURST_WINDOW": 0,
            "CHATWOOTAI_DATA_DIR": str(tmp_path / "data"),
        }
    )
    system = FakeSystem(settings, RedisStore.from_url(redis_url, prefix=key_prefix))
    app = create_app(
        settings,
        system,
        tenants=TENANTS,
        client_factory=quick_client,
        in_process=True,
        manage_system=False,
    )
    async for harness in running(app, fake):
        yield harness
    await system.store.close()


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("rate_limit", {"retry_after": "1", "times": 2}),  # 429 with Retry-After, twice
        ("error", {"times": 2}),  # 500 before anything was done
        ("error", {"times": 2, "status": 503}),
        ("timeout", {"delay": 1.0}),  # no answer within the client's 0.5 s, nothing done
        ("lost", {"delay": 1.0}),  # posted, but the answer never arrived in time
        ("lost_error", {}),  # posted, then a 500
    ],
)
async def test_failing_replies_are_retried_and_posted_once(
    service: InProcess, fake: FakeChatwoot, kind: str, options: dict[str, object]
) -> None:
    fake.add_conversation(account_id=3, display_id=500)
    fake.fail("messages.create", kind, **options)  # type: ignore[arg-type]
    assert (await service.post(fake.incoming(3, 500, "batom"))).json()["status"] == "queued"
    await service.settle()
    assert service.replies(3, 500) == ["[cosmetics/sales] batom"]
    outcomes = [c.outcome for c in fake.calls_to("messages.create")]
    assert outcomes[0] == kind  # the failure was met...
    if kind in ("lost", "lost_error"):
        assert outcomes == [kind]  # ...the post was found by its echo id, not sent again
    else:
        assert outcomes[-1] == "ok" and len(outcomes) >= 2  # ...and retried until it went through
    assert await service.service.pending.peek("3:500") == []


async def test_a_failing_handoff_is_retried_and_the_note_posted_once(
    service: InProcess, fake: FakeChatwoot
) -> None:
    conversation = fake.add_conversation(account_id=3, display_id=501)
    fake.fail("toggle_status", "error", times=2)
    fake.fail("messages.create", "lost", delay=1.0)
    await service.post(fake.incoming(3, 501, "quero falar com um humano"))
    await service.settle()
    assert conversation.status == "open" and conversation.bot_handoffs == 1
    assert len(service.replies(3, 501)) == 1
    notes = [c for c in fake.calls_to("messages.create") if c.body.get("private")]
    assert len({c.body["content"] for c in notes}) == len(notes) <= 1
