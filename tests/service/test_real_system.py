"""The service around the real pipeline on the embedded defaults: no Redis, no LLM key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from chatwootai.service.app import create_app, service_of
from chatwootai.settings import Settings
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.system import ChatwootAISystem
from conftest import Harness, fast_client
from fakes.chatwoot_server import FakeChatwoot

DOMAINS = Path(__file__).resolve().parents[2] / "domains"
RETAIL_SECRET = "retail-secret-7"


@pytest.fixture
async def embedded(
    fake: FakeChatwoot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    """The app as `make run` starts it, pointed at the fake Chatwoot."""
    for name in ("OPENAI_API_KEY", "REDIS_URL", "REDIS_HOST", "CHATWOOTAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHATWOOT_WEBHOOK_SECRET_RETAIL", RETAIL_SECRET)
    settings = Settings.model_validate(
        {
            "CHATWOOTAI_DOMAINS_DIR": str(DOMAINS),
            "CHATWOOTAI_DATA_DIR": str(tmp_path / "data"),
            "CHATWOOT_BASE_URL": fake.base_url,
            "CHATWOOT_API_TOKEN": fake.bot_token,
            "CHATWOOTAI_BURST_WINDOW": 0,
            # tenants.yaml gives retail a secret of its own: every other account needs one too.
            "CHATWOOT_WEBHOOK_SECRET": fake.webhook_secret,
        }
    )
    assert not settings.redis_configured
    system = await ChatwootAISystem.create(settings)
    assert isinstance(system.store, EmbeddedStore)
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


async def test_accounts_are_answered_by_their_domains_offline(embedded: Harness) -> None:
    fake = embedded.fake
    fake.add_conversation(account_id=1, display_id=11, inbox_id=101)
    fake.add_conversation(account_id=2, display_id=22, inbox_id=102)
    fake.add_conversation(account_id=3, display_id=33, inbox_id=103)
    fake.add_conversation(account_id=1, display_id=12)  # inbox 12: its own domain wins
    questions = {
        (1, 11): "Vocês têm protetor solar?",
        (2, 22): "Qual o horário de atendimento?",
        (3, 33): "Quero saber do meu pedido",
        (1, 12): "Vocês têm protetor solar?",
    }
    for (account, display), text in questions.items():
        secret = RETAIL_SECRET if account == 3 else None  # retail signs with its own
        response = await embedded.post(fake.incoming(account, display, text), secret=secret)
        assert response.json()["status"] == "queued"
    await embedded.settle()
    for account, display in questions:
        assert (
            embedded.replies(account, display)
            or fake.conversations[(account, display)].status == "open"
        ), (account, display)
    metrics = (await embedded.http.get("/metrics")).text
    for domain in ("cosmetics", "health", "retail", "bela-pele-moema"):
        assert f'domain="{domain}"' in metrics, domain
    ready = await embedded.http.get("/readyz")
    assert ready.status_code == 200


async def test_a_retail_delivery_needs_the_retail_secret(embedded: Harness) -> None:
    fake = embedded.fake
    fake.add_conversation(account_id=3, display_id=34, inbox_id=103)
    wrong = await embedded.post(fake.incoming(3, 34, "oi"), secret="another-secret")
    assert wrong.status_code == 401
    global_secret = await embedded.post(fake.incoming(3, 34, "oi"))
    assert global_secret.status_code == 401
    right = await embedded.post(fake.incoming(3, 34, "oi"), secret=RETAIL_SECRET)
    assert right.status_code == 200
