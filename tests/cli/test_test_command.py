"""`chatwootai test`: exit codes, selection, listing, JUnit XML, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from chatwootai.cli.app import app
from chatwootai.convtest import jsonschema
from chatwootai.scaffold import create_domain


def _project(tmp_path: Path) -> Path:
    domains = tmp_path / "domains"
    domains.mkdir()
    create_domain(domains, "loja")
    return domains


def _run(domains: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["test", *args, "--domains-dir", str(domains)])
    return result.exit_code, result.output


def test_passing_tests_exit_0_with_a_summary(tmp_path: Path) -> None:
    domains = _project(tmp_path)
    code, out = _run(domains, "loja", "-k", "preco")
    assert code == 0, out
    assert "1 conversation tests, 1 domain(s), offline model (deterministic)" in out
    assert "1 tests in 1 domain: 1 passed" in out


def test_a_failure_exits_1_and_shows_the_turn(tmp_path: Path) -> None:
    domains = _project(tmp_path)
    (domains / "loja" / "tests" / "x.yaml").write_text(
        "tests:\n  x:\n    turns:\n      - say: oi\n        expect: {handoff: true}\n",
        encoding="utf-8",
    )
    junit = tmp_path / "report.xml"
    code, out = _run(domains, "-k", "loja::x", "--junit", str(junit))
    assert code == 1
    assert "FAILED loja::x" in out and "✗ handoff: expected a handoff, got none" in out
    assert junit.is_file() and 'failures="1"' in junit.read_text(encoding="utf-8")


def test_k_matches_names_tags_and_globs(tmp_path: Path) -> None:
    domains = _project(tmp_path)
    code, out = _run(domains, "--list", "-k", "scheduling", "-k", "*::pede-*")
    assert code == 0
    names = sorted(line.split()[0] for line in out.splitlines())
    assert names == [
        "loja::agendar",
        "loja::pede-atendente",
        "loja::pede-pessoa-no-meio-da-conversa",
    ]


def test_nothing_selected_or_broken_files_exit_1(tmp_path: Path) -> None:
    domains = _project(tmp_path)
    code, out = _run(domains, "-k", "nada-disso")
    assert code == 1 and "no tests to run (none matched -k)" in out
    (domains / "loja" / "tests" / "ruim.yaml").write_text("tests: [\n", encoding="utf-8")
    code, out = _run(domains, "loja")
    assert code == 1 and "ruim.yaml:2" in out and "FAIL loja" in out


def test_unknown_and_abstract_domains_are_errors(tmp_path: Path) -> None:
    domains = _project(tmp_path)
    code, out = _run(domains, "lojaa")
    assert code == 1 and "did you mean 'loja'?" in out
    code, out = _run(domains, "_base")
    assert code == 1 and "abstract: its tests run in the domains that extend it" in out


def test_schema_option_prints_the_committed_schema() -> None:
    result = CliRunner().invoke(app, ["test", "--schema"])
    assert result.exit_code == 0
    assert result.output == jsonschema.tests_schema_json()
    assert json.loads(result.output)["title"] == "ChatwootAI conversation tests"
