"""The http tool: templated calls confined to allowed hosts, secrets only from the environment."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from chatwootai.config.schema import DomainConfig, HttpSettings
from chatwootai.store.base import Store
from chatwootai.tools.base import ToolArgumentsError, ToolContext, ToolError
from chatwootai.tools.http import MAX_RESPONSE_CHARS, HttpConfigError, HttpTool
from chatwootai.tools.proxy import DataProxy
from chatwootai.tools.registry import ToolConfigError, ToolRegistry


class Recorder:
    """A MockTransport handler that records requests and answers with a canned response."""

    def __init__(self, response: httpx.Response | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.response = response or httpx.Response(200, json={"status": "ok"})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.response


def settings(**overrides: Any) -> HttpSettings:
    values: dict[str, Any] = {
        "url": "https://api.loja.example/v1/estoque/{sku}",
        "allowed_hosts": ["api.loja.example"],
        "parameters": {"sku": "Código do produto", "cep": "CEP de entrega"},
        "headers_env": {"Authorization": "LOJA_API_TOKEN"},
    }
    values.update(overrides)
    return HttpSettings.model_validate(values)


def make_tool(
    store: Store, recorder: Recorder, environ: dict[str, str] | None = None, **overrides: Any
) -> HttpTool:
    return HttpTool(
        "estoque",
        "Estoque em tempo real",
        store,
        settings(**overrides),
        transport=httpx.MockTransport(recorder),
        environ={"LOJA_API_TOKEN": "Bearer s3cret"} if environ is None else environ,
    )


def proxy_for(tool: HttpTool) -> DataProxy:
    return DataProxy("loja", {tool.id: tool}, {"vendedor": frozenset({tool.id})})


async def test_fills_the_template_and_sends_env_headers(store: Store, ctx: ToolContext) -> None:
    recorder = Recorder(httpx.Response(200, json={"sku": "PS60", "stock": 7}))
    tool = make_tool(store, recorder)
    result = await proxy_for(tool).call(ctx, "estoque", {"sku": "PS60", "cep": "01001-000"})
    assert result.found
    assert result.data["json"] == {"sku": "PS60", "stock": 7}
    assert '"stock":7' in result.text.replace(" ", "")
    request = recorder.requests[0]
    assert request.method == "GET"
    assert str(request.url) == "https://api.loja.example/v1/estoque/PS60?cep=01001-000"
    assert request.headers["Authorization"] == "Bearer s3cret"


async def test_args_model_comes_from_parameters(store: Store, ctx: ToolContext) -> None:
    tool = make_tool(store, Recorder())
    schema = tool.args_model.model_json_schema()
    assert set(schema["properties"]) == {"sku", "cep"}
    assert schema["properties"]["sku"]["description"] == "Código do produto"
    proxy = proxy_for(tool)
    with pytest.raises(ToolArgumentsError, match="Extra inputs"):
        await proxy.call(ctx, "estoque", {"sku": "A", "cep": "1", "url": "https://evil.example"})
    with pytest.raises(ToolArgumentsError, match="sku"):
        await proxy.call(ctx, "estoque", {"cep": "1"})
    with pytest.raises(ToolArgumentsError, match="at most 200"):
        await proxy.call(ctx, "estoque", {"sku": "A" * 300, "cep": "1"})


@pytest.mark.parametrize(
    "sku",
    ["../../admin", "x@evil.example", "x?token=1", "x#frag", "//evil.example/x", "a/b"],
)
async def test_values_cannot_change_host_or_path(store: Store, ctx: ToolContext, sku: str) -> None:
    recorder = Recorder()
    tool = make_tool(store, recorder)
    await tool.run(ctx, tool.args_model(sku=sku, cep="1"))
    url = recorder.requests[0].url
    assert url.host == "api.loja.example"
    assert url.raw_path.startswith(b"/v1/estoque/")
    assert url.raw_path.count(b"/") == 3  # the value stays one path segment
    assert url.fragment == ""


async def test_templated_host_is_checked_after_filling(store: Store, ctx: ToolContext) -> None:
    recorder = Recorder()
    tool = make_tool(
        store,
        recorder,
        url="https://{loja}.example/api",
        allowed_hosts=["x.example", "centro.example"],
        parameters={"loja": "Unidade"},
    )
    await tool.run(ctx, tool.args_model(loja="centro"))
    assert recorder.requests[0].url.host == "centro.example"
    with pytest.raises(HttpConfigError, match="allowed_hosts"):
        await tool.run(ctx, tool.args_model(loja="evil"))
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"url": "ftp://api.loja.example/{sku}"}, "http or https"),
        ({"url": "https://other.example/{sku}"}, "allowed_hosts"),
        ({"url": "https://user:pw@api.loja.example/{sku}"}, "credentials"),
        ({"url": "https://api.loja.example/{missing}"}, "not in 'parameters'"),
    ],
)
def test_bad_settings_are_refused(store: Store, overrides: Any, fragment: str) -> None:
    with pytest.raises(HttpConfigError, match=fragment):
        make_tool(store, Recorder(), **overrides)


async def test_missing_header_variable(store: Store, ctx: ToolContext) -> None:
    tool = make_tool(store, Recorder(), environ={})
    with pytest.raises(ToolError, match="LOJA_API_TOKEN"):
        await tool.run(ctx, tool.args_model(sku="A", cep="1"))


async def test_post_sends_json_body(store: Store, ctx: ToolContext) -> None:
    recorder = Recorder()
    tool = make_tool(store, recorder, method="POST")
    await tool.run(ctx, tool.args_model(sku="PS60", cep="01001-000"))
    request = recorder.requests[0]
    assert request.method == "POST"
    assert request.read() == b'{"cep":"01001-000"}'


async def test_long_responses_are_truncated(store: Store, ctx: ToolContext) -> None:
    tool = make_tool(store, Recorder(httpx.Response(200, text="a" * 50_000)))
    result = await tool.run(ctx, tool.args_model(sku="A", cep="1"))
    assert len(result.text) < MAX_RESPONSE_CHARS + 100
    assert result.data["truncated"]


async def test_error_status_is_not_found(store: Store, ctx: ToolContext) -> None:
    tool = make_tool(store, Recorder(httpx.Response(404, text="no such sku")))
    result = await tool.run(ctx, tool.args_model(sku="A", cep="1"))
    assert not result.found
    assert "404" in result.text


async def test_redirects_are_not_followed(store: Store, ctx: ToolContext) -> None:
    recorder = Recorder(httpx.Response(302, headers={"Location": "https://evil.example/"}))
    tool = make_tool(store, recorder)
    result = await tool.run(ctx, tool.args_model(sku="A", cep="1"))
    assert len(recorder.requests) == 1
    assert not result.found


async def test_network_errors_become_tool_errors(store: Store, ctx: ToolContext) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    for handler, fragment in ((fail, "indisponível"), (slow, "a tempo")):
        tool = HttpTool(
            "estoque", "", store, settings(headers_env={}), transport=httpx.MockTransport(handler)
        )
        with pytest.raises(ToolError, match=fragment):
            await tool.run(ctx, tool.args_model(sku="A", cep="1"))


def test_registry_builds_http_tools_and_reports_bad_ones(make_domain: Any, store: Store) -> None:
    tools = make_domain()["tools"]
    good = {"kind": "http", "settings": settings().model_dump(), "grants": ["vendedor"]}
    config = DomainConfig.model_validate(make_domain(tools={**tools, "estoque": good}))
    assert isinstance(ToolRegistry.build(config, store)["estoque"], HttpTool)
    bad = {"kind": "http", "settings": {**good["settings"], "url": "https://evil.example/"}}
    config = DomainConfig.model_validate(make_domain(tools={**tools, "estoque": bad}))
    with pytest.raises(ToolConfigError, match="allowed_hosts"):
        ToolRegistry.build(config, store)


class CountingTransport(httpx.AsyncBaseTransport):
    """A transport that answers 200 and counts how many times it was closed."""

    def __init__(self) -> None:
        self.requests = 0
        self.closed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return httpx.Response(200, json={"ok": True})

    async def aclose(self) -> None:
        self.closed += 1


async def test_one_client_serves_every_call_until_closed(
    store: Store, ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[httpx.AsyncClient] = []
    real = httpx.AsyncClient

    def counting(*args: Any, **kwargs: Any) -> httpx.AsyncClient:
        client = real(*args, **kwargs)
        created.append(client)
        return client

    monkeypatch.setattr(httpx, "AsyncClient", counting)
    transport = CountingTransport()
    tool = HttpTool(
        "estoque",
        "",
        store,
        settings(headers_env={}),
        transport=transport,
    )
    proxy = proxy_for(tool)
    for sku in ("A1", "B2", "C3"):
        result = await proxy.call(ctx, "estoque", {"sku": sku, "cep": "01001000"})
        assert result.found
    assert transport.requests == 3 and len(created) == 1  # one client, reused
    assert transport.closed == 0
    await proxy.aclose()
    assert transport.closed == 1 and created[0].is_closed
    reopened = await proxy.call(ctx, "estoque", {"sku": "D4", "cep": "01001000"})
    assert reopened.found  # a new client, opened on demand
    assert len(created) == 2
    await proxy.aclose()


async def test_tools_without_resources_close_as_a_no_op(store: Store) -> None:
    from chatwootai.tools.handoff import HandoffTool

    assert await HandoffTool("humano", "", store).aclose() is None
