"""Hub routing on the example domains: accuracy, which layer decided, speed and build time.

For each domain with a labelled set `bench/data/routing/<domain>.jsonl` (one {"text", "crew"} per
line; crew "handoff" for requests for a human), the domain is loaded with DomainLoader, its hub is
built (timed, median of --builds builds), and every message is routed with `Hub.route` (no LLM, no
conversation context). Reported: accuracy overall and per crew, the number of messages decided by
each layer (and that layer's accuracy), and the route time per message measured with
time.perf_counter_ns around each `Hub.route` call, after one warm-up pass, over --repeat passes.

Run: .venv/bin/python bench/routing_domains.py [--domains-dir domains] [--data bench/data/routing]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from chatwootai.config.errors import ConfigError
from chatwootai.config.loader import DomainLoader
from chatwootai.hub import Hub


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


def bench_domain(
    loader: DomainLoader, name: str, labelled: list[tuple[str, str]], builds: int, repeat: int
) -> list[int]:
    """Print the figures of one domain; return its route timings in ns."""
    config = loader.load(name)
    build_ns = []
    hub = Hub.build(config)
    for _ in range(builds):
        started = time.perf_counter_ns()
        hub = Hub.build(config)
        build_ns.append(time.perf_counter_ns() - started)

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
    print(f"build: median {statistics.median(build_ns) / 1e6:.1f} ms over {builds} builds")
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
    ][:8]
    if wrong:
        print("some errors (message → decided, expected):")
        for text, gold, d in wrong:
            print(f"  {text!r} → {d.crew} ({d.method} {d.score:.2f}), expected {gold}")
    return timings


def main() -> None:
    """Benchmark every domain with a labelled set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains-dir", type=Path, default=Path("domains"))
    parser.add_argument("--data", type=Path, default=Path("bench/data/routing"))
    parser.add_argument("--builds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    loader = DomainLoader(args.domains_dir)
    all_timings: list[int] = []
    for name in loader.names():
        if name.startswith("_") or loader.is_abstract(name):
            continue
        path = args.data / f"{name}.jsonl"
        if not path.exists():
            print(f"\n## {name}: skipped, no labelled set at {path}")
            continue
        try:
            all_timings += bench_domain(loader, name, read_labelled(path), args.builds, args.repeat)
        except ConfigError as exc:
            print(f"\n## {name}: skipped, configuration error:\n{exc}")
    if all_timings:
        all_timings.sort()
        print(
            f"\nall domains: route median {statistics.median(all_timings) / 1000:.0f} µs, "
            f"p99 {percentile(all_timings, 0.99) / 1000:.0f} µs per message"
        )
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average while measuring: {load} ({os.cpu_count()} CPUs)")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")


if __name__ == "__main__":
    main()
