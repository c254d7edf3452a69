"""Hot reload through the running system: saved YAML is applied; broken YAML is not served."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatwootai.settings import Settings
from chatwootai.store.redis import RedisStore
from chatwootai.system import ChatwootAISystem
from chatwootai.turn import IncomingMessage

DOMAINS = Path(__file__).resolve().parents[2] / "domains"


@pytest.fixture
async def watched(
    tmp_path: Path, redis_url: str, key_prefix: str
) -> AsyncIterator[tuple[ChatwootAISystem, Path]]:
    """A system watching a copy of the example domains."""
    domains = tmp_path / "domains"
    shutil.copytree(DOMAINS, domains)
    settings = Settings(
        CHATWOOTAI_DOMAINS_DIR=domains, CHATWOOTAI_DATA_DIR=tmp_path, CHATWOOTAI_WATCH=True
    )
    system = await ChatwootAISystem.create(
        settings, store=RedisStore.from_url(redis_url, prefix=key_prefix)
    )
    await system.start()
    await asyncio.sleep(0.3)  # the watcher is armed
    yield system, domains
    await system.close()


async def eventually(predicate, seconds: float = 5.0) -> bool:
    """Poll an async predicate until it holds or `seconds` pass."""
    for _ in range(int(seconds / 0.05)):
        if await predicate():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_saved_file_is_applied_and_broken_file_keeps_last_good(watched) -> None:
    system, domains = watched
    before = await system.registry.get_domain_config("cosmetics")
    path = domains / "cosmetics" / "domain.yaml"
    text = path.read_text(encoding="utf-8")
    company = before.business.company_name
    path.write_text(text.replace(company, "Bela Pele Recarregada"), encoding="utf-8")

    async def renamed() -> bool:
        config = await system.registry.get_domain_config("cosmetics")
        return config.business.company_name == "Bela Pele Recarregada"

    assert await eventually(renamed)
    path.write_text(text + "\nagents: [this is: not valid\n", encoding="utf-8")
    await asyncio.sleep(1.0)
    config = await system.registry.get_domain_config("cosmetics")
    assert config.business.company_name == "Bela Pele Recarregada"
    outcome = await system.process_message(
        IncomingMessage(text="vocês aceitam pix?", account_id="1"), "1:1", "api"
    )
    assert outcome.domain == "cosmetics" and not outcome.fallback


async def test_saved_tenants_file_remaps_accounts(watched) -> None:
    system, domains = watched
    tenants = domains / "tenants.yaml"
    tenants.write_text(
        tenants.read_text(encoding="utf-8").replace('"1": cosmetics', '"1": retail'),
        encoding="utf-8",
    )

    async def remapped() -> bool:
        return await system.domains.get_domain_for_conversation("1:77") == "retail"

    assert await eventually(remapped)
