"""A worker started while Redis is down waits for it (logged once), then runs; a signal while it
waits ends it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from resilience_support import PrivateRedis, visible_replies
from service_deployment import BIN, HERE, STARTUP_S, launch, wait_for

pytestmark = pytest.mark.slow

WAITING = b"the worker waits for it"


def log_of(path: Path) -> bytes:
    """What a process logged so far."""
    return path.read_bytes() if path.exists() else b""


def test_a_worker_started_before_redis_waits_then_answers(
    private_redis: PrivateRedis, tmp_path: Path
) -> None:
    private_redis.stop()
    overrides = {
        "CHATWOOTAI_SYSTEM_FACTORY": "service_fakes:create_system",
        "CHATWOOTAI_DOMAINS_DIR": str(tmp_path / "domains"),
    }

    def redis_comes_later(logs: Path) -> None:
        worker_log = logs / "worker0.out"
        wait_for(lambda: WAITING in log_of(worker_log), "the worker to say it waits", STARTUP_S)
        time.sleep(1.0)  # a few retries while Redis is still down
        private_redis.start()

    with launch(
        tmp_path,
        (3,),
        overrides,
        workers=1,
        redis_url=private_redis.url,
        before_ready=redis_comes_later,
    ) as dep:
        [worker] = dep.workers
        assert worker.poll() is None
        assert log_of(tmp_path / "logs" / "worker0.out").count(WAITING) == 1  # logged once
        fake = dep.fake
        fake.add_conversation(account_id=3, display_id=950)
        assert dep.deliver(fake.incoming(3, 950, "bom dia")).json()["status"] == "queued"
        wait_for(lambda: bool(visible_replies(fake, 3, 950)), "the reply", 15)
        assert visible_replies(fake, 3, 950) == ["[cosmetics/sales] bom dia"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_waiting_for_redis_ends_the_worker_cleanly(
    private_redis: PrivateRedis, tmp_path: Path, sig: signal.Signals
) -> None:
    private_redis.stop()
    out = tmp_path / "worker.out"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)]),
        "REDIS_URL": private_redis.url,
        "CHATWOOTAI_SYSTEM_FACTORY": "service_fakes:create_system",
        "CHATWOOTAI_DATA_DIR": str(tmp_path / "data"),
        "CHATWOOTAI_LOG_LEVEL": "WARNING",
    }
    with out.open("wb") as sink:
        worker = subprocess.Popen([str(BIN), "worker"], env=env, stdout=sink, stderr=sink)
        try:
            # A liveness bound on the process starting (imports), as for every start in the suite.
            wait_for(lambda: WAITING in log_of(out), "the worker to say it waits", STARTUP_S)
            assert worker.poll() is None
            worker.send_signal(sig)
            assert worker.wait(timeout=10) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    logged = log_of(out)
    assert logged.count(WAITING) == 1
    assert b"exits without starting" in logged
    assert b"Traceback" not in logged
