"""The commands with broken domains: clear errors, no traceback, the others still checked.

`validate`, `route`, `chat`, `serve` and `worker`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatwootai.cli.app import app

SHIPPED = Path(__file__).resolve().parents[2] / "domains"


@pytest.fixture
def domains(tmp_path: Path) -> Path:
    """The shipped domains plus `petshop` (extends itself), `Pet_Shop`, a stray folder."""
    root = tmp_path / "domains"
    shutil.copytree(SHIPPED, root)
    for name in ("petshop", "Pet_Shop"):
        shutil.copytree(root / "retail", root / name)
    file = root / "petshop" / "domain.yaml"
    lines = file.read_text(encoding="utf-8").split("\n")
    file.write_text(
        "\n".join("extends: [petshop]" if x.startswith("extends:") else x for x in lines),
        encoding="utf-8",
    )
    (root / "notes").mkdir()
    return root


def _run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_validate_checks_every_domain_and_reports_each_broken_one(domains: Path) -> None:
    code, output = _run("validate", "--domains-dir", str(domains))
    assert code == 1
    for name in ("cosmetics", "health", "retail", "farmacia", "bela-pele-moema", "_base"):
        assert f"OK {name} (" in output
    assert "FAIL petshop: 1 error(s)" in output and "FAIL Pet_Shop: 1 error(s)" in output
    petshop = domains / "petshop" / "domain.yaml"
    assert f"error: {petshop}:" in output and "domain 'petshop' extends itself" in output
    assert "folder 'Pet_Shop' is not a valid domain name" in output
    assert "(did you mean 'Pet_Shop'?)" not in output
    assert f"warning: {domains / 'notes'}: folder 'notes' has no domain.yaml" in output
    assert "OK tenants.yaml" in output


def test_validate_names_the_tenants_of_a_broken_domain(domains: Path) -> None:
    tenants = domains / "tenants.yaml"
    tenants.write_text(tenants.read_text().replace('"2": health', '"2": petshop'))
    code, output = _run("validate", "--domains-dir", str(domains))
    assert code == 1
    assert "accounts.2: domain 'petshop' is not valid (errors above)" in output


def test_validate_env_reports_unset_tenant_variables(
    domains: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CHATWOOT_WEBHOOK_SECRET_RETAIL", "CHATWOOT_API_TOKEN_RETAIL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHATWOOT_WEBHOOK_SECRET", "s")
    monkeypatch.setenv("CHATWOOT_BASE_URL", "https://chat.example.com")
    monkeypatch.setenv("CHATWOOT_API_TOKEN", "t")
    code, output = _run("validate", "--domains-dir", str(domains), "retail", "--env")
    assert code == 0
    assert (
        "env: account 3 (retail): CHATWOOT_WEBHOOK_SECRET_RETAIL is not set: its deliveries are "
        "refused with 401 (fail closed)"
    ) in output


def test_route_and_chat_refuse_a_domain_that_extends_itself_clearly(domains: Path) -> None:
    code, output = _run("route", "petshop", "oi", "--domains-dir", str(domains))
    assert code == 1 and "domain 'petshop' extends itself" in output
    code, output = _run("route", "Pet_Shop", "oi", "--domains-dir", str(domains))
    assert code == 1 and "is not a valid domain name" in output
    code, output = _run("chat", "petshop", "--domains-dir", str(domains), stdin="oi\n")
    assert code == 1 and "domain 'petshop' extends itself" in output


def test_chat_with_a_good_domain_is_not_stopped_by_a_bad_tenant_entry(
    domains: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OPENAI_API_KEY", "CHATWOOTAI_MODEL", "REDIS_URL", "REDIS_HOST"):
        monkeypatch.delenv(name, raising=False)
    tenants = domains / "tenants.yaml"
    tenants.write_text(tenants.read_text().replace('"2": health', '"2": bakery'))
    code, output = _run("chat", "cosmetics", "--domains-dir", str(domains), stdin="sair\n")
    assert code == 0, output


def test_serve_and_worker_refuse_a_tenants_file_they_cannot_read(
    domains: Path, monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    (domains / "tenants.yaml").write_text("accounts:\n  '1': {domain: Cosmetics}\n")
    monkeypatch.setenv("CHATWOOTAI_DOMAINS_DIR", str(domains))
    code, output = _run("serve")
    assert code == 2 and f"{domains / 'tenants.yaml'}:2:" in output
    assert "accounts.1.domain" in output
    monkeypatch.setenv("REDIS_URL", redis_url)
    code, output = _run("worker")
    assert code == 2 and "accounts.1.domain" in output
