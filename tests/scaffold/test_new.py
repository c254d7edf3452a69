"""`chatwootai new`: a domain that validates at once and whose tests pass."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatwootai.cli.app import app
from chatwootai.config.loader import DomainLoader
from chatwootai.convtest.loader import ConversationTestLoader
from chatwootai.convtest.runner import ConversationTestRunner
from chatwootai.scaffold import ScaffoldError, create_domain
from chatwootai.settings import Settings

DOMAINS = Path(__file__).resolve().parents[2] / "domains"


async def _run_tests(domains: Path, name: str) -> list[str]:
    loader = DomainLoader(domains)
    tests = ConversationTestLoader(loader).tests_for(name, loader.load(name))
    settings = Settings(CHATWOOTAI_DOMAINS_DIR=domains, CHATWOOTAI_DATA_DIR=domains.parent)
    results = await ConversationTestRunner(settings, jobs=8).run(tests)
    return [r.status for r in results]


async def test_new_in_an_empty_project_writes_base_schemas_and_a_working_domain(
    tmp_path: Path,
) -> None:
    result = CliRunner().invoke(
        app, ["new", "petshop", "--company", "Pet Feliz", "--domains-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 0, result.output
    domains = tmp_path / "d"
    assert (domains / "_base" / "domain.yaml").is_file()
    assert (tmp_path / "schema" / "tests.schema.json").is_file()
    text = (domains / "petshop" / "domain.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../../schema/domain.schema.json\n")
    assert "company_name: Pet Feliz" in text and "TROQUE" in text
    assert "# crews-: [scheduling]" in text  # how to drop what is not needed
    for name in ("faq.yaml", "catalog.csv", "calendar.yaml", "orders.yaml", "tests/basics.yaml"):
        assert (domains / "petshop" / name).is_file(), name
    config = DomainLoader(domains).load("petshop")
    assert config.business.company_name == "Pet Feliz"
    statuses = await _run_tests(domains, "petshop")
    assert len(statuses) >= 15 and set(statuses) == {"passed"}
    assert "chatwootai test petshop" in result.output


async def test_new_extending_a_concrete_domain_keeps_its_data_and_tests(tmp_path: Path) -> None:
    domains = tmp_path / "domains"
    shutil.copytree(DOMAINS, domains)
    scaffold = create_domain(domains, "bela-pele-centro", "cosmetics")
    names = {p.name for p in scaffold.files if p.is_relative_to(scaffold.directory)}
    assert names == {"domain.yaml", "faq.yaml", "catalog.csv", "basics.yaml"}  # calendar inherited
    text = (domains / "bela-pele-centro" / "domain.yaml").read_text(encoding="utf-8")
    assert "files+: [faq.yaml]" in text and "# agenda: {settings: {file: calendar.yaml}}" in text
    statuses = await _run_tests(domains, "bela-pele-centro")
    assert len(statuses) >= 30 and set(statuses) == {"passed"}


def test_bad_names_existing_domains_and_unknown_parents(tmp_path: Path) -> None:
    domains = tmp_path / "domains"
    shutil.copytree(DOMAINS, domains)
    with pytest.raises(ScaffoldError, match="not a domain name"):
        create_domain(domains, "Pet Shop")
    with pytest.raises(ScaffoldError, match="not a domain name"):
        create_domain(domains, "_privado")
    with pytest.raises(ScaffoldError, match="already exists"):
        create_domain(domains, "cosmetics")
    with pytest.raises(ScaffoldError, match="did you mean 'cosmetics'"):
        create_domain(domains, "loja", "cosmetic")
    result = CliRunner().invoke(app, ["new", "cosmetics", "--domains-dir", str(domains)])
    assert result.exit_code == 1 and "already exists" in result.output
