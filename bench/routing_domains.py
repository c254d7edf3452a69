"""Hub routing on the example domains: accuracy, which layer decided, speed and build time.

For each domain with a labelled set `bench/data/routing/<domain>.jsonl` (one {"text", "crew"} per
line; crew "handoff" for requests for a human), the domain is loaded with DomainLoader, its hub is
built (timed, median of --builds builds), and every message is routed with `Hub.route` (no LLM, no
conversation context). Reported: accuracy overall and per crew, the number of messages decided by
each layer (and that layer's accuracy), the confusion pairs (expected → decided), and the route time
per message measured with time.perf_counter_ns around each `Hub.route` call, after one warm-up pass,
over --repeat passes.

--set picks the labelled sets: "tuning" (default) reads `<data>/<domain>.jsonl`, the sets used
while tuning the routing keywords and classifier, so their accuracy is optimistic; "heldout" reads
`<data>/heldout/<domain>.jsonl`, written without looking at routing errors and checked here for
exact or case/accent-folded copies of the tuning sets and YAML examples; "both" runs the two and
ends with a side-by-side table.

Run: .venv/bin/python bench/routing_domains.py [--set tuning|heldout|both] [--domains-dir domains]
     [--data bench/data/routing]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from chatwootai.artefacts import SHARED
from chatwootai.config.errors import ConfigError
from chatwootai.config.loader import DomainLoader
from chatwootai.hub import ROUTING_KIND, Hub

SETS = ("tuning", "heldout")


@dataclass
class DomainResult:
    """What one domain's run measured."""

    n: int
    right: int
    layers: Counter[str]
    confusions: Counter[tuple[str, str]]
    timings: list[int] = field(repr=False)

    @property
    def accuracy(self) -> float:
        """Share of messages routed to the expected crew, in %."""
        return 100 * self.right / self.n


def fold(text: str) -> str:
    """Lower case, accents removed, whitespace collapsed: copies differing only so compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def set_path(data: Path, which: str, domain: str) -> Path:
    """The labelled set of a domain: `<data>/<domain>.jsonl` or `<data>/heldout/<domain>.jsonl`."""
    return (data / "heldout" if which == "heldout" else data) / f"{domain}.jsonl"


def read_labelled(path: Path) -> list[tuple[str, str]]:
    """(text, crew) pairs of a JSON-lines labelled set."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            pairs.append((str(record["text"]), str(record["crew"])))
    return pairs


def percentile(sorted_values: list[int], fraction: float) -> int:
    """The value at `fraction` of a sorted list (nearest rank)."""
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def tuning_texts(loader: DomainLoader, name: str, data: Path) -> set[str]:
    """Folded routing examples and handoff phrases of a domain and its tuning set's messages."""
    routing = loader.load(name).routing
    texts: list[str] = []
    if routing is not None:
        texts += routing.handoff_phrases
        for route in routing.crews.values():
            texts += route.examples
    tuning = set_path(data, "tuning", name)
    if tuning.exists():
        texts += [text for text, _ in read_labelled(tuning)]
    return {fold(text) for text in texts}


def bench_domain(
    loader: DomainLoader,
    name: str,
    labelled: list[tuple[str, str]],
    builds: int,
    repeat: int,
    errors: int = 8,
) -> DomainResult:
    """Print the figures of one domain and return them."""
    config = loader.load(name)
    build_ns = []
    build_cpu_ns = []
    hub = Hub.build(config)
    for _ in range(builds):
        SHARED.forget(ROUTING_KIND)  # a fit from scratch, not the process's shared one
        started_cpu = time.process_time_ns()
        started = time.perf_counter_ns()
        hub = Hub.build(config)
        build_ns.append(time.perf_counter_ns() - started)
        build_cpu_ns.append(time.process_time_ns() - started_cpu)

    decisions = [hub.route(text) for text, _ in labelled]  # also the warm-up pass
    timings: list[int] = []
    cpu: list[int] = []
    for _ in range(repeat):
        for text, _ in labelled:
            started_cpu = time.process_time_ns()
            started = time.perf_counter_ns()
            hub.route(text)
            timings.append(time.perf_counter_ns() - started)
            cpu.append(time.process_time_ns() - started_cpu)
    timings.sort()
    cpu.sort()

    right = [d.crew == gold for d, (_, gold) in zip(decisions, labelled, strict=True)]
    print(f"\n## {name}: {len(labelled)} labelled messages")
    print(f"accuracy: {100 * sum(right) / len(right):.1f}%")
    print(
        f"build: median {statistics.median(build_ns) / 1e6:.1f} ms "
        f"(CPU {statistics.median(build_cpu_ns) / 1e6:.1f} ms) over {builds} builds"
    )
    print(
        f"route: median {statistics.median(timings) / 1000:.0f} µs, "
        f"p99 {percentile(timings, 0.99) / 1000:.0f} µs, max {timings[-1] / 1000:.0f} µs "
        f"({len(timings)} calls); CPU time: median {statistics.median(cpu) / 1000:.0f} µs, "
        f"p99 {percentile(cpu, 0.99) / 1000:.0f} µs"
    )
    per_crew: Counter[str] = Counter(gold for _, gold in labelled)
    crew_right: Counter[str] = Counter(
        gold for ok, (_, gold) in zip(right, labelled, strict=True) if ok
    )
    print(f"{'crew':<14} {'n':>4} {'accuracy':>8}")
    for crew, count in sorted(per_crew.items()):
        print(f"{crew:<14} {count:>4} {100 * crew_right[crew] / count:>7.1f}%")
    by_layer: Counter[str] = Counter(d.method for d in decisions)
    layer_right: Counter[str] = Counter(
        d.method for d, ok in zip(decisions, right, strict=True) if ok
    )
    print(f"{'layer':<14} {'n':>4} {'accuracy':>8}")
    for method, count in by_layer.most_common():
        print(f"{method:<14} {count:>4} {100 * layer_right[method] / count:>7.1f}%")
    wrong = [
        (text, gold, d)
        for d, ok, (text, gold) in zip(decisions, right, labelled, strict=True)
        if not ok
    ][:errors]
    confusions: Counter[tuple[str, str]] = Counter(
        (gold, d.crew)
        for d, ok, (_, gold) in zip(decisions, right, labelled, strict=True)
        if not ok
    )
    if confusions:
        pairs = ", ".join(f"{gold}→{crew} {n}" for (gold, crew), n in confusions.most_common())
        print(f"confusions (expected→decided count): {pairs}")
    if wrong:
        print("some errors (message → decided, expected):")
        for text, gold, d in wrong:
            print(f"  {text!r} → {d.crew} ({d.method} {d.score:.2f}), expected {gold}")
    return DomainResult(len(labelled), sum(right), by_layer, confusions, timings)


def run_set(
    loader: DomainLoader, names: list[str], which: str, args: argparse.Namespace
) -> dict[str, DomainResult]:
    """Benchmark every domain that has a labelled set of kind `which`."""
    print(f"\n# labelled sets: {which}")
    results: dict[str, DomainResult] = {}
    for name in names:
        path = set_path(args.data, which, name)
        if not path.exists():
            print(f"\n## {name}: skipped, no labelled set at {path}")
            continue
        try:
            labelled = read_labelled(path)
            if which == "heldout":
                known = tuning_texts(loader, name, args.data)
                copies = [text for text, _ in labelled if fold(text) in known]
                print(f"\n{path}: {len(copies)} exact or folded copies of tuning messages")
                for text in copies:
                    print(f"  copy: {text!r}")
            results[name] = bench_domain(
                loader, name, labelled, args.builds, args.repeat, args.errors
            )
        except ConfigError as exc:
            print(f"\n## {name}: skipped, configuration error:\n{exc}")
    all_timings = sorted(t for result in results.values() for t in result.timings)
    if all_timings:
        print(
            f"\nall domains ({which}): route median "
            f"{statistics.median(all_timings) / 1000:.0f} µs, "
            f"p99 {percentile(all_timings, 0.99) / 1000:.0f} µs per message"
        )
    return results


def layer_mix(result: DomainResult) -> str:
    """The layers that decided, as "rules 40 / classifier 30 / ..."."""
    return " / ".join(f"{method} {n}" for method, n in result.layers.most_common())


def wilson(right: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion, in %."""
    p = right / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return 100 * (centre - half), 100 * (centre + half)


def print_summary(by_set: dict[str, dict[str, DomainResult]]) -> None:
    """Accuracy per domain and set side by side (95 % Wilson interval), layer mix, confusions."""
    names = sorted({name for results in by_set.values() for name in results})
    print("\n# summary: accuracy [95 % Wilson interval]")
    print(f"{'domain':<12}" + "".join(f" {'n':>4} {which + ' accuracy':>24}" for which in by_set))
    for name in [*names, "all"]:
        row = f"{name:<12}"
        for results in by_set.values():
            picked = list(results.values()) if name == "all" else [results.get(name)]
            if None in picked or not picked:
                row += f" {'-':>4} {'-':>24}"
                continue
            n = sum(r.n for r in picked if r)
            right = sum(r.right for r in picked if r)
            low, high = wilson(right, n)
            cell = f"{100 * right / n:.1f}% [{low:.1f}-{high:.1f}]"
            row += f" {n:>4} {cell:>24}"
        print(row)
    for which, results in by_set.items():
        for name in names:
            if name in results:
                print(f"layers {which:<8} {name:<12} {layer_mix(results[name])}")
        total: Counter[tuple[str, str]] = Counter()
        for result in results.values():
            total += result.confusions
        pairs = ", ".join(f"{gold}→{crew} {n}" for (gold, crew), n in total.most_common())
        print(f"confusions {which} (expected→decided, all domains): {pairs or 'none'}")


def main() -> None:
    """Benchmark every domain with a labelled set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains-dir", type=Path, default=Path("domains"))
    parser.add_argument("--data", type=Path, default=Path("bench/data/routing"))
    parser.add_argument("--builds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--errors", type=int, default=8, help="misrouted messages shown per domain")
    parser.add_argument(
        "--set",
        choices=[*SETS, "both"],
        default="tuning",
        help="tuning: <data>/<domain>.jsonl; heldout: <data>/heldout/<domain>.jsonl; both",
    )
    args = parser.parse_args()
    loader = DomainLoader(args.domains_dir)
    names = [
        name for name in loader.names() if not name.startswith("_") and not loader.is_abstract(name)
    ]
    chosen = SETS if args.set == "both" else (args.set,)
    by_set = {which: run_set(loader, names, which, args) for which in chosen}
    print_summary(by_set)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average while measuring: {load} ({os.cpu_count()} CPUs)")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")


if __name__ == "__main__":
    main()
