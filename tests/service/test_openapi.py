"""The OpenAPI document: valid OpenAPI 3, behind the admin token, true to what the service answers.

The admin API is fuzzed from the document itself (hypothesis, with request bodies drawn from
the documented schemas by :func:`from_schema`, plus arbitrary JSON and bytes): no input gets a
5xx, every answer has a documented status and a body matching its documented schema. The
service runs the real pipeline on the shipped domains plus a broken one, embedded (no Redis).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec

from chatwootai.service.app import create_app, service_of
from chatwootai.settings import Settings
from chatwootai.system import ChatwootAISystem
from chatwootai.turn import IncomingMessage
from fakes.chatwoot_server import FIXTURES, load_fixture

DOMAINS = Path(__file__).resolve().parents[2] / "domains"
ADMIN = "admin-token-openapi-3"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
NAMES = ["cosmetics", "retail", "_base", "petshop", "bakery", "Pet_Shop", "../retail"]
"""Domain names the fuzzer tries besides random text (valid, abstract, broken, unknown)."""
DATES = ["2026-11-01", "2026-11-30", "2025-11-30", "2026-02-30", "20261101", "2026-11-01T10:00"]
"""Dates the fuzzer tries in query parameters (valid, reversed or long spans, not dates)."""

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
"""No deadline (timing on a shared machine is not a property); a fixed budget of examples."""


@dataclass
class Deployment:
    """The app on its own event loop, so that synchronous hypothesis tests can drive it."""

    loop: asyncio.AbstractEventLoop
    http: httpx.AsyncClient
    system: ChatwootAISystem

    def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, run to completion on the deployment's loop."""
        return self.loop.run_until_complete(self.http.request(method, url, **kwargs))


def _domains(root: Path) -> Path:
    """The shipped domains, a domain that extends itself, and tenants mapped to it."""
    shutil.copytree(DOMAINS, root)
    shutil.copytree(root / "retail", root / "petshop")
    text = (root / "petshop" / "domain.yaml").read_text(encoding="utf-8")
    lines = [
        "extends: [petshop]" if line.startswith("extends:") else line for line in text.split("\n")
    ]
    (root / "petshop" / "domain.yaml").write_text("\n".join(lines), encoding="utf-8")
    tenants = (root / "tenants.yaml").read_text(encoding="utf-8")
    (root / "tenants.yaml").write_text(
        tenants.replace('  "2": health\n', '  "2": health\n  "9": petshop\n'), encoding="utf-8"
    )
    return root


def _deployment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token: str | None
) -> Iterator[Deployment]:
    for name in ("REDIS_URL", "REDIS_HOST", "OPENAI_API_KEY", "CHATWOOTAI_MODEL", "ADMIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    values = {
        "CHATWOOTAI_DOMAINS_DIR": str(_domains(tmp_path / "domains")),
        "CHATWOOTAI_DATA_DIR": str(tmp_path / "data"),
        "CHATWOOTAI_BURST_WINDOW": 0,
    }
    if token:
        values["ADMIN_TOKEN"] = token
    settings_ = Settings.model_validate(values)
    loop = asyncio.new_event_loop()
    system = loop.run_until_complete(ChatwootAISystem.create(settings_))
    app = create_app(settings_, system)
    service = service_of(app)
    loop.run_until_complete(system.start())
    loop.run_until_complete(service.start())
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")
    try:
        yield Deployment(loop, http, system)
    finally:
        loop.run_until_complete(http.aclose())
        loop.run_until_complete(service.close())
        loop.run_until_complete(system.close())
        loop.close()


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    """The app with an admin token."""
    yield from _deployment(tmp_path, monkeypatch, ADMIN)


@pytest.fixture
def document(deployment: Deployment) -> dict[str, Any]:
    """The OpenAPI document, as an integrator fetches it."""
    response = deployment.call("GET", "/api/admin/openapi.json", headers=AUTH)
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_the_document_is_valid_openapi_3(document: dict[str, Any]) -> None:
    validate_spec(document)  # raises on any violation of the OpenAPI 3.1 schema
    assert document["openapi"].startswith("3.")
    assert {"/webhooks/chatwoot", "/api/admin/domain", "/api/admin/domains"} <= set(
        document["paths"]
    )


def test_the_document_needs_the_admin_token(deployment: Deployment) -> None:
    assert deployment.call("GET", "/api/admin/openapi.json").status_code == 401
    wrong = {"Authorization": "Bearer not-it"}
    assert deployment.call("GET", "/api/admin/openapi.json", headers=wrong).status_code == 401


def test_without_an_admin_token_the_document_is_not_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for off in _deployment(tmp_path, monkeypatch, None):
        assert off.call("GET", "/api/admin/openapi.json").status_code == 404
        assert off.call("GET", "/api/admin/openapi.json", headers=AUTH).status_code == 404
        assert off.call("GET", "/openapi.json").status_code == 404
        assert off.call("GET", "/docs").status_code == 404


def test_admin_routes_declare_the_token_models_and_errors(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["adminToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The deployment's ADMIN_TOKEN.",
    }
    for path, item in document["paths"].items():
        if not path.startswith("/api/admin"):
            continue
        for operation in item.values():
            assert operation["security"] == [{"adminToken": []}]
            assert {"200", "401", "404", "422"} <= set(operation["responses"])
    listing = document["paths"]["/api/admin/domains"]["get"]["responses"]["200"]
    assert listing["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DomainList"
    }
    change = document["paths"]["/api/admin/domain"]["post"]["requestBody"]
    assert change["content"]["application/json"]["schema"]["required"] == ["domain"]


def test_the_webhook_is_described_with_its_headers_and_chatwoots_events(
    document: dict[str, Any],
) -> None:
    operation = document["paths"]["/webhooks/chatwoot"]["post"]
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert headers == {"X-Chatwoot-Signature", "X-Chatwoot-Timestamp", "X-Chatwoot-Delivery"}
    assert {"200", "401", "413", "422", "500"} <= set(operation["responses"])
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    validator = _validator(document, body)
    fixtures = sorted(FIXTURES.glob("*.json"))
    assert len(fixtures) >= 10
    for fixture in fixtures:  # every payload shape of Chatwoot the tests use is accepted
        errors = list(validator.iter_errors(load_fixture(fixture.stem)))
        assert not errors, (fixture.name, errors[0].message)
    for refused in ({}, {"event": ""}, ["not", "an", "object"]):
        assert not validator.is_valid(refused)


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of `schema` whose `#/components/...` references resolve in `document`."""
    return Draft202012Validator({**schema, "components": document["components"]})


# -- fuzzing the admin API from the document ---------------------------------------------------


def from_schema(schema: dict[str, Any], document: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid against `schema`, for the JSON Schema keywords the document's bodies use.

    A keyword it does not know fails the test rather than being ignored, so the fuzzing cannot
    quietly drift away from the document. (hypothesis-jsonschema would do this in general, but
    its release does not run on the Hypothesis version the suite uses.)
    """
    known = {
        "$ref", "anyOf", "type", "properties", "required", "additionalProperties", "pattern",
        "minLength", "maxLength", "title", "description", "default", "items", "examples",
    }  # fmt: skip
    unknown = set(schema) - known
    assert not unknown, f"from_schema does not know {unknown}"
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return from_schema(document["components"]["schemas"][name], document)
    if "anyOf" in schema:
        return st.one_of([from_schema(option, document) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers()
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength", 200)
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True).filter(
                lambda text: low <= len(text) <= high
            )
        return st.text(min_size=low, max_size=high)
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {"type": "string"}), document), max_size=3)
    assert kind == "object", schema
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    strategies = {name: from_schema(sub, document) for name, sub in properties.items()}
    return st.fixed_dictionaries(
        {name: value for name, value in strategies.items() if name in required},
        optional={name: value for name, value in strategies.items() if name not in required},
    )


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)  # JSON has neither
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def admin_requests(draw: st.DrawFn, document: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """A request to an admin operation of the document: path values, then a body if it takes one."""
    operations = [
        (path, method, operation)
        for path, item in sorted(document["paths"].items())
        if path.startswith("/api/admin")
        for method, operation in sorted(item.items())
    ]
    path, method, operation = draw(st.sampled_from(operations))
    url = path
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "path":
            continue
        value = draw(
            st.sampled_from([*NAMES, "3:417", "1:1", "0:0", "417", "3:x", "9:12"])
            | st.text(min_size=1, max_size=30)
        )
        url = url.replace("{" + parameter["name"] + "}", quote(value, safe=""))
    query = {
        parameter["name"]: draw(
            st.sampled_from([*NAMES, *DATES]) | st.text(min_size=1, max_size=30) | st.none()
        )
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    }
    kwargs: dict[str, Any] = {"headers": AUTH}
    if any(value is not None for value in query.values()):
        kwargs["params"] = {name: value for name, value in query.items() if value is not None}
    body = operation.get("requestBody")
    if body is not None:
        schema = body["content"]["application/json"]["schema"]
        content = draw(
            from_schema(schema, document)
            | st.fixed_dictionaries(
                {"domain": st.sampled_from(NAMES)},
                optional={"conversation_id": st.sampled_from(["3:417", "9:1", "1:2"])},
            )
            | json_values
        )
        if draw(st.booleans()):
            kwargs["json"] = content
        else:
            kwargs["content"] = draw(st.binary(max_size=60) | st.just(json.dumps(content).encode()))
    return method.upper(), url, kwargs


def _conforms(document: dict[str, Any], method: str, url: str, response: httpx.Response) -> None:
    """The status is documented for the operation, and the body matches its schema."""
    template = next(
        path
        for path in document["paths"]
        if _matches(path, httpx.URL(url).raw_path.decode().split("?")[0])
    )
    responses = document["paths"][template][method.lower()]["responses"]
    status = str(response.status_code)
    assert status in responses, (method, url, response.status_code, response.text)
    schema = responses[status]["content"]["application/json"]["schema"]
    errors = list(_validator(document, schema).iter_errors(response.json()))
    assert not errors, (method, url, response.text, errors[0].message)


def _matches(template: str, raw: str) -> bool:
    parts, given_parts = template.split("/"), raw.split("/")
    return len(parts) == len(given_parts) and all(
        p == g or (p.startswith("{") and p.endswith("}"))
        for p, g in zip(parts, given_parts, strict=True)
    )


def test_fuzzing_the_admin_api_from_its_document_finds_no_5xx(
    deployment: Deployment, document: dict[str, Any]
) -> None:
    @FUZZ
    @given(request=admin_requests(document))
    def fuzz(request: tuple[str, str, dict[str, Any]]) -> None:
        method, url, kwargs = request
        response = deployment.call(method, url, **kwargs)
        assert response.status_code < 500, (method, url, kwargs, response.text)
        _conforms(document, method, url, response)

    fuzz()


def test_a_broken_domain_is_listed_invalid_and_cannot_be_made_active(
    deployment: Deployment,
) -> None:
    listing = deployment.call("GET", "/api/admin/domains", headers=AUTH).json()
    petshop = next(d for d in listing["domains"] if d["name"] == "petshop")
    assert petshop["status"] == "invalid" and "extends itself" in petshop["error"]
    refused = deployment.call("POST", "/api/admin/domain", json={"domain": "petshop"}, headers=AUTH)
    assert refused.status_code == 400
    assert "not valid" in refused.json()["error"] and "extends itself" in refused.json()["error"]
    reload = deployment.call("POST", "/api/admin/domains/petshop/reload", headers=AUTH)
    assert reload.status_code == 422 and any("extends itself" in i for i in reload.json()["issues"])


def test_the_webhooks_answers_match_the_document(
    deployment: Deployment, document: dict[str, Any]
) -> None:
    bodies = [
        json.dumps(load_fixture("outgoing_agent_bot_reply")).encode(),  # ignored
        json.dumps(load_fixture("g_webwidget_triggered")).encode(),  # another event
        b"{not json",
        json.dumps({"event": "message_created", "conversation": {}}).encode(),
        b" " * (256 * 1024 + 1),  # above the default limit
    ]
    for body in bodies:
        response = deployment.call("POST", "/webhooks/chatwoot", content=body)
        assert response.status_code < 500, response.text
        _conforms(document, "POST", "/webhooks/chatwoot", response)


def test_outcomes_of_a_real_turn_are_read_back_as_documented(
    deployment: Deployment, document: dict[str, Any], tmp_path: Path
) -> None:
    system = deployment.system
    message = IncomingMessage(text="quanto custa o protetor solar?", message_ids=("7", "8"))
    deployment.loop.run_until_complete(system.process_message(message, "1:1", "api"))
    today = datetime.now(UTC).date()
    start = today - timedelta(days=2)  # cosmetics is in São Paulo: its day may be yesterday
    url = f"/api/admin/outcomes?domain=cosmetics&from={start.isoformat()}&to={today.isoformat()}"
    response = deployment.call("GET", url, headers=AUTH)
    assert response.status_code == 200, response.text
    _conforms(document, "GET", url, response)
    body = response.json()
    assert body["domain"] == "cosmetics" and body["from"] == start.isoformat()
    assert len(body["days"]) == (today - start).days + 1
    totals = body["totals"]
    assert totals["turns"] == 1 and totals["messages"] == 2
    assert totals["cost_usd"] == 0  # the offline model
    assert totals["turn_ms_p50"] is not None
    for bad, status in (
        ("domain=cosmetics&from=2026-02-30", 400),
        ("domain=cosmetics&from=2026-11-02&to=2026-11-01", 400),
        ("domain=cosmetics&from=2024-01-01&to=2026-01-01", 422),
        ("domain=nowhere", 404),
        ("from=2026-11-01", 400),
    ):
        refused = deployment.call("GET", f"/api/admin/outcomes?{bad}", headers=AUTH)
        assert refused.status_code == status, (bad, refused.text)
        assert refused.json()["success"] is False and refused.json()["error"]
        _conforms(document, "GET", f"/api/admin/outcomes?{bad}", refused)
    assert deployment.call("GET", "/api/admin/outcomes?domain=cosmetics").status_code == 401
