"""Domain configs in the store: own fields, and sections stored once by content (issue 15)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from chatwootai.artefacts import SHARED
from chatwootai.config import stored
from chatwootai.config.loader import DomainLoader
from chatwootai.config.registry import DomainRegistry
from chatwootai.config.sharing import SECTION_KIND
from chatwootai.store import keys
from chatwootai.store.base import Store

DOMAINS = Path(__file__).resolve().parents[2] / "domains"


@pytest.fixture
def loader(tmp_path: Path) -> DomainLoader:
    """_base, cosmetics and two stores overriding only their business facts."""
    root = tmp_path / "domains"
    for name in ("_base", "cosmetics"):
        shutil.copytree(DOMAINS / name, root / name, ignore=shutil.ignore_patterns("tests"))
    for name in ("loja-a", "loja-b"):
        (root / name).mkdir()
        (root / name / "domain.yaml").write_text(
            f"name: {name}\nextends: [cosmetics]\nbusiness:\n  company_name: Loja {name}\n",
            encoding="utf-8",
        )
    return DomainLoader(root)


async def test_a_config_comes_back_equal_and_its_sections_are_stored_once(
    loader: DomainLoader, store: Store
) -> None:
    registry = DomainRegistry(loader, store)
    a = await registry.get_domain_config("loja-a")
    b = await registry.get_domain_config("loja-b")
    assert b.agents is a.agents
    raw_a = await store.get(keys.domain_config("loja-a"))
    raw_b = await store.get(keys.domain_config("loja-b"))
    assert raw_a is not None and raw_b is not None
    assert await stored.decode(raw_a, store.mget) == a
    refs_a, refs_b = json.loads(raw_a)["sections"], json.loads(raw_b)["sections"]
    assert refs_a == refs_b  # the same agents, crews, tools, routing and data: the same keys
    assert json.loads(raw_a)["own"]["business"]["company_name"] == "Loja loja-a"
    assert len(raw_a) < 6000  # its own fields (facts, texts, hours); sections (~36 KB): once
    data = await store.get(keys.config_section(refs_a["data"]))
    assert data is not None and "BP-SKN-001" in data
    ttl = await store.ttl(keys.config_section(refs_a["data"]))
    assert ttl is not None and ttl > stored.SECTION_TTL_S - 60  # outlives the configs


async def test_a_process_holding_the_sections_neither_fetches_nor_validates_them(
    loader: DomainLoader, store: Store
) -> None:
    writer = DomainRegistry(loader, store)
    for name in ("loja-a", "loja-b"):
        await writer.get_domain_config(name)
    raw = await store.get(keys.domain_config("loja-b"))
    assert raw is not None
    asked: list[str] = []

    async def fetch(names: Sequence[str]) -> list[str | None]:
        asked.extend(names)
        return await store.mget(names)

    config = await stored.decode(raw, fetch)
    assert asked == [] and config.business.company_name == "Loja loja-b"
    SHARED.forget(SECTION_KIND)  # a fresh process: every section is fetched, in one round trip
    again = await stored.decode(raw, fetch)
    assert again == config and len(asked) == len(stored.SECTIONS) - (config.routing is None)


async def test_a_section_gone_from_the_store_sends_the_reader_to_the_files(
    loader: DomainLoader, store: Store
) -> None:
    await DomainRegistry(loader, store).get_domain_config("loja-a")
    raw = await store.get(keys.domain_config("loja-a"))
    assert raw is not None
    await store.delete(keys.config_section(json.loads(raw)["sections"]["agents"]))
    SHARED.forget(SECTION_KIND)
    with pytest.raises(stored.StoredConfigError, match="agents"):
        await stored.decode(raw, store.mget)
    reader = DomainRegistry(loader, store)  # another process
    config = await reader.get_domain_config("loja-a")
    assert config.business.company_name == "Loja loja-a" and "vendedor" in config.agents
