"""The admin API (bearer ``ADMIN_TOKEN``): domains of conversations, domain list and reloads.

With no ``ADMIN_TOKEN`` set the admin API is off: every admin route answers 404.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatwootai.config.registry import DomainNotFoundError
from chatwootai.store import keys

if TYPE_CHECKING:
    from chatwootai.service.context import Service

log = logging.getLogger(__name__)

CONVERSATION_KEY = r"^\d+:\d+(@[0-9a-f]{8})?$"


class AdminAuthError(HTTPException):
    """A missing or wrong admin token."""


def require_admin(request: Request) -> None:
    """Let the request through only with the right bearer token (404 when the API is off)."""
    service: Service = request.app.state.service
    token = service.settings.admin_token
    expected = token.get_secret_value() if token is not None else ""
    if not expected:
        raise HTTPException(status_code=404, detail="Not Found")
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.encode(), expected.encode()):
        raise AdminAuthError(
            status_code=401,
            detail="admin token missing or wrong: send 'Authorization: Bearer <ADMIN_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


router = APIRouter(prefix="/api/admin", dependencies=[Depends(require_admin)])


class DomainChange(BaseModel):
    """Body of ``POST /api/admin/domain``."""

    model_config = ConfigDict(extra="forbid")

    domain: str = Field(min_length=1, max_length=100)
    conversation_id: str | None = Field(default=None, pattern=CONVERSATION_KEY)
    """The conversation key ``"{account_id}:{display_id}"``; without it, the active domain."""


def _fail(error: str, code: int = 400) -> JSONResponse:
    return JSONResponse({"success": False, "error": error}, status_code=code)


@router.post("/domain")
async def set_domain(request: Request) -> JSONResponse:
    """Set a conversation's domain, or the global active domain."""
    service: Service = request.app.state.service
    try:
        data = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _fail('body is not JSON; send {"domain": ..., "conversation_id": "3:417"}')
    try:
        change = DomainChange.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        return _fail(f"invalid body: {problems}", 422)
    domains = service.system.domains
    try:
        if change.conversation_id is None:
            await domains.set_active_domain(change.domain)
            message = f"active domain set to {change.domain}"
        else:
            await domains.set_conversation_domain(change.conversation_id, change.domain)
            message = f"conversation {change.conversation_id} now served by {change.domain}"
    except DomainNotFoundError as exc:
        return _fail(str(exc))
    log.info("admin: %s", message)
    return JSONResponse({"success": True, "message": message})


@router.get("/domains")
async def list_domains(request: Request) -> JSONResponse:
    """Every domain with its parents and whether its config is valid."""
    service: Service = request.app.state.service
    registry = service.system.registry
    domains: list[dict[str, Any]] = []
    for name in registry.names():
        entry: dict[str, Any] = {"name": name}
        try:
            config = await registry.get_domain_config(name, abstract_ok=True)
        except Exception as exc:
            entry.update(status="invalid", error=str(exc))
        else:
            entry.update(status="valid", parents=list(config.extends), abstract=config.abstract)
        domains.append(entry)
    return JSONResponse({"success": True, "domains": domains})


@router.post("/domains/{name}/reload")
async def reload_domain(name: str, request: Request) -> JSONResponse:
    """Reload a domain from its YAML files; the old config stays if the new one is invalid."""
    service: Service = request.app.state.service
    registry = service.system.registry
    if name not in registry.names():
        return _fail(f"unknown domain {name!r}; known: {', '.join(registry.names())}", 404)
    issues = await registry.update_domain_configuration(name)
    if issues:
        return JSONResponse(
            {
                "success": False,
                "error": f"{name} is not valid; the previous config is kept",
                "issues": [str(issue) for issue in issues],
            },
            status_code=422,
        )
    return JSONResponse({"success": True, "message": f"{name} reloaded"})


@router.get("/conversations/{conversation_id}")
async def conversation(conversation_id: str, request: Request) -> JSONResponse:
    """Domain, crew, state and pending messages of a conversation."""
    service: Service = request.app.state.service
    try:
        keys.parse_conversation_key(conversation_id)
    except keys.ConversationKeyError as exc:
        return _fail(str(exc), 422)
    summary = dict(await service.system.conversation_summary(conversation_id))
    pending = await service.pending.peek(conversation_id)
    summary["pending_messages"] = len(pending)
    return JSONResponse({"success": True, "conversation_id": conversation_id, **summary})
