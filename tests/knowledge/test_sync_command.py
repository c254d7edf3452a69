"""`chatwootai knowledge sync` reports each source and fails (exit 1) when one failed; the arq
cron job syncs the sources that are due."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from chatwootai.cli import app
from chatwootai.config.loader import DomainLoader
from chatwootai.knowledge.library import Library
from chatwootai.knowledge.schedule import knowledge_cron_job, knowledge_cron_jobs

DOMAINS = Path(__file__).resolve().parents[2] / "domains"


@pytest.fixture
def domains(tmp_path: Path) -> Path:
    target = tmp_path / "domains"
    shutil.copytree(DOMAINS, target)
    return target


def run(domains: Path, data: Path, *args: str) -> Any:
    env = {"CHATWOOTAI_DATA_DIR": str(data), "CHATWOOTAI_DOMAINS_DIR": str(domains)}
    return CliRunner().invoke(app, ["knowledge", "sync", *args], env=env)


def test_sync_reports_sources_and_shares_inherited_ones(domains: Path, tmp_path: Path) -> None:
    result = run(domains, tmp_path / "data", "cosmetics", "bela-pele-moema", "health")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "politica-trocas.html (file): indexed, 1 page(s), 11 chunk(s)" in out
    assert "tabela-estudio.pdf (file): indexed, 1 page(s)" in out
    assert "preparo-exames.pdf (file): indexed" in out
    moema = out.split("bela-pele-moema:")[1].split("health:")[0]
    assert "politica-trocas.html (file): unchanged" in moema  # the brand's, indexed once
    assert "0 failed" in out


def test_a_broken_document_fails_the_command_and_keeps_its_index(
    domains: Path, tmp_path: Path
) -> None:
    assert run(domains, tmp_path / "data", "health").exit_code == 0
    (domains / "health" / "preparo-exames.pdf").write_bytes(b"%PDF-1.7\n%broken")
    result = run(domains, tmp_path / "data", "health")
    assert result.exit_code == 1
    assert "preparo-exames.pdf (file): failed" in result.output
    assert "not a readable PDF" in result.output and "last good index kept" in result.output
    assert "Traceback" not in result.output


def test_unknown_domain_is_a_clear_error(domains: Path, tmp_path: Path) -> None:
    result = run(domains, tmp_path / "data", "cosmetic")
    assert result.exit_code == 1
    assert "no domain 'cosmetic'" in result.output and "cosmetics" in result.output


async def test_cron_job_syncs_due_sources(domains: Path, tmp_path: Path) -> None:
    (job,) = knowledge_cron_jobs()
    assert job.name == "knowledge-sync" and job.unique
    library = Library(tmp_path / "data")
    config = DomainLoader(domains).load("health")

    class System:
        knowledge = library

        async def knowledge_domains(self) -> list[Any]:
            return [config]

    class Runner:
        system = System()

    assert await knowledge_cron_job({"runner": Runner()}) == 1  # never synced: due
    assert await knowledge_cron_job({"runner": Runner()}) == 0  # synced now: due in a day
    assert library.source_builds == 1


async def test_cron_job_on_the_real_system(domains: Path, tmp_path: Path) -> None:
    from chatwootai.settings import Settings
    from chatwootai.system import ChatwootAISystem

    settings = Settings(CHATWOOTAI_DOMAINS_DIR=domains, CHATWOOTAI_DATA_DIR=tmp_path / "data")
    system = await ChatwootAISystem.create(settings)
    try:
        served = [c.name for c in await system.knowledge_domains()]
        assert "_base" not in served and {"cosmetics", "health"} <= set(served)

        class Runner:
            pass

        runner = Runner()
        runner.system = system  # type: ignore[attr-defined]
        assert await knowledge_cron_job({"runner": runner}) >= 3  # html + 2 pdfs (+ inherited)
        assert system.knowledge.source_builds == 3  # bela-pele-moema shares cosmetics' documents
    finally:
        await system.close()
