"""The playground: the workers' pipeline on a throw-away store, with the served config."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from console_setup import console_domains

from chatwootai.console.playground import Playground, PlaygroundError, PlaygroundMessage
from chatwootai.settings import Settings
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.system import ChatwootAISystem


@pytest.fixture
async def served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ChatwootAISystem]:
    """The service's pipeline on its own store, over a copy of the domains."""
    for name in ("OPENAI_API_KEY", "CHATWOOTAI_MODEL", "REDIS_URL", "REDIS_HOST"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.model_validate(
        {
            "CHATWOOTAI_DOMAINS_DIR": str(console_domains(tmp_path / "domains", broken=False)),
            "CHATWOOTAI_DATA_DIR": str(tmp_path / "data"),
        }
    )
    system = await ChatwootAISystem.create(settings, store=EmbeddedStore(tmp_path / "s.sqlite3"))
    yield system
    await system.close()


async def test_turns_follow_the_served_config_and_stay_off_the_service_store(
    served: ChatwootAISystem,
) -> None:
    playground = Playground(served.settings, served.registry)
    try:
        first = await playground.turn(PlaygroundMessage("cosmetics", "quanto custa o batom?"))
        key = first["conversation_id"]
        assert first["turn"]["crew"] == "sales" and first["turn"]["model"] == "offline"
        config = await served.registry.get_domain_config("cosmetics")
        texts = config.chatwoot.texts.model_copy(update={"handoff": "Um humano já vem, prometo."})
        changed = config.model_copy(  # no hours: the ordinary handoff text whatever the clock
            update={"chatwoot": config.chatwoot.model_copy(update={"texts": texts}), "hours": None}
        )
        await served.registry.update_domain_config("cosmetics", changed)  # as a reload does
        second = await playground.turn(
            PlaygroundMessage("cosmetics", "quero falar com um atendente", conversation_id=key)
        )
        assert second["conversation_id"] == key
        assert second["turn"]["reply"] == "Um humano já vem, prometo."
        domain, turns = await playground.transcript(key)
        assert domain == "cosmetics" and len(turns) == 2
        other = await playground.turn(PlaygroundMessage("health", "oi", conversation_id=key))
        assert other["conversation_id"] != key  # another domain: another conversation
        assert not await served.store.scan("*playground*")
        assert not await served.store.scan("outcomes*")
    finally:
        await playground.close()


async def test_a_turn_that_cannot_run_is_said_not_raised(
    served: ChatwootAISystem,
) -> None:
    settings = served.settings.model_copy(update={"model_override": "openai:gpt-4o-mini"})
    playground = Playground(settings, served.registry)
    try:
        with pytest.raises(PlaygroundError, match="OPENAI_API_KEY"):
            await playground.turn(PlaygroundMessage("cosmetics", "oi"))
        with pytest.raises(PlaygroundError, match="channel"):
            await playground.turn(PlaygroundMessage("cosmetics", "oi", channel="pigeon"))
        with pytest.raises(PlaygroundError, match="not a playground conversation"):
            await playground.turn(PlaygroundMessage("cosmetics", "oi", conversation_id="3:417"))
    finally:
        await playground.close()
