"""Benchmark: load and validate 1,000 domains with 3-level inheritance using one DomainLoader.

Run: .venv/bin/python bench/config_load.py [--leaves 1000] [--mids 10]

Generates, in a temporary directory, a root (`_root`: agents, crews, tools, routing), `--mids`
mid-level abstract domains and `--leaves` leaf domains (business overrides, a small FAQ and a
small catalog each). Prints the median and p95 wall time of `load()` per domain (load + inherit
+ validate + data files; parsed files are cached, as in a running service), and the memory
retained per loaded domain (tracemalloc, after the loader and its caches are dropped).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from chatwootai.config.loader import DomainLoader
from chatwootai.config.schema import DomainConfig

ROOT = """\
abstract: true
description: Root of the benchmark domains.
llm: {temperature: 0.3, max_tokens: 600}
agents:
  seller:
    type: SalesAgent
    role: Vendedor
    goal: Vender a partir do catálogo
    backstory: Trabalha há anos na loja.
    instructions: Seja breve e cordial.
    tools: [catalog, faq, handoff]
    config: {upsell: true}
  helper:
    type: SupportAgent
    role: Atendente
    goal: Resolver dúvidas
    tools: [faq, orders, handoff]
  scheduler:
    type: SchedulingAgent
    role: Agenda
    goal: Marcar horários
    tools: [calendar, faq]
crews:
  sales:
    name: Vendas
    agents: [seller]
    workflow:
      - {step: answer, agent: seller, description: Responder sobre produtos, tools: [catalog]}
  support:
    name: Suporte
    agents: [helper]
  booking:
    name: Agenda
    agents: [scheduler]
tools:
  catalog: {kind: catalog, settings: {file: catalog.csv}, grants: [seller]}
  faq: {kind: knowledge, settings: {files: [faq.yaml]}, grants: [seller, helper, scheduler]}
  orders: {kind: orders, settings: {file: orders.yaml}, grants: [helper]}
  calendar: {kind: calendar, settings: {file: calendar.yaml}, grants: [scheduler]}
  handoff: {kind: handoff, grants: [seller, helper]}
routing:
  default_crew: support
  handoff_phrases: [falar com atendente, humano]
  crews:
    sales: {keywords: [preço, comprar, produto], examples: [quanto custa o batom?]}
    booking: {keywords: [agendar, horário], examples: [quero marcar um horário]}
chatwoot:
  crew_labels: {sales: vendas, support: suporte, booking: agenda}
"""

ROOT_FILES = {
    "catalog.csv": "sku,name,category,price,stock,description\nR1,Produto,geral,10.00,1,Base\n",
    "faq.yaml": "- {question: Horário?, answer: Das 9h às 18h.}\n",
    "orders.yaml": "- {id: '1', status: enviado, created: 2025-01-10}\n",
    "calendar.yaml": (
        "services:\n  - {id: consulta, name: Consulta, duration_minutes: 30}\n"
        "week:\n  - {weekday: 0, start: '09:00', end: '18:00'}\n"
    ),
}


def mid(index: int) -> str:
    return (
        f"abstract: true\nextends: [_root]\ndescription: Segmento {index}\n"
        f"routing:\n  handoff_phrases+: [gerente {index}]\n"
        f"agents:\n  seller:\n    instructions: Segmento {index}, cite a marca.\n"
    )


def leaf(index: int, mids: int) -> str:
    return (
        f"extends: [mid{index % mids}]\n"
        f"business:\n  company_name: Loja {index}\n  address: Rua {index}, Centro\n"
        f"  opening_hours: {{seg-sex: '09:00-18:00', sab: '09:00-13:00'}}\n"
        f"  contact: {{whatsapp: '+55 11 9{index:04d}-0000'}}\n"
        f"tools:\n  catalog:\n    settings: {{file: catalog.csv}}\n"
        f"  faq:\n    settings:\n      files+: [faq.yaml]\n"
    )


def leaf_catalog(index: int) -> str:
    rows = "".join(
        f"L{index}-{n},Produto {n},cat{n % 3},{10 + n}.90,{n},Descrição {n}\n" for n in range(5)
    )
    return "sku,name,category,price,stock,description\n" + rows


def leaf_faq(index: int) -> str:
    return "".join(
        f"- question: Pergunta {n} da loja {index}?\n  answer: Resposta {n}.\n  tags: [t{n}]\n"
        for n in range(3)
    )


def generate(root: Path, mids: int, leaves: int) -> list[str]:
    """Write the domain tree; return the leaf names."""
    (root / "_root").mkdir(parents=True)
    (root / "_root" / "domain.yaml").write_text(ROOT, encoding="utf-8")
    for name, text in ROOT_FILES.items():
        (root / "_root" / name).write_text(text, encoding="utf-8")
    for m in range(mids):
        (root / f"mid{m}").mkdir()
        (root / f"mid{m}" / "domain.yaml").write_text(mid(m), encoding="utf-8")
    names = []
    for i in range(leaves):
        directory = root / f"shop{i:04d}"
        directory.mkdir()
        (directory / "domain.yaml").write_text(leaf(i, mids), encoding="utf-8")
        (directory / "catalog.csv").write_text(leaf_catalog(i), encoding="utf-8")
        (directory / "faq.yaml").write_text(leaf_faq(i), encoding="utf-8")
        names.append(directory.name)
    return names


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1000)
    parser.add_argument("--mids", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        names = generate(root, args.mids, args.leaves)

        loader = DomainLoader(root)
        times: list[float] = []
        cpu: list[float] = []
        for name in names:
            start, start_cpu = time.perf_counter(), time.thread_time()
            config = loader.load(name)
            times.append(time.perf_counter() - start)
            cpu.append(time.thread_time() - start_cpu)
            assert config.data.catalogs["catalog"], name
        total = sum(times)
        warm: list[float] = []
        for name in names:
            start = time.perf_counter()
            loader.load(name)
            warm.append(time.perf_counter() - start)

        gc.collect()
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
        loader = DomainLoader(root)
        kept: list[DomainConfig] = [loader.load(name) for name in names]
        del loader
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - baseline
        tracemalloc.stop()

    print(
        f"command: .venv/bin/python bench/config_load.py --leaves {args.leaves} --mids {args.mids}"
    )
    print(f"domains: {len(names)} leaves, {args.mids} mid-level, 1 root (3 levels)")
    print(
        "first load+validate per domain (one DomainLoader, files cached as read): "
        f"median {_ms(statistics.median(times))}, p95 {_ms(percentile(times, 0.95))}, "
        f"total {total:.2f} s"
    )
    print(
        "  same, CPU time of the loading thread (insensitive to other processes on the machine): "
        f"median {_ms(statistics.median(cpu))}, p95 {_ms(percentile(cpu, 0.95))}"
    )
    print(
        "reload per domain (files unchanged): "
        f"median {_ms(statistics.median(warm))}, p95 {_ms(percentile(warm, 0.95))}"
    )
    print(
        f"memory retained per loaded DomainConfig (tracemalloc, loader dropped): "
        f"{retained / len(kept) / 1024:.1f} KB ({retained / 1024 / 1024:.1f} MB for {len(kept)})"
    )


if __name__ == "__main__":
    main()
