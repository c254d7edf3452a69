"""The `validate` and `schema` commands: check domain YAML, print the domain.yaml JSON Schema."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from chatwootai.cli.app import app
from chatwootai.config.errors import ConfigError, ConfigIssue, did_you_mean
from chatwootai.config.inheritance import is_domain_name
from chatwootai.config.jsonschema import domain_schema_json
from chatwootai.config.loader import TENANTS_FILE, DomainLoader
from chatwootai.config.schema import DomainConfig, Tenants
from chatwootai.service.credentials import Credentials
from chatwootai.service.startup_report import credential_findings
from chatwootai.settings import Settings

RUNTIME_MODULE = "chatwootai.agents.factory"
RUNTIME_MISSING = "runtime not available"

DryRun = Callable[[DomainConfig], list[str]]


def runtime_dry_run() -> DryRun | None:
    """`chatwootai.agents.factory.dry_run` if the runtime is installed, else None."""
    try:
        module = importlib.import_module(RUNTIME_MODULE)
    except ImportError:
        return None
    found = getattr(module, "dry_run", None)
    return found if callable(found) else None


def _print_issues(issues: list[ConfigIssue], label: str) -> None:
    for issue in issues:
        typer.echo(f"{label}: {issue}", err=label == "error")


@app.command("validate")
def validate(
    domains: Annotated[
        list[str] | None, typer.Argument(help="Domains to check (default: all).")
    ] = None,
    domains_dir: Annotated[
        Path | None,
        typer.Option("--domains-dir", help="Domains directory (default: CHATWOOTAI_DOMAINS_DIR)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Also build what would run (agents, crews).")
    ] = False,
    explain: Annotated[
        str | None,
        typer.Option("--explain", metavar="DOMAIN", help="Print a domain's effective config."),
    ] = None,
    env: Annotated[
        bool,
        typer.Option(
            "--env",
            help="Also report tenants whose secret or token variable is unset in this "
            "environment (what `serve` and `worker` report at start).",
        ),
    ] = False,
) -> None:
    """Check domain YAML and tenants.yaml; print every error; exit 1 when any."""
    try:
        settings = Settings()
    except ValidationError as exc:
        typer.echo(f"error: invalid environment settings: {exc}", err=True)
        raise typer.Exit(1) from None
    directory = domains_dir or settings.domains_dir
    loader = DomainLoader(directory, agent_packages=settings.agent_packages)
    if not directory.is_dir():
        typer.echo(f"error: domains directory {directory} does not exist", err=True)
        raise typer.Exit(1)
    if explain is not None:
        raise typer.Exit(_explain(loader, explain))
    known = loader.names()
    names = list(domains or known)
    failed = False
    configs: list[DomainConfig] = []
    invalid: set[str] = set()
    if not domains:
        _print_issues(loader.stray_folders(), "warning")
    for name in names:
        if name not in known:
            candidates = [k for k in known if k != name and is_domain_name(k)]
            suggestion = did_you_mean(name, candidates)
            hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
            typer.echo(f"error: no domain {name!r} in {directory}{hint}", err=True)
            failed = True
            continue
        try:
            loaded = loader.load_checked(name)
        except ConfigError as exc:
            _print_issues(exc.issues, "error")
            _print_issues(exc.warnings, "warning")
            typer.echo(f"FAIL {name}: {len(exc.issues)} error(s)", err=True)
            failed = True
            invalid.add(name)
            continue
        except Exception as exc:  # a bug, reported without a traceback; the others are checked
            typer.echo(
                f"error: {name}: could not be checked ({type(exc).__name__}: {exc}); this is a "
                "bug of chatwootai, please report it",
                err=True,
            )
            typer.echo(f"FAIL {name}: unexpected failure", err=True)
            failed = True
            invalid.add(name)
            continue
        _print_issues(loaded.warnings, "warning")
        kind = "abstract" if loaded.config.abstract else "served"
        config = loaded.config
        typer.echo(
            f"OK {name} ({kind}; {len(config.agents)} agents, {len(config.crews)} crews, "
            f"{len(config.tools)} tools)"
        )
        configs.append(config)
    failed = _tenants(loader, invalid, settings if env else None) or failed
    if dry_run:
        failed = _dry_run([c for c in configs if not c.abstract]) or failed
    raise typer.Exit(1 if failed else 0)


def _tenants(loader: DomainLoader, invalid: set[str], settings: Settings | None) -> bool:
    """Check tenants.yaml (and, given `settings`, its tenants' credentials); True on errors."""
    file = loader.domains_dir / TENANTS_FILE
    tenants = Tenants()
    if file.is_file():
        try:
            tenants = loader.load_tenants()
        except ConfigError as exc:
            _print_issues(exc.issues, "error")
            typer.echo(f"FAIL {TENANTS_FILE}: {len(exc.issues)} error(s)", err=True)
            return True
        for section, entries in (("accounts", tenants.accounts), ("inboxes", tenants.inboxes)):
            for key, entry in entries.items():
                if entry.domain in invalid:
                    typer.echo(
                        f"warning: {file}: {section}.{key}: domain {entry.domain!r} is not "
                        "valid (errors above): its conversations are handed to a human"
                    )
        typer.echo(
            f"OK {TENANTS_FILE} ({len(tenants.accounts)} accounts, {len(tenants.inboxes)} inboxes)"
        )
    if settings is not None:
        findings = credential_findings(Credentials(settings, tenants))
        for finding in findings:
            typer.echo(f"env: {finding}")
        if not findings:
            typer.echo("OK environment: every tenant's secret and token is set")
    return False


def _dry_run(configs: list[DomainConfig]) -> bool:
    """Build each domain with the runtime's dry_run; True when one fails."""
    build = runtime_dry_run()
    if build is None:
        typer.echo(RUNTIME_MISSING)
        return False
    failed = False
    for config in configs:
        try:
            lines = build(config)
        except Exception as exc:  # the runtime's own error, reported without a traceback
            typer.echo(f"error: {config.name}: dry run failed: {exc}", err=True)
            failed = True
            continue
        typer.echo(f"dry run {config.name}:")
        for line in lines:
            typer.echo(f"  {line}")
    return failed


def _explain(loader: DomainLoader, name: str) -> int:
    try:
        explanation = loader.explain(name)
    except ConfigError as exc:
        _print_issues(exc.issues, "error")
        return 1
    typer.echo(explanation.render(), nl=False)
    return 0


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of domain.yaml (committed as schema/domain.schema.json)."""
    typer.echo(domain_schema_json(), nl=False)
