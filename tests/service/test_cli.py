"""The `serve` and `worker` commands' edges (the processes themselves run in test_end_to_end)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from chatwootai.cli import app
from chatwootai.cli.serve import SystemFactoryError, _next_steps, system_factory
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
