"""The `chat` command: talk to a domain's crews in the terminal, through the service's pipeline.

Each message goes through :meth:`ChatwootAISystem.process_message`, exactly as a Chatwoot message
does in a worker: tenancy, config, hub routing, the crew built once per domain, agent state, tools
behind the DataProxy. The store is the embedded one, in memory; the model is the domain's (the
offline model when none is configured). ``--verbose`` shows the route decision and the tool calls.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer

from chatwootai.cli.app import app
from chatwootai.config.errors import ConfigError
from chatwootai.config.registry import DomainNotFoundError
from chatwootai.hub import RoutingConfigError
from chatwootai.llm import ModelConfigError
from chatwootai.settings import Settings
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.system import ChatwootAISystem
from chatwootai.turn import IncomingMessage, TurnOutcome

EXIT_WORDS = frozenset({"sair", "exit", "quit"})
PROMPT = "você> "
CONVERSATION = "terminal:1"
"""The conversation key of the terminal conversation."""


async def converse(
    system: ChatwootAISystem,
    domain: str,
    inputs: TextIO,
    output: TextIO,
    *,
    verbose: bool = False,
) -> None:
    """Read messages from `inputs` and write replies to `output` until EOF or "sair"."""
    await system.domains.set_conversation_domain(CONVERSATION, domain)
    config = await system.registry.get_domain_config(domain)
    if config.chatwoot.texts.greeting:
        output.write(f"bot> {config.chatwoot.texts.greeting}\n")
    said_offline = False
    while True:
        output.write(PROMPT)
        output.flush()
        line = inputs.readline()
        if not line:
            output.write("\n")
            break
        text = line.strip()
        if not text:
            continue
        if text.casefold() in EXIT_WORDS:
            break
        outcome = await system.process_message(
            IncomingMessage(text=text, channel="terminal"), CONVERSATION, "terminal"
        )
        if outcome.offline and not said_offline:
            output.write(
                f"  (modelo offline na equipe {outcome.crew}: respostas das ferramentas do "
                "domínio, sem LLM)\n"
            )
            said_offline = True
        if verbose:
            _explain(outcome, output)
        output.write(f"bot> {outcome.reply}\n")
        if outcome.handoff is not None:
            output.write(f"  [handoff] {outcome.handoff.reason}\n")


def _explain(outcome: TurnOutcome, output: TextIO) -> None:
    """Write the route decision, the tool calls and the model usage of a turn."""
    output.write(
        f"  [rota] {outcome.crew} por {outcome.route_method} "
        f"(confiança {outcome.route_score:.2f})\n"
    )
    for call in outcome.tool_calls:
        status = "ok" if call.ok else f"erro: {call.error}"
        output.write(f"  [ferramenta] {call.agent_id} → {call.tool_id}{call.args} {status}\n")
    output.write(
        f"  [uso] {outcome.llm_requests} requisições ao modelo, "
        f"{outcome.input_tokens}+{outcome.output_tokens} tokens\n"
    )


async def _chat(settings: Settings, domain: str, verbose: bool) -> None:
    store = EmbeddedStore(":memory:", prefix=settings.redis_prefix)
    system = await ChatwootAISystem.create(settings, store=store)
    try:
        await converse(system, domain, sys.stdin, sys.stdout, verbose=verbose)
    finally:
        await system.close()


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
    if domains_dir is not None:
        settings = settings.model_copy(update={"domains_dir": domains_dir})
    typer.echo(f"Conversando com o domínio {domain!r}. Digite 'sair' para terminar.")
    try:
        asyncio.run(_chat(settings, domain, verbose))
    except (ConfigError, DomainNotFoundError, ModelConfigError, RoutingConfigError) as exc:
        typer.echo(f"erro: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("")
