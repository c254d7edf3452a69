"""The `chat` command: talk to a domain's crews in the terminal, through the same pipeline pieces.

The domain is loaded and validated, the hub routes each message to a crew, the crew runs on the
domain's model (the offline model when none is configured) with tools behind a DataProxy on an
in-memory store. ``--verbose`` shows the route decision and the tool calls.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer

from chatwootai.agents.crew import Crew
from chatwootai.agents.factory import CrewFactory
from chatwootai.agents.state import AgentState
from chatwootai.cli.app import app
from chatwootai.config.errors import ConfigError
from chatwootai.config.loader import DomainLoader
from chatwootai.config.schema import DomainConfig
from chatwootai.hub import Hub, RoutingConfigError, RoutingContext
from chatwootai.llm import ModelConfigError, ModelResolver
from chatwootai.settings import Settings
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.tools.base import ToolContext
from chatwootai.tools.proxy import DataProxy

EXIT_WORDS = frozenset({"sair", "exit", "quit"})
PROMPT = "você> "


async def converse(
    config: DomainConfig,
    inputs: TextIO,
    output: TextIO,
    *,
    verbose: bool = False,
    settings: Settings | None = None,
) -> None:
    """Read messages from `inputs` and write replies to `output` until EOF or "sair"."""
    settings = settings or Settings()
    store = EmbeddedStore(":memory:", prefix=settings.redis_prefix)
    proxy = DataProxy.for_domain(config, store)
    factory = CrewFactory(config, proxy, ModelResolver(settings))
    hub = Hub.build(config) if config.routing is not None or len(config.crews) == 1 else None
    default_crew = config.routing.default_crew if config.routing else next(iter(config.crews))
    crews: dict[str, Crew] = {}
    states: dict[str, AgentState] = {}
    current: str | None = None
    in_flow = False
    context = ToolContext(
        domain=config.name,
        conversation_key="chat:local",
        agent_id="",
        channel="terminal",
        timezone=config.timezone,
    )
    greeting = config.chatwoot.texts.greeting
    if greeting:
        output.write(f"bot> {greeting}\n")
    try:
        while True:
            output.write(PROMPT)
            output.flush()
            line = inputs.readline()
            if not line:
                output.write("\n")
                break
            message = line.strip()
            if not message:
                continue
            if message.casefold() in EXIT_WORDS:
                break
            crew_id = default_crew
            if hub is not None:
                decision = hub.route(message, RoutingContext(current, in_flow))
                if verbose:
                    output.write(
                        f"  [rota] {decision.crew} por {decision.method} "
                        f"(confiança {decision.score:.2f})\n"
                    )
                if decision.handoff:
                    output.write(f"bot> {config.chatwoot.texts.handoff}\n")
                    if verbose:
                        output.write("  [handoff] pedido do cliente\n")
                    continue
                crew_id = decision.crew
            crew = crews.get(crew_id)
            if crew is None:
                crew = crews[crew_id] = factory.build(crew_id)
                if crew.offline:
                    output.write(
                        f"  (modelo offline na equipe {crew_id}: respostas das ferramentas do "
                        "domínio, sem LLM)\n"
                    )
            result = await crew.run(message, states, context)
            states.update(result.states)
            current, in_flow = crew_id, result.in_flow
            if verbose:
                for call in result.tool_calls:
                    status = "ok" if call.ok else f"erro: {call.error}"
                    output.write(
                        f"  [ferramenta] {call.agent_id} → {call.tool_id}{call.args} {status}\n"
                    )
                output.write(
                    f"  [uso] {result.requests} requisições ao modelo, "
                    f"{result.input_tokens}+{result.output_tokens} tokens\n"
                )
            output.write(f"bot> {result.reply}\n")
            if result.handoff is not None:
                output.write(f"  [handoff] {result.handoff.reason}\n")
    finally:
        await store.close()


@app.command()
def chat(
    domain: Annotated[str, typer.Argument(help="Domain to talk to (a directory of domains/).")],
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show routing and tool calls.")
    ] = False,
    domains_dir: Annotated[
        Path | None, typer.Option("--domains-dir", help="Directory of the domains.")
    ] = None,
) -> None:
    """Talk to a domain's agents in the terminal (offline model unless an LLM is configured)."""
    settings = Settings()
    loader = DomainLoader(
        domains_dir or settings.domains_dir, agent_packages=settings.agent_packages
    )
    try:
        config = loader.load(domain)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Conversando com o domínio {domain!r}. Digite 'sair' para terminar.")
    try:
        asyncio.run(converse(config, sys.stdin, sys.stdout, verbose=verbose, settings=settings))
    except (ModelConfigError, RoutingConfigError) as exc:
        typer.echo(f"erro: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("")
