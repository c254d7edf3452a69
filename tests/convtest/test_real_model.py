"""`chatwootai test --model ... --judge ...` against a fake OpenAI-compatible server."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from chatwootai.cli.app import app

from .conftest import Project


def _openai_server() -> Any:
    if "fakes_openai_server" in sys.modules:
        return sys.modules["fakes_openai_server"]
    path = Path(__file__).resolve().parents[1] / "fakes" / "openai_server.py"
    spec = importlib.util.spec_from_file_location("fakes_openai_server", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


openai_server = _openai_server()


@pytest.fixture
def fake_openai(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for server in openai_server.serve():
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-secret")
        yield server


def test_a_real_model_run_with_an_llm_judge(project: Project, fake_openai: Any) -> None:
    project.tests(
        "loja",
        "llm.yaml",
        """\
        tests:
          preco-llm:
            turns:
              - say: quanto custa a caneca de cerâmica?
                expect:
                  crew: sales
                  tools: [{tool: catalogo, args: {query: caneca}}]
                  reply_contains: "R$ 39,90"
                  says: a caneca custa 39,90 reais
        """,
    )
    fake_openai.script(
        openai_server.tool_call("catalogo", {"query": "caneca"}),
        openai_server.text("A Caneca de Cerâmica 300ml custa R$ 39,90."),
        openai_server.tool_call("final_result", {"holds": True, "reason": "diz o preço"}),
    )
    result = CliRunner().invoke(
        app,
        [
            "test",
            "loja",
            "-k",
            "preco-llm",
            "--model",
            "openai:gpt-4o-mini",
            "--judge",
            "openai:gpt-4o-mini",
            "--domains-dir",
            str(project.domains),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "openai:gpt-4o-mini, LLM judge openai:gpt-4o-mini" in result.output
    assert "1 passed" in result.output and "not checked" not in result.output
    crew, _answer, judge = fake_openai.requests
    assert crew["model"] == "gpt-4o-mini" and "tools" in crew
    assert "Statement: a caneca custa 39,90 reais" in judge["messages"][-1]["content"]
