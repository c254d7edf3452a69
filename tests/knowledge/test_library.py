"""Sync, last good indexes, sharing across inheriting domains and processes, hybrid ranking."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from tests.knowledge.conftest import Page, WebServer, make_pdf

from chatwootai.config.loader import DomainLoader
from chatwootai.config.schema import DomainConfig
from chatwootai.knowledge.library import Library
from chatwootai.knowledge.schedule import KnowledgeSchedule
from chatwootai.store.base import Store
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.store.redis import RedisStore
from chatwootai.tools.base import ToolContext
from chatwootai.tools.knowledge import KnowledgeArgs, KnowledgeTool
from chatwootai.tools.proxy import DataProxy

BRAND = """\
abstract: true
agents:
  helper:
    type: SupportAgent
    role: Atendente
    goal: Responder dúvidas
    tools: [faq]
crews:
  support:
    name: Suporte
    agents: [helper]
tools:
  faq:
    kind: knowledge
    settings:
      files: [faq.yaml, trocas.html, precos.pdf]
    grants: [helper]
routing:
  default_crew: support
"""

FAQ = """\
- question: Qual o horário?
  answer: Das 9h às 18h.
"""

TROCAS = """<html><head><title>Trocas</title></head><body><main>
<h1>Política de trocas</h1><h2 id="prazo">Prazo</h2>
<p>Trocas em até 30 dias com a nota fiscal.</p></main></body></html>"""

STORE = """\
extends: [marca]
business:
  company_name: Loja {n}
"""


def write(root: Path, name: str, text: str, **files: bytes | str) -> None:
    directory = root / name
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "domain.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    for file_name, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        (directory / file_name.replace("__", ".")).write_bytes(data)


@pytest.fixture
def chain(tmp_path: Path) -> DomainLoader:
    """A brand with an FAQ, an HTML page and a PDF, and five stores inheriting them."""
    root = tmp_path / "domains"
    pdf = make_pdf([["Tabela de preços", "Corte feminino R$ 90,00", "Escova R$ 60,00"]])
    write(root, "marca", BRAND, faq__yaml=FAQ, trocas__html=TROCAS, precos__pdf=pdf)
    for n in range(5):
        write(root, f"loja-{n}", STORE.format(n=n))
    return DomainLoader(root)


def library(tmp_path: Path, store: Store | None = None, **kw: Any) -> Library:
    return Library(tmp_path / "data", store, allow_private_networks=True, **kw)


async def attach(lib: Library, config: DomainConfig) -> KnowledgeTool:
    proxy = DataProxy.for_domain(config, EmbeddedStore(":memory:"))
    await lib.attach(config, proxy.tools)
    tool = proxy.tools["faq"]
    assert isinstance(tool, KnowledgeTool)
    return tool


async def ask(tool: KnowledgeTool, query: str) -> str:
    ctx = ToolContext(domain="x", conversation_key="1:1", agent_id="helper")
    return (await tool.run(ctx, KnowledgeArgs(query=query))).text


async def test_sync_reports_each_source_then_finds_nothing_changed(
    chain: DomainLoader, tmp_path: Path
) -> None:
    lib = library(tmp_path)
    config = chain.load("loja-0")
    lines: list[str] = []
    first = await lib.sync_domain(config, progress=lines.append)
    assert [(s.source, s.status) for s in first.sources] == [
        ("trocas.html", "indexed"),
        ("precos.pdf", "indexed"),
    ]
    assert all(s.chunks > 0 for s in first.sources) and not first.failed
    assert any("precos.pdf (file): indexed, 1 page(s)" in line for line in lines)
    again = await library(tmp_path).sync_domain(config)  # another process, same data dir
    assert [s.status for s in again.sources] == ["unchanged", "unchanged"]


async def test_a_chain_of_stores_indexes_the_brands_documents_once(
    chain: DomainLoader, tmp_path: Path
) -> None:
    lib = library(tmp_path)
    tools = [await attach(lib, chain.load(f"loja-{n}")) for n in range(5)]
    assert lib.source_builds == 2  # the HTML page and the PDF, once for five stores
    assert all(t.index is tools[0].index for t in tools)  # one index object in memory
    assert "30 dias" in await ask(tools[3], "qual o prazo pra trocar?")
    assert "R$ 90,00" in await ask(tools[4], "qto custa o corte feminino?")
    artefacts = list((tmp_path / "data" / "knowledge" / "artefacts").rglob("*.v[0-9]*"))
    assert len(artefacts) == 2


async def test_a_store_with_its_own_faq_still_shares_the_documents(
    chain: DomainLoader, tmp_path: Path
) -> None:
    root = chain.domains_dir
    write(
        root,
        "loja-propria",
        """\
        extends: [marca]
        tools:
          faq:
            settings:
              files+: [local.yaml]
        """,
        local__yaml="- question: Tem estacionamento?\n  answer: Sim, gratuito.\n",
    )
    lib = library(tmp_path)
    shared = await attach(lib, chain.load("loja-0"))
    own = await attach(lib, chain.load("loja-propria"))
    assert lib.source_builds == 2
    assert own.index is not shared.index
    assert "gratuito" in await ask(own, "tem estacionamento?")
    assert "30 dias" in await ask(own, "prazo de troca")


async def test_a_broken_file_keeps_its_last_good_index(chain: DomainLoader, tmp_path: Path) -> None:
    lib = library(tmp_path)
    config = chain.load("loja-1")
    await lib.sync_domain(config)
    (chain.domains_dir / "marca" / "precos.pdf").write_bytes(b"%PDF-1.4 truncated")
    report = await lib.sync_domain(config)
    failed = {s.source: s for s in report.failed}
    assert set(failed) == {"precos.pdf"}
    assert "not a readable PDF" in (failed["precos.pdf"].error or "")
    assert failed["precos.pdf"].chunks > 0  # the last good index is still there
    tool = await attach(library(tmp_path), config)  # a service starting now still serves it
    assert "R$ 90,00" in await ask(tool, "preço do corte feminino")


async def test_web_pages_sync_and_a_failing_page_keeps_its_last_good_index(
    tmp_path: Path, web: WebServer
) -> None:
    root = tmp_path / "domains"
    text = BRAND.replace("abstract: true\n", "").replace(
        "files: [faq.yaml, trocas.html, precos.pdf]",
        f"files: [faq.yaml]\n      urls: ['{web.url('/entrega')}']\n"
        f"      allowed_hosts: ['{web.host}']",
    )
    write(root, "site", text, faq__yaml=FAQ)
    config = DomainLoader(root).load("site")
    web.pages["/entrega"] = Page(b"<h1>Entrega</h1><p>Entregamos em 48 horas.</p>")
    lib = library(tmp_path)
    assert [s.status for s in (await lib.sync_domain(config)).sources] == ["indexed"]
    web.pages["/entrega"] = Page(b"oops", status=500)
    report = await lib.sync_domain(config)
    assert report.sources[0].status == "failed" and "HTTP 500" in (report.sources[0].error or "")
    tool = await attach(lib, config)
    assert "48 horas" in await ask(tool, "qual o prazo de entrega?")


async def test_web_pages_are_never_fetched_when_a_domain_starts(
    tmp_path: Path, web: WebServer
) -> None:
    root = tmp_path / "domains"
    text = BRAND.replace("abstract: true\n", "").replace(
        "files: [faq.yaml, trocas.html, precos.pdf]",
        f"files: [faq.yaml]\n      urls: ['{web.url('/entrega')}']\n"
        f"      allowed_hosts: ['{web.host}']",
    )
    write(root, "site", text, faq__yaml=FAQ)
    web.pages["/entrega"] = Page(b"<p>Entregamos em 48 horas.</p>")
    tool = await attach(library(tmp_path), DomainLoader(root).load("site"))
    assert web.hits == {}
    assert "9h" in await ask(tool, "qual o horario?")  # the FAQ serves meanwhile


async def test_sitemap_reads_pages_of_allowed_hosts(tmp_path: Path, web: WebServer) -> None:
    root = tmp_path / "domains"
    sitemap = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{web.url("/a")}</loc></url><url><loc>{web.url("/b")}</loc></url>
<url><loc>https://elsewhere.example/c</loc></url><url><loc>{web.url("/gone")}</loc></url>
</urlset>"""
    text = BRAND.replace("abstract: true\n", "").replace(
        "files: [faq.yaml, trocas.html, precos.pdf]",
        f"files: [faq.yaml]\n      sitemaps: ['{web.url('/sitemap.xml')}']\n"
        f"      allowed_hosts: ['{web.host}']",
    )
    write(root, "site", text, faq__yaml=FAQ)
    web.pages["/sitemap.xml"] = Page(sitemap.encode(), headers={"content-type": "text/xml"})
    web.pages["/a"] = Page(b"<h1>Garantia</h1><p>Garantia de 12 meses.</p>")
    web.pages["/b"] = Page("<h1>Montagem</h1><p>Montagem grátis.</p>".encode())
    report = await library(tmp_path).sync_domain(DomainLoader(root).load("site"))
    (source,) = report.sources
    assert source.kind == "sitemap" and source.pages == 2
    assert list(source.failed_pages) == [web.url("/gone")]
    assert "elsewhere" not in str(web.hits)


async def test_another_process_sync_reaches_a_serving_process(
    tmp_path: Path, web: WebServer
) -> None:
    root = tmp_path / "domains"
    text = BRAND.replace("abstract: true\n", "").replace(
        "files: [faq.yaml, trocas.html, precos.pdf]",
        f"files: [faq.yaml]\n      urls: ['{web.url('/p')}']\n      allowed_hosts: ['{web.host}']",
    )
    write(root, "site", text, faq__yaml=FAQ)
    config = DomainLoader(root).load("site")
    web.pages["/p"] = Page("<h1>Frete</h1><p>Frete grátis acima de R$ 200.</p>".encode())
    serving, cli = library(tmp_path), library(tmp_path)
    await cli.sync_domain(config)
    tool = await attach(serving, config)
    assert "R$ 200" in await ask(tool, "frete gratis?")
    web.pages["/p"] = Page("<h1>Frete</h1><p>Frete grátis acima de R$ 150.</p>".encode())
    await cli.sync_domain(config)
    schedule = KnowledgeSchedule(serving, lambda: _none(), sync=False)
    await schedule.tick()
    assert "R$ 150" in await ask(tool, "frete gratis?")


async def _none() -> list[DomainConfig]:
    return []


async def test_schedule_syncs_sources_that_are_due(tmp_path: Path, web: WebServer) -> None:
    root = tmp_path / "domains"
    text = BRAND.replace("abstract: true\n", "").replace(
        "files: [faq.yaml, trocas.html, precos.pdf]",
        f"files: [faq.yaml]\n      urls: ['{web.url('/p')}']\n      allowed_hosts: ['{web.host}']",
    )
    write(root, "site", text, faq__yaml=FAQ)
    config = DomainLoader(root).load("site")
    web.pages["/p"] = Page(b"<p>Pagamento por Pix.</p>")
    lib = library(tmp_path)

    async def domains() -> list[DomainConfig]:
        return [config]

    schedule = KnowledgeSchedule(lib, domains, sync=True)
    await schedule.tick()
    await schedule.tick()  # synced a moment ago: not due for a day (the default)
    assert web.hits == {"/p": 1}


async def test_indexes_are_shared_through_redis_between_hosts(
    chain: DomainLoader, tmp_path: Path, redis_url: str, key_prefix: str
) -> None:
    store = RedisStore.from_url(redis_url, prefix=key_prefix)
    try:
        config = chain.load("loja-2")
        one = Library(tmp_path / "host-1", store)
        await one.sync_domain(config)
        two = Library(tmp_path / "host-2", store)  # another host: empty disk
        tool = await attach(two, config)
        assert two.source_builds == 0
        assert "30 dias" in await ask(tool, "prazo de troca")
    finally:
        await store.close()


async def test_hybrid_ranking_end_to_end_with_an_embeddings_server(
    chain: DomainLoader, tmp_path: Path, fake_openai: Any
) -> None:
    root = chain.domains_dir
    write(
        root,
        "loja-hibrida",
        f"""\
        extends: [marca]
        knowledge:
          embeddings:
            model: fake-embedding
            base_url: {fake_openai.base_url}
        """,
    )
    config = chain.load("loja-hibrida")
    lib = library(tmp_path)
    report = await lib.sync_domain(config)
    assert all(s.embedded for s in report.sources)
    assert fake_openai.embedding_count >= 2 and fake_openai.count == 0
    tool = await attach(lib, config)
    assert tool.index.hybrid and tool.embedder is not None
    before = fake_openai.embedding_count
    assert "30 dias" in await ask(tool, "qual o prazo pra trocar um produto?")
    assert fake_openai.embedding_count == before + 1
    assert fake_openai.embedding_inputs[-1] == "qual o prazo pra trocar um produto?"


async def test_embeddings_endpoint_down_falls_back_to_words(
    chain: DomainLoader, tmp_path: Path, fake_openai: Any
) -> None:
    root = chain.domains_dir
    write(
        root,
        "loja-hibrida",
        f"""\
        extends: [marca]
        knowledge:
          embeddings:
            model: fake-embedding
            base_url: {fake_openai.base_url}
        """,
    )
    config = chain.load("loja-hibrida")
    lib = library(tmp_path)
    await lib.sync_domain(config)
    tool = await attach(lib, config)
    fake_openai.stop()
    assert "30 dias" in await ask(tool, "qual o prazo pra trocar?")
