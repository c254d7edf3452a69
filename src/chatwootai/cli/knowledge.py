"""The `knowledge sync` command: fetch and re-index the domains' documents and web pages."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from chatwootai.cli.app import app
from chatwootai.config.errors import ConfigError, did_you_mean
from chatwootai.config.loader import DomainLoader
from chatwootai.knowledge.library import DomainReport, Library, summary
from chatwootai.settings import Settings
from chatwootai.store.connection import open_store

knowledge_app = typer.Typer(
    help="Knowledge sources: documents and web pages of the domains.", no_args_is_help=True
)
app.add_typer(knowledge_app, name="knowledge")


@knowledge_app.command("sync")
def sync(
    domains: Annotated[
        list[str] | None, typer.Argument(help="Domains to sync (default: all served domains).")
    ] = None,
    domains_dir: Annotated[
        Path | None,
        typer.Option("--domains-dir", help="Domains directory (default: CHATWOOTAI_DOMAINS_DIR)."),
    ] = None,
    due: Annotated[
        bool, typer.Option("--due", help="Only sources due by their domain's sync_every_s.")
    ] = False,
) -> None:
    """Fetch and re-index what changed (by content hash); report pages, chunks and failures.

    Indexes go under CHATWOOTAI_DATA_DIR (and to Redis when configured), where the service finds
    them within a minute. A failed source keeps its last good index; the exit code is 1 when
    any source failed.
    """
    try:
        settings = Settings()
    except ValidationError as exc:
        typer.echo(f"error: invalid environment settings: {exc}", err=True)
        raise typer.Exit(1) from None
    directory = domains_dir or settings.domains_dir
    if not directory.is_dir():
        typer.echo(f"error: domains directory {directory} does not exist", err=True)
        raise typer.Exit(1)
    loader = DomainLoader(directory, agent_packages=settings.agent_packages)
    known = loader.names()
    names = list(domains or [n for n in known if not loader.is_abstract(n)])
    for name in names:
        if name not in known:
            suggestion = did_you_mean(name, known)
            hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
            typer.echo(f"error: no domain {name!r} in {directory}{hint}", err=True)
            raise typer.Exit(1)
    raise typer.Exit(asyncio.run(_sync(settings, loader, names, due)))


async def _sync(settings: Settings, loader: DomainLoader, names: list[str], due: bool) -> int:
    store = open_store(settings) if settings.redis_configured else None
    library = Library(
        settings.data_dir,
        store,
        allow_private_networks=settings.knowledge_allow_private_networks,
    )
    reports: list[DomainReport] = []
    failed = False
    try:
        for name in names:
            try:
                config = await asyncio.to_thread(loader.load, name)
            except ConfigError as exc:
                typer.echo(f"error: domain {name} does not load:\n{exc}", err=True)
                failed = True
                continue
            typer.echo(f"{name}:")
            report = await library.sync_domain(
                config, only_due=due, progress=lambda line: typer.echo(f"  {line}")
            )
            if not report.sources:
                typer.echo("  no document or web page sources")
            reports.append(report)
            failed = failed or bool(report.failed)
    finally:
        await library.aclose()
        if store is not None:
            await store.close()
    typer.echo(summary(reports))
    return 1 if failed else 0
