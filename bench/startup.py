"""Ready to answer: time and peak memory from process start to the first answered message.

Each run is a fresh subprocess. ChatwootAI: import chatwootai, build the system on the embedded
store (the shipped domains, a throw-away data directory), answer one customer message of account
1 (cosmetics) through ChatwootAISystem.process_message with the offline model, exit. CrewAI, in
the same run and interleaved with it: a minimal crew (one agent, one task, sequential) kicked off
with a fake LLM that answers at once, in its own venv (`--crewai-venv`, created with
`pip install crewai` when missing), telemetry and tracing off (no network here).

Time: from just before the parent starts the child to the child's "answered" line on its pipe
(interpreter start included); CPU: the child's user + system time over its life (steadier than
wall time on a shared machine). Memory: the child's peak resident set (ru_maxrss from wait4).
Medians of --runs runs. --importtime also runs one ChatwootAI child under `python -X importtime`
and prints where import time goes, by top-level package (self time summed).

Run: .venv/bin/python bench/startup.py [--runs 7] [--crewai-venv bench/.crewai-venv]
     [--no-crewai] [--importtime]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHATWOOTAI_CHILD = """
import asyncio, json, sys
from pathlib import Path
from chatwootai.settings import Settings
from chatwootai.system import ChatwootAISystem
from chatwootai.turn import IncomingMessage

async def main():
    settings = Settings(
        CHATWOOTAI_DOMAINS_DIR=Path(sys.argv[1]), CHATWOOTAI_DATA_DIR=Path(sys.argv[2])
    )
    system = await ChatwootAISystem.create(settings)
    await system.start()
    message = IncomingMessage(text="quanto custa o protetor solar?", account_id="1")
    outcome = await system.process_message(message, "1:1", "api")
    print(json.dumps({"answered": outcome.crew, "offline": outcome.offline}), flush=True)
    await system.close()

asyncio.run(main())
"""

CREWAI_CHILD = """
import json
from typing import Any
from crewai import Agent, Crew, Process, Task
from crewai.llms.base_llm import BaseLLM

class InstantLLM(BaseLLM):
    def call(self, messages: Any, *args: Any, **kwargs: Any) -> str:
        return "Thought: I can answer.\\nFinal Answer: O protetor solar FPS 50 custa R$ 59,90."

    def supports_function_calling(self) -> bool:
        return False

agent = Agent(
    role="Vendedor", goal="Responder preços", backstory="Atende a loja de cosméticos.",
    llm=InstantLLM(model="instant"), verbose=False,
)
task = Task(
    description="O cliente pergunta: quanto custa o protetor solar?",
    expected_output="A resposta ao cliente", agent=agent,
)
crew = Crew(agents=[agent], tasks=[task], process=Process.sequential, verbose=False)
result = crew.kickoff()
print(json.dumps({"answered": str(result)[:40]}), flush=True)
"""

CREWAI_ENV = {  # no telemetry, no first-run tracing prompt: nothing may reach the network
    "CREWAI_DISABLE_TELEMETRY": "true",
    "CREWAI_DISABLE_TRACKING": "true",
    "OTEL_SDK_DISABLED": "true",
    "CREWAI_TRACING_ENABLED": "false",
    "CREWAI_TESTING": "true",
}


def run_child(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Seconds to the child's answer, its CPU seconds (whole life) and peak RSS in MB."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True, cwd=ROOT
    )
    assert proc.stdout is not None
    line = ""
    for raw in proc.stdout:
        if raw.startswith("{") and "answered" in raw:
            line = raw.strip()
            break
    elapsed = time.perf_counter() - started
    proc.stdout.read()
    assert proc.stderr is not None
    errors = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if not line:
        raise RuntimeError(f"{argv[0]} did not answer (exit {proc.returncode}):\n{errors[-2000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def chatwootai_argv(data_dir: str, *flags: str) -> list[str]:
    """The ChatwootAI child's command line."""
    return [sys.executable, *flags, "-c", CHATWOOTAI_CHILD, str(ROOT / "domains"), data_dir]


def crewai_python(venv: Path) -> Path:
    """The CrewAI venv's python, created with `pip install crewai` if missing."""
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} (pip install crewai; a few minutes, ~1 GB)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "crewai"], check=True)
    return python


def importtime_breakdown(env: dict[str, str], top: int = 15) -> None:
    """Print import self time by top-level package for one ChatwootAI child."""
    with tempfile.TemporaryDirectory() as data_dir:
        done = subprocess.run(
            chatwootai_argv(data_dir, "-X", "importtime"),
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        )
    by_package: Counter[str] = Counter()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, self_us, _, name = _parse(line)
        by_package[name.split(".")[0]] += self_us
    total = sum(by_package.values())
    print(f"\nimport time by top-level package (self time summed; total {total / 1e6:.2f} s):")
    for package, us in by_package.most_common(top):
        print(f"  {package:<24} {us / 1000:8.1f} ms  {100 * us / total:5.1f} %")
    heavy = ("sklearn", "scipy", "openai", "anthropic", "google", "watchfiles", "prometheus_client")
    print("heavy packages imported: " + (", ".join(p for p in heavy if p in by_package) or "none"))


def _parse(line: str) -> tuple[None, int, int, str]:
    """(None, self µs, cumulative µs, module) of one `-X importtime` line."""
    self_us, cumulative_us, name = line.split(":", 1)[1].split("|")
    return None, int(self_us), int(cumulative_us), name.strip()


def main() -> None:
    """Interleave fresh ChatwootAI and CrewAI processes; print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--crewai-venv", type=Path, default=ROOT / "bench" / ".crewai-venv")
    parser.add_argument("--no-crewai", action="store_true", help="measure ChatwootAI alone")
    parser.add_argument("--importtime", action="store_true", help="print the import breakdown")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHATWOOT", "REDIS_"))}
    env.update(CREWAI_ENV, PYTHONDONTWRITEBYTECODE="0")
    crewai = None
    if not args.no_crewai:
        try:
            crewai = crewai_python(args.crewai_venv)
        except subprocess.CalledProcessError as exc:
            print(f"CrewAI comparison blocked: installing crewai failed ({exc})")
    results: dict[str, list[tuple[float, float, float]]] = {"chatwootai": [], "crewai": []}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        # One warm-up of each (disk caches, .pyc files), not counted.
        run_child(chatwootai_argv(f"{scratch}/warm"), env)
        if crewai is not None:
            run_child([str(crewai), "-c", CREWAI_CHILD], env)
        for i in range(args.runs):
            results["chatwootai"].append(run_child(chatwootai_argv(f"{scratch}/{i}"), env))
            if crewai is not None:
                results["crewai"].append(run_child([str(crewai), "-c", CREWAI_CHILD], env))
    load_after = os.getloadavg()

    print(f"\nready to answer: fresh process → first answered message, median of {args.runs}")
    header = ("", "wall s", "min-max", "CPU s", "min-max", "peak RSS MB")
    print("{:<11} {:>7} {:>11} {:>6} {:>11} {:>11}".format(*header))
    medians: dict[str, tuple[float, float, float]] = {}
    for name, runs in results.items():
        if not runs:
            continue
        walls, cpus, rss = ([run[i] for run in runs] for i in range(3))
        medians[name] = (statistics.median(walls), statistics.median(cpus), statistics.median(rss))
        print(
            f"{name:<11} {medians[name][0]:>7.2f} {min(walls):>5.2f}-{max(walls):<5.2f} "
            f"{medians[name][1]:>6.2f} {min(cpus):>5.2f}-{max(cpus):<5.2f} "
            f"{medians[name][2]:>11.0f}"
        )
    if "crewai" in medians:
        ours, theirs = medians["chatwootai"], medians["crewai"]
        print(
            f"CrewAI / ChatwootAI: {theirs[0] / ours[0]:.2f}× the wall time, "
            f"{theirs[1] / ours[1]:.2f}× the CPU time, {theirs[2] / ours[2]:.2f}× the peak memory"
        )
    if args.importtime:
        importtime_breakdown(env)
    print(
        "load average before / after: "
        + " ".join(f"{x:.2f}" for x in load_before)
        + " / "
        + " ".join(f"{x:.2f}" for x in load_after)
        + f" ({os.cpu_count()} CPUs)"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")


if __name__ == "__main__":
    main()
