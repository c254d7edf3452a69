"""Knowledge index cost: build time and memory per 100 PDF pages; retrieval time per message.

1. A 100-page PDF is generated (fpdf2) from the example domains' documents and FAQs: each page a
   heading, paragraphs and price-list rows drawn (seeded) from their sentences, so the text is
   real Portuguese business prose. `SourceIndex.build` (pypdf extraction, chunking, stemming and
   counting) is timed over --builds runs (median), and its memory measured with tracemalloc
   (peak during one build, and the size of the kept index: chunks and term counts). The index
   of the tool (`PassageIndex.build` from the kept counts, what a domain does when it starts)
   is timed too, and the compressed artefact's size on disk reported.
2. A tool index of 2,000 chunks (FAQ entries and document chunks recombined from the same
   sentences) is searched with the knowledge question set (WhatsApp-style questions with typos):
   median and p95 per message of `PassageIndex.search` on a warm index, and of the first search
   of each question on a fresh index (fuzzy expansions not yet cached), and the time of a whole
   context (knowledge and catalog tools through the DataProxy, formatted within the budget).

Single process, time.perf_counter.

Run: .venv/bin/python bench/knowledge_index.py [--builds 5] [--chunks 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
import time
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

from fpdf import FPDF

from chatwootai.config.loader import DomainLoader
from chatwootai.knowledge.context import ContextBuilder
from chatwootai.knowledge.index import Passage, PassageIndex, SourceIndex, SourceIndexCodec
from chatwootai.knowledge.library import Library
from chatwootai.knowledge.sources import knowledge_tools
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.tools.base import ToolContext
from chatwootai.tools.knowledge import KnowledgeTool
from chatwootai.tools.proxy import DataProxy

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "bench" / "data" / "knowledge" / "questions.jsonl"


async def sentences() -> list[str]:
    """Sentences of the example domains' FAQs and documents."""
    loader = DomainLoader(ROOT / "domains")
    library = Library(None)
    found: list[str] = []
    for name in ("cosmetics", "farmacia", "health", "retail"):
        config = loader.load(name)
        for tool_id, settings in knowledge_tools(config).items():
            index, _ = await library.tool_index(config, tool_id, settings)
            for passage in index.passages:
                found += [s for s in re.split(r"(?<=[.!?])\s+", passage.text) if len(s) > 20]
    return found


def latin1(text: str) -> str:
    """Text the PDF core fonts can draw."""
    return text.encode("latin-1", "replace").decode("latin-1")


def make_pdf(pool: list[str], pages: int, seed: int = 11) -> bytes:
    """A PDF of `pages` pages of headings, paragraphs and price rows from `pool`."""
    rng = random.Random(seed)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=False)
    for page in range(pages):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 13)
        pdf.multi_cell(
            0, 8, f"Seção {page + 1}: {rng.choice(pool)[:50]}", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_font("Helvetica", "", 10)
        for _ in range(3):
            text = " ".join(rng.sample(pool, 3))
            pdf.multi_cell(0, 5, latin1(text), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        for row in range(6):
            pdf.cell(150, 5, latin1(f"Item {page}-{row} {rng.choice(pool)[:40]}"))
            price = f"R$ {rng.randint(5, 900)},{rng.randint(0, 99):02d}"
            pdf.cell(0, 5, price, align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def timed(fn: Any, repeat: int) -> list[float]:
    """Wall times of `repeat` calls, in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[int(0.95 * (len(ordered) - 1))]


SYLLABLES = [c + v for c in "bcdflmnprstv" for v in "aeiou"]


def pseudo_word(rng: random.Random) -> str:
    """A made-up Portuguese-looking word of 3 to 5 syllables (a product or place name)."""
    return "".join(rng.choices(SYLLABLES, k=rng.randint(3, 5)))


def synthetic_chunks(
    pool: list[str], count: int, seed: int = 5, extra_words: int = 0
) -> list[Passage]:
    """`count` passages recombined from `pool` (titles and texts of 2 to 5 sentences), each with
    `extra_words` made-up words (names, brands) to give the index a large vocabulary."""
    rng = random.Random(seed)
    return [
        Passage(
            text=" ".join(rng.sample(pool, rng.randint(2, 5)))
            + "".join(f" {pseudo_word(rng)}" for _ in range(extra_words)),
            title=rng.choice(pool)[:60],
            source=f"doc{n % 40}.pdf",
            location=f"p. {n % 100 + 1}",
        )
        for n in range(count)
    ]


async def main(builds: int, chunks: int) -> None:
    pool = await sentences()
    pdf = make_pdf(pool, 100)
    print(f"100-page PDF: {len(pdf) / 1024:.0f} KiB, {len(pool)} source sentences")

    build_ms = timed(lambda: SourceIndex.build(pdf, "pdf", "catalogo-100p.pdf"), builds)
    tracemalloc.start()
    index = SourceIndex.build(pdf, "pdf", "catalogo-100p.pdf")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    kept = SourceIndexCodec().decode(SourceIndexCodec().encode(index))
    kept_bytes, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    stored = zlib.compress(SourceIndexCodec().encode(index), 6)
    tool_ms = timed(lambda: PassageIndex.build([index]), builds)
    print(
        "  extraction + chunking + counting (SourceIndex.build): "
        f"median {statistics.median(build_ms):.0f} ms "
        f"(min {min(build_ms):.0f}, {builds} builds), {len(index.passages)} chunks"
    )
    print(
        f"  memory: peak {peak / 2**20:.1f} MiB during a build; "
        f"kept index {kept_bytes / 2**20:.2f} MiB "
        f"in memory, {len(stored) / 1024:.0f} KiB compressed on disk/in the store"
    )
    print(
        f"  tool index from the kept counts (PassageIndex.build, at domain start): "
        f"median {statistics.median(tool_ms):.1f} ms"
    )

    for extra in (0, 6):
        await search_times(pool, chunks, extra)
    print(
        f"\nmeasured: one process, Python {sys.version.split()[0]}, load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print("command: .venv/bin/python bench/knowledge_index.py " + " ".join(sys.argv[1:]))


async def search_times(pool: list[str], chunks: int, extra: int) -> None:
    """Search and context times on a tool index of `chunks` synthetic chunks."""
    from chatwootai.knowledge.index import knowledge_terms
    from chatwootai.tools.retrieval import term_counts

    passages = synthetic_chunks(pool, chunks, extra_words=extra)
    counts = [dict(term_counts(p.fields(), knowledge_terms)) for p in passages]
    part = SourceIndex("synthetic", passages, counts)
    big = PassageIndex.build([part])
    vocabulary = len({t for c in counts for t in c})
    questions = [
        json.loads(line)["question"]
        for line in QUESTIONS.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for q in questions:  # warm up the fuzzy expansion cache
        big.search(q, 4)
    warm: list[float] = []
    for _ in range(20):
        for q in questions:
            warm += timed(lambda q=q: big.search(q, 4), 1)
    cold: list[float] = []
    for q in questions:
        fresh = PassageIndex.build([part])
        cold += timed(lambda q=q, f=fresh: f.search(q, 4), 1)
    start = time.perf_counter()
    PassageIndex.build([part])
    built_ms = (time.perf_counter() - start) * 1000
    print(
        f"\n{chunks} chunks ({vocabulary} distinct terms; tool index built in {built_ms:.0f} ms), "
        f"{len(questions)} questions with typos:"
    )
    print(f"  search, warm index: median {statistics.median(warm):.2f} ms, p95 {p95(warm):.2f} ms")
    print(
        f"  search, first time on a fresh index (fuzzy expansion uncached): median "
        f"{statistics.median(cold):.2f} ms, p95 {p95(cold):.2f} ms"
    )

    config = DomainLoader(ROOT / "domains").load("cosmetics")
    proxy = DataProxy.for_domain(config, EmbeddedStore(":memory:"))
    faq = proxy.tools["faq"]
    assert isinstance(faq, KnowledgeTool)
    faq.index = big
    builder = ContextBuilder(config.knowledge.context)
    ctx = ToolContext(domain="cosmetics", conversation_key="bench", agent_id="")
    context_ms: list[float] = []
    for _ in range(5):
        for q in questions:
            start = time.perf_counter()
            await builder.for_message(q, "vendedor", proxy, ctx)
            context_ms.append((time.perf_counter() - start) * 1000)
    print(
        f"  whole context (knowledge over {chunks} chunks + catalog, through the DataProxy): "
        f"median {statistics.median(context_ms):.2f} ms, p95 {p95(context_ms):.2f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--builds", type=int, default=5)
    parser.add_argument("--chunks", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main(args.builds, args.chunks))
