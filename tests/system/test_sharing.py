"""Artefacts shared by content across tenants: the same objects when inherited, never a parent's
when overridden, and a changed parent rebuilds its children (issue 15)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from chatwootai.config.registry import DomainRegistry
from chatwootai.settings import Settings
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.system import ChatwootAISystem, DomainRuntime
from chatwootai.tools.base import ToolContext
from chatwootai.tools.catalog import CatalogArgs, CatalogTool
from chatwootai.tools.knowledge import KnowledgeTool
from chatwootai.watcher import affected_domains, reload_domains

DOMAINS = Path(__file__).resolve().parents[2] / "domains"

OWN_PRODUCT = (
    "BL-001,Pedra Selenita Esfoliante 200g,Skincare,39.90,7,Esfoliante de selenita,Bela Lua,"
    "selenita"
)
OWN_FAQ = """- question: Vocês têm estacionamento próprio?
  answer: Sim, a unidade Lua tem estacionamento gratuito com manobrista.
  tags: [estacionamento]
"""


def store_domain(name: str, extra: str = "") -> str:
    """A tenant extending cosmetics that overrides its business facts (and `extra`)."""
    return (
        f"name: {name}\nextends: [cosmetics]\nbusiness:\n  company_name: Loja {name}\n"
        f"  address: Rua {name}, 10\n  contact:\n    phone: +55 11 5555-0000\n{extra}"
    )


@pytest.fixture
def domains(tmp_path: Path) -> Path:
    """_base and cosmetics, two tenants sharing everything, one with its own catalog, FAQ and
    routing examples."""
    root = tmp_path / "domains"
    for name in ("_base", "cosmetics"):
        shutil.copytree(DOMAINS / name, root / name, ignore=shutil.ignore_patterns("tests"))
    for name in ("loja-a", "loja-b"):
        (root / name).mkdir()
        (root / name / "domain.yaml").write_text(store_domain(name), encoding="utf-8")
    (root / "loja-c").mkdir()
    own_handoff = """tools:
  handoff:
    description: Chama a gerente da loja C quando o cliente pede uma pessoa.
"""
    (root / "loja-c" / "domain.yaml").write_text(
        store_domain("loja-c", own_handoff), encoding="utf-8"
    )
    own = root / "loja-lua"
    own.mkdir()
    header = (DOMAINS / "cosmetics" / "catalog.csv").read_text(encoding="utf-8").splitlines()[0]
    (own / "catalog.csv").write_text(f"{header}\n{OWN_PRODUCT}\n", encoding="utf-8")
    (own / "faq-lua.yaml").write_text(OWN_FAQ, encoding="utf-8")
    extra = """tools:
  catalogo:
    settings:
      file: catalog.csv
  faq:
    settings:
      files+: [faq-lua.yaml]
routing:
  crews:
    sales:
      examples+: [tem pedra lunar pra esfoliar?]
"""
    (own / "domain.yaml").write_text(store_domain("loja-lua", extra), encoding="utf-8")
    return root


async def open_system(domains: Path, data: Path) -> ChatwootAISystem:
    """A system on the embedded store kept in `data` (two systems on one folder share it)."""
    settings = Settings(CHATWOOTAI_DOMAINS_DIR=domains, CHATWOOTAI_DATA_DIR=data)
    return await ChatwootAISystem.create(settings)


@pytest.fixture
async def system(domains: Path, tmp_path: Path) -> AsyncIterator[ChatwootAISystem]:
    """A system serving the generated tenants."""
    opened = await open_system(domains, tmp_path / "data")
    yield opened
    await opened.close()


def catalog(runtime: DomainRuntime) -> CatalogTool:
    tool = runtime.proxy.tools["catalogo"]
    assert isinstance(tool, CatalogTool)
    return tool


def faq(runtime: DomainRuntime) -> KnowledgeTool:
    tool = runtime.proxy.tools["faq"]
    assert isinstance(tool, KnowledgeTool)
    return tool


def names(found: list[tuple[Any, float | None]]) -> list[str]:
    return [product.name for product, _ in found]


async def test_tenants_sharing_their_parent_share_its_artefacts(
    system: ChatwootAISystem,
) -> None:
    parent = await system.runtime("cosmetics")
    a = await system.runtime("loja-a")
    b = await system.runtime("loja-b")
    assert a.config.business.company_name != b.config.business.company_name  # their own facts
    for runtime in (a, b):
        assert runtime.hub.core is parent.hub.core  # one fitted classifier and matchers
        assert catalog(runtime).index is catalog(parent).index
        assert catalog(runtime).products == catalog(parent).products
        assert faq(runtime).index is faq(parent).index
        for section in ("agents", "crews", "routing", "data"):
            assert getattr(runtime.config, section) is getattr(parent.config, section)
    crew_a = await system.crews.get_crew("sales", "loja-a")
    crew_b = await system.crews.get_crew("sales", "loja-b")
    assert crew_a is not crew_b and crew_a.proxy is a.proxy and crew_b.proxy is b.proxy
    tools_a = crew_a.steps[0].runner._function_toolset.tools
    tools_b = crew_b.steps[0].runner._function_toolset.tools
    assert tools_a["catalogo"] is tools_b["catalogo"]  # the call goes to each turn's own proxy
    assert crew_a.steps[0].runner is crew_b.steps[0].runner  # one pydantic-ai agent...
    assert "Loja loja-a" in crew_a.prompts[crew_a.steps[0].step_id]  # ...each tenant's prompt
    assert "Loja loja-a" not in crew_b.prompts[crew_b.steps[0].step_id]


async def test_each_tenant_is_answered_with_its_own_facts_through_shared_agents(
    system: ChatwootAISystem,
) -> None:
    seen: list[str] = []

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(info.instructions or "")
        return ModelResponse(parts=[TextPart("Olá!")])

    system.models = _Only(system.models, FunctionModel(answer))
    for name in ("loja-a", "loja-b"):
        runtime = await system.runtime(name)
        runtime.factory.models = system.models
    for name in ("loja-a", "loja-b"):
        crew = await system.crews.get_crew("sales", name)
        context = ToolContext(domain=name, conversation_key=f"{name}:1", agent_id="")
        await crew.run("oi, qual o endereço?", {}, context)
    assert "Rua loja-a, 10" in seen[0] and "Rua loja-b" not in seen[0]
    assert "Rua loja-b, 10" in seen[1] and "Rua loja-a" not in seen[1]
    a = await system.crews.get_crew("sales", "loja-a")
    b = await system.crews.get_crew("sales", "loja-b")
    assert a.steps[0].runner is b.steps[0].runner


class _Only:
    """A model resolver that gives every agent one model (a FunctionModel)."""

    def __init__(self, inner: Any, model: FunctionModel) -> None:
        self.inner = inner
        self.model = model
        self.settings = inner.settings
        self.breaker = inner.breaker

    def resolve(self, *args: Any) -> FunctionModel:
        return self.model

    def is_offline(self, model: Any) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_a_tenant_overriding_its_catalog_faq_and_examples_never_sees_its_parents(
    system: ChatwootAISystem,
) -> None:
    parent = await system.runtime("cosmetics")
    own = await system.runtime("loja-lua")
    assert catalog(own).index is not catalog(parent).index
    assert names(catalog(own).find(CatalogArgs(query="pedra selenita"))) == [
        "Pedra Selenita Esfoliante 200g"
    ]
    assert names(catalog(own).find(CatalogArgs(query="sérum vitamina c"))) == []
    assert names(catalog(parent).find(CatalogArgs(query="pedra selenita"))) == []
    assert faq(own).index is not faq(parent).index
    assert "estacionamento" in faq(own).search("tem estacionamento?")[0][0].text
    assert all("manobrista" not in p.text for p, _ in faq(parent).search("tem estacionamento?"))
    assert own.hub.core is not parent.hub.core  # its own routing examples: its own classifier
    assert own.config.agents is parent.config.agents  # what it does not override is shared


async def test_a_worker_reading_configs_from_the_store_shares_them_too(
    domains: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    first = await open_system(domains, data)
    for name in ("loja-a", "loja-b", "loja-lua"):
        await first.registry.get_domain_config(name)  # written to the shared store
    await first.close()
    store = EmbeddedStore(data / "store.sqlite3", prefix="chatwootai:")
    registry = DomainRegistry(_NoFiles(), store)  # a worker: configs only from the store
    a = await registry.get_domain_config("loja-a")
    b = await registry.get_domain_config("loja-b")
    lua = await registry.get_domain_config("loja-lua")
    assert a.business.company_name == "Loja loja-a" and b.business.company_name == "Loja loja-b"
    assert a.data is b.data and a.agents is b.agents and a.routing is b.routing
    assert lua.data is not a.data  # its own catalog and FAQ...
    assert lua.data.catalogs["catalogo"] != a.data.catalogs["catalogo"]
    assert lua.data.orders["pedidos"] is a.data.orders["pedidos"]  # ...its parent's orders
    assert lua.data.calendars["agenda"] is a.data.calendars["agenda"]
    await store.close()


class _NoFiles:
    def names(self) -> list[str]:
        return ["loja-a", "loja-b", "loja-lua"]

    def load(self, name: str) -> Any:
        raise AssertionError(f"{name} must come from the store")


async def test_a_changed_parent_rebuilds_its_children_and_spares_the_overriding_one(
    system: ChatwootAISystem, domains: Path
) -> None:
    a_before = await system.runtime("loja-a")
    lua_before = await system.runtime("loja-lua")
    assert names(catalog(a_before).find(CatalogArgs(query="zirconita"))) == []
    csv = domains / "cosmetics" / "catalog.csv"
    row = (
        "BP-NEW-001,Rolo Zirconita Facial,Acessórios,99.90,5,Rolo de zirconita,Bela Pele,zirconita"
    )
    csv.write_text(csv.read_text(encoding="utf-8").rstrip("\n") + f"\n{row}\n", encoding="utf-8")
    names_changed = await affected_domains(system.registry, {"cosmetics"})
    assert {"loja-a", "loja-b", "loja-lua"} <= set(names_changed)
    await reload_domains(system.registry, names_changed)

    a_after = await system.runtime("loja-a")
    b_after = await system.runtime("loja-b")
    lua_after = await system.runtime("loja-lua")
    assert a_after is not a_before
    assert names(catalog(a_after).find(CatalogArgs(query="zirconita")))[0] == (
        "Rolo Zirconita Facial"
    )
    assert catalog(a_after).index is catalog(b_after).index  # still shared, the new content
    assert catalog(a_after).index is not catalog(a_before).index
    assert names(catalog(lua_after).find(CatalogArgs(query="zirconita"))) == []
    assert catalog(lua_after).index is catalog(lua_before).index  # its own data did not change


async def test_a_tenant_with_its_own_handoff_tool_gets_its_own_agent(
    system: ChatwootAISystem,
) -> None:
    system.models = _Only(system.models, FunctionModel(lambda m, i: ModelResponse([TextPart("")])))
    for name in ("loja-a", "loja-c"):
        (await system.runtime(name)).factory.models = system.models
    a = await system.crews.get_crew("sales", "loja-a")
    c = await system.crews.get_crew("sales", "loja-c")
    assert a.steps[0].runner is not c.steps[0].runner  # its handoff output says its own text
    outputs = c.steps[0].runner._output_toolset
    assert outputs is not None
    described = [d.description for d in (await _definitions(outputs))]
    assert any("gerente da loja C" in text for text in described)
    assert (
        catalog(await system.runtime("loja-c")).index
        is catalog(await system.runtime("loja-a")).index
    )  # what it does not override is still shared


async def _definitions(toolset: Any) -> list[Any]:
    return list(toolset._tool_defs)
