"""`chatwootai route DOMAIN [MESSAGE ...]` prints one JSON decision per message."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from chatwootai.cli import app

DOMAIN = {
    "name": "tiny",
    "agents": {
        "seller": {"type": "ManagerAgent", "role": "Vendedor", "goal": "Vender"},
        "helper": {"type": "ManagerAgent", "role": "Suporte", "goal": "Ajudar"},
    },
    "crews": {
        "sales": {"name": "Vendas", "agents": ["seller"]},
        "support": {"name": "Suporte", "agents": ["helper"]},
    },
    "routing": {
        "default_crew": "support",
        "handoff_phrases": ["falar com atendente"],
        "crews": {
            "sales": {
                "keywords": ["preço"],
                "examples": ["quanto custa o perfume", "tem creme em estoque"],
            },
            "support": {
                "keywords": ["pedido"],
                "examples": ["minha encomenda nao chegou", "o produto veio quebrado"],
            },
        },
    },
}


def write_domain(root: Path) -> Path:
    """The tiny domain written as `root/tiny/domain.yaml`."""
    (root / "tiny").mkdir()
    (root / "tiny" / "domain.yaml").write_text(yaml.safe_dump(DOMAIN, allow_unicode=True))
    return root


def test_routes_messages_given_as_arguments(tmp_path: Path) -> None:
    domains = write_domain(tmp_path)
    messages = ["qual o preço?", "quero falar com atendente", "cadê meu pedido", "ok"]
    result = CliRunner().invoke(app, ["route", "tiny", *messages, "--domains-dir", str(domains)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["message"] for line in lines] == messages
    assert [(line["crew"], line["method"]) for line in lines] == [
        ("sales", "rules"),
        ("handoff", "handoff"),
        ("support", "rules"),
        ("support", "default"),
    ]
    assert [line["handoff"] for line in lines] == [False, True, False, False]
    assert set(lines[0]) == {"message", "crew", "method", "score", "handoff"}
    assert 0 < lines[0]["score"] <= 1


def test_routes_one_message_per_stdin_line(tmp_path: Path) -> None:
    domains = write_domain(tmp_path)
    result = CliRunner().invoke(
        app,
        ["route", "tiny", "--domains-dir", str(domains)],
        input="qual o preço?\ncadê meu pedido\n",
    )
    assert result.exit_code == 0, result.output
    crews = [json.loads(line)["crew"] for line in result.stdout.splitlines()]
    assert crews == ["sales", "support"]


def test_a_config_error_is_reported_without_traceback(tmp_path: Path) -> None:
    domains = write_domain(tmp_path)
    domain_file = domains / "tiny" / "domain.yaml"
    domain_file.write_text(domain_file.read_text().replace("default_crew", "default_crw"))
    result = CliRunner().invoke(app, ["route", "tiny", "oi", "--domains-dir", str(domains)])
    assert result.exit_code == 1
    assert "default_crw" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_an_unknown_domain_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["route", "nowhere", "oi", "--domains-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
