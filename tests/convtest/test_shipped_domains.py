"""Every shipped domain's conversation tests pass with the offline model (`chatwootai test`)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from chatwootai.cli.app import app
from chatwootai.config.loader import DomainLoader

DOMAINS = Path(__file__).resolve().parents[2] / "domains"
MIN_TESTS = 30


def test_every_shipped_domain_has_at_least_30_tests_and_they_pass(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    result = CliRunner().invoke(
        app, ["test", "--domains-dir", str(DOMAINS), "--junit", str(junit), "--jobs", "8"]
    )
    assert result.exit_code == 0, result.output[-6000:]
    served = [n for n in DomainLoader(DOMAINS).names() if not n.startswith("_")]
    text = junit.read_text(encoding="utf-8")
    for domain in served:
        match = re.search(rf'<testsuite name="{re.escape(domain)}" tests="(\d+)"', text)
        assert match is not None, f"no tests ran for {domain}"
        assert int(match.group(1)) >= MIN_TESTS, f"{domain}: {match.group(1)} tests"
