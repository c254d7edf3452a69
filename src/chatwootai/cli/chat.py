"""The `chat` command: talk to a domain's crews in the terminal, through the service's pipeline.

Each message goes through :meth:`ChatwootAISystem.process_message`, exactly as a Chatwoot message
does in a worker: tenancy, config, hub routing, the crew built once per domain, agent state, tools
behind the DataProxy. The store is the embedded one, in memory; the model is the domain's (the
offline model when none is configured). ``--verbose`` shows the route decision and the tool calls.
``--phone``, ``--email`` and ``--verified`` say who the customer is (as Chatwoot's contact would),
``--channel`` which channel the messages come from, and ``--now`` pins the turn's clock.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from chatwootai.cli.app import app
from chatwootai.config.errors import ConfigError
from chatwootai.config.registry import DomainNotFoundError
from chatwootai.hub import RoutingConfigError
from chatwootai.llm import ModelConfigError
from chatwootai.settings import Settings
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.system import ChatwootAISystem
from chatwootai.turn import Customer, IncomingMessage, TurnOutcome

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
    customer: Customer | None = None,
    channel: str = "terminal",
    now: datetime | None = None,
) -> None:
    """Read messages from `inputs` and write replies to `output` until EOF or "sair".

    `now` (local time of the domain when naive) pins the clock of every turn.
    """
    await system.domains.set_conversation_domain(CONVERSATION, domain)
    config = await system.registry.get_domain_config(domain)
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=_zone(config.timezone))
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
        message = IncomingMessage(
            text=text, channel=channel, customer=customer or Customer(), now=now
        )
        outcome = await system.process_message(message, CONVERSATION, channel)
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


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


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


async def _chat(
    settings: Settings,
    domain: str,
    verbose: bool,
    customer: Customer,
    channel: str,
    now: datetime | None,
) -> None:
    store = EmbeddedStore(":memory:", prefix=settings.redis_prefix)
    system = await ChatwootAISystem.create(settings, store=store)
    try:
        await converse(
            system,
            domain,
            sys.stdin,
            sys.stdout,
            verbose=verbose,
            customer=customer,
            channel=channel,
            now=now,
        )
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
    phone: Annotated[
        str | None, typer.Option("--phone", help="The customer's phone, as Chatwoot's contact.")
    ] = None,
    email: Annotated[
        str | None, typer.Option("--email", help="The customer's e-mail, as Chatwoot's contact.")
    ] = None,
    verified: Annotated[
        bool,
        typer.Option(
            "--verified", help="The contact's identity is verified (Chatwoot's HMAC check)."
        ),
    ] = False,
    channel: Annotated[
        str,
        typer.Option(
            "--channel", help="The channel of the messages (whatsapp, webwidget, email, ...)."
        ),
    ] = "terminal",
    now: Annotated[
        datetime | None,
        typer.Option(
            "--now",
            help="Pin the clock, e.g. 2026-12-03T10:00 (local time of the domain).",
            formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        ),
    ] = None,
) -> None:
    """Talk to a domain's agents in the terminal (offline model unless an LLM is configured)."""
    settings = Settings()
    if domains_dir is not None:
        settings = settings.model_copy(update={"domains_dir": domains_dir})
    customer = Customer(id="terminal", phone=phone, email=email, verified=verified)
    typer.echo(f"Conversando com o domínio {domain!r}. Digite 'sair' para terminar.")
    try:
        asyncio.run(_chat(settings, domain, verbose, customer, channel.lower(), now))
    except (ConfigError, DomainNotFoundError, ModelConfigError, RoutingConfigError) as exc:
        typer.echo(f"erro: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("")
