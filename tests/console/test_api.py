"""The console's JSON API and pages in-process: tenant scoping, sessions, CSRF, escaping.

A tenant's console token sees its own domains and their conversations only: another tenant's
domain or conversation answers 404 exactly as one that does not exist, on the JSON API and on
the pages. The app runs the real pipeline on the embedded store (the `make run` defaults).
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from console_setup import ADMIN, BELA, RETAIL, console_domains

from chatwootai.console.trace import trace_of
from chatwootai.service.app import create_app, service_of
from chatwootai.settings import Settings
from chatwootai.system import ChatwootAISystem
from chatwootai.tools.base import HandoffRequest, ToolCallRecord, ToolResult
from chatwootai.turn import TurnOutcome

SCRIPT = '<script>alert("xss")</script><img src=x onerror=alert(1)>'


@dataclass
class Console:
    """The app, a client, and the service behind it."""

    http: httpx.AsyncClient
    service: object

    def auth(self, token: str) -> dict[str, str]:
        """The bearer header of a token."""
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Console]:
    """The app with an admin token, two tenants' console tokens and recorded conversations."""
    for name in ("REDIS_URL", "REDIS_HOST", "OPENAI_API_KEY", "CHATWOOTAI_MODEL", "ADMIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CONSOLE_TOKEN_BELA", BELA)
    monkeypatch.setenv("CONSOLE_TOKEN_RETAIL", RETAIL)
    settings = Settings.model_validate(
        {
            "CHATWOOTAI_DOMAINS_DIR": str(console_domains(tmp_path / "domains")),
            "CHATWOOTAI_DATA_DIR": str(tmp_path / "data"),
            "ADMIN_TOKEN": ADMIN,
        }
    )
    system = await ChatwootAISystem.create(settings)
    app = create_app(settings, system)
    service = service_of(app)
    await system.start()
    await service.start()
    activity = service.runner.activity
    assert activity is not None
    now = time.time()
    for key, domain, text, crew in (
        ("1:11", "cosmetics", "quanto custa o batom?", "sales"),
        ("1:12", "cosmetics", SCRIPT, "support"),
        ("3:31", "retail", "meu pedido 1234?", "support"),
    ):
        outcome = TurnOutcome(
            reply="resposta",
            domain=domain,
            crew=crew,
            route_method="rules",
            route_score=1.0,
            tool_calls=[
                ToolCallRecord("a", "catalogo", {"query": text}, True, result=ToolResult(text))
            ],
        )
        await activity.record(
            key, trace_of(outcome, customer=text, channel="whatsapp", at=now, turn_ms=5.0)
        )
        now += 1
    handed = TurnOutcome(
        reply="já chamo alguém",
        domain="retail",
        crew="handoff",
        route_method="handoff",
        route_score=1.0,
        handoff=HandoffRequest(reason="o cliente pediu um atendente humano"),
    )
    await activity.record(
        "3:32", trace_of(handed, customer="atendente", channel="whatsapp", at=now, turn_ms=3)
    )
    await system.conversations.pause("3:32", "handoff: o cliente pediu um atendente humano")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://service"
    ) as http:
        yield Console(http, service)
    await service.close()
    await system.close()


async def test_each_token_sees_its_own_domains(console: Console) -> None:
    http = console.http
    admin = (await http.get("/api/admin/domains", headers=console.auth(ADMIN))).json()
    assert {"cosmetics", "retail", "health", "petshop"} <= {d["name"] for d in admin["domains"]}
    bela = (await http.get("/api/admin/domains", headers=console.auth(BELA))).json()
    assert {d["name"] for d in bela["domains"]} == {"cosmetics", "bela-pele-moema"}
    who = (await http.get("/api/admin/session", headers=console.auth(RETAIL))).json()
    assert who == {
        "success": True,
        "principal": "CONSOLE_TOKEN_RETAIL",
        "admin": False,
        "domains": ["retail"],
    }
    assert RETAIL not in str(who)


async def test_another_tenants_domain_is_not_found(console: Console) -> None:
    http = console.http
    for url, method in (
        ("/api/admin/domains/retail", "GET"),
        ("/api/admin/domains/retail/reload", "POST"),
    ):
        refused = await http.request(method, url, headers=console.auth(BELA))
        unknown = await http.request(
            method, url.replace("retail", "bakery"), headers=console.auth(BELA)
        )
        assert refused.status_code == unknown.status_code == 404
        said = refused.json()["error"].replace("retail", "?")  # as if it did not exist
        assert said == unknown.json()["error"].replace("bakery", "?")
    own = await http.get("/api/admin/domains/cosmetics", headers=console.auth(BELA))
    assert own.status_code == 200 and own.json()["status"] == "valid"
    assert "# effective configuration of domain 'cosmetics'" in own.json()["explain"]
    active = await http.post(
        "/api/admin/domain", json={"domain": "cosmetics"}, headers=console.auth(BELA)
    )
    assert active.status_code == 403
    talk = await http.post(
        "/api/admin/playground/turns",
        json={"domain": "retail", "text": "oi"},
        headers=console.auth(BELA),
    )
    assert talk.status_code == 404


async def test_another_tenants_conversation_is_not_found(console: Console) -> None:
    http = console.http
    bela = console.auth(BELA)
    listing = (await http.get("/api/admin/conversations", headers=bela)).json()
    assert {c["conversation_id"] for c in listing["conversations"]} == {"1:11", "1:12"}
    forced = await http.get("/api/admin/conversations?domain=retail", headers=bela)
    assert forced.json()["conversations"] == []
    for method, url in (
        ("GET", "/api/admin/conversations/3:31"),
        ("GET", "/api/admin/conversations/3:31/transcript"),
        ("POST", "/api/admin/conversations/3:32/resume"),
    ):
        answer = await http.request(method, url, headers=bela)
        assert answer.status_code == 404, (url, answer.text)
    moved = await http.post(
        "/api/admin/domain",
        json={"domain": "cosmetics", "conversation_id": "3:31"},
        headers=bela,
    )
    assert moved.status_code == 404
    retail = console.auth(RETAIL)
    own = await http.get("/api/admin/conversations/3:31/transcript", headers=retail)
    assert own.status_code == 200
    assert own.json()["transcript"][0]["tool_calls"][0]["args"] == {"query": "meu pedido 1234?"}
    everyone = (await http.get("/api/admin/conversations", headers=console.auth(ADMIN))).json()
    assert [c["conversation_id"] for c in everyone["conversations"]] == [
        "3:32",
        "3:31",
        "1:12",
        "1:11",
    ]


async def test_filters_and_resume_through_the_api(console: Console) -> None:
    http = console.http
    retail = console.auth(RETAIL)
    handed = (await http.get("/api/admin/conversations?state=handed_off", headers=retail)).json()
    assert [c["conversation_id"] for c in handed["conversations"]] == ["3:32"]
    by_crew = await http.get("/api/admin/conversations?crew=sales", headers=console.auth(ADMIN))
    assert [c["conversation_id"] for c in by_crew.json()["conversations"]] == ["1:11"]
    bad = await http.get("/api/admin/conversations?state=sleeping", headers=retail)
    assert bad.status_code == 422
    resumed = await http.post("/api/admin/conversations/3:32/resume", headers=retail)
    assert resumed.status_code == 200 and resumed.json()["success"] is True
    summary = (await http.get("/api/admin/conversations/3:32", headers=retail)).json()
    assert summary["paused"] is False


async def test_the_playground_answers_with_its_trace_and_keeps_the_service_store_clean(
    console: Console,
) -> None:
    http = console.http
    bela = console.auth(BELA)
    first = await http.post(
        "/api/admin/playground/turns",
        json={"domain": "cosmetics", "text": "quanto custa o protetor solar?"},
        headers=bela,
    )
    assert first.status_code == 200, first.text
    body = first.json()
    turn = body["turn"]
    assert "Protetor Solar" in turn["reply"]
    assert turn["crew"] == "sales" and turn["route_method"]
    assert any(call["tool"] == "catalogo" for call in turn["tool_calls"])
    assert turn["cost_usd"] == 0.0 and turn["turn_ms"] > 0
    again = await http.post(
        "/api/admin/playground/turns",
        json={
            "domain": "cosmetics",
            "text": "e o batom?",
            "conversation_id": body["conversation_id"],
        },
        headers=bela,
    )
    assert again.json()["conversation_id"] == body["conversation_id"]
    kept = await http.get(f"/api/admin/playground/{body['conversation_id']}", headers=bela)
    assert len(kept.json()["transcript"]) == 2
    other = await http.get(
        f"/api/admin/playground/{body['conversation_id']}", headers=console.auth(RETAIL)
    )
    assert other.status_code == 404
    service = console.service
    assert not await service.system.store.scan("*playground*")  # type: ignore[attr-defined]


async def _sign_in(http: httpx.AsyncClient, token: str) -> str:
    """Sign in through the form; the session's CSRF token (read off a page)."""
    page = await http.get("/console")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf is not None
    done = await http.post("/console/sign-in", data={"csrf": csrf.group(1), "token": token})
    assert done.status_code == 303 and done.headers["location"] == "/console/overview"
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and token not in cookie
    home = await http.get("/console/domains")
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', home.text)
    assert found is not None
    return found.group(1)


async def test_pages_need_a_session_and_forms_their_csrf_token(console: Console) -> None:
    http = console.http
    assert (await http.get("/console/conversations")).status_code == 303
    wrong = await http.get("/console")
    nonce = re.search(r'name="csrf" value="([0-9a-f]+)"', wrong.text)
    assert nonce is not None
    refused = await http.post("/console/sign-in", data={"csrf": nonce.group(1), "token": "nope"})
    assert refused.status_code == 401
    csrf = await _sign_in(http, RETAIL)
    forged = await http.post("/console/conversations/3:32/resume", data={"csrf": "0" * 40})
    assert forged.status_code == 403
    assert (await console.service.system.conversations.load("3:32")).paused  # type: ignore[attr-defined]
    done = await http.post("/console/conversations/3:32/resume", data={"csrf": csrf})
    assert done.status_code == 303
    assert not (await console.service.system.conversations.load("3:32")).paused  # type: ignore[attr-defined]
    assert (await http.get("/console/conversations/1:11")).status_code == 404
    assert (await http.get("/console/domains/cosmetics")).status_code == 404
    out = await http.post("/console/sign-out", data={"csrf": csrf})
    assert out.status_code == 303
    http.cookies.clear()
    assert (await http.get("/console/domains")).status_code == 303


async def test_what_customers_wrote_is_escaped_and_no_secret_is_shown(console: Console) -> None:
    http = console.http
    await _sign_in(http, ADMIN)
    page = await http.get("/console/conversations/1:12")
    assert page.status_code == 200
    assert SCRIPT not in page.text
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in page.text
    listing = await http.get("/console/conversations")
    assert "<script>alert" not in listing.text and "&lt;script&gt;" in listing.text
    for url in ("/console/domains", "/console/domains/retail", "/console/overview"):
        text = (await http.get(url)).text
        for secret in (ADMIN, BELA, RETAIL):
            assert secret not in text, url
    domains = await http.get("/console/domains")
    assert "petshop/domain.yaml:40" in domains.text  # a broken domain is listed with its error


async def test_the_session_cookie_is_secure_over_https(console: Console) -> None:
    http = console.http
    page = await http.get("https://service/console")
    nonce = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert nonce is not None and "Secure" in page.headers["set-cookie"]
    done = await http.post(
        "https://service/console/sign-in", data={"csrf": nonce.group(1), "token": ADMIN}
    )
    assert done.status_code == 303
    assert "Secure" in done.headers["set-cookie"] and "HttpOnly" in done.headers["set-cookie"]
    plain = await http.get("http://service/console")
    assert "Secure" not in plain.headers["set-cookie"]


async def test_an_expired_session_sends_htmx_to_the_sign_in(console: Console) -> None:
    answer = await console.http.post(
        "/console/playground",
        data={"domain": "cosmetics", "text": "oi"},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 204 and answer.headers["hx-redirect"] == "/console"
