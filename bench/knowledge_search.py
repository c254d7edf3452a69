"""Cost of lexical retrieval (knowledge and catalog tools): index build and query latency.

Builds a synthetic FAQ of N entries (Portuguese words drawn from a fixed vocabulary, seeded), then
times `KnowledgeTool.search` for three kinds of queries: exact words, plural/accent variants, and
typos (which take the slow path: fuzzy matching of unknown terms against the vocabulary; the
expansion of a term is cached per index, so "typo, first time" measures a fresh index each query).
Also times the real FAQs of the domains in `domains/` when they load. Single process, one core,
`time.perf_counter`, median and p95 over the repetitions.

Run: .venv/bin/python bench/knowledge_search.py [--sizes 50 500 5000] [--repeat 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from chatwootai.config.data import FaqEntry
from chatwootai.config.schema import KnowledgeSettings
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.tools.knowledge import KnowledgeTool

_WORDS_TEXT = (
    "entrega prazo frete pagamento cartao pix boleto parcelamento troca devolucao garantia "
    "produto pedido rastreio endereco loja horario atendimento agendamento consulta exame "
    "protetor solar hidratante shampoo condicionador perfume maquiagem batom base corretivo "
    "pele oleosa seca sensivel cabelo cacheado liso tintura coloracao corte manicure pedicure "
    "desconto cupom promocao estoque tamanho cor marca preco valor nota fiscal cadastro senha "
    "retirada motoboy correios transportadora capital interior cidade bairro estado feriado"
)
WORDS = _WORDS_TEXT.split()

QUERIES = {
    "exact": ["prazo de entrega", "pagamento no cartao", "protetor solar pele oleosa"],
    "variants": ["prazos de entregas", "pagamentos com cartões", "protetores solares"],
    "typos": ["prazo de entrga", "pagamneto cartao", "hidratnte pele sensivl"],
}


def synthetic_faq(size: int, seed: int = 7) -> list[FaqEntry]:
    """`size` FAQ entries of random vocabulary words."""
    rng = random.Random(seed)
    return [
        FaqEntry(
            question=" ".join(rng.choices(WORDS, k=6)) + "?",
            answer=" ".join(rng.choices(WORDS, k=30)) + ".",
            tags=rng.choices(WORDS, k=2),
        )
        for _ in range(size)
    ]


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and p95 of `fn`'s wall time, in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def tool_for(entries: list[FaqEntry], max_results: int = 3) -> KnowledgeTool:
    """A knowledge tool over `entries` (searches never touch the store)."""
    settings = KnowledgeSettings(files=["bench"], max_results=max_results)
    return KnowledgeTool("faq", "", EmbeddedStore(":memory:"), settings, entries)


def bench_size(size: int, repeat: int) -> None:
    entries = synthetic_faq(size)
    start = time.perf_counter()
    tool = tool_for(entries)
    build_ms = (time.perf_counter() - start) * 1000
    print(f"\nFAQ of {size} entries: index built in {build_ms:.1f} ms")
    for kind, queries in QUERIES.items():
        for query in queries:
            median, p95 = timed(lambda q=query: tool.search(q), repeat)
            print(f"  {kind:9} {query!r:32} median {median:7.3f} ms  p95 {p95:7.3f} ms")
    cold = queries[0]
    fresh = [tool_for(entries) for _ in range(min(20, repeat))]
    samples = []
    for t in fresh:
        start = time.perf_counter()
        t.search(cold)
        samples.append((time.perf_counter() - start) * 1000)
    print(
        f"  typo, first time on a fresh index {cold!r}: median {statistics.median(samples):.3f} ms"
    )


def bench_domains(repeat: int) -> None:
    try:
        from chatwootai.config.loader import DomainLoader
    except ImportError:
        return
    loader = DomainLoader(Path("domains"))
    for name in loader.names():
        if loader.is_abstract(name):
            continue
        try:
            config = loader.load(name)
        except Exception as exc:
            print(f"\ndomain {name}: not loaded ({type(exc).__name__})")
            continue
        for tool_id, entries in config.data.knowledge.items():
            tool = tool_for(entries)
            median, p95 = timed(lambda t=tool: t.search("qual o prazo de entrga?"), repeat)
            print(
                f"\ndomain {name}, tool {tool_id} ({len(entries)} entries): typo query "
                f"median {median:.3f} ms, p95 {p95:.3f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 500, 5000])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    print("Lexical retrieval (BM25 over stems, fuzzy for unknown terms); one process, one core.")
    for size in args.sizes:
        bench_size(size, args.repeat)
    bench_domains(args.repeat)


if __name__ == "__main__":
    main()
