"""The `serve` and `worker` commands: the HTTP service and the queue workers."""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import typer

from chatwootai.cli.app import app
from chatwootai.config.errors import ConfigError
from chatwootai.config.loader import DomainLoader
from chatwootai.config.schema import LLMSettings
from chatwootai.service.pipeline import Pipeline
from chatwootai.service.startup_report import log_report, startup_report
from chatwootai.settings import Settings

SYSTEM_FACTORY_ENV = "CHATWOOTAI_SYSTEM_FACTORY"
DEFAULT_SYSTEM_FACTORY = "chatwootai.system:ChatwootAISystem.create"

SystemFactory = Callable[[Settings], Awaitable[Pipeline]]


class SystemFactoryError(Exception):
    """The pipeline factory named in CHATWOOTAI_SYSTEM_FACTORY cannot be imported."""


def system_factory() -> SystemFactory:
    """The coroutine that builds the pipeline (``module:attr``, from the environment if set)."""
    spec = os.environ.get(SYSTEM_FACTORY_ENV) or DEFAULT_SYSTEM_FACTORY
    module_name, _, attr = spec.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise SystemFactoryError(
            f"{SYSTEM_FACTORY_ENV}={spec!r} cannot be loaded ({exc}); use 'module:callable'"
        ) from exc
    factory: SystemFactory = target
    return factory


def check_tenants_file(settings: Settings) -> None:
    """Exit with the errors of a tenants.yaml the service cannot read or validate.

    Without a readable mapping the service cannot know which secret authenticates a tenant
    or which domain answers it, so it does not start; entries naming a domain that cannot
    answer only appear in the start-up report (their conversations go to humans).
    """
    try:
        DomainLoader(settings.domains_dir, agent_packages=settings.agent_packages).read_tenants()
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


PROVIDER_KEYS = {
    "openai": "OPENAI_API_KEY",
    "openai-chat": "OPENAI_API_KEY",
    "openai-responses": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "google-gla": "GEMINI_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "groq": "GROQ_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "cohere": "CO_API_KEY",
}
"""The variable each provider reads its key from when a domain names no ``llm.api_key_env``."""


def describe_model(llm: LLMSettings, settings: Settings) -> str:
    """The model a domain's turns use, and whether the key it needs is in the environment."""
    name = (settings.model_override or llm.model or "offline").strip()
    if name == "offline":
        return "offline (answers from the domain's knowledge and tools, no LLM)"
    provider = name.split(":", 1)[0]
    variable = llm.api_key_env
    served_elsewhere = llm.base_url is not None or (
        provider.startswith("openai") and bool(os.environ.get("OPENAI_BASE_URL"))
    )
    if variable is None and not served_elsewhere:
        variable = PROVIDER_KEYS.get(provider)
    if variable is not None and not os.environ.get(variable, "").strip():
        return f"{name} ({variable} is not set: its turns will fail)"
    return name


async def domain_models(system: Pipeline, settings: Settings) -> dict[str, str]:
    """Each served domain and the model it resolves to (see :func:`describe_model`)."""
    models: dict[str, str] = {}
    for name in system.registry.names():
        try:
            config = await system.registry.get_domain_config(name, abstract_ok=True)
        except Exception as exc:
            first = exc.issues[0] if isinstance(exc, ConfigError) and exc.issues else exc
            models[name] = f"not loaded ({first})"
            continue
        if not config.abstract:
            models[name] = describe_model(config.llm, settings)
    return models


def _next_steps(
    settings: Settings, host: str, port: int, models: Mapping[str, str] | None = None
) -> str:
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    lines = [
        "",
        f"ChatwootAI is listening on http://{host}:{port}",
        "",
        "Next steps:",
        "  1. Try a domain in the terminal:   chatwootai chat cosmetics",
        "  2. In Chatwoot, Settings → Bots → Add bot, set the outgoing URL to",
        f"        http://{shown}:{port}/webhooks/chatwoot",
        "     (from a Chatwoot in Docker use your host's address, and set",
        "      SAFE_FETCH_ALLOW_PRIVATE_NETWORK=true in Chatwoot for private addresses)",
        "  3. Give this service the bot's token and URL: CHATWOOT_BASE_URL, CHATWOOT_API_TOKEN,",
        "     and the bot's secret as CHATWOOT_WEBHOOK_SECRET.",
    ]
    if not settings.chatwoot_base_url or settings.chatwoot_api_token is None:
        lines.append(
            "  No CHATWOOT_BASE_URL / CHATWOOT_API_TOKEN yet: messages are received but replies "
            "cannot be posted."
        )
    if not settings.redis_configured:
        lines.append(
            f"  Running embedded: no REDIS_URL, data in {settings.data_dir}/, turns run in this "
            "process."
        )
    if models:
        lines.append("  Models per domain (CHATWOOTAI_MODEL replaces them all):")
        lines += [f"    {domain}: {model}" for domain, model in sorted(models.items())]
    lines.append(f"  Console: http://{shown}:{port}/console")
    lines.append("  Health: /healthz  Ready: /readyz  Metrics: /metrics")
    return "\n".join(lines) + "\n"


async def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from chatwootai.service.app import create_app, service_of

    system = await system_factory()(settings)
    application = create_app(settings, system)
    credentials = service_of(application).credentials
    log_report(await startup_report(system.registry, credentials))
    config = uvicorn.Config(
        application, host=host, port=port, log_config=None, access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    typer.echo(_next_steps(settings, host, port, await domain_models(system, settings)))
    await server.serve()


def with_console_token(settings: Settings) -> Settings:
    """`settings` with the local console token as admin token when no ADMIN_TOKEN is set."""
    from pydantic import SecretStr

    from chatwootai.console.local_token import LocalTokenError, local_token

    if settings.admin_token is not None and settings.admin_token.get_secret_value():
        return settings
    try:
        token, path = local_token(settings.data_dir)
    except LocalTokenError as exc:
        typer.echo(f"warning: {exc}; set ADMIN_TOKEN to use the console", err=True)
        return settings
    typer.echo(f"No ADMIN_TOKEN: the console and admin API take the token in {path}")
    return settings.model_copy(update={"admin_token": SecretStr(token)})


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to listen on (CHATWOOTAI_HOST)."),
    port: int | None = typer.Option(None, help="Port to listen on (CHATWOOTAI_PORT)."),
) -> None:
    """Run the HTTP service: Chatwoot webhook, admin API, health and metrics."""
    from chatwootai.service.logs import configure_logging

    settings = Settings()
    configure_logging(settings)
    check_tenants_file(settings)
    settings = with_console_token(settings)
    try:
        asyncio.run(_serve(settings, host or settings.host, port or settings.port))
    except (SystemFactoryError, ConfigError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        pass


@app.command()
def worker(
    metrics_port: int | None = typer.Option(
        None, help="Serve this worker's Prometheus metrics on this port."
    ),
) -> None:
    """Run a queue worker taking conversation turns (needs REDIS_URL; start as many as needed).

    A worker started while Redis is down waits for it (logged once) instead of exiting.
    """
    from prometheus_client import start_http_server

    from chatwootai.service.context import build_service
    from chatwootai.service.logs import configure_logging
    from chatwootai.service.metrics import Metrics
    from chatwootai.service.redis_wait import wait_for_redis_or_signal
    from chatwootai.service.worker import TurnRunner, build_worker

    settings = Settings()
    configure_logging(settings)
    if not settings.redis_configured:
        typer.echo(
            "error: no Redis configured (REDIS_URL or REDIS_HOST). Without Redis, "
            "`chatwootai serve` takes the turns itself; workers are for Redis deployments.",
            err=True,
        )
        raise typer.Exit(2)
    check_tenants_file(settings)
    metrics = Metrics(domains_labelled=settings.metrics_domains)
    if metrics_port is not None:
        start_http_server(metrics_port, registry=metrics.registry)
    factory = system_factory()

    async def make_runner() -> tuple[TurnRunner, Callable[[], Awaitable[None]]]:
        system = await factory(settings)
        await system.start()
        service = build_service(settings, system, in_process=False, metrics=metrics)
        log_report(await startup_report(system.registry, service.credentials))

        async def close() -> None:
            await service.close()
            await system.close()

        return service.runner, close

    if not wait_for_redis_or_signal(settings):
        return  # stopped (SIGTERM / Ctrl-C) before Redis answered: a clean exit
    build_worker(settings, make_runner).run()
