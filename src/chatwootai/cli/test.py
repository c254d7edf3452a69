"""The `test` command: run the domains' conversation tests through the service's pipeline."""

from __future__ import annotations

import asyncio
import fnmatch
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from chatwootai.cli.app import app
from chatwootai.config.errors import ConfigError, ConfigIssue, did_you_mean
from chatwootai.config.loader import DomainLoader
from chatwootai.config.schema import LLMSettings
from chatwootai.convtest import report
from chatwootai.convtest.jsonschema import tests_schema_json
from chatwootai.convtest.judge import Judge
from chatwootai.convtest.loader import ConversationTestLoader, LoadedTest
from chatwootai.convtest.runner import CONFIGURED, OFFLINE, ConversationTestRunner
from chatwootai.hub import RoutingConfigError
from chatwootai.llm import ModelConfigError, ModelResolver
from chatwootai.settings import Settings


def selected(test: LoadedTest, patterns: list[str]) -> bool:
    """Whether `test` matches one of `patterns` (substring, or glob with * ? [), by name or tag."""
    if not patterns:
        return True
    names = [test.name, test.id, *test.test.tags]
    for pattern in patterns:
        wildcard = any(c in pattern for c in "*?[")
        for name in names:
            if wildcard and fnmatch.fnmatchcase(name.lower(), pattern.lower()):
                return True
            if not wildcard and pattern.lower() in name.lower():
                return True
    return False


def _print_issues(issues: list[ConfigIssue]) -> None:
    for issue in issues:
        typer.echo(f"error: {issue}", err=True)


def collect(loader: DomainLoader, names: list[str]) -> tuple[list[LoadedTest], bool]:
    """The tests of the domains `names`, and whether any domain or test file had errors."""
    tests = ConversationTestLoader(loader)
    known = loader.names()
    found: list[LoadedTest] = []
    failed = False
    for name in names:
        if name not in known:
            hint = did_you_mean(name, known)
            more = f" (did you mean {hint!r}?)" if hint else ""
            typer.echo(f"error: no domain {name!r} in {loader.domains_dir}{more}", err=True)
            failed = True
            continue
        try:
            config = loader.load(name)
            if config.abstract:
                typer.echo(
                    f"error: {name!r} is abstract: its tests run in the domains that extend it",
                    err=True,
                )
                failed = True
                continue
            found += tests.tests_for(name, config)
        except ConfigError as exc:
            _print_issues(exc.issues)
            typer.echo(f"FAIL {name}: {len(exc.issues)} error(s)", err=True)
            failed = True
    return found, failed


@app.command("test")
def test(
    domains: Annotated[
        list[str] | None, typer.Argument(help="Domains to test (default: every served domain).")
    ] = None,
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help="'offline' (the deterministic offline model), 'configured' (each domain's "
            "llm, or CHATWOOTAI_MODEL), or a model string such as openai:gpt-4o-mini.",
        ),
    ] = OFFLINE,
    keyword: Annotated[
        list[str] | None,
        typer.Option(
            "-k", metavar="PATTERN", help="Only tests whose name or tag contains PATTERN (glob)."
        ),
    ] = None,
    junit: Annotated[
        Path | None, typer.Option("--junit", metavar="FILE", help="Write JUnit XML to FILE.")
    ] = None,
    judge: Annotated[
        str | None,
        typer.Option(
            "--judge",
            metavar="MODEL",
            help="Check `says:` expectations with this LLM (labelled as its verdicts).",
        ),
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Tests run at once.")] = 4,
    list_only: Annotated[bool, typer.Option("--list", help="List the tests and exit.")] = False,
    schema: Annotated[
        bool,
        typer.Option(
            "--schema", help="Print the JSON Schema of test files (schema/tests.schema.json)."
        ),
    ] = False,
    domains_dir: Annotated[
        Path | None,
        typer.Option("--domains-dir", help="Domains directory (default: CHATWOOTAI_DOMAINS_DIR)."),
    ] = None,
) -> None:
    """Run conversation tests (domains/<name>/tests/*.yaml); exit 1 on any failure."""
    if schema:
        typer.echo(tests_schema_json(), nl=False)
        return
    try:
        settings = Settings()
    except ValidationError as exc:
        typer.echo(f"error: invalid environment settings: {exc}", err=True)
        raise typer.Exit(1) from None
    if domains_dir is not None:
        settings = settings.model_copy(update={"domains_dir": domains_dir})
    loader = DomainLoader(settings.domains_dir, agent_packages=settings.agent_packages)
    if not settings.domains_dir.is_dir():
        typer.echo(f"error: domains directory {settings.domains_dir} does not exist", err=True)
        raise typer.Exit(1)
    names = list(domains or [n for n in loader.names() if not loader.is_abstract(n)])
    tests, failed = collect(loader, names)
    tests = [t for t in tests if selected(t, keyword or [])]
    if list_only:
        for t in tests:
            suffix = f"  (skipped: {t.skip})" if t.skip else ""
            typer.echo(f"{t.name}  {t.where}{suffix}")
        raise typer.Exit(1 if failed else 0)
    if not tests:
        typer.echo("no tests to run" + (" (none matched -k)" if keyword else ""), err=True)
        raise typer.Exit(1)
    runner_judge = None
    if judge is not None:
        try:
            resolver = ModelResolver(settings)
            runner_judge = Judge(resolver.resolve(LLMSettings(model=judge)), judge)
        except ModelConfigError as exc:
            typer.echo(f"error: --judge: {exc}", err=True)
            raise typer.Exit(1) from None
    label = "offline model (deterministic)" if model == OFFLINE else model
    if model == CONFIGURED:
        label = "each domain's configured model"
    typer.echo(
        f"{len(tests)} conversation tests, {len({t.domain for t in tests})} domain(s), {label}"
        + (f", LLM judge {judge}" if judge else "")
    )
    runner = ConversationTestRunner(settings, model=model, jobs=jobs, judge=runner_judge)
    progress = report.Progress(sys.stdout, len(tests), sys.stdout.isatty())
    started = time.perf_counter()
    try:
        results = asyncio.run(runner.run(tests, progress))
    except (ConfigError, ModelConfigError, RoutingConfigError) as exc:
        progress.end()
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    progress.end()
    elapsed = time.perf_counter() - started
    bad = [r for r in results if r.status in ("failed", "error")]
    for result in bad:
        typer.echo("")
        typer.echo(report.describe_failure(result))
    for line in report.skipped(results):
        typer.echo(line)
    typer.echo("")
    typer.echo(report.summary(results, elapsed))
    if junit is not None:
        report.write_junit(junit, results)
        typer.echo(f"JUnit XML written to {junit}")
    raise typer.Exit(1 if bad or failed else 0)
