"""The `route` command: which crew the hub picks for each message, as JSON lines."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from chatwootai.cli.app import app
from chatwootai.config.errors import ConfigError
from chatwootai.config.loader import DomainLoader
from chatwootai.hub import Hub, RoutingConfigError
from chatwootai.settings import Settings


@app.command()
def route(
    domain: Annotated[str, typer.Argument(help="The domain whose hub routes the messages.")],
    messages: Annotated[
        list[str] | None,
        typer.Argument(help="Messages to route; without any, one message per line of stdin."),
    ] = None,
    domains_dir: Annotated[
        Path | None,
        typer.Option(
            "--domains-dir", help="Directory of the domains (default: CHATWOOTAI_DOMAINS_DIR)."
        ),
    ] = None,
) -> None:
    """Route messages with a domain's hub (no LLM) and print one JSON object per message."""
    settings = Settings()
    loader = DomainLoader(
        domains_dir or settings.domains_dir, agent_packages=settings.agent_packages
    )
    try:
        hub = Hub.build(loader.load(domain))
    except (ConfigError, RoutingConfigError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    lines = messages if messages else (line.rstrip("\r\n") for line in sys.stdin)
    for message in lines:
        decision = hub.route(message)
        record = {
            "message": message,
            "crew": decision.crew,
            "method": decision.method,
            "score": round(decision.score, 4),
            "handoff": decision.handoff,
        }
        typer.echo(json.dumps(record, ensure_ascii=False))
