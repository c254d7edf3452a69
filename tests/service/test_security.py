"""Signatures on the webhook, and the admin API's bearer token."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from service_fakes import TENANTS, FakeSystem

from chatwootai.config.schema import Tenants
from chatwootai.service.app import create_app, service_of
from chatwootai.settings import Settings
from conftest import Harness, fast_client
from fakes.chatwoot_server import FakeChatwoot

ADMIN = "admin-token-Kp2"


@pytest.fixture
async def secured(
    settings: Settings, system: FakeSystem, fake: FakeChatwoot, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    """The app with a global webhook secret, a per-account secret for account 5, an admin token."""
    monkeypatch.setenv("RETAIL_WEBHOOK_SECRET", "retail-secret-9")
    settings.chatwoot_webhook_secret = SecretStr(fake.webhook_secret)
    settings.admin_token = SecretStr(ADMIN)
    tenants = Tenants.model_validate(
        {
            "accounts": {
                **{k: v.model_dump() for k, v in TENANTS.accounts.items()},
                "5": {"domain": "retail", "webhook_secret_env": "RETAIL_WEBHOOK_SECRET"},
            }
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


async def test_signed_deliveries_pass_and_others_get_401(secured: Harness) -> None:
    fake = secured.fake
    ok = await secured.post(fake.incoming(3, 417, "oi"))
    assert ok.status_code == 200 and ok.json()["status"] == "queued"

    body, headers = fake.build_delivery(fake.incoming(3, 417, "forjado"))
    unsigned = {k: v for k, v in headers.items() if "Signature" not in k}
    assert (
        await secured.http.post("/webhooks/chatwoot", content=body, headers=unsigned)
    ).status_code == 401
    wrong = await secured.post(fake.incoming(3, 417, "forjado"), secret="not-the-secret")
    assert wrong.status_code == 401
    stale_body, stale_headers = fake.build_delivery(
        fake.incoming(3, 417, "velho"), timestamp=int(time.time()) - 600
    )
    stale = await secured.http.post("/webhooks/chatwoot", content=stale_body, headers=stale_headers)
    assert stale.status_code == 401 and "away from now" in stale.json()["reason"]
    body_only = dict(headers)
    tampered = body.replace(b"forjado", b"FORJADO")
    assert (
        await secured.http.post("/webhooks/chatwoot", content=tampered, headers=body_only)
    ).status_code == 401

    await secured.settle()
    assert secured.replies(3, 417) == ["[cosmetics/sales] oi"]  # nothing else processed


async def test_an_account_with_its_own_secret_needs_that_secret(secured: Harness) -> None:
    fake = secured.fake
    global_signed = await secured.post(fake.incoming(5, 9, "oi"))
    assert global_signed.status_code == 401
    own = await secured.post(fake.incoming(5, 9, "oi"), secret="retail-secret-9")
    assert own.status_code == 200


async def test_admin_api_needs_the_bearer_token(secured: Harness) -> None:
    http = secured.http
    assert (await http.get("/api/admin/domains")).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert (await http.get("/api/admin/domains", headers=wrong)).status_code == 401
    basic = {"Authorization": f"Basic {ADMIN}"}
    assert (await http.get("/api/admin/domains", headers=basic)).status_code == 401
    auth = {"Authorization": f"Bearer {ADMIN}"}
    listing = await http.get("/api/admin/domains", headers=auth)
    assert listing.status_code == 200
    domains = {d["name"]: d for d in listing.json()["domains"]}
    assert set(domains) == {"cosmetics", "health", "retail"}
    assert domains["health"]["parents"] == ["_base"] and domains["health"]["status"] == "valid"


async def test_admin_api_is_off_without_a_token(harness: Harness) -> None:
    for method, path in (
        ("GET", "/api/admin/domains"),
        ("POST", "/api/admin/domain"),
        ("POST", "/api/admin/domains/cosmetics/reload"),
        ("GET", "/api/admin/conversations/3:417"),
    ):
        response = await harness.http.request(method, path, headers={"Authorization": "Bearer x"})
        assert response.status_code == 404, path


async def test_admin_sets_a_conversations_domain_and_the_next_turn_uses_it(
    secured: Harness,
) -> None:
    auth = {"Authorization": f"Bearer {ADMIN}"}
    http = secured.http
    changed = await http.post(
        "/api/admin/domain", json={"conversation_id": "3:417", "domain": "health"}, headers=auth
    )
    assert changed.status_code == 200 and changed.json()["success"] is True
    await secured.post(secured.fake.incoming(3, 417, "tenho consulta?"))
    await secured.settle()
    assert secured.replies(3, 417) == ["[health/sales] tenho consulta?"]
    summary = await http.get("/api/admin/conversations/3:417", headers=auth)
    assert summary.status_code == 200
    assert summary.json()["domain"] == "health" and summary.json()["pending_messages"] == 0


async def test_admin_rejects_unknown_domains_and_bad_bodies_without_5xx(secured: Harness) -> None:
    auth = {"Authorization": f"Bearer {ADMIN}"}
    http = secured.http
    unknown = await http.post("/api/admin/domain", json={"domain": "bakery"}, headers=auth)
    assert unknown.status_code == 400
    assert unknown.json()["success"] is False and "bakery" in unknown.json()["error"]
    for body in (b"{", b"[]", b'{"domain": 3}', b'{"conversation_id": "417", "domain": "health"}'):
        response = await http.post("/api/admin/domain", content=body, headers=auth)
        assert response.status_code in (400, 422), body
        assert response.json()["success"] is False
    active = await http.post("/api/admin/domain", json={"domain": "retail"}, headers=auth)
    assert active.status_code == 200
    reload = await http.post("/api/admin/domains/cosmetics/reload", headers=auth)
    assert reload.status_code == 200 and reload.json()["success"] is True
    missing = await http.post("/api/admin/domains/bakery/reload", headers=auth)
    assert missing.status_code == 404
    bad_key = await http.get("/api/admin/conversations/417", headers=auth)
    assert bad_key.status_code == 422
