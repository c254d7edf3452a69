"""Wall time of `chatwootai test` on every shipped domain (offline model), as a user runs it.

Runs the real command in a subprocess `--runs` times (each a fresh process: imports, loading the
domains, building the hubs and crews, then every conversation test), and reports the median and
the spread of the wall time, the run time the command itself prints (after start-up), the number
of tests and turns, and the time per test. `--jobs` is passed through (the command's default is 4).

Run: .venv/bin/python bench/convtest_wall.py [--runs 5] [--jobs 4] [--domains-dir domains]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = re.compile(r"(\d+) tests in (\d+) domains?: (\d+) passed.*\(([\d.]+) s\)")


def _turns(domains: Path) -> int:
    """Turns written in the test files (each inherited test runs once per inheriting domain)."""
    total = 0
    for file in domains.glob("*/tests/*.yaml"):
        document = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for test in (document.get("tests") or {}).values():
            total += len(test.get("turns") or ())
    return total


def main() -> None:
    """Run the command and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--domains-dir", type=Path, default=ROOT / "domains")
    args = parser.parse_args()
    command = [
        str(Path(sys.executable).parent / "chatwootai"),
        "test",
        "--domains-dir",
        str(args.domains_dir),
        "--jobs",
        str(args.jobs),
    ]
    walls: list[float] = []
    inside: list[float] = []
    tests = domains = 0
    loads = []
    for _ in range(args.runs):
        loads.append(os.getloadavg()[0])
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        walls.append(time.perf_counter() - started)
        match = SUMMARY.search(done.stdout)
        if done.returncode != 0 or match is None:
            print(done.stdout[-3000:], done.stderr[-3000:])
            raise SystemExit(f"chatwootai test failed (exit {done.returncode})")
        tests, domains = int(match.group(1)), int(match.group(2))
        inside.append(float(match.group(4)))
    median = statistics.median(walls)
    print(
        f"{tests} conversation tests in {domains} domains ({_turns(args.domains_dir)} turns "
        "written; inherited tests run once per inheriting domain)"
    )
    print(
        f"wall time per `chatwootai test`, median of {args.runs}: {median:.1f} s "
        f"(min {min(walls):.1f} s, max {max(walls):.1f} s)"
    )
    print(
        f"of which running the tests (the command's own figure), median: "
        f"{statistics.median(inside):.1f} s; start-up (imports, loading): "
        f"{median - statistics.median(inside):.1f} s"
    )
    print(f"per test: {1000 * statistics.median(inside) / tests:.0f} ms (with --jobs {args.jobs})")
    print(f"command: {' '.join(command)}")
    print(
        f"load average at the start of each run: {', '.join(f'{x:.2f}' for x in loads)}; "
        f"now {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )


if __name__ == "__main__":
    main()
