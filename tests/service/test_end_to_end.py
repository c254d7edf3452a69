"""End to end: `chatwootai serve` + two `chatwootai worker` processes on real Redis.

Chatwoot is the fake server (it delivers the bot's own replies back as webhooks, as Chatwoot
does); the pipeline is the fake brain of ``service_fakes`` loaded through
``CHATWOOTAI_SYSTEM_FACTORY``, so the service machinery runs for real across processes.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import httpx
import pytest
from service_deployment import ADMIN, DOMAINS, Deployment, launch, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """One server and two workers around the fake brain, for the whole module."""
    tmp = tmp_path_factory.mktemp("e2e")
    overrides = {
        "CHATWOOTAI_SYSTEM_FACTORY": "service_fakes:create_system",
        "CHATWOOTAI_DOMAINS_DIR": str(tmp / "domains"),
        "FAKE_SLOW_S": "1.5",
    }
    with launch(tmp, (3, 4, 5), overrides, metrics=True) as dep:
        yield dep


def test_the_real_pipeline_answers_three_domains_offline(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The shipped domains and tenants.yaml, the offline model, one server and one worker."""
    tmp = tmp_path_factory.mktemp("e2e-real")
    overrides = {"CHATWOOTAI_DOMAINS_DIR": str(DOMAINS), "CHATWOOT_WEBHOOK_SECRET_RETAIL": "rs"}
    # The default job timeout: a first offline turn (crews built) outlasts a shortened one on a
    # busy machine and is cut again and again.
    overrides["CHATWOOTAI_JOB_TIMEOUT"] = "120"
    overrides["CHATWOOTAI_SYSTEM_FACTORY"] = ""
    for name in ("OPENAI_API_KEY", "CHATWOOTAI_MODEL"):
        overrides[name] = ""
    with launch(tmp, (1, 2, 3), overrides, workers=1) as dep:
        fake = dep.fake
        asked = {(1, 61): "Vocês têm protetor solar?", (2, 62): "Qual o horário?", (3, 63): "oi"}
        for (account, display), _ in asked.items():
            fake.add_conversation(account_id=account, display_id=display, inbox_id=100 + account)
        for (account, display), text in asked.items():
            secret = "rs" if account == 3 else None
            body, headers = fake.build_delivery(
                fake.incoming(account, display, text), secret=secret
            )
            response = httpx.post(dep.url + "/webhooks/chatwoot", content=body, headers=headers)
            assert response.json()["status"] == "queued", response.text
        wait_for(lambda: all(dep.replies(a, d) for a, d in asked), "three replies", 40)
        auth = {"Authorization": f"Bearer {ADMIN}"}
        domains = {
            key: httpx.get(f"{dep.url}/api/admin/conversations/{key}", headers=auth).json()[
                "domain"
            ]
            for key in ("1:61", "2:62", "3:63")
        }
        assert domains == {"1:61": "cosmetics", "2:62": "health", "3:63": "retail"}


def test_three_domains_side_by_side_and_the_bot_never_answers_itself(
    deployment: Deployment,
) -> None:
    fake = deployment.fake
    fake.add_conversation(account_id=3, display_id=1001)
    fake.add_conversation(account_id=4, display_id=1002)
    fake.add_conversation(account_id=5, display_id=1003)
    for account, display, text in ((3, 1001, "batom"), (4, 1002, "exame"), (5, 1003, "tênis")):
        assert (
            deployment.deliver(fake.incoming(account, display, text)).json()["status"] == "queued"
        )
    wait_for(
        lambda: all(deployment.replies(a, d) for a, d in ((3, 1001), (4, 1002), (5, 1003))),
        "replies",
    )
    # The bot's replies came back as webhooks (fake.webhook_url) and were ignored.
    wait_for(
        lambda: sum(1 for d in fake.deliveries if d.status is not None) >= 3, "echoed webhooks"
    )
    time.sleep(0.5)  # room for a wrong second reply to show up
    assert deployment.replies(3, 1001) == ["[cosmetics/sales] batom"]
    assert deployment.replies(4, 1002) == ["[health/sales] exame"]
    assert deployment.replies(5, 1003) == ["[retail/sales] tênis"]


def test_duplicates_and_bursts_are_answered_once(deployment: Deployment) -> None:
    fake = deployment.fake
    fake.add_conversation(account_id=3, display_id=1010)
    first = fake.incoming(3, 1010, "oi")
    assert deployment.deliver(first, delivery_id="e2e-dup").json()["status"] == "queued"
    assert deployment.deliver(first, delivery_id="e2e-dup").json()["status"] == "duplicate"
    assert deployment.deliver(first).json()["status"] == "duplicate"
    assert deployment.deliver(fake.incoming(3, 1010, "tudo bem?")).json()["status"] == "queued"
    wait_for(lambda: bool(deployment.replies(3, 1010)), "the reply")
    time.sleep(0.6)
    assert deployment.replies(3, 1010) == ["[cosmetics/sales] oi\ntudo bem?"]


def typing_calls(deployment: Deployment, account_id: int, display_id: int) -> list[str]:
    """The typing statuses the bot sent to a conversation, in order."""
    return [
        str(call.body["typing_status"])
        for call in deployment.fake.calls_to("toggle_typing")
        if (call.account_id, call.conversation_id) == (account_id, display_id)
    ]


def test_a_worker_killed_mid_turn_loses_nothing_and_replies_once(deployment: Deployment) -> None:
    """Default settings: the turn is taken over once its lease (10 s) expires, without spinning.

    The surviving worker runs a handful of jobs for it (no arq retries while the lease lives),
    switches off the typing indicator the dead worker left on, and answers once.
    """
    fake = deployment.fake
    fake.add_conversation(account_id=5, display_id=1020)
    assert deployment.deliver(fake.incoming(5, 1020, "pedido lento")).json()["status"] == "queued"
    started = deployment.prefix + "fake:started:5:1020"
    wait_for(lambda: deployment.redis.get(started) is not None, "the turn to start")
    wait_for(lambda: typing_calls(deployment, 5, 1020) == ["on"], "the typing indicator")
    pid = int(str(deployment.redis.get(started)))
    victim = next(w for w in deployment.workers if w.pid == pid)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=5)
    jobs_before = deployment.worker_metric("chatwootai_turn_jobs_total")  # the survivor's
    # within the lease's 10 s, a second for the watchdog, the 1.5 s turn, and room for load
    wait_for(lambda: bool(deployment.replies(5, 1020)), "the surviving worker's reply", 25)
    time.sleep(0.5)
    assert deployment.replies(5, 1020) == ["[retail/sales] pedido lento"]
    pending = deployment.redis.lrange(deployment.prefix + "turn:pending:5:1020", 0, -1)
    assert pending == []
    assert typing_calls(deployment, 5, 1020) == ["on", "off", "on", "off"]  # off at take-over
    assert deployment.worker_metric("chatwootai_turn_takeovers_total") == 1
    assert deployment.worker_metric("chatwootai_turn_jobs_total", outcome="retry") == 0
    assert deployment.worker_metric("chatwootai_turn_jobs_total") - jobs_before <= 3


def test_handoff_opens_the_conversation_and_silences_the_bot(deployment: Deployment) -> None:
    fake = deployment.fake
    conversation = fake.add_conversation(account_id=3, display_id=1030)
    deployment.deliver(fake.incoming(3, 1030, "quero falar com um humano"))
    wait_for(lambda: conversation.status == "open", "the handoff")
    assert conversation.bot_handoffs == 1
    assert conversation.team == {"id": 2, "name": "vendas"}
    # A human answers; the customer writes again: the bot stays silent.
    deployment.deliver(fake.agent_reply(3, 1030, "Oi, sou o João"))
    conversation.status = "pending"  # even if Chatwoot still shows it pending
    deployment.deliver(fake.incoming(3, 1030, "obrigada João"))
    time.sleep(1.0)
    assert len(deployment.replies(3, 1030)) == 1


def test_signature_and_admin_token_are_enforced(deployment: Deployment) -> None:
    fake = deployment.fake
    fake.add_conversation(account_id=4, display_id=1040)
    body, headers = fake.build_delivery(fake.incoming(4, 1040, "forjado"), secret="wrong")
    response = httpx.post(deployment.url + "/webhooks/chatwoot", content=body, headers=headers)
    assert response.status_code == 401
    assert httpx.get(deployment.url + "/api/admin/domains").status_code == 401
    auth = {"Authorization": f"Bearer {ADMIN}"}
    moved = httpx.post(
        deployment.url + "/api/admin/domain",
        json={"conversation_id": "4:1040", "domain": "retail"},
        headers=auth,
    )
    assert moved.json() == {"success": True, "message": "conversation 4:1040 now served by retail"}
    deployment.deliver(fake.incoming(4, 1040, "oi"))
    wait_for(lambda: bool(deployment.replies(4, 1040)), "the reply")
    assert deployment.replies(4, 1040) == ["[retail/sales] oi"]  # the workers saw the override
    metrics = httpx.get(deployment.url + "/metrics").text
    assert "chatwootai_webhooks_rejected_total" in metrics


def test_sigterm_lets_a_running_turn_finish(deployment: Deployment) -> None:
    """Runs last: it stops the remaining worker."""
    fake = deployment.fake
    fake.add_conversation(account_id=4, display_id=1050)
    assert deployment.deliver(fake.incoming(4, 1050, "pedido lento")).json()["status"] == "queued"
    started = deployment.prefix + "fake:started:4:1050"
    wait_for(lambda: deployment.redis.get(started) is not None, "the turn to start")
    pid = int(str(deployment.redis.get(started)))
    worker = next(w for w in deployment.workers if w.pid == pid)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0
    assert deployment.replies(4, 1050) == ["[health/sales] pedido lento"]
