"""A human taking a conversation over while Redis is down is not lost: the spool keeps it in order.

`store_down` is the app with its Redis unreachable; `back` is the same deployment (same data dir,
so the same spool) once Redis answers again, with no background drainer: the test drains.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from service_fakes import TENANTS, FakeSystem

from chatwootai.service.app import create_app, service_of
from chatwootai.service.spool import OwnershipChange, Spool
from chatwootai.service.turns import PendingMessage
from chatwootai.settings import Settings
from conftest import Harness, fast_client
from fakes.chatwoot_server import FakeChatwoot


@pytest.fixture
async def back(
    settings: Settings, system: FakeSystem, fake: FakeChatwoot
) -> AsyncIterator[Harness]:
    """The deployment with Redis reachable again; its spool is drained by the test alone."""
    app = create_app(settings, system, tenants=TENANTS, client_factory=fast_client, in_process=True)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://service"
    ) as http:
        yield Harness(app, http, fake)
    await service_of(app).close()


def resume_payload(fake: FakeChatwoot, account_id: int, display_id: int) -> dict[str, object]:
    """Chatwoot putting the conversation back to pending (the bot owns it again)."""
    conversation = fake.conversations[(account_id, display_id)]
    conversation.status = "pending"
    return fake.conversation_payload(
        conversation, "conversation_status_changed", {"status": ["open", "pending"]}
    )


async def replay(back: Harness) -> int:
    """Drain the spool into the store and run the turns it queued."""
    count = await back.service.drain_spool()
    await back.settle()
    return count


async def test_message_followed_by_a_human_reply_is_not_answered(
    store_down: Harness, back: Harness, fake: FakeChatwoot
) -> None:
    statuses = [
        (await store_down.post(fake.incoming(3, 417, "preciso de ajuda"))).json()["status"],
        (await store_down.post(fake.agent_reply(3, 417, "Oi, sou a Ana"))).json()["status"],
    ]
    assert statuses == ["spooled", "spooled"]
    assert await replay(back) == 2
    assert back.replies(3, 417) == []
    state = await back.service.system.conversations.load("3:417")
    assert state.paused
    assert state.paused_reason == "a human agent replied"
    assert len(back.service.spool) == 0
    metrics = (await back.http.get("/metrics")).text
    assert "chatwootai_spool_superseded_total 1.0" in metrics


async def test_without_a_takeover_the_spooled_message_is_answered_once(
    store_down: Harness, back: Harness, fake: FakeChatwoot
) -> None:
    await store_down.post(fake.incoming(3, 417, "alguém aí?"))
    await store_down.post(fake.agent_reply(4, 51, "outra conversa"))  # another conversation
    assert await replay(back) == 2
    assert back.replies(3, 417) == ["[cosmetics/sales] alguém aí?"]
    assert (await back.service.system.conversations.load("4:51")).paused


async def test_pause_then_resume_drops_the_earlier_message_and_answers_the_later_one(
    store_down: Harness, back: Harness, fake: FakeChatwoot
) -> None:
    await store_down.post(fake.incoming(3, 417, "primeira"))
    await store_down.post(fake.agent_reply(3, 417, "respondi"))
    assert (await store_down.post(resume_payload(fake, 3, 417))).json()["status"] == "spooled"
    await store_down.post(fake.incoming(3, 417, "segunda"))
    assert await replay(back) == 4
    assert back.replies(3, 417) == ["[cosmetics/sales] segunda"]
    assert not (await back.service.system.conversations.load("3:417")).paused


async def test_a_resume_spooled_before_a_live_pause_does_not_undo_it(
    store_down: Harness, back: Harness, fake: FakeChatwoot
) -> None:
    # During the outage: the conversation goes back to the bot.
    await store_down.post(resume_payload(fake, 3, 417))
    # Redis is back but the spool is not drained yet: a human replies, then the customer writes.
    assert (await back.post(fake.agent_reply(3, 417, "assumi"))).json()["status"] == "spooled"
    assert (await back.post(fake.incoming(3, 417, "obrigado"))).json()["status"] == "spooled"
    await back.post(fake.incoming(4, 51, "oi"))  # a conversation with nothing spooled: live
    await back.settle()
    assert back.replies(4, 51) == ["[health/sales] oi"]
    assert await replay(back) == 3
    assert (await back.service.system.conversations.load("3:417")).paused
    assert back.replies(3, 417) == []
    # The spool is empty: the conversation's deliveries go to the store again.
    assert (await back.post(resume_payload(fake, 3, 417))).json()["status"] == "resumed"


async def test_drain_stops_at_the_first_failure_and_keeps_the_rest(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.write(OwnershipChange(conversation_key="3:1", paused=False, reason="r", received_at=1.0))
    spool.write(
        PendingMessage(
            message_id=7, conversation_key="3:1", account_id=3, display_id=1, received_at=2.0
        )
    )
    seen: list[object] = []

    async def own(change: OwnershipChange) -> None:
        seen.append(change)

    async def down(message: PendingMessage) -> None:
        raise ConnectionError("still down")

    assert await spool.drain(down, own) == 1
    assert spool.holds("3:1")
    assert [p.name.split("-")[1] for p in spool.files()] == ["7"]
    # A new process sees what the last one left.
    assert Spool(tmp_path).holds("3:1")
    assert not Spool(tmp_path).holds("3:2")


async def test_a_replayed_message_is_not_answered_again_when_delivered_again(
    store_down: Harness, back: Harness, fake: FakeChatwoot
) -> None:
    payload = fake.incoming(3, 417, "tem protetor?")
    spooled = await store_down.post(payload, delivery_id="agent-bot")
    assert spooled.json()["status"] == "spooled"
    assert await replay(back) == 1
    # The same message from the account webhook (another delivery id), after the replay.
    twin = await back.post(payload, delivery_id="account-webhook")
    assert twin.json()["status"] == "duplicate"
    again = await back.post(payload, delivery_id="agent-bot")
    assert again.json()["status"] == "duplicate"
    await back.settle()
    assert back.replies(3, 417) == ["[cosmetics/sales] tem protetor?"]
