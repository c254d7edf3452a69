"""Signature first: who sent a delivery is settled before its body is parsed (or even read).

Account 3 and account 5 hold secrets of their own, account 4 the global one; account 4 also has
a URL token, the way to authenticate a Chatwoot too old to sign.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from service_fakes import FakeSystem

from chatwootai.chatwoot.signature import sign
from chatwootai.config.schema import Tenants
from chatwootai.service import webhook, webhook_auth
from chatwootai.service.app import create_app, service_of
from chatwootai.settings import Settings
from conftest import Harness, fast_client
from fakes.chatwoot_server import FakeChatwoot, load_fixture

SECRET_3 = "cosmetics-secret-1"
SECRET_5 = "retail-secret-9"
TOKEN_4 = "health-url-token-Qm7pL2"
MIB = 1024 * 1024


@pytest.fixture
async def secured(
    settings: Settings, system: FakeSystem, fake: FakeChatwoot, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    """Per-account secrets for 3 and 5, the global secret for 4, a URL token for 4."""
    monkeypatch.setenv("SECRET_3", SECRET_3)
    monkeypatch.setenv("SECRET_5", SECRET_5)
    monkeypatch.setenv("TOKEN_4", TOKEN_4)
    settings.chatwoot_webhook_secret = SecretStr(fake.webhook_secret)
    tenants = Tenants.model_validate(
        {
            "accounts": {
                "3": {"domain": "cosmetics", "webhook_secret_env": "SECRET_3"},
                "4": {"domain": "health", "url_token_env": "TOKEN_4"},
                "5": {"domain": "retail", "webhook_secret_env": "SECRET_5"},
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


def rejected(harness: Harness) -> dict[str, float]:
    """``chatwootai_webhooks_rejected_total`` by reason."""
    return {
        sample.labels["reason"]: sample.value
        for metric in harness.service.metrics.registry.collect()
        if metric.name == "chatwootai_webhooks_rejected"
        for sample in metric.samples
        if sample.name.endswith("_total")
    }


class CountingBody:
    """A streamed request body that records how many of its chunks were read."""

    def __init__(self, size: int, chunk: int = 64 * 1024) -> None:
        self.size = size
        self.chunk = chunk
        self.read = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(0, self.size, self.chunk):
            self.read += 1
            yield b"x" * self.chunk


async def test_unsigned_and_stale_requests_are_refused_before_their_body_is_read(
    secured: Harness,
) -> None:
    now = str(int(time.time()))
    cases: list[tuple[dict[str, str], str]] = [
        ({}, "unsigned"),
        ({"X-Chatwoot-Timestamp": now}, "unsigned"),
        ({"X-Chatwoot-Timestamp": now, "X-Chatwoot-Signature": "sha256=abc"}, "malformed"),
        (
            {
                "X-Chatwoot-Timestamp": str(int(time.time()) - 3600),
                "X-Chatwoot-Signature": "sha256=" + "0" * 64,
            },
            "stale",
        ),
    ]
    for headers, label in cases:
        body = CountingBody(MIB)
        response = await secured.http.post("/webhooks/chatwoot", content=body, headers=headers)
        assert response.status_code == 401, response.text
        assert body.read <= 1, f"{label}: {body.read} chunks of the body were read"
        assert rejected(secured)[label] >= 1
    assert (
        "CHATWOOT_WEBHOOK_SECRET" in response.json()["reason"]
        or "away from now" in (response.json()["reason"])
    )


async def test_a_forged_body_is_never_parsed(
    secured: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[object] = []

    def spy(data: Any) -> Any:
        parsed.append(data)
        raise AssertionError("parsed before the signature was verified")

    monkeypatch.setattr(webhook, "parse_event_data", spy)
    monkeypatch.setattr(webhook, "load_json", spy)
    fake = secured.fake
    huge = fake.incoming(3, 417, "x" * 40_000)
    huge["content_attributes"] = {"email": {"html_content": {"full": "<p>y</p>" * 50_000}}}
    for payload, secret in ((huge, "not-the-secret"), (fake.incoming(5, 9, "oi"), SECRET_3)):
        response = await secured.post(payload, secret=secret)
        assert response.status_code == 401 and response.json()["reason"].startswith("signature")
    assert parsed == []
    assert rejected(secured)["mismatch"] == 2


async def test_each_account_needs_its_own_secret_found_without_parsing(secured: Harness) -> None:
    fake = secured.fake
    assert (await secured.post(fake.incoming(3, 417, "oi"), secret=SECRET_3)).status_code == 200
    assert (await secured.post(fake.incoming(5, 9, "oi"), secret=SECRET_5)).status_code == 200
    assert (await secured.post(fake.incoming(4, 51, "oi"))).status_code == 200  # global
    for account, display, secret in ((3, 417, SECRET_5), (5, 9, None), (4, 51, SECRET_3)):
        response = await secured.post(fake.incoming(account, display, "forjado"), secret=secret)
        assert response.status_code == 401
    await secured.settle()
    assert secured.replies(3, 417) == ["[cosmetics/sales] oi"]
    assert secured.replies(5, 9) == ["[retail/sales] oi"]


async def test_a_body_cannot_borrow_another_tenants_secret(secured: Harness) -> None:
    """Account 3's secret on a body whose first account id says 3 but which is account 5's."""
    fake = secured.fake
    payload = fake.incoming(5, 9, "forjado")
    borrowed = {"a": {"account": {"id": 3}}, **payload}
    response = await secured.post(borrowed, secret=SECRET_3)
    assert response.status_code == 401
    assert "takes another secret" in response.json()["reason"]
    assert rejected(secured)["wrong_tenant"] == 1
    await secured.settle()
    assert secured.replies(5, 9) == []


async def test_the_widget_event_takes_its_accounts_secret(secured: Harness) -> None:
    widget = load_fixture("g_webwidget_triggered")  # account 1, inbox 1: the global secret
    assert (await secured.post(widget)).json()["status"] == "ignored"
    widget["account"]["id"] = widget["contact"]["account"]["id"] = 5
    assert (await secured.post(widget, secret=SECRET_5)).json()["status"] == "ignored"
    assert (await secured.post(widget)).status_code == 401  # not the global one any more


async def post_to(
    harness: Harness, path: str, payload: dict[str, Any], *, secret: str | None = None, **kw: Any
) -> httpx.Response:
    body, headers = harness.fake.build_delivery(payload, secret=secret)
    if kw.get("unsigned"):
        headers = {k: v for k, v in headers.items() if "Signature" not in k}
    return await harness.http.post(path, content=body, headers=headers)


async def test_per_tenant_paths_take_the_tenants_secret_and_only_its_deliveries(
    secured: Harness,
) -> None:
    fake = secured.fake
    ok = await post_to(
        secured, "/webhooks/chatwoot/accounts/5", fake.incoming(5, 9, "oi"), secret=SECRET_5
    )
    assert ok.json()["status"] == "queued"
    wrong = await post_to(
        secured, "/webhooks/chatwoot/accounts/5", fake.incoming(3, 417, "oi"), secret=SECRET_3
    )
    assert wrong.status_code == 401
    other = await post_to(
        secured, "/webhooks/chatwoot/accounts/5", fake.incoming(3, 417, "oi"), secret=SECRET_5
    )
    assert other.status_code == 401 and "is for account 5" in other.json()["reason"]
    inbox = fake.conversations[(3, 417)].inbox_id
    by_inbox = await post_to(
        secured,
        f"/webhooks/chatwoot/inboxes/{inbox}",
        fake.incoming(3, 417, "e aí"),
        secret=SECRET_3,
    )
    assert by_inbox.json()["status"] == "queued"
    not_this_inbox = await post_to(
        secured, "/webhooks/chatwoot/inboxes/999", fake.incoming(3, 417, "e aí"), secret=SECRET_3
    )
    assert not_this_inbox.status_code == 401
    assert (
        await secured.http.post("/webhooks/chatwoot/accounts/x", content=b"{}")
    ).status_code == 422
    await secured.settle()
    assert secured.replies(5, 9) == ["[retail/sales] oi"]
    assert secured.replies(3, 417) == ["[cosmetics/sales] e aí"]


async def test_the_per_account_path_gives_old_conversation_events_their_account(
    secured: Harness,
) -> None:
    """Before Chatwoot 4.14.2 conversation events carried no account: the path supplies it."""
    fake = secured.fake
    opened = fake.conversation_payload(fake.conversations[(5, 9)], "conversation_opened")
    opened["status"] = "open"
    del opened["account"]
    opened["messages"] = []
    generic = await secured.post(opened, secret=SECRET_5)
    assert generic.status_code == 401  # no account: the global secret is the one that applies
    by_account = await post_to(secured, "/webhooks/chatwoot/accounts/5", opened, secret=SECRET_5)
    assert by_account.json()["status"] == "paused"


async def test_a_url_token_authenticates_a_chatwoot_that_cannot_sign(
    secured: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = secured.fake
    path = "/webhooks/chatwoot/accounts/4"
    ok = await post_to(
        secured, f"{path}?token={TOKEN_4}", fake.incoming(4, 51, "oi"), unsigned=True
    )
    assert ok.json()["status"] == "queued"
    refusals = {
        f"{path}?token=wrong": "wrong URL token",
        f"/webhooks/chatwoot?token={TOKEN_4}": "only on a tenant's own path",
        f"/webhooks/chatwoot/accounts/3?token={TOKEN_4}": "no URL token is configured",
    }
    for url, reason in refusals.items():
        body = CountingBody(MIB)
        response = await secured.http.post(url, content=body)
        assert response.status_code == 401 and reason in response.json()["reason"], url
        assert body.read <= 1
    elsewhere = await post_to(
        secured, f"{path}?token={TOKEN_4}", fake.incoming(5, 9, "forjado"), unsigned=True
    )
    assert elsewhere.status_code == 401 and "is for account 4" in elsewhere.json()["reason"]
    unsigned = await post_to(secured, path, fake.incoming(4, 51, "sem token"), unsigned=True)
    assert unsigned.status_code == 401
    await secured.settle()
    assert secured.replies(4, 51) == ["[health/sales] oi"]
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("chatwootai")]
    assert ours and not any(TOKEN_4 in line for line in ours)


async def test_rejections_are_counted_and_logged_once_a_minute_per_source(
    secured: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="chatwootai.service.webhook")
    for _ in range(25):
        response = await secured.http.post("/webhooks/chatwoot", content=b"garbage")
        assert response.status_code == 401
    for _ in range(5):
        await secured.post(secured.fake.incoming(3, 417, "x"), secret="wrong")
    lines = [r for r in caplog.records if "webhook rejected" in r.getMessage()]
    assert len(lines) == 1
    assert rejected(secured) == {"unsigned": 25.0, "mismatch": 5.0}


async def test_one_hmac_at_most_whatever_ids_the_body_shows(
    secured: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = webhook_auth.signature_matches

    def counting(secret: str, timestamp: str, signature: str, raw: bytes) -> bool:
        calls.append(secret)
        return real(secret, timestamp, signature, raw)

    monkeypatch.setattr(webhook_auth, "signature_matches", counting)
    noisy = {f"k{n}": {"account": {"id": n}, "inbox": {"id": n}} for n in range(1, 50)}
    payload = {**noisy, **secured.fake.incoming(5, 9, "oi")}
    await secured.post(payload, secret="wrong")
    assert len(calls) == 1


async def test_a_deployment_without_credentials_still_checks_nothing(harness: Harness) -> None:
    body, headers = harness.fake.build_delivery(harness.fake.incoming(3, 417, "oi"))
    unsigned = {k: v for k, v in headers.items() if "Signature" not in k}
    response = await harness.http.post("/webhooks/chatwoot", content=body, headers=unsigned)
    assert response.json()["status"] == "queued"
    ts = str(int(time.time()))
    signed_wrong = {
        **unsigned,
        "X-Chatwoot-Timestamp": ts,
        "X-Chatwoot-Signature": sign("x", ts, body),
    }
    again = await harness.http.post(
        "/webhooks/chatwoot/accounts/3", content=body, headers=signed_wrong
    )
    assert again.json()["status"] == "duplicate"
