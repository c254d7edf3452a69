"""Redis restarting without persistence right after messages were acknowledged: none is lost.

`chatwootai serve` and one `chatwootai worker` run with the default settings on a private
redis-server that keeps nothing across a restart (``--save '' --appendonly no``, the default of
many installations). Messages get their 200 (queued), and Redis restarts before any turn ran
(the default burst window holds each turn two seconds): pending lists, queue and dedupe marks are
gone. The serve process finds the store's epoch changed, replays its journal (every message it
acknowledged whose turn had not ended) and each message is answered exactly once; a message
answered before the restart is not answered again, and Chatwoot delivering a message again after
the replay is a duplicate.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from resilience_support import PrivateRedis, journal_entries, visible_replies
from service_deployment import launch, wait_for

from chatwootai.settings import Settings

pytestmark = pytest.mark.slow(seconds=16)

CONVERSATIONS = [(3, 900 + n) for n in range(6)]


def defaults() -> dict[str, str]:
    """The tuning `launch` shortens for other tests, put back to the shipped defaults."""
    fields = Settings.model_fields
    return {
        "CHATWOOTAI_JOB_TIMEOUT": str(fields["job_timeout_s"].default),
        "CHATWOOTAI_WORKER_POLL": str(fields["worker_poll_s"].default),
        "CHATWOOTAI_BURST_WINDOW": str(fields["burst_window_s"].default),
    }


def test_messages_acknowledged_just_before_redis_lost_its_data_are_answered_once(
    private_redis: PrivateRedis, tmp_path: Path
) -> None:
    overrides = {
        **defaults(),
        "CHATWOOTAI_SYSTEM_FACTORY": "service_fakes:create_system",
        "CHATWOOTAI_DOMAINS_DIR": str(tmp_path / "domains"),
        "CHATWOOTAI_LOG_LEVEL": "INFO",
    }
    with launch(tmp_path, (3,), overrides, workers=1, redis_url=private_redis.url) as dep:
        fake = dep.fake
        earlier = (3, 899)
        for account, display in [earlier, *CONVERSATIONS]:
            fake.add_conversation(account_id=account, display_id=display)
        assert dep.deliver(fake.incoming(*earlier, "antes")).json()["status"] == "queued"
        wait_for(lambda: bool(visible_replies(fake, *earlier)), "the reply before the restart")
        wait_for(lambda: journal_entries(dep.url) == 0, "the answered message to leave the journal")

        sent = {}
        for account, display in CONVERSATIONS:
            payload = fake.incoming(account, display, f"durante {display}")
            response = dep.deliver(payload, delivery_id=f"loss-{display}")
            assert response.json()["status"] == "queued"
            sent[display] = payload
        private_redis.stop()  # within the burst window: no turn has run yet
        private_redis.start()  # back, empty
        restarted = time.monotonic()

        wait_for(
            lambda: all(visible_replies(fake, a, d) for a, d in CONVERSATIONS),
            "every acknowledged message to be answered",
            timeout=60,
        )
        answered_s = time.monotonic() - restarted
        time.sleep(3.0)  # room for a second reply to show up
        for account, display in CONVERSATIONS:
            assert visible_replies(fake, account, display) == [
                f"[cosmetics/sales] durante {display}"
            ]
        assert visible_replies(fake, *earlier) == ["[cosmetics/sales] antes"]

        again = dep.deliver(sent[CONVERSATIONS[0][1]], delivery_id=f"loss-{CONVERSATIONS[0][1]}")
        assert again.json()["status"] == "duplicate"
        wait_for(lambda: journal_entries(dep.url) == 0, "the journal to be emptied")
        journal = tmp_path / "data" / "journal"
        wait_for(lambda: not list(journal.glob("*/*.jsonl")), "the journal's segments to go")
        log = (tmp_path / "logs" / "serve.out").read_text()
        assert "the store lost its data" in log
        assert "Redis persistence: no persistence" in log
        print(f"\n{len(CONVERSATIONS)} messages answered {answered_s:.2f} s after Redis came back")
