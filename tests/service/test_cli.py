"""The `serve` and `worker` commands' edges (the processes themselves run in test_end_to_end)."""

from __future__ import annotations

import pytest
from service_fakes import FakeSystem
from typer.testing import CliRunner

from chatwootai.cli import app
from chatwootai.cli.serve import (
    SystemFactoryError,
    _next_steps,
    describe_model,
    domain_models,
    system_factory,
)
from chatwootai.config.schema import LLMSettings
from chatwootai.settings import Settings


def test_worker_without_redis_explains_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REDIS_URL", "REDIS_HOST"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 2
    assert "no Redis configured" in result.output


def test_serve_prints_the_agent_bot_url_and_next_steps() -> None:
    text = _next_steps(Settings.model_validate({}), "127.0.0.1", 8000)
    assert "http://localhost:8000/webhooks/chatwoot" in text
    assert "chatwootai chat cosmetics" in text
    assert "Running embedded" in text


def test_a_bad_system_factory_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATWOOTAI_SYSTEM_FACTORY", "nowhere.to.be:found")
    with pytest.raises(SystemFactoryError, match="module:callable"):
        system_factory()
    monkeypatch.delenv("CHATWOOTAI_SYSTEM_FACTORY")
    assert system_factory().__qualname__ == "ChatwootAISystem.create"


def test_serve_names_each_domains_model_and_the_key_it_lacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "SHOP_LLM_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.model_validate({})
    offline = describe_model(LLMSettings(), settings)
    assert offline.startswith("offline")
    claude = LLMSettings(model="anthropic:claude-3-5-haiku-latest")
    assert "ANTHROPIC_API_KEY is not set" in describe_model(claude, settings)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    assert describe_model(claude, settings) == "anthropic:claude-3-5-haiku-latest"
    own_key = LLMSettings(model="openai:gpt-4o-mini", api_key_env="SHOP_LLM_KEY")
    assert "SHOP_LLM_KEY is not set" in describe_model(own_key, settings)
    local = LLMSettings(model="openai:llama3.1", base_url="http://127.0.0.1:11434/v1")
    assert describe_model(local, settings) == "openai:llama3.1"
    forced = Settings.model_validate({"CHATWOOTAI_MODEL": "offline"})
    assert describe_model(claude, forced).startswith("offline")

    text = _next_steps(settings, "127.0.0.1", 8000, {"retail": describe_model(claude, settings)})
    assert "retail: anthropic:claude-3-5-haiku-latest" in text
    assert "No LLM key" not in text


async def test_domain_models_lists_every_served_domain(system: FakeSystem) -> None:
    models = await domain_models(system, system.settings)
    assert sorted(models) == ["cosmetics", "health", "retail"]
    assert all(model.startswith("offline") for model in models.values())
