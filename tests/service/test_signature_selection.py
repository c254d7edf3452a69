"""Which secret a delivery must carry: the one of the ids the event is keyed by, or a 401."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from service_fakes import FakeSystem

from chatwootai.config.schema import Tenants
from chatwootai.service.app import create_app, service_of
from chatwootai.settings import Settings
from conftest import Harness, fast_client
from fakes.chatwoot_server import FakeChatwoot

SECRET = "retail-secret-9"


async def _app(
    settings: Settings, system: FakeSystem, fake: FakeChatwoot, tenants: dict[str, Any]
) -> AsyncIterator[Harness]:
    app = create_app(
        settings,
        system,
        tenants=Tenants.model_validate(tenants),
        client_factory=fast_client,
        in_process=True,
    )
    service = service_of(app)
    await service.start()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://service"
    ) as http:
        yield Harness(app, http, fake)
    await service.close()


@pytest.fixture
async def tenant_secret(
    settings: Settings, system: FakeSystem, fake: FakeChatwoot, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    """Account 5 has its own secret; no global secret (deliveries of 3 have none)."""
    monkeypatch.setenv("RETAIL_WEBHOOK_SECRET", SECRET)
    tenants = {
        "accounts": {
            "3": "cosmetics",
            "5": {"domain": "retail", "webhook_secret_env": "RETAIL_WEBHOOK_SECRET"},
        },
        # An inbox entry of account 5 without a secret of its own.
        "inboxes": {str(fake.conversations[(5, 9)].inbox_id): {"domain": "retail"}},
    }
    async for harness in _app(settings, system, fake, tenants):
        yield harness


async def _unsigned(harness: Harness, payload: dict[str, Any]) -> httpx.Response:
    body, headers = harness.fake.build_delivery(payload)
    headers = {k: v for k, v in headers.items() if "Signature" not in k}
    return await harness.http.post("/webhooks/chatwoot", content=body, headers=headers)


def _forgeries(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The same delivery for account 5 with its account id spelt so a loose reader misses it."""
    leading_zeros = copy.deepcopy(payload)
    leading_zeros["account"]["id"] = "005"
    leading_zeros["conversation"]["account"]["id"] = "005"
    as_float = copy.deepcopy(payload)
    as_float["account"]["id"] = 5.0
    as_float["conversation"]["account"]["id"] = 5.0
    from_messages = copy.deepcopy(payload)
    del from_messages["account"]
    del from_messages["conversation"]["account"]
    from_messages["conversation"]["messages"] = [{"id": 1, "account_id": 5, "message_type": 0}]
    return [leading_zeros, as_float, from_messages]


async def test_account_ids_spelt_otherwise_still_need_the_accounts_secret(
    tenant_secret: Harness,
) -> None:
    fake = tenant_secret.fake
    for forged in _forgeries(fake.incoming(5, 9, "forjado")):
        unsigned = await _unsigned(tenant_secret, forged)
        assert unsigned.status_code == 401, forged
        wrong = await tenant_secret.post(forged, secret="not-the-secret")
        assert wrong.status_code == 401
        signed = await tenant_secret.post(forged, secret=SECRET)
        assert signed.status_code == 200, signed.json()
    await tenant_secret.settle()
    assert tenant_secret.replies(5, 9) == ["[retail/sales] forjado"]  # the signed one, once


async def test_an_inbox_entry_without_a_secret_keeps_its_accounts_secret(
    tenant_secret: Harness,
) -> None:
    payload = tenant_secret.fake.incoming(5, 9, "oi")
    assert (await _unsigned(tenant_secret, payload)).status_code == 401
    assert (await tenant_secret.post(payload, secret=SECRET)).status_code == 200


async def test_deliveries_no_secret_applies_to_are_refused_once_any_is_configured(
    tenant_secret: Harness,
) -> None:
    fake = tenant_secret.fake
    no_secret = await _unsigned(tenant_secret, fake.incoming(3, 417, "oi"))
    assert no_secret.status_code == 401
    assert "CHATWOOT_WEBHOOK_SECRET" in no_secret.json()["reason"]
    for body in (b"not json", b'{"event": "message_created"}', b'{"event": "widget"}'):
        response = await tenant_secret.http.post("/webhooks/chatwoot", content=body)
        assert response.status_code == 401, body
    await tenant_secret.settle()
    assert fake.calls_to("messages.create") == []


async def test_a_deployment_without_secrets_accepts_unsigned_deliveries(
    harness: Harness,
) -> None:
    response = await _unsigned(harness, harness.fake.incoming(3, 417, "oi"))
    assert response.status_code == 200 and response.json()["status"] == "queued"
    assert (await harness.http.post("/webhooks/chatwoot", content=b"{")).status_code == 400
