"""The HTTP app: webhook receiver, admin API, console, health and metrics, around one pipeline."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from chatwootai.config.schema import Tenants
from chatwootai.console import pages
from chatwootai.service import admin, admin_console, health, webhook
from chatwootai.service.context import Service, build_service
from chatwootai.service.pipeline import Pipeline
from chatwootai.service.replies import ClientFactory, default_client_factory
from chatwootai.settings import Settings

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    system: Pipeline,
    *,
    tenants: Tenants | None = None,
    client_factory: ClientFactory = default_client_factory,
    in_process: bool | None = None,
    manage_system: bool = True,
) -> FastAPI:
    """The FastAPI app of a deployment; its lifespan starts and stops the service (and system)."""
    service = build_service(
        settings,
        system,
        tenants=tenants,
        client_factory=client_factory,
        in_process=in_process,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage_system:
            await system.start()
        await service.start()
        backfill = asyncio.create_task(_index_older_conversations(service))
        try:
            yield
        finally:
            backfill.cancel()
            await asyncio.gather(backfill, return_exceptions=True)
            playground = getattr(app.state, "playground", None)
            if playground is not None:
                await playground.close()
            await service.close()
            if manage_system:
                await system.close()

    app = FastAPI(
        title="ChatwootAI",
        summary="Teams of AI agents behind Chatwoot inboxes.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # `/api/admin/conversations/` is no conversation: a 404, not a redirect to the list
        redirect_slashes=False,
    )
    app.state.service = service
    app.include_router(webhook.router)
    app.include_router(admin.router)
    app.include_router(admin_console.router)
    app.include_router(pages.router)
    app.include_router(health.router)
    return app


async def _index_older_conversations(service: Service) -> None:
    """Add the conversations kept before the console's index existed to it (once per store)."""
    activity = service.runner.activity
    if activity is None:
        return
    try:
        await activity.backfill(service.system)
    except Exception as exc:  # the console lists them from their next turn on
        log.warning("console: older conversations not indexed: %s", exc)


def service_of(app: FastAPI) -> Service:
    """The service behind an app made by :func:`create_app`."""
    service: Service = app.state.service
    return service
