"""`chatwootai validate` and `chatwootai schema` through the Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatwootai.cli import validate as validate_command
from chatwootai.cli.app import app
from chatwootai.config.schema import DomainConfig

SHOP = """\
agents:
  helper:
    type: SupportAgent
    role: Helper
    goal: Help
    tools: [faq]
tools:
  faq:
    kind: knowledge
    settings: {files: [faq.yaml]}
    grants: [helper]
crews:
  support: {name: Support, agents: [helper]}
routing:
  default_crew: support
"""


@pytest.fixture
def domains(tmp_path: Path) -> Path:
    root = tmp_path / "domains"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "domain.yaml").write_text(SHOP)
    (root / "shop" / "faq.yaml").write_text("- {question: Q, answer: A}\n")
    return root


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


def test_valid_domains_print_ok_and_exit_0(domains: Path) -> None:
    (domains / "tenants.yaml").write_text("accounts:\n  1: shop\n")
    code, output = _run("validate", "--domains-dir", str(domains))
    assert code == 0
    assert "OK shop (served; 1 agents, 1 crews, 1 tools)" in output
    assert "OK tenants.yaml (1 accounts, 0 inboxes)" in output


def test_errors_are_all_printed_and_exit_1(domains: Path) -> None:
    text = SHOP.replace("tools: [faq]", "tools: [fqa]").replace("default_crew: support", "x: 1")
    (domains / "shop" / "domain.yaml").write_text(text)
    code, output = _run("validate", "--domains-dir", str(domains), "shop")
    assert code == 1
    assert "Traceback" not in output
    assert "shop/domain.yaml:15:3: routing.x: unknown key 'x'" in output
    assert "routing.default_crew: missing required key 'default_crew'" in output
    assert "FAIL shop: 2 error(s)" in output


def test_syntax_error_is_a_message_not_a_traceback(domains: Path) -> None:
    (domains / "shop" / "domain.yaml").write_text("agents: [\n")
    code, output = _run("validate", "--domains-dir", str(domains))
    assert code == 1 and "YAML syntax error" in output and "Traceback" not in output


def test_unknown_domain_name_has_did_you_mean(domains: Path) -> None:
    code, output = _run("validate", "--domains-dir", str(domains), "shp")
    assert code == 1 and "did you mean 'shop'?" in output


def test_bad_tenants_fail_validation(domains: Path) -> None:
    (domains / "tenants.yaml").write_text("accounts:\n  1: shoop\n")
    code, output = _run("validate", "--domains-dir", str(domains))
    assert code == 1 and "tenants.yaml:2" in output and "did you mean 'shop'?" in output


def test_explain_prints_origins(domains: Path) -> None:
    code, output = _run("validate", "--domains-dir", str(domains), "--explain", "shop")
    assert code == 0
    assert f"role: Helper  # {domains / 'shop' / 'domain.yaml'}:4" in output


def test_dry_run_without_runtime(domains: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate_command, "RUNTIME_MODULE", "chatwootai.no_such_runtime")
    code, output = _run("validate", "--domains-dir", str(domains), "--dry-run")
    assert code == 0 and "runtime not available" in output


def test_dry_run_prints_what_the_runtime_built(
    domains: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake(config: DomainConfig) -> list[str]:
        return [f"crew {crew}" for crew in config.crews]

    monkeypatch.setattr(validate_command, "runtime_dry_run", lambda: fake)
    code, output = _run("validate", "--domains-dir", str(domains), "--dry-run")
    assert code == 0 and "dry run shop:\n  crew support" in output


def test_missing_domains_dir(tmp_path: Path) -> None:
    code, output = _run("validate", "--domains-dir", str(tmp_path / "nope"))
    assert code == 1 and "does not exist" in output


def test_schema_command_prints_json_schema() -> None:
    code, output = _run("schema")
    assert code == 0
    assert "agents-" in json.loads(output)["properties"]
