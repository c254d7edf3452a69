"""Thousands of tenants in one worker: memory and warm-up per tenant, eviction, capacity on paper.

Generates, in a temporary folder, a realistic deployment: the shipped `_base`, `cosmetics`,
`health` and `retail`; `--brands` brands extending them in turn (each overriding its business
facts and greeting); `--tenants` stores spread over the brands, each overriding only its business
facts (name, address, phone, WhatsApp, hours, a local fact); one store in `--own-catalog-every`
also has its own catalog (the brand's products with its own prices and stock). tenants.yaml maps
one Chatwoot inbox per store.

Phases, each a fresh process (so one phase's memory never counts in another's):

1. fill: one process loads every config (files → validated → shared store), as the first
   process of a deployment or `chatwootai validate` would. The store is the embedded one, in the
   temporary folder, so nothing leaves it.
2. warm: a worker-like process (configs read from the store, like a worker of a deployment)
   warms the brands and one store per brand (the shared part), then every store sharing its
   brand's data, then the stores with their own catalog: runtime (hub, tools, knowledge) and
   every crew built, as after a first message to each crew. Reported per additional tenant: RSS
   delta (/proc/self/statm, after gc) and CPU (process time) of the warm loop.
3. traced: the same under tracemalloc (Python allocations retained per tenant; slower).
4. evict: a process with `CHATWOOTAI_MAX_RUNTIMES=--cap` receives `--messages` messages whose
   tenant follows a Zipf law (exponent `--zipf`; a few busy stores, a long tail): runtime and the
   routed crew per message. Reported: hit rate, evictions, rebuild time (runtime + crew) and RSS.

Then a paper estimate of workers and Redis for `--estimate-tenants` tenants × `--per-day`
messages a day with an LLM of `--llm-s` seconds, from per-message costs measured by
bench/load.py (worker CPU and Redis commands per message: `--cpu-ms`, `--redis-cmds`; defaults
from docs/benchmarks.md) and this bench's memory per tenant.

Run: .venv/bin/python bench/tenants.py [--tenants 1000] [--brands 10] [--own-catalog-every 50]
     [--cap 100] [--messages 5000] [--zipf 1.1] [--phases warm,traced,evict] [--src DIR]

`--src` runs the phases on another checkout's sources (e.g. the previous commit, for "before"
figures; only the warm and traced phases work there without the runtime cache).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERTICALS = ("cosmetics", "health", "retail")
CITIES = ("Campinas", "Santos", "Sorocaba", "Curitiba", "Recife", "Goiânia", "Belém", "Natal")


# -- the deployment --------------------------------------------------------------------------


def brand_name(b: int) -> str:
    return f"marca-{b:02d}"


def store_name(b: int, i: int) -> str:
    return f"{brand_name(b)}-loja-{i:05d}"


def generate(root: Path, tenants: int, brands: int, own_every: int) -> dict[str, list[str]]:
    """Write the deployment under `root`; the store names by kind ("shared", "own")."""
    domains = root / "domains"
    for name in ("_base", *VERTICALS):
        shutil.copytree(
            ROOT / "domains" / name, domains / name, ignore=shutil.ignore_patterns("tests")
        )
    for b in range(brands):
        vertical = VERTICALS[b % len(VERTICALS)]
        folder = domains / brand_name(b)
        folder.mkdir()
        (folder / "domain.yaml").write_text(
            f"""name: {brand_name(b)}
extends: [{vertical}]
description: Rede {b} ({vertical}), {10 + b} lojas.
business:
  company_name: Rede {b} {vertical.title()}
  contact:
    phone: +55 11 3000-{b:04d}
    email: contato@rede{b}.com.br
    website: https://www.rede{b}.com.br
  facts:
    entrega: Entregamos em todo o Brasil; frete grátis acima de R$ {150 + b * 10},00.
chatwoot:
  texts:
    greeting: Oi! Aqui é a Rede {b}. Como posso ajudar?
""",
            encoding="utf-8",
        )
    kinds: dict[str, list[str]] = {"shared": [], "own": []}
    inboxes = []
    for i in range(tenants):
        b = i % brands
        vertical = VERTICALS[b % len(VERTICALS)]
        name = store_name(b, i)
        folder = domains / name
        folder.mkdir()
        city = CITIES[i % len(CITIES)]
        own = own_every > 0 and i % own_every == own_every - 1
        extra = ""
        if own:
            extra = "tools:\n  catalogo:\n    settings:\n      file: catalog.csv\n"
            source = (ROOT / "domains" / vertical / "catalog.csv").read_text("utf-8")
            rows = list(csv.DictReader(io.StringIO(source)))
            rng = random.Random(i)
            for row in rows:
                row["price"] = f"{float(row['price']) * rng.uniform(0.9, 1.1):.2f}"  # its own
                row["stock"] = str(rng.randint(0, 30))
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            (folder / "catalog.csv").write_text(out.getvalue(), encoding="utf-8")
        (folder / "domain.yaml").write_text(
            f"""name: {name}
extends: [{brand_name(b)}]
business:
  company_name: Rede {b} - Loja {i} ({city})
  address: Rua {i % 997 + 1}, {i % 2000 + 10}, Centro, {city}
  contact:
    phone: +55 11 4{i:04d}-{b:04d}
    whatsapp: +55 11 9{i:04d}-{b:04d}
  opening_hours:
    seg-sex: 09:00-{18 + i % 4}:00
    sab: 09:00-13:00
  facts:
    horario: Abrimos de segunda a sexta das 9h às {18 + i % 4}h e sábado até 13h.
    retirada: Retirada na loja {i} em até {1 + i % 3} horas.
{extra}""",
            encoding="utf-8",
        )
        kinds["own" if own else "shared"].append(name)
        inboxes.append(f'  "{10000 + i}": {name}')
    (domains / "tenants.yaml").write_text("inboxes:\n" + "\n".join(inboxes) + "\n", "utf-8")
    return kinds


# -- the child processes ---------------------------------------------------------------------

CHILD = r"""
import asyncio, gc, json, random, resource, sys, time, tracemalloc
from pathlib import Path

from chatwootai.settings import Settings
from chatwootai.system import ChatwootAISystem

phase, root, cap = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
plan = json.loads(Path(root / "plan.json").read_text())
PAGE = 4096

def rss_mib():
    return int(open("/proc/self/statm").read().split()[1]) * PAGE / 2**20

async def warm(system, name):
    runtime = await system.runtime(name)
    for crew in runtime.config.crews:
        await system.crews.get_crew(crew, name)

async def main():
    settings = Settings(
        CHATWOOTAI_DOMAINS_DIR=root / "domains", CHATWOOTAI_DATA_DIR=root / "data",
        CHATWOOTAI_MAX_RUNTIMES=cap,
    )
    system = await ChatwootAISystem.create(settings)
    out = {}
    if phase == "fill":
        for name in plan["brands"] + plan["shared"] + plan["own"]:
            await system.registry.get_domain_config(name)
        from chatwootai.store import keys
        names = plan["shared"][:50]
        sizes = [len(await system.store.get(keys.domain_config(n)) or "") for n in names]
        out["config_bytes"] = sum(sizes) / len(sizes)  # what the store keeps per tenant
        sections = await system.store.scan(keys.config_section("*"))
        texts = await system.store.mget(sections) if sections else []
        out["sections"] = len(sections)  # stored once, whatever the number of tenants
        out["section_bytes"] = sum(len(t or "") for t in texts)
    elif phase in ("warm", "traced"):
        for name in plan["brands"] + plan["first"]:  # the shared part: brands, one store each
            await warm(system, name)
        rest = [n for n in plan["shared"] if n not in plan["first"]]
        gc.collect()
        out["baseline_mib"] = rss_mib()
        if phase == "traced":
            tracemalloc.start()
        for label, names in (("shared", rest), ("own", plan["own"])):
            gc.collect()
            before_rss, before_cpu = rss_mib(), time.process_time()
            before_traced = tracemalloc.get_traced_memory()[0] if phase == "traced" else 0
            started = time.perf_counter()
            for name in names:
                await warm(system, name)
            cpu = time.process_time() - before_cpu
            wall = time.perf_counter() - started
            gc.collect()
            traced = tracemalloc.get_traced_memory()[0] - before_traced if phase == "traced" else 0
            out[label] = {
                "tenants": len(names), "rss_mib": rss_mib() - before_rss, "cpu_s": cpu,
                "wall_s": wall, "traced_bytes": traced,
            }
        out["final_mib"] = rss_mib()
        # (a checkout before the runtime cache keeps them in a dict: "before" figures)
        out["held"] = len(getattr(system, "runtimes", None) or getattr(system, "_runtimes", ()))
    elif phase == "evict":
        names = plan["shared"] + plan["own"]
        rng = random.Random(15)
        order = list(names)
        rng.shuffle(order)  # popularity is unrelated to the store's number
        weights = [1 / (rank + 1) ** plan["zipf"] for rank in range(len(order))]
        picks = rng.choices(order, weights, k=plan["messages"])
        for name in plan["brands"]:
            await system.registry.get_domain_config(name)
        misses, hits = [], []
        stats = system.runtimes.stats
        for name in picks:
            built = stats.builds
            started = time.perf_counter()
            runtime = await system.runtime(name)
            await system.crews.get_crew(next(iter(runtime.config.crews)), name)
            (misses if stats.builds > built else hits).append(time.perf_counter() - started)
        out.update(
            messages=len(picks), distinct=len(set(picks)), hits=len(hits), misses=len(misses),
            evictions=stats.evictions, held=len(system.runtimes), rss_mib=rss_mib(),
            miss_ms=sorted(m * 1000 for m in misses), hit_ms=sorted(h * 1000 for h in hits),
        )
    out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    await system.close()
    print("RESULT " + json.dumps(out), flush=True)

asyncio.run(main())
"""


def run_child(phase: str, root: Path, cap: int, src: Path = ROOT / "src") -> dict[str, object]:
    """Run one phase in a fresh process; its RESULT line, parsed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", CHILD, phase, str(root), str(cap)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, object] = json.loads(line[len("RESULT ") :])
            return result
    raise RuntimeError(f"phase {phase} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")


# -- reporting -------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


def per_tenant(part: dict[str, float]) -> tuple[float, float, float]:
    """KiB of RSS, KiB traced and ms of CPU per tenant."""
    n = max(1, int(part["tenants"]))
    return part["rss_mib"] * 1024 / n, part["traced_bytes"] / 1024 / n, part["cpu_s"] * 1000 / n


def estimate(args: argparse.Namespace, rss_kib: float) -> None:
    """Workers and Redis for the deployment of the estimate, on paper."""
    per_s = args.estimate_tenants * args.per_day / 86400
    peak = per_s * args.peak
    turn_s = args.llm_s * args.requests + args.overhead_s
    in_flight = peak * turn_s
    by_slots = math.ceil(in_flight / args.concurrency)
    cpu_cores = peak * args.cpu_ms / 1000
    by_cpu = math.ceil(cpu_cores / 0.7)  # a worker kept under 70 % of a core
    workers = max(by_slots, by_cpu, 2)  # two at least, for failover
    redis_ops = peak * args.redis_cmds
    memory_mib = (
        args.worker_base_mib + min(args.estimate_tenants, args.cap_estimate) * rss_kib / 1024
    )
    print(
        f"\nPaper estimate: {args.estimate_tenants:,} tenants × {args.per_day:,} messages/day, "
        f"LLM {args.llm_s:g} s × {args.requests:g} requests/message"
    )
    print(f"  messages/s: {per_s:.1f} average, {peak:.1f} at peak (× {args.peak:g})")
    print(
        f"  turn time ≈ {turn_s:.2f} s → {in_flight:.0f} turns in flight at peak → "
        f"{by_slots} worker(s) of {args.concurrency} slots (CHATWOOTAI_WORKER_CONCURRENCY)"
    )
    print(
        f"  worker CPU: {args.cpu_ms:g} ms/message (bench/load.py) → {cpu_cores:.2f} cores at "
        f"peak → {by_cpu} worker(s) at ≤ 70 % of a core"
    )
    print(
        f"  → {workers} workers (max of the two, at least 2); each holds every tenant it serves: "
        f"~{memory_mib:.0f} MiB ({args.worker_base_mib} MiB base + {rss_kib:.0f} KiB × "
        f"{min(args.estimate_tenants, args.cap_estimate):,} runtimes)"
    )
    print(
        f"  Redis: {args.redis_cmds:g} commands/message (bench/load.py) → {redis_ops:,.0f} "
        f"commands/s at peak (one Redis serves ~100,000 simple commands/s on one core); "
        f"configs {(args.estimate_tenants * args.config_bytes + args.section_bytes) / 2**20:.1f} "
        f"MiB ({args.config_bytes / 1024:.1f} KiB per tenant + the shared sections), plus "
        f"conversations and agent states"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--brands", type=int, default=10)
    parser.add_argument("--own-catalog-every", type=int, default=50)
    parser.add_argument("--cap", type=int, default=0, help="evict phase cap (0: tenants / 10)")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--zipf", type=float, default=1.1)
    parser.add_argument("--phases", default="warm,traced,evict")
    parser.add_argument("--keep", action="store_true", help="keep the generated folder")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="sources to measure")
    estimate_args = parser.add_argument_group("paper estimate")
    estimate_args.add_argument("--estimate-tenants", type=int, default=1000)
    estimate_args.add_argument("--per-day", type=int, default=2000)
    estimate_args.add_argument("--llm-s", type=float, default=2.0)
    estimate_args.add_argument("--requests", type=float, default=1.17, help="LLM requests/msg")
    estimate_args.add_argument("--overhead-s", type=float, default=0.2)
    estimate_args.add_argument("--peak", type=float, default=4.0, help="peak / average rate")
    estimate_args.add_argument("--concurrency", type=int, default=32)
    estimate_args.add_argument("--cpu-ms", type=float, default=32.3)
    estimate_args.add_argument("--redis-cmds", type=float, default=117.0)
    estimate_args.add_argument("--worker-base-mib", type=int, default=220)
    estimate_args.add_argument("--cap-estimate", type=int, default=1000)
    args = parser.parse_args()
    phases = args.phases.split(",")
    cap = args.cap or max(1, args.tenants // 10)

    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    root = Path(tempfile.mkdtemp(prefix="chatwootai-tenants-"))
    try:
        started = time.perf_counter()
        kinds = generate(root, args.tenants, args.brands, args.own_catalog_every)
        brands = [brand_name(b) for b in range(args.brands)]
        first = [next(n for n in kinds["shared"] if n.startswith(b + "-")) for b in brands]
        plan = {"brands": brands, "first": first, **kinds}
        plan.update(messages=args.messages, zipf=args.zipf)
        (root / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
        print(
            f"generated {args.tenants:,} stores ({len(kinds['own'])} with their own catalog) "
            f"under {args.brands} brands in {time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        fill = run_child("fill", root, args.tenants + args.brands + 10, args.src)
        print(
            f"fill (every config validated and stored): {time.perf_counter() - started:.1f} s; "
            f"in the store: {fill['config_bytes']:,.0f} bytes of config per store, and "
            f"{fill['sections']} shared sections, {fill['section_bytes']:,} bytes in all"
        )
        args.config_bytes = fill["config_bytes"]
        args.section_bytes = fill["section_bytes"]
        everything = args.tenants + args.brands + 10
        rss_kib = float("nan")
        if "warm" in phases:
            warm = run_child("warm", root, everything, args.src)
            shared, own = warm["shared"], warm["own"]
            assert isinstance(shared, dict) and isinstance(own, dict)
            rss_kib, _, cpu_ms = per_tenant(shared)
            own_kib, _, own_ms = per_tenant(own)
            print(
                f"\nwarm ({warm['held']} runtimes held; runtime + every crew per tenant; "
                f"configs from the store):"
            )
            print(f"  shared part (brands + one store each): {warm['baseline_mib']:.0f} MiB RSS")
            print(
                f"  per additional tenant sharing its brand's data ({shared['tenants']}): "
                f"{rss_kib:.1f} KiB RSS, {cpu_ms:.2f} ms CPU ({shared['wall_s']:.1f} s wall)"
            )
            print(
                f"  per tenant with its own catalog ({own['tenants']}): {own_kib:.1f} KiB RSS, "
                f"{own_ms:.2f} ms CPU"
            )
            print(f"  all warm: {warm['final_mib']:.0f} MiB RSS (peak {warm['peak_mib']:.0f} MiB)")
        if "traced" in phases:
            traced = run_child("traced", root, everything, args.src)
            shared, own = traced["shared"], traced["own"]
            assert isinstance(shared, dict) and isinstance(own, dict)
            print(
                f"  tracemalloc, retained per tenant: {per_tenant(shared)[1]:.1f} KiB sharing, "
                f"{per_tenant(own)[1]:.1f} KiB with its own catalog"
            )
        if "evict" in phases:
            evict = run_child("evict", root, cap, args.src)
            miss = evict["miss_ms"]
            hit = evict["hit_ms"]
            assert isinstance(miss, list) and isinstance(hit, list)
            messages = int(evict["messages"])  # type: ignore[call-overload]
            print(
                f"\nevict (cap {cap:,} runtimes, {messages:,} messages over "
                f"{evict['distinct']:,} distinct tenants, Zipf {args.zipf:g}):"
            )
            print(
                f"  hit rate {int(evict['hits']) / messages:.1%}, "  # type: ignore[call-overload]
                f"{evict['misses']} builds, {evict['evictions']} evictions, "
                f"{evict['held']} held, {evict['rss_mib']:.0f} MiB RSS"
            )
            print(
                f"  (re)build on a miss, runtime + routed crew: p50 {pct(miss, 0.5):.1f} ms, "
                f"p95 {pct(miss, 0.95):.1f} ms; a hit: p50 {pct(hit, 0.5) * 1000:.0f} µs"
            )
        if rss_kib == rss_kib:  # measured
            estimate(args, rss_kib)
        print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
