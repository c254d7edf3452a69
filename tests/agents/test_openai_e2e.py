"""A crew on an `openai:` model whose base_url is the fake server: the real client over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from chatwootai.agents.factory import CrewFactory
from chatwootai.config.schema import DomainConfig
from chatwootai.llm import ModelResolver
from chatwootai.settings import Settings

openai_server: Any = __import__("sys").modules["fakes_openai_server"]


@pytest.fixture
def online(shop: DomainConfig, fake_openai: Any, monkeypatch: pytest.MonkeyPatch) -> DomainConfig:
    monkeypatch.setenv("FAKE_OPENAI_KEY", "sk-test-not-secret")
    llm = {
        "model": "openai:gpt-4o-mini",
        "base_url": fake_openai.base_url,
        "api_key_env": "FAKE_OPENAI_KEY",
        "retries": 2,
        "timeout_s": 5,
    }
    return shop.model_copy(update={"llm": shop.llm.model_validate(llm)})


def crew(config: DomainConfig, proxy: Any) -> Any:
    return CrewFactory(config, proxy, ModelResolver(Settings())).build("support")


async def test_tool_call_round_trip_over_http(online, fake_proxy, fake_openai, ctx):
    fake_openai.script(
        openai_server.tool_call("orders", {"order_id": "1234"}),
        openai_server.text("Seu pedido chega amanhã."),
    )
    result = await crew(online, fake_proxy).run("cadê o pedido 1234?", {}, ctx)
    assert result.reply == "Seu pedido chega amanhã."
    assert not result.fallback and not result.offline
    assert result.requests == 2 and result.input_tokens == 22
    assert [r.tool_id for r in result.tool_calls] == ["orders"]
    first, second = fake_openai.requests
    assert first["model"] == "gpt-4o-mini"
    assert {t["function"]["name"] for t in first["tools"]} == {"faq", "orders"}
    assert first["messages"][0]["role"] in ("system", "developer")
    tool_message = second["messages"][-1]
    assert tool_message["role"] == "tool" and "enviado" in tool_message["content"]
    assert fake_openai.headers[0]["authorization"] == "Bearer sk-test-not-secret"


async def test_server_error_is_retried(online, fake_proxy, fake_openai, ctx):
    fake_openai.script(openai_server.error(500), openai_server.text("Voltei."))
    result = await crew(online, fake_proxy).run("oi", {}, ctx)
    assert result.reply == "Voltei."
    assert len(fake_openai.requests) == 2
    assert result.requests == 1


async def test_rate_limit_is_retried(online, fake_proxy, fake_openai, ctx):
    fake_openai.script(openai_server.error(429), openai_server.text("Pronto."))
    result = await crew(online, fake_proxy).run("oi", {}, ctx)
    assert result.reply == "Pronto."


async def test_bad_key_ends_in_fallback_and_handoff(online, fake_proxy, fake_openai, ctx, caplog):
    fake_openai.script(openai_server.error(401, "Incorrect API key provided"))
    result = await crew(online, fake_proxy).run("oi", {}, ctx)
    assert result.fallback
    assert result.reply == online.chatwoot.texts.fallback
    assert result.handoff is not None and "Authentication" in result.handoff.reason
    assert len(fake_openai.requests) == 1  # 401 is not retried
    assert "401" in caplog.text and "llm.api_key_env" in caplog.text
    assert "sk-test-not-secret" not in caplog.text
