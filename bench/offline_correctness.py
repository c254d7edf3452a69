"""How often the offline model answers a customer's message right, on a held-out question set.

Reads a question set (default `bench/data/offline/questions-c.yaml`: 71 messages across the
shipped domains, written after the model was final and never used to tune it; see each file's
header for when it was written and what it was used for), runs each case as its own
conversation through `ChatwootAISystem.process_message` (offline model, in-memory embedded store,
the turn's clock pinned to the set's `now`, local time) and scores the reply to its last turn
against the case's criteria: texts it must contain, may contain one of, must not contain, a
handoff, or a booking in the calendar. The domain's fallback (nothing found, a human called)
counts as a miss unless the case expects a handoff. Prints every miss with the reply, the score
per domain and overall, the command and the machine load.

Run: .venv/bin/python bench/offline_correctness.py [--questions FILE] [--domains-dir domains]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from chatwootai.settings import Settings
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.system import ChatwootAISystem
from chatwootai.text import fold
from chatwootai.tools.base import ToolContext
from chatwootai.tools.calendar import CalendarTool
from chatwootai.turn import Customer, IncomingMessage, TurnOutcome

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Scored:
    """One case: whether its reply was right, and why not."""

    case: str
    domain: str
    correct: bool
    fallback: bool
    reason: str
    reply: str


def _texts(case: dict[str, Any], key: str) -> list[str]:
    value = case.get(key) or []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def score(case: dict[str, Any], outcome: TurnOutcome, bookings: list[dict[str, Any]]) -> str:
    """Why the reply misses the case's criteria ("" when it is right)."""
    handed_off = outcome.handoff is not None
    if case.get("handoff"):
        return "" if handed_off else "expected a handoff"
    if case.get("accept_handoff") and handed_off:
        return ""
    if outcome.fallback:
        return "fallback (nothing found)"
    reply = fold(outcome.reply)
    missing = [t for t in _texts(case, "all") if fold(t) not in reply]
    if missing:
        return f"missing {missing}"
    anyof = _texts(case, "any")
    if anyof and not any(fold(t) in reply for t in anyof):
        return f"none of {anyof}"
    present = [t for t in _texts(case, "none") if fold(t) in reply]
    if present:
        return f"should not say {present}"
    wanted = case.get("booking")
    if wanted and not any(
        b["service_id"] == wanted["service"] and b["start"] == wanted["start"] for b in bookings
    ):
        return f"no booking {wanted['service']} {wanted['start']} (bookings: {bookings})"
    return ""


async def run(domains_dir: Path, questions: Path) -> list[Scored]:
    """Every case of `questions`, scored."""
    document: dict[str, Any] = yaml.safe_load(questions.read_text(encoding="utf-8"))
    now = datetime.fromisoformat(str(document.pop("now")))
    cases: dict[str, list[dict[str, Any]]] = document
    settings = Settings(CHATWOOTAI_DOMAINS_DIR=domains_dir, CHATWOOTAI_MODEL="offline")
    system = await ChatwootAISystem.create(settings, store=EmbeddedStore(":memory:"))
    results: list[Scored] = []
    try:
        for domain, domain_cases in cases.items():
            config = await system.registry.get_domain_config(domain)
            zone = ZoneInfo(config.timezone)
            runtime = await system.runtime(domain)
            for case in domain_cases:
                key = f"bench:{case['id']}"
                await system.domains.set_conversation_domain(key, domain)
                contact = case.get("contact") or {}
                channel = case.get("channel", "whatsapp")
                turns = case.get("turns") or [case["say"]]
                outcome = None
                for text in turns:
                    message = IncomingMessage(
                        text=text,
                        customer=Customer(id=case["id"], phone=contact.get("phone")),
                        channel=channel,
                        now=now.replace(tzinfo=zone),
                    )
                    outcome = await system.process_message(message, key, channel)
                assert outcome is not None
                ctx = ToolContext(domain=domain, conversation_key=key, agent_id="")
                bookings = [
                    b.public()
                    for tool in runtime.proxy.tools.values()
                    if isinstance(tool, CalendarTool)
                    for b in await tool.bookings(ctx)
                ]
                reason = score(case, outcome, bookings)
                results.append(
                    Scored(case["id"], domain, not reason, outcome.fallback, reason, outcome.reply)
                )
    finally:
        await system.close()
    return results


def main() -> None:
    """Run the set and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains-dir", type=Path, default=ROOT / "domains")
    parser.add_argument(
        "--questions", type=Path, default=ROOT / "bench" / "data" / "offline" / "questions-c.yaml"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    results = asyncio.run(run(args.domains_dir, args.questions))
    elapsed = time.perf_counter() - started
    for result in results:
        if not result.correct:
            reply = " ".join(result.reply.split())[:220]
            print(f"MISS {result.case} ({result.domain}): {result.reason}\n     reply: {reply}")
    print()
    print("| domain | cases | correct | misses (of which fallbacks) |")
    print("|---|---|---|---|")
    domains = list(dict.fromkeys(r.domain for r in results))
    for domain in [*domains, "all"]:
        group = [r for r in results if domain in ("all", r.domain)]
        right = sum(r.correct for r in group)
        fallbacks = sum(1 for r in group if not r.correct and r.fallback)
        share = 100 * right / len(group)
        print(
            f"| {domain} | {len(group)} | {right} ({share:.0f} %) | "
            f"{len(group) - right} ({fallbacks}) |"
        )
    print()
    shown = args.questions
    if shown.is_relative_to(ROOT):
        shown = shown.relative_to(ROOT)
    print(f"question set: {shown}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"run time: {elapsed:.1f} s; load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )


if __name__ == "__main__":
    main()
