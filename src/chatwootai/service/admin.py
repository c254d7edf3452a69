"""The admin API (bearer ``ADMIN_TOKEN``): domains of conversations, domain list, reloads and
outcomes.

A tenant's console token (``console_token_env`` in ``tenants.yaml``) opens the same routes
limited to its own domains: another tenant's domain or conversation answers 404 as if it did
not exist, and the active domain (every tenant's fallback) is the admin's alone (403). With no
token configured at all the admin API is off: every admin route answers 404. The OpenAPI
document of the whole service is one of its routes (``GET /api/admin/openapi.json``).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatwootai.config.errors import ConfigError
from chatwootai.config.registry import DomainNotFoundError
from chatwootai.console import queries
from chatwootai.console.principal import Principal, Tokens
from chatwootai.outcomes import MAX_REPORT_DAYS, OutcomeRangeError, OutcomeReport, read_report
from chatwootai.service.openapi import openapi_document
from chatwootai.store import keys

if TYPE_CHECKING:
    from chatwootai.service.context import Service

log = logging.getLogger(__name__)

CONVERSATION_KEY = r"^\d+:\d+(@[0-9a-f]{8})?$"


class AdminAuthError(HTTPException):
    """A missing or wrong admin token."""


def tokens_of(service: Service) -> Tokens:
    """The admin token and the tenants' console tokens in force."""
    return Tokens(service.settings, service.system.domains.tenants)


def require_admin(request: Request) -> None:
    """Let the request through with the admin token or a tenant's console token (404 when none
    is configured); the caller is kept as ``request.state.principal``."""
    service: Service = request.app.state.service
    tokens = tokens_of(service)
    if not tokens.any:
        raise HTTPException(status_code=404, detail="Not Found")
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    principal = tokens.principal(value) if scheme.lower() == "bearer" and value else None
    if principal is None:
        raise AdminAuthError(
            status_code=401,
            detail="admin token missing or wrong: send 'Authorization: Bearer <ADMIN_TOKEN>' "
            "(or a tenant's console token)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.principal = principal


def principal_of(request: Request) -> Principal:
    """The caller let through by :func:`require_admin`."""
    principal: Principal = request.state.principal
    return principal


router = APIRouter(prefix="/api/admin", dependencies=[Depends(require_admin)], tags=["admin"])


class DomainChange(BaseModel):
    """Body of ``POST /api/admin/domain``."""

    model_config = ConfigDict(extra="forbid")

    domain: str = Field(min_length=1, max_length=100)
    conversation_id: str | None = Field(default=None, pattern=CONVERSATION_KEY)
    """The conversation key ``"{account_id}:{display_id}"``; without it, the active domain."""


class AdminFailure(BaseModel):
    """The answer to an admin call that could not be done: what was wrong."""

    success: Literal[False] = False
    error: str
    issues: list[str] | None = Field(
        default=None, description="Each configuration error, as `file:line:column: message`."
    )


class AdminDone(BaseModel):
    """The answer to an admin change that was made."""

    success: Literal[True] = True
    message: str


class DomainStatus(BaseModel):
    """One domain of ``GET /api/admin/domains``."""

    name: str
    status: Literal["valid", "invalid"]
    parents: list[str] | None = Field(default=None, description="Its `extends`, when valid.")
    abstract: bool | None = Field(default=None, description="A base never served, when valid.")
    error: str | None = Field(default=None, description="Every configuration error, if invalid.")
    errors: list[str] | None = Field(
        default=None, description="Each error as `file:line:column: message`, as `validate`."
    )
    warnings: list[str] | None = None
    model: str | None = Field(default=None, description="The model its turns use.")
    crews: list[str] | None = None
    agents: list[str] | None = None
    tools: list[str] | None = None
    serving_previous: bool | None = Field(
        default=None, description="Its files are invalid; the last valid config is still served."
    )


class DomainList(BaseModel):
    """Body of ``GET /api/admin/domains``."""

    success: Literal[True] = True
    domains: list[DomainStatus]


class AgentSummary(BaseModel):
    """An agent's state in a conversation."""

    messages: int = Field(description="Messages kept in its history.")
    slots: dict[str, Any] = Field(description="What it remembers (e.g. the chosen product).")


class ConversationSummary(BaseModel):
    """Body of ``GET /api/admin/conversations/{conversation_id}``."""

    model_config = ConfigDict(extra="allow")

    success: Literal[True] = True
    conversation_id: str
    domain: str | None = Field(description="The domain answering it; null when none can.")
    crew: str | None = None
    in_flow: bool | None = None
    paused: bool | None = Field(default=None, description="Whether a human took it over.")
    paused_reason: str | None = None
    agents: dict[str, AgentSummary] | None = None
    pending_messages: int = Field(description="Customer messages waiting for a turn.")
    error: str | None = Field(default=None, description="Why its domain cannot be read.")


class AdminAuthFailure(BaseModel):
    """A missing or wrong token (401), or the admin API switched off (404, no ADMIN_TOKEN)."""

    detail: str


ANSWERS: dict[int | str, dict[str, Any]] = {
    401: {"model": AdminAuthFailure, "description": "Missing or wrong admin token."},
    404: {
        "model": AdminAuthFailure | AdminFailure,
        "description": "The admin API is off (no ADMIN_TOKEN set), or no such domain.",
    },
    422: {"model": AdminFailure, "description": "A body or an id that is not valid."},
}
"""Error answers every admin route may give."""


def _fail(error: str, code: int = 400) -> JSONResponse:
    return JSONResponse({"success": False, "error": error}, status_code=code)


@router.post(
    "/domain",
    summary="Set the domain of a conversation, or the active domain",
    response_model=AdminDone,
    responses={**ANSWERS, 400: {"model": AdminFailure, "description": "Body or domain refused."}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": DomainChange.model_json_schema()}},
        }
    },
)
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
    principal = principal_of(request)
    if not principal.admin:
        if change.conversation_id is None:
            return _fail("only the admin token sets the active domain", 403)
        if not principal.sees(change.domain):
            return _fail(f"unknown domain {change.domain!r}", 404)
        current = await _domain_of(service, change.conversation_id)
        if not principal.sees(current):
            return _fail(f"no conversation {change.conversation_id}", 404)
    try:
        if change.conversation_id is None:
            await domains.set_active_domain(change.domain)
            message = f"active domain set to {change.domain}"
        else:
            await domains.set_conversation_domain(change.conversation_id, change.domain)
            message = f"conversation {change.conversation_id} now served by {change.domain}"
    except DomainNotFoundError as exc:
        return _fail(str(exc))
    except ConfigError as exc:  # it exists but its files are not valid: nothing changes
        return _fail(f"domain {change.domain!r} is not valid; nothing changed:\n{exc}")
    log.info("admin: %s", message)
    return JSONResponse({"success": True, "message": message})


@router.get(
    "/domains",
    summary="List the domains and whether each is valid",
    response_model=DomainList,
    responses=ANSWERS,
)
async def list_domains(request: Request) -> JSONResponse:
    """Every domain checked from its files: valid or its errors, parents, crews, agents, tools."""
    service: Service = request.app.state.service
    domains: list[dict[str, Any]] = []
    for entry in await queries.domains(service, principal_of(request)):
        item: dict[str, Any] = {
            "name": entry["name"],
            "status": entry["status"],
            "errors": entry["errors"],
            "warnings": entry["warnings"],
            "serving_previous": entry["serving_previous"],
        }
        if entry["status"] == "invalid":
            item["error"] = "\n".join(entry["errors"])
        if "parents" in entry:
            item.update(
                parents=entry["parents"],
                abstract=entry["abstract"],
                model=entry["model"],
                crews=[crew["id"] for crew in entry["crews"]],
                agents=[agent["id"] for agent in entry["agents"]],
                tools=[tool["id"] for tool in entry["tools"]],
            )
        domains.append(item)
    return JSONResponse({"success": True, "domains": domains})


@router.post(
    "/domains/{name}/reload",
    summary="Reload a domain from its files (kept as it was if they are not valid)",
    response_model=AdminDone,
    responses={
        **ANSWERS,
        422: {
            "model": AdminFailure,
            "description": "The files are not valid: the old config stays.",
        },
    },
)
async def reload_domain(
    name: Annotated[str, Path(description="A domain folder's name, e.g. `cosmetics`.")],
    request: Request,
) -> JSONResponse:
    """Reload a domain from its YAML files; the old config stays if the new one is invalid."""
    service: Service = request.app.state.service
    registry = service.system.registry
    principal = principal_of(request)
    if name not in registry.names() or not principal.sees(name):
        known = ", ".join(principal.visible(registry.names()))
        return _fail(f"unknown domain {name!r}; known: {known}", 404)
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


@router.get(
    "/conversations/{conversation_id}",
    summary="Domain, crew, agent state and pending messages of a conversation",
    response_model=ConversationSummary,
    responses=ANSWERS,
)
async def conversation(
    conversation_id: Annotated[
        str, Path(description="The conversation key `{account_id}:{display_id}`, e.g. `3:417`.")
    ],
    request: Request,
) -> JSONResponse:
    """Domain, crew, state and pending messages of a conversation."""
    service: Service = request.app.state.service
    try:
        keys.parse_conversation_key(conversation_id)
    except keys.ConversationKeyError as exc:
        return _fail(str(exc), 422)
    summary = dict(await service.system.conversation_summary(conversation_id))
    if not principal_of(request).sees(summary.get("domain")):
        return _fail(f"no conversation {conversation_id}", 404)
    pending = await service.pending.peek(conversation_id)
    summary["pending_messages"] = len(pending)
    return JSONResponse({"success": True, "conversation_id": conversation_id, **summary})


async def _domain_of(service: Service, conversation_id: str) -> str | None:
    """The domain answering a conversation now, or None when none can."""
    summary = await service.system.conversation_summary(conversation_id)
    domain = summary.get("domain")
    return domain if isinstance(domain, str) else None


def _date(value: str | None, name: str, default: date) -> date:
    if value is None or value == "":
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise OutcomeRangeError(f"'{name}' must be a date YYYY-MM-DD, not {value[:40]!r}") from None


@router.get(
    "/outcomes",
    summary="A domain's outcomes per day: turns, handoffs, tokens, cost, turn times",
    response_model=OutcomeReport,
    responses={
        **ANSWERS,
        400: {"model": AdminFailure, "description": "A bad date, or 'to' before 'from'."},
        422: {"model": AdminFailure, "description": f"More than {MAX_REPORT_DAYS} days."},
    },
)
async def outcomes(
    request: Request,
    domain: Annotated[str | None, Query(description="The domain, e.g. `cosmetics`.")] = None,
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            description="First day `YYYY-MM-DD`, in the domain's timezone (default: `to` "
            "less 29 days).",
        ),
    ] = None,
    to: Annotated[
        str | None, Query(description="Last day `YYYY-MM-DD`, included (default: today).")
    ] = None,
) -> JSONResponse:
    """Each day's counts of a domain from `from` to `to` (days without turns: zeros), and totals.

    Days are the domain's local days; `turn_ms_p50`/`turn_ms_p95` are estimated from a
    histogram (null without turns); `cost_usd` leaves out turns whose model has no known price
    (`turns_cost_unknown`).
    """
    service: Service = request.app.state.service
    system = service.system
    if not domain:
        return _fail("give the domain: /api/admin/outcomes?domain=cosmetics&from=...&to=...")
    principal = principal_of(request)
    if domain not in system.registry.names() or not principal.sees(domain):
        known = ", ".join(principal.visible(system.registry.names()))
        return _fail(f"unknown domain {domain[:100]!r}; known: {known}", 404)
    try:
        end = _date(to, "to", datetime.now(UTC).date())
        start = _date(from_, "from", end - timedelta(days=29))
    except OutcomeRangeError as exc:
        return _fail(str(exc))
    if (end - start).days + 1 > MAX_REPORT_DAYS:
        return _fail(
            f"the range spans {(end - start).days + 1} days; at most {MAX_REPORT_DAYS} per request",
            422,
        )
    try:
        report = await read_report(
            system.store,
            domain,
            start,
            end,
            abandoned_after_s=system.settings.abandoned_after_s,
        )
    except OutcomeRangeError as exc:
        return _fail(str(exc))
    return JSONResponse(report.model_dump(mode="json"))


@router.get("/openapi.json", include_in_schema=False)
async def openapi(request: Request) -> JSONResponse:
    """The OpenAPI 3 document of the webhook, the admin API and the health routes."""
    return JSONResponse(openapi_document(request.app))
