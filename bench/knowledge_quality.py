"""Retrieval quality on the example domains' documents: recall@3 and MRR, lexical and hybrid.

The question set `bench/data/knowledge/questions.jsonl` holds Portuguese questions written the way
customers write on WhatsApp (abbreviations, no accents, typos), each with `evidence`: a phrase of
the passage that answers it. A retrieved passage is relevant when its title or text contains the
evidence (case and accents folded). The set is split into `tuning` (looked at while tuning the
retrieval) and `heldout` (written before any tuning and not looked at while tuning).

For each question, the domain's knowledge tool index (FAQ + documents, as the service builds it)
is searched for the question; recall@3 is the share of questions with a relevant passage in the
first 3 results, MRR the mean of 1/rank of the first relevant passage in the first 10 (0 if none).

Hybrid ranking needs an OpenAI-compatible embeddings endpoint: pass --embeddings-url and
--embeddings-model (and the key in OPENAI_API_KEY or --embeddings-key-env). Without one, the
hybrid figure is not measured. --fake-embeddings runs the hybrid code path against hashed
bag-of-words vectors from tests/fakes/openai_server.py: a pipeline check, NOT a quality figure.

Run: .venv/bin/python bench/knowledge_quality.py [--split heldout|tuning|both] [--misses]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatwootai.config.loader import DomainLoader
from chatwootai.config.schema import DomainConfig, EmbeddingsSettings
from chatwootai.knowledge.index import PassageIndex
from chatwootai.knowledge.library import Library
from chatwootai.knowledge.sources import knowledge_tools

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "bench" / "data" / "knowledge" / "questions.jsonl"


def fold(text: str) -> str:
    """Lower case without accents, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


@dataclass
class Scores:
    """Recall@3 and MRR over a set of questions."""

    n: int = 0
    hits3: int = 0
    reciprocal: float = 0.0

    def add(self, rank: int | None) -> None:
        """Count one question whose first relevant passage is at `rank` (1-based) or None."""
        self.n += 1
        if rank is not None and rank <= 3:
            self.hits3 += 1
        if rank is not None:
            self.reciprocal += 1 / rank

    def line(self) -> str:
        """The figures as text."""
        if not self.n:
            return "no questions"
        recall, mrr = self.hits3 / self.n, self.reciprocal / self.n
        return f"recall@3 {recall:.3f} ({self.hits3}/{self.n}), MRR {mrr:.3f}"


def load_questions(split: str) -> list[dict[str, str]]:
    """The questions of a split ("both": all)."""
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if split == "both" or r["split"] == split]


async def indexes(
    domains: list[str], data_dir: Path, embeddings: EmbeddingsSettings | None
) -> dict[str, tuple[PassageIndex, Any]]:
    """The knowledge tool index of each domain (synced into `data_dir`)."""
    loader = DomainLoader(ROOT / "domains")
    library = Library(data_dir)
    found: dict[str, tuple[PassageIndex, Any]] = {}
    for name in domains:
        config: DomainConfig = loader.load(name)
        if embeddings is not None:
            knowledge = config.knowledge.model_copy(update={"embeddings": embeddings})
            config = config.model_copy(update={"knowledge": knowledge})
        await library.sync_domain(config, fetch=False)
        embedder = library.embedder(config.knowledge.embeddings)
        for tool_id, settings in knowledge_tools(config).items():
            index, complete = await library.tool_index(config, tool_id, settings, embedder)
            if embeddings is not None and not complete:
                raise SystemExit(f"{name}/{tool_id}: passages not embedded; check the endpoint")
            found[name] = (index, embedder)
    return found


async def rank_of(index: PassageIndex, embedder: Any, question: str, evidence: str) -> int | None:
    """1-based rank of the first passage holding `evidence` in the top 10, or None."""
    vector = await embedder.embed_query(question) if embedder is not None else None
    results = index.search(question, 10, vector)
    wanted = fold(evidence)
    for rank, (passage, _) in enumerate(results, 1):
        if wanted in fold(f"{passage.title} {passage.text}"):
            return rank
    return None


def fake_embeddings() -> tuple[EmbeddingsSettings, Any]:
    """Embeddings settings pointing at a started fake server (tests/fakes/openai_server.py)."""
    path = ROOT / "tests" / "fakes" / "openai_server.py"
    spec = importlib.util.spec_from_file_location("fakes_openai_server", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    server = module.start()
    return EmbeddingsSettings(model="fake-hashed-words", base_url=server.base_url), server


async def run(args: argparse.Namespace) -> None:
    questions = load_questions(args.split)
    domains = sorted({q["domain"] for q in questions})
    modes: list[tuple[str, EmbeddingsSettings | None]] = [("lexical (BM25)", None)]
    server = None
    if args.embeddings_url:
        settings = EmbeddingsSettings(
            model=args.embeddings_model,
            base_url=args.embeddings_url,
            api_key_env=args.embeddings_key_env,
        )
        modes.append((f"hybrid ({args.embeddings_model})", settings))
    elif args.fake_embeddings:
        settings, server = fake_embeddings()
        modes.append(
            ("hybrid with FAKE hashed-word vectors (pipeline check, not quality)", settings)
        )
    for label, embeddings in modes:
        with tempfile.TemporaryDirectory() as tmp:
            built = await indexes(domains, Path(tmp), embeddings)
            for split in ("tuning", "heldout") if args.split == "both" else (args.split,):
                scores = Scores()
                misses = []
                for q in questions:
                    if q["split"] != split:
                        continue
                    index, embedder = built[q["domain"]]
                    rank = await rank_of(index, embedder, q["question"], q["evidence"])
                    scores.add(rank)
                    if rank is None or rank > 3:
                        misses.append((q["domain"], q["question"], rank))
                print(f"{label}, {split} ({len(domains)} domains): {scores.line()}")
                if args.misses:
                    for domain, question, rank in misses:
                        print(f"    miss [{domain}] {question!r} rank={rank}")
    if not args.embeddings_url:
        print(
            "hybrid (real embeddings): not measured; no embedding model is reachable from this "
            "machine. Run with --embeddings-url/--embeddings-model against one."
        )
    if server is not None:
        server.stop()
    print(
        f"questions: {QUESTIONS.relative_to(ROOT)}; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs"
    )
    print("command: .venv/bin/python bench/knowledge_quality.py " + " ".join(sys.argv[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--split", choices=("tuning", "heldout", "both"), default="heldout")
    parser.add_argument("--misses", action="store_true", help="List questions missed at 3.")
    parser.add_argument("--embeddings-url")
    parser.add_argument("--embeddings-model", default="text-embedding-3-small")
    parser.add_argument("--embeddings-key-env")
    parser.add_argument("--fake-embeddings", action="store_true")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
