"""Liveness, readiness and metrics endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from chatwootai.service.metrics import CONTENT_TYPE_LATEST

if TYPE_CHECKING:
    from chatwootai.service.context import Service

router = APIRouter()


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """The process is alive."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """503 unless the store answers and the domains are loaded."""
    service: Service = request.app.state.service
    checks: dict[str, str] = {}
    ok = True
    try:
        store_ok = await service.system.store.ping()
    except Exception:
        store_ok = False
    checks["store"] = "ok" if store_ok else "unreachable"
    ok = ok and store_ok
    try:
        ready, details = await service.system.ready()
    except Exception as exc:
        ready, details = False, {"system": f"error: {exc}"}
    checks.update(details)
    ok = ok and ready
    spooled = len(service.spool)
    if spooled:
        checks["spool"] = f"{spooled} messages waiting for the store"
    return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus metrics."""
    service: Service = request.app.state.service
    try:
        service.metrics.queue_depth.set(await service.queue.depth())
    except Exception:
        service.metrics.queue_depth.set(-1)
    return Response(service.metrics.render(), media_type=CONTENT_TYPE_LATEST)
