"""Ids are scoped by account and installation: one tenant's ids never collide with another's.

Message ids are unique within one Chatwoot installation only, and a tenant holding its own
webhook secret can send any id it likes: deduplication, locks and every per-conversation key are
keyed by the account (and the installation when a tenant's ``base_url`` is another Chatwoot).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import redis
from service_fakes import TENANTS, FakeSystem

from chatwootai.config.schema import Tenants
from chatwootai.service.app import create_app, service_of
from chatwootai.settings import Settings
from chatwootai.store import keys
from conftest import Harness, fast_client
from fakes.chatwoot_server import FakeChatwoot

OTHER_INBOX = 900


@pytest.fixture
def other() -> Iterator[FakeChatwoot]:
    """A second Chatwoot installation whose ids repeat the first one's (account 3, 417...)."""
    with FakeChatwoot(accounts=(3,), bot_token="other-bot-token") as server:
        server.add_conversation(account_id=3, display_id=417, inbox_id=OTHER_INBOX)
        yield server


@pytest.fixture
async def two_installations(
    settings: Settings,
    system: FakeSystem,
    fake: FakeChatwoot,
    other: FakeChatwoot,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Harness]:
    """The deployment's Chatwoot (``fake``), and inbox 900 served from another one."""
    monkeypatch.setenv("OTHER_TOKEN", other.bot_token)
    tenants = Tenants.model_validate(
        {
            "accounts": {k: v.model_dump() for k, v in TENANTS.accounts.items()},
            "inboxes": {
                str(OTHER_INBOX): {
                    "domain": "cosmetics",
                    "base_url": other.base_url + "/",
                    "api_token_env": "OTHER_TOKEN",
                }
            },
        }
    )
    app = create_app(settings, system, tenants=tenants, client_factory=fast_client, in_process=True)
    service = service_of(app)
    await service.start()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://service"
    ) as http:
        yield Harness(app, http, fake)
    await service.close()


async def test_the_same_message_id_in_two_accounts_is_two_messages(harness: Harness) -> None:
    fake = harness.fake
    first = fake.incoming(3, 417, "da conta 3")
    second = fake.incoming(4, 51, "da conta 4")
    first["id"] = second["id"] = 424242
    statuses = [
        (await harness.post(first, delivery_id="same-delivery")).json()["status"],
        (await harness.post(second, delivery_id="same-delivery")).json()["status"],
        (await harness.post(second, delivery_id="same-delivery")).json()["status"],
        (await harness.post(second)).json()["status"],
    ]
    assert statuses == ["queued", "queued", "duplicate", "duplicate"]
    await harness.settle()
    assert harness.replies(3, 417) == ["[cosmetics/sales] da conta 3"]
    assert harness.replies(4, 51) == ["[health/sales] da conta 4"]


async def test_a_tenant_cannot_suppress_another_tenants_future_message_ids(
    harness: Harness,
) -> None:
    fake = harness.fake
    for future in range(500_000, 500_010):  # account 5 "pre-sends" ids account 3 will use
        squatter = fake.incoming(5, 9, "squat")
        squatter["id"] = future
        await harness.post(squatter)
    victim = fake.incoming(3, 417, "minha mensagem")
    victim["id"] = 500_004
    assert (await harness.post(victim)).json()["status"] == "queued"
    await harness.settle()
    assert harness.replies(3, 417) == ["[cosmetics/sales] minha mensagem"]


async def test_another_installations_conversation_has_keys_of_its_own(
    two_installations: Harness, other: FakeChatwoot, settings: Settings, redis_url: str
) -> None:
    fake = two_installations.fake
    here = fake.incoming(3, 417, "daqui")
    there = other.incoming(3, 417, "de lá")
    assert here["id"] == there["id"]  # both installations number their messages alike
    for payload in (here, there):
        assert (await two_installations.post(payload)).json()["status"] == "queued"
    await two_installations.settle()
    assert two_installations.replies(3, 417) == ["[cosmetics/sales] daqui"]
    answered_there = [c.body["content"] for c in other.calls_to("messages.create")]
    assert answered_there == ["[cosmetics/sales] de lá"]

    tag = keys.installation_tag(other.base_url)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        names = set(client.scan_iter(match=settings.redis_prefix + "*"))
    finally:
        client.close()
    prefix = settings.redis_prefix
    assert prefix + keys.dedupe_message("3", here["id"]) in names
    assert prefix + keys.dedupe_message(f"3@{tag}", there["id"]) in names
    # The turns' own records (outcome, steps sent) are per conversation key as well.
    outcomes = {n for n in names if n.startswith(prefix + "turn:outcome:")}
    assert any(f":3:417@{tag}:" in n for n in outcomes)
    assert any(":3:417:" in n for n in outcomes)


async def test_a_tenant_on_the_deployments_own_installation_keeps_plain_keys(
    settings: Settings, system: FakeSystem, fake: FakeChatwoot
) -> None:
    same = Tenants.model_validate(
        {"accounts": {"3": {"domain": "cosmetics", "base_url": fake.base_url.upper() + "/"}}}
    )
    app = create_app(settings, system, tenants=same, client_factory=fast_client, in_process=True)
    service = service_of(app)
    assert service.credentials.installation(3, 12) is None
    assert service.credentials.installation(4, 12) is None
