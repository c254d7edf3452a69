"""One broken domain or tenants.yaml entry never stops the service: the others are served.

The shipped domains plus ``petshop``, which extends itself; tenants.yaml maps account 9 to it,
account 8 to a domain that does not exist and account 7 to the abstract ``_base``. The service
starts, answers the good tenants, and hands each conversation of the bad ones to a human (a
private note saying why, the conversation opened) with one error line and a metric, once.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from service_deployment import DOMAINS, launch, wait_for

from chatwootai.service.app import create_app, service_of
from chatwootai.service.startup_report import startup_report
from chatwootai.settings import Settings
from chatwootai.system import ChatwootAISystem
from conftest import Harness, fast_client
from fakes.chatwoot_server import FakeChatwoot

BROKEN_TENANTS = '  "7": _base\n  "8": bakery\n  "9": petshop\n'


def broken_tree(root: Path) -> Path:
    """The shipped domains, `petshop` extending itself, and tenants mapped to bad domains."""
    shutil.copytree(DOMAINS, root)
    shutil.copytree(root / "retail", root / "petshop")
    file = root / "petshop" / "domain.yaml"
    lines = file.read_text(encoding="utf-8").split("\n")
    file.write_text(
        "\n".join("extends: [petshop]" if x.startswith("extends:") else x for x in lines),
        encoding="utf-8",
    )
    tenants = root / "tenants.yaml"
    text = tenants.read_text(encoding="utf-8")
    tenants.write_text(text.replace('  "2": health\n', '  "2": health\n' + BROKEN_TENANTS))
    (root / "notes").mkdir()  # a folder that is not a domain
    return root


@pytest.fixture
async def embedded(
    fake: FakeChatwoot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    """The app on the broken tree, embedded, pointed at the fake Chatwoot (no secrets)."""
    for name in ("OPENAI_API_KEY", "REDIS_URL", "REDIS_HOST", "CHATWOOTAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.model_validate(
        {
            "CHATWOOTAI_DOMAINS_DIR": str(broken_tree(tmp_path / "domains")),
            "CHATWOOTAI_DATA_DIR": str(tmp_path / "data"),
            "CHATWOOT_BASE_URL": fake.base_url,
            "CHATWOOT_API_TOKEN": fake.bot_token,
            "CHATWOOTAI_BURST_WINDOW": 0,
            "CHATWOOT_WEBHOOK_SECRET": fake.webhook_secret,
            "CHATWOOT_WEBHOOK_SECRET_RETAIL": "rs",
        }
    )
    system = await ChatwootAISystem.create(settings)  # tenants naming bad domains: no error
    app = create_app(settings, system, client_factory=fast_client)
    service = service_of(app)
    await system.start()
    await service.start()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://service"
    ) as http:
        yield Harness(app, http, fake)
    await service.close()
    await system.close()


async def test_the_good_domains_answer_and_the_bad_ones_go_to_humans(
    embedded: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    fake = embedded.fake
    for account in (1, 7, 8, 9):
        fake.add_conversation(account_id=account, display_id=50 + account, inbox_id=300 + account)
    with caplog.at_level(logging.ERROR, logger="chatwootai.service.unservable"):
        for account in (1, 7, 8, 9):
            response = await embedded.post(fake.incoming(account, 50 + account, "Qual o horário?"))
            assert response.json()["status"] == "queued", response.text
        await embedded.settle()
    assert embedded.replies(1, 51), "the valid domain answers"
    metrics = embedded.service.metrics
    for account, domain in ((7, "_base"), (8, "bakery"), (9, "petshop")):
        notes = [
            call.body["content"]
            for call in fake.calls_to("messages.create")
            if (call.account_id, call.conversation_id) == (account, 50 + account)
            and call.body.get("private")
        ]
        assert len(notes) == 1 and domain in notes[0], (account, notes)
        opened = [
            call
            for call in fake.calls_to("toggle_status")
            if (call.account_id, call.conversation_id) == (account, 50 + account)
        ]
        assert [call.body["status"] for call in opened] == ["open"]
        counted = metrics.domain_unavailable.labels(domain)._value.get()
        assert counted == 1, domain
    assert "extends itself" in caplog.text and "'bakery'" in caplog.text
    assert metrics.turn_errors._value.get() == 0  # handed over, never failed and retried


async def test_the_start_up_report_names_each_bad_domain_and_tenant(embedded: Harness) -> None:
    system = embedded.service.system
    report = await startup_report(system.registry, embedded.service.credentials)
    domains = "\n".join(str(f) for f in report.domains)
    assert "domain petshop: not valid (1 error, first: " in domains
    assert "extends itself" in domains and "handed to a human" in domains
    assert "folder notes: no domain.yaml: it is not a domain and is ignored" in domains
    tenants = "\n".join(str(f) for f in report.tenants)
    assert "account 9 (petshop): domain 'petshop' is not valid" in tenants
    assert "account 8 (bakery): domain 'bakery' does not exist" in tenants
    assert "account 7 (_base): domain '_base' is abstract" in tenants
    assert "account 1" not in tenants


async def test_admin_summary_of_a_broken_domains_conversation_is_not_a_5xx(
    embedded: Harness,
) -> None:
    summary = await embedded.service.system.conversation_summary("9:59")
    assert summary["domain"] == "petshop" and "extends itself" in summary["error"]


@pytest.mark.slow
def test_serve_and_worker_start_with_a_broken_domain_and_report_it(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Real processes, default tuning: both report at start and serve the good domains."""
    tmp = tmp_path_factory.mktemp("broken")
    overrides = {
        "CHATWOOTAI_DOMAINS_DIR": str(broken_tree(tmp / "domains")),
        "CHATWOOTAI_SYSTEM_FACTORY": "",
        "CHATWOOTAI_JOB_TIMEOUT": "120",
        "CHATWOOTAI_BURST_WINDOW": "2",
        "CHATWOOTAI_WORKER_POLL": "1",
        "CHATWOOTAI_LOG_LEVEL": "INFO",
        "OPENAI_API_KEY": "",
        "CHATWOOTAI_MODEL": "",
    }
    with launch(tmp, (1, 9), overrides, workers=1) as dep:
        fake = dep.fake
        fake.add_conversation(account_id=1, display_id=61, inbox_id=301)
        fake.add_conversation(account_id=9, display_id=69, inbox_id=309)
        assert dep.deliver(fake.incoming(1, 61, "Qual o horário?")).json()["status"] == "queued"
        assert dep.deliver(fake.incoming(9, 69, "Qual o horário?")).json()["status"] == "queued"
        wait_for(lambda: dep.replies(1, 61), "the valid domain's reply", 60)
        wait_for(
            lambda: any(c.account_id == 9 for c in fake.calls_to("toggle_status")),
            "the broken domain's conversation to be opened",
            60,
        )
        logs = tmp / "logs"
        for name in ("serve.out", "worker0.out"):
            text = (logs / name).read_text(encoding="utf-8", errors="replace")
            assert "start-up report" in text, name
            assert "domain petshop: not valid" in text, name
            assert "account 8 (bakery): domain 'bakery' does not exist" in text, name
            assert "Traceback" not in text, name
        worker = (logs / "worker0.out").read_text(encoding="utf-8", errors="replace")
        assert "conversation 9:69: domain 'petshop' is not valid" in worker
