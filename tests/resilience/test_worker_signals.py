"""SIGTERM while a turn runs longer than the worker's shutdown grace: the turn goes back to the
queue, another worker answers it, and the customer gets exactly one reply.

(SIGKILL mid-turn and SIGTERM with a turn that finishes within the grace are covered in
tests/service/test_end_to_end.py.)
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from resilience_support import visible_replies
from service_deployment import launch, wait_for

pytestmark = pytest.mark.slow(seconds=20)


def test_sigterm_past_the_grace_puts_the_turn_back_for_another_worker(tmp_path: Path) -> None:
    overrides = {
        "CHATWOOTAI_SYSTEM_FACTORY": "service_fakes:create_system",
        "CHATWOOTAI_DOMAINS_DIR": str(tmp_path / "domains"),
        "CHATWOOTAI_WORKER_SHUTDOWN_GRACE": "1",
        "FAKE_SLOW_S": "3",  # longer than the grace
    }
    with launch(tmp_path, (5,), overrides, workers=2) as dep:
        fake = dep.fake
        fake.add_conversation(account_id=5, display_id=900)
        assert dep.deliver(fake.incoming(5, 900, "pedido lento")).json()["status"] == "queued"
        started = dep.prefix + "fake:started:5:900"
        wait_for(lambda: dep.redis.get(started) is not None, "the turn to start")
        first = int(str(dep.redis.get(started)))
        victim = next(w for w in dep.workers if w.pid == first)
        dep.redis.delete(started)
        victim.send_signal(signal.SIGTERM)
        assert victim.wait(timeout=15) == 0  # a clean exit after the grace
        assert visible_replies(fake, 5, 900) == []  # the cut turn said nothing
        wait_for(lambda: dep.redis.get(started) is not None, "another worker to take the turn")
        assert int(str(dep.redis.get(started))) != first
        wait_for(lambda: bool(visible_replies(fake, 5, 900)), "the reply", 30)
        time.sleep(0.5)  # room for a wrong second reply to show up
        assert visible_replies(fake, 5, 900) == ["[retail/sales] pedido lento"]
        assert dep.redis.lrange(dep.prefix + "turn:pending:5:900", 0, -1) == []
