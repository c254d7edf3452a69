"""Model resolution: offline default, override, base URLs, keys from the environment."""

from __future__ import annotations

import pytest
from pydantic_ai.models.openai import OpenAIChatModel

from chatwootai.config.schema import LLMSettings
from chatwootai.llm import MissingModelKeyError, ModelConfigError, ModelResolver
from chatwootai.offline import OfflineModel
from chatwootai.settings import Settings


def test_unset_or_offline_model_is_the_offline_model():
    resolver = ModelResolver(Settings())
    model = resolver.resolve(LLMSettings())
    assert isinstance(model, OfflineModel) and resolver.is_offline(model)
    assert resolver.resolve(LLMSettings(model="offline")) is model


def test_agent_settings_override_domain_and_env_override_both(monkeypatch):
    monkeypatch.setenv("K", "x")
    domain = LLMSettings(model="openai:gpt-4o", base_url="http://127.0.0.1:1/v1", api_key_env="K")
    agent = LLMSettings(model="openai:gpt-4o-mini")
    resolver = ModelResolver(Settings())
    model = resolver.resolve(domain, agent)
    assert isinstance(model, OpenAIChatModel) and model.model_name == "gpt-4o-mini"
    assert resolver.resolve(domain, agent) is model  # cached
    forced = ModelResolver(Settings(CHATWOOTAI_MODEL="offline"))
    assert forced.is_offline(forced.resolve(domain, agent))


def test_openai_base_url_from_environment_uses_chat_completions(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = ModelResolver(Settings()).resolve(LLMSettings(model="openai:llama3"))
    assert isinstance(model, OpenAIChatModel)
    assert model.base_url.startswith("http://127.0.0.1:9/v1")


def test_missing_named_key_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    settings = LLMSettings(model="openai:gpt-4o-mini", api_key_env="NO_SUCH_KEY")
    with pytest.raises(MissingModelKeyError, match="NO_SUCH_KEY"):
        ModelResolver(Settings()).resolve(settings)


def test_missing_provider_key_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(MissingModelKeyError, match="OPENAI_API_KEY"):
        ModelResolver(Settings()).resolve(LLMSettings(model="openai:gpt-4o-mini"))


def test_malformed_model_string_is_rejected():
    with pytest.raises(ModelConfigError, match="pydantic-ai model string"):
        ModelResolver(Settings()).resolve(LLMSettings(model="gpt-4o"))


def test_model_settings_carry_timeout_and_retries():
    settings = ModelResolver(Settings()).model_settings(
        LLMSettings(timeout_s=12, retries=4, temperature=0.2)
    )
    assert settings == {"timeout": 12, "max_retries": 4, "temperature": 0.2}
