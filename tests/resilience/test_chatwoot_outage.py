"""Chatwoot's API down for 90 s, rate-limiting with Retry-After 120, or saving late: default
settings, the real `serve` and two `worker` processes on Redis, and nothing lost or doubled.

One deployment, four conversations side by side (the fake fails per conversation):

* 2001: every call answers 500 for 90 s; the customer writes again during the outage. One
  reply, answering both messages, once Chatwoot is back.
* 2002: the customer asks for a human during the same outage. The bot is not paused while the
  handoff has not reached Chatwoot; afterwards it is, with the note and the status posted once.
* 2003: 429 with Retry-After 120. Nothing is sent to that conversation for 120 s, then the
  reply, once.
* 2005: Chatwoot saves the reply 12 s after the post, past the client's 10 s timeout. It is read
  back once that can be conclusive (three timeouts later) and found: never posted twice.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from resilience_support import visible_replies
from service_deployment import ADMIN, Deployment, launch, wait_for

pytestmark = pytest.mark.slow(seconds=130)

OUTAGE_S = 90.0
RETRY_AFTER_S = 120


def paused(dep: Deployment, key: str) -> bool:
    """The bot's pause of a conversation, as the admin API reports it."""
    auth = {"Authorization": f"Bearer {ADMIN}"}
    summary = httpx.get(f"{dep.url}/api/admin/conversations/{key}", headers=auth, timeout=5)
    return bool(summary.json()["paused"])


def calls_about(dep: Deployment, display_id: int) -> list[float]:
    """When the fake received calls about a conversation of account 3 (monotonic times)."""
    return [c.at for c in dep.fake.calls if (c.account_id, c.conversation_id) == (3, display_id)]


def test_replies_survive_a_long_outage_a_long_retry_after_and_a_slow_save(
    tmp_path: Path,
) -> None:
    overrides = {
        "CHATWOOTAI_SYSTEM_FACTORY": "service_fakes:create_system",
        "CHATWOOTAI_DOMAINS_DIR": str(tmp_path / "domains"),
    }
    with launch(tmp_path, (3,), overrides, workers=2, metrics=True) as dep:
        fake = dep.fake
        for display_id in (2001, 2002, 2003, 2005):
            fake.add_conversation(account_id=3, display_id=display_id)
        down = fake.down(OUTAGE_S, conversations=((3, 2001), (3, 2002)))
        fake.down(5, kind="rate_limit", retry_after=str(RETRY_AFTER_S), conversations=((3, 2003),))
        fake.fail("messages.create", "slow", delay=12.0, conversation=(3, 2005))
        asked = {
            2001: "batom",
            2002: "quero falar com um humano",
            2003: "perfume",
            2005: "sabonete",
        }
        for display_id, text in asked.items():
            assert dep.deliver(fake.incoming(3, display_id, text)).json()["status"] == "queued"

        time.sleep(30)
        # The customer writes again while the outage lasts: kept, and answered later.
        assert dep.deliver(fake.incoming(3, 2001, "ainda aí?")).json()["status"] == "queued"
        wait_for(lambda: len(visible_replies(fake, 3, 2005)) == 1, "the slowly saved reply", 60)
        time.sleep(max(0.0, down.until - time.monotonic() - 10))  # near the end of the outage
        assert visible_replies(fake, 3, 2001) == [] and visible_replies(fake, 3, 2002) == []
        assert not paused(dep, "3:2002")  # nothing reached Chatwoot: no pause recorded
        assert fake.conversations[(3, 2002)].status == "pending"
        assert dep.worker_metric("chatwootai_deliveries_deferred_total") > 0

        wait_for(
            lambda: all(visible_replies(fake, 3, d) for d in (2001, 2002, 2003)),
            "every reply after the outage and the Retry-After",
            120,
        )
        time.sleep(3)  # room for a wrong second post to show up

        assert visible_replies(fake, 3, 2001) == ["[cosmetics/sales] batom\nainda aí?"]

        handoff = fake.conversations[(3, 2002)]
        assert len(visible_replies(fake, 3, 2002)) == 1
        notes = [m for m in handoff.messages if m["private"]]
        assert len(notes) == 1
        assert handoff.status == "open" and handoff.bot_handoffs == 1
        assert paused(dep, "3:2002")

        assert visible_replies(fake, 3, 2003) == ["[cosmetics/sales] perfume"]
        limited = calls_about(dep, 2003)
        assert limited[1] - limited[0] >= RETRY_AFTER_S - 1  # Retry-After honoured

        assert visible_replies(fake, 3, 2005) == ["[cosmetics/sales] sabonete"]
        slow_posts = [
            c
            for c in fake.calls_to("messages.create")
            if (c.account_id, c.conversation_id) == (3, 2005)
        ]
        assert len(slow_posts) == 1  # read back and found, never posted again

        for display_id in asked:
            assert dep.redis.lrange(f"{dep.prefix}turn:pending:3:{display_id}", 0, -1) == []
        assert dep.redis.zcard(dep.prefix + "turn:undelivered") == 0
