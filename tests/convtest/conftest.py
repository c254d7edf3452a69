"""A project made by `chatwootai new` (the repo's _base and a `loja` extending it), in tmp_path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from chatwootai.config.loader import DomainLoader
from chatwootai.scaffold import create_domain
from chatwootai.settings import Settings


class Project:
    """A domains directory with `_base` and `loja` (a scaffolded child) and helpers."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.domains = root / "domains"

    def tests(self, domain: str, name: str, text: str) -> Path:
        """Write `domains/<domain>/tests/<name>` (dedented)."""
        path = self.domains / domain / "tests" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def domain(self, name: str, text: str) -> Path:
        """Write `domains/<name>/domain.yaml` (dedented)."""
        path = self.domains / name / "domain.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def loader(self) -> DomainLoader:
        """A fresh loader over the project."""
        return DomainLoader(self.domains)

    def settings(self) -> Settings:
        """Settings pointing at the project (offline model)."""
        return Settings(CHATWOOTAI_DOMAINS_DIR=self.domains, CHATWOOTAI_DATA_DIR=self.root / "data")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """`domains/_base` and `domains/loja` (extends _base), made by `chatwootai new`."""
    made = Project(tmp_path)
    made.domains.mkdir()
    create_domain(made.domains, "loja", company="Loja Exemplo")
    return made
