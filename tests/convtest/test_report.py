"""What `chatwootai test` prints and writes."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

from chatwootai.convtest import report
from chatwootai.convtest.loader import ConversationTestLoader
from chatwootai.convtest.runner import ConversationTestRunner

from .conftest import Project


async def test_failures_progress_summary_and_junit(project: Project, tmp_path: Path) -> None:
    project.tests(
        "loja",
        "falha.yaml",
        """\
        tests:
          errada:
            description: uma falha de propósito
            turns:
              - say: qual o preço da garrafa térmica?
                expect: {reply_contains: "R$ 1,00", says: algo}
        """,
    )
    project.domain("sem-agenda", "extends: [loja]\ncrews-: [scheduling]\n")
    loader = project.loader()
    tests = []
    for domain in ("loja", "sem-agenda"):
        tests += ConversationTestLoader(loader).tests_for(domain, loader.load(domain))
    out = io.StringIO()
    progress = report.Progress(out, len(tests), tty=False)
    results = await ConversationTestRunner(project.settings()).run(tests, progress)
    progress.end()
    marks = out.getvalue()
    assert marks.count("F") == 2 and "s" in marks and marks.rstrip().endswith(f"{len(tests)}")
    [failure, *_] = [r for r in results if r.status == "failed"]
    text = report.describe_failure(failure)
    assert text.startswith("FAILED loja::errada (")
    assert "customer: qual o preço da garrafa térmica?" in text
    assert "tool:     vendedor → catalogo{query:" in text
    assert "✗ reply_contains: 'R$ 1,00' is not in the reply" in text
    summary = report.summary(results, 1.0)
    assert "2 failed" in summary and "skipped" in summary
    assert "'says' expectation(s) not checked" in summary
    path = tmp_path / "out" / "junit.xml"
    report.write_junit(path, results)
    root = ET.parse(path).getroot()
    assert root.get("failures") == "2" and int(root.get("tests", "0")) == len(results)
    suites = {s.get("name"): s for s in root}
    case = next(c for c in suites["loja"] if c.get("name") == "errada")
    failure_node = case.find("failure")
    assert failure_node is not None and "R$ 1,00" in (failure_node.get("message") or "")
    assert any(c.find("skipped") is not None for c in suites["sem-agenda"])
