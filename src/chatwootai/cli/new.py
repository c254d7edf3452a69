"""The `new` command: scaffold a domain that validates at once, with data files and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from chatwootai.cli.app import app
from chatwootai.scaffold import ScaffoldError, create_domain
from chatwootai.settings import Settings


@app.command("new")
def new(
    domain: Annotated[str, typer.Argument(help="Name of the new domain (its directory).")],
    extends: Annotated[
        str, typer.Option("--extends", metavar="PARENT", help="The domain it extends.")
    ] = "_base",
    company: Annotated[
        str | None, typer.Option("--company", help="The business's name (default: from DOMAIN).")
    ] = None,
    domains_dir: Annotated[
        Path | None,
        typer.Option("--domains-dir", help="Domains directory (default: CHATWOOTAI_DOMAINS_DIR)."),
    ] = None,
) -> None:
    """Create domains/DOMAIN: domain.yaml, data files and conversation tests, ready to run."""
    try:
        settings = Settings()
    except ValidationError as exc:
        typer.echo(f"error: invalid environment settings: {exc}", err=True)
        raise typer.Exit(1) from None
    directory = domains_dir or settings.domains_dir
    try:
        scaffold = create_domain(
            directory,
            domain,
            extends,
            company=company,
            agent_packages=tuple(settings.agent_packages),
        )
    except ScaffoldError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for note in scaffold.notes:
        typer.echo(note)
    typer.echo(f"Created {scaffold.directory} (extends {extends}):")
    for file in scaffold.files:
        if file.is_relative_to(scaffold.directory):
            typer.echo(f"  {file.relative_to(scaffold.directory)}")
    flag = "" if domains_dir is None else f" --domains-dir {domains_dir}"
    typer.echo("Next:")
    typer.echo(f"  chatwootai validate {domain}{flag}    # the domain loads (it does already)")
    typer.echo(f"  chatwootai test {domain}{flag}        # its conversation tests pass")
    typer.echo(f"  chatwootai chat {domain}{flag}        # talk to it")
    typer.echo(
        "Then replace the TROQUE lines and the example data with your own (docs/first-domain.md)."
    )
