"""Knowledge settings in YAML: documents must exist, web sources stay on allowed hosts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from chatwootai.config.errors import ConfigError
from chatwootai.config.loader import DomainLoader
from chatwootai.config.schema import KnowledgeSettings

DOMAIN = """\
agents:
  helper: {type: SupportAgent, role: Atendente, goal: Ajudar, tools: [faq]}
crews:
  support: {name: Suporte, agents: [helper]}
tools:
  faq:
    kind: knowledge
    settings:
      files: [faq.yaml, manual.pdf]
    grants: [helper]
routing:
  default_crew: support
"""


def test_a_missing_document_is_a_config_error_with_its_line(tmp_path: Path) -> None:
    directory = tmp_path / "loja"
    directory.mkdir()
    (directory / "domain.yaml").write_text(textwrap.dedent(DOMAIN), encoding="utf-8")
    (directory / "faq.yaml").write_text("- question: Oi?\n  answer: Olá.\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        DomainLoader(tmp_path).load("loja")
    (issue,) = caught.value.issues
    assert "data file not found" in issue.message and "manual.pdf" in issue.message
    assert issue.line == 9
    (directory / "manual.pdf").write_bytes(b"not even a pdf")  # read by sync, not by the loader
    config = DomainLoader(tmp_path).load("loja")
    assert len(config.data.knowledge["faq"]) == 1


def test_web_sources_must_be_on_allowed_hosts() -> None:
    ok = KnowledgeSettings(urls=["https://www.loja.com.br/faq"], allowed_hosts=["www.loja.com.br"])
    assert ok.urls
    with pytest.raises(ValidationError, match="not in allowed_hosts"):
        KnowledgeSettings(urls=["https://evil.example/x"], allowed_hosts=["www.loja.com.br"])
    with pytest.raises(ValidationError, match="http"):
        KnowledgeSettings(
            sitemaps=["ftp://www.loja.com.br/s.xml"], allowed_hosts=["www.loja.com.br"]
        )
    with pytest.raises(ValidationError, match="missing required key 'files'"):
        KnowledgeSettings()
