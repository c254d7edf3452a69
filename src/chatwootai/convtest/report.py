"""What `chatwootai test` prints and writes: a progress line, each failure, a summary, JUnit XML."""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from chatwootai.convtest.expectations import describe_call
from chatwootai.convtest.runner import TestResult, TurnReport

MARKS = {"passed": ".", "failed": "F", "skipped": "s", "error": "E"}
REPLY_WIDTH = 96


class Progress:
    """A progress line: rewritten in place on a terminal, one mark per test otherwise."""

    def __init__(self, out: TextIO, total: int, tty: bool) -> None:
        self.out = out
        self.total = total
        self.tty = tty
        self.counts: Counter[str] = Counter()
        self.done = 0

    def __call__(self, result: TestResult) -> None:
        """Account for one finished test."""
        self.done += 1
        self.counts[result.status] += 1
        if self.tty:
            failed = self.counts["failed"] + self.counts["error"]
            self.out.write(
                f"\r[{self.done:>{len(str(self.total))}}/{self.total}] "
                f"{self.counts['passed']} passed, {failed} failed, "
                f"{self.counts['skipped']} skipped  {result.test.name[:60]:<60}"
            )
        else:
            self.out.write(MARKS[result.status])
            if self.done % 80 == 0:
                self.out.write(f" {self.done}/{self.total}\n")
        self.out.flush()

    def end(self) -> None:
        """Finish the line."""
        if self.tty:
            self.out.write("\r" + " " * 110 + "\r")
        elif self.done % 80:
            self.out.write(f" {self.done}/{self.total}\n")
        self.out.flush()


def _indent(text: str, first: str) -> str:
    """`text` wrapped, its first line after `first`, the others aligned under it."""
    lines: list[str] = []
    for line in text.splitlines() or [""]:
        lines += textwrap.wrap(line, REPLY_WIDTH) or [""]
    rest = " " * len(first)
    return "\n".join((first if i == 0 else rest) + line for i, line in enumerate(lines))


def describe_turn(turn: TurnReport, total: int) -> str:
    """A turn as text: what the customer said, the answer, the route and the tool calls."""
    lines = [
        f"  turn {turn.index}/{total} at {turn.now:%Y-%m-%d %H:%M}",
        f"    customer: {turn.say}",
    ]
    outcome = turn.outcome
    if outcome is not None:
        lines.append(_indent(outcome.reply, "    bot:      "))
        handoff = f", handoff ({outcome.handoff.reason})" if outcome.handoff else ""
        fallback = ", fallback" if outcome.fallback else ""
        lines.append(
            f"    route:    {outcome.crew} by {outcome.route_method} "
            f"({outcome.route_score:.2f}){handoff}{fallback}"
        )
        for call in outcome.tool_calls:
            lines.append(f"    tool:     {call.agent_id} → {describe_call(call)}")
    if turn.slots:
        lines.append("    slots:    " + ", ".join(f"{k}={v!r}" for k, v in turn.slots.items()))
    if turn.bookings:
        lines.append(
            "    bookings: "
            + "; ".join(
                f"{b['service_id']} {b['start']} ({b['booking_id']})" for b in turn.bookings
            )
        )
    for line in turn.judged:
        if line not in turn.misses:
            lines.append(f"    ✓ {line}")
    for miss in turn.misses:
        lines.append(f"    ✗ {miss}")
    return "\n".join(lines)


def describe_failure(result: TestResult) -> str:
    """A failed (or broken) test, its turns up to the first miss, each miss marked ✗."""
    test = result.test
    origin = f", from {test.origin}" if test.origin != test.domain else ""
    head = f"{result.status.upper()} {test.name} ({test.where}{origin})"
    if test.test.description:
        head += f"\n  {test.test.description}"
    body = [describe_turn(t, len(test.test.turns)) for t in result.turns]
    if result.error:
        body.append(f"  ✗ error: {result.error}")
    return "\n".join([head, *body])


def summary(results: Sequence[TestResult], seconds: float) -> str:
    """ "162 tests in 5 domains: 160 passed, 1 failed (4.3 s)", and what was not judged."""
    counts = Counter(r.status for r in results)
    domains = len({r.test.domain for r in results})
    parts = [f"{counts['passed']} passed"]
    if counts["failed"]:
        parts.append(f"{counts['failed']} failed")
    if counts["error"]:
        parts.append(f"{counts['error']} errors")
    if counts["skipped"]:
        parts.append(f"{counts['skipped']} skipped")
    text = (
        f"{len(results)} tests in {domains} domain{'s' if domains != 1 else ''}: "
        f"{', '.join(parts)} ({seconds:.1f} s)"
    )
    unchecked = sum(len(t.unchecked) for r in results for t in r.turns)
    if unchecked:
        text += (
            f"\n{unchecked} 'says' expectation(s) not checked: they need an LLM judge "
            "(--judge MODEL)"
        )
    return text


def skipped(results: Sequence[TestResult]) -> list[str]:
    """One line per skipped test with its reason."""
    return [f"SKIP {r.test.name}: {r.error}" for r in results if r.status == "skipped"]


def write_junit(path: Path, results: Sequence[TestResult]) -> None:
    """JUnit XML of `results`, one suite per domain (for CI systems)."""
    suites = ET.Element("testsuites", name="chatwootai conversation tests")
    by_domain: dict[str, list[TestResult]] = {}
    for result in results:
        by_domain.setdefault(result.test.domain, []).append(result)
    totals: Counter[str] = Counter()
    for domain, group in by_domain.items():
        counts = Counter(r.status for r in group)
        totals.update(counts)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=domain,
            tests=str(len(group)),
            failures=str(counts["failed"]),
            errors=str(counts["error"]),
            skipped=str(counts["skipped"]),
            time=f"{sum(r.seconds for r in group):.3f}",
        )
        for result in group:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=domain,
                name=result.test.id,
                file=str(result.test.file),
                line=str(result.test.line),
                time=f"{result.seconds:.3f}",
            )
            if result.status == "skipped":
                ET.SubElement(case, "skipped", message=result.error or "")
            elif result.status in ("failed", "error"):
                turn = result.failed_turn
                message = turn.misses[0] if turn else (result.error or result.status)
                tag = "failure" if result.status == "failed" else "error"
                element = ET.SubElement(case, tag, message=message)
                element.text = describe_failure(result)
    suites.set("tests", str(len(results)))
    suites.set("failures", str(totals["failed"]))
    suites.set("errors", str(totals["error"]))
    suites.set("skipped", str(totals["skipped"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
