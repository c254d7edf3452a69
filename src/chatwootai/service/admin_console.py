"""The admin API routes behind the console: who am I, a domain, conversations, the playground.

Same token as the rest of the admin API (``service/admin.py``): the admin sees everything, a
tenant's console token only its own domains and their conversations (anything else is 404).
The console's pages read through the same functions (:mod:`chatwootai.console.queries`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatwootai.config.errors import ConfigError
from chatwootai.config.registry import DomainNotFoundError
from chatwootai.console import queries
from chatwootai.console.playground import Playground, PlaygroundError, PlaygroundMessage
from chatwootai.service.admin import (
    ANSWERS,
    AdminDone,
    AdminFailure,
    principal_of,
    require_admin,
)

if TYPE_CHECKING:
    from chatwootai.service.context import Service

router = APIRouter(prefix="/api/admin", dependencies=[Depends(require_admin)], tags=["admin"])

CONVERSATION = Annotated[
    str, Path(description="The conversation key `{account_id}:{display_id}`, e.g. `3:417`.")
]
PLAYGROUND_KEY = r"^playground:[0-9a-f]{12}$"


class WhoAmI(BaseModel):
    """Body of ``GET /api/admin/session``: the caller, never its token."""

    success: Literal[True] = True
    principal: str = Field(description="`admin`, or the tenant token's variable name.")
    admin: bool
    domains: list[str] | None = Field(description="The domains it sees (null: every one).")


class CrewPart(BaseModel):
    """A crew of a domain."""

    id: str
    name: str
    process: str
    agents: list[str]
    manager: str | None = None


class AgentPart(BaseModel):
    """An agent of a domain."""

    id: str
    role: str
    tools: list[str]


class ToolPart(BaseModel):
    """A tool of a domain."""

    id: str
    kind: str


class DomainDetail(BaseModel):
    """Body of ``GET /api/admin/domains/{name}``: the domain as its files say it now."""

    success: Literal[True] = True
    name: str
    status: Literal["valid", "invalid"]
    errors: list[str] = Field(description="Each error as `file:line:column: message`.")
    warnings: list[str]
    parents: list[str] | None = None
    abstract: bool | None = None
    description: str | None = None
    model: str | None = Field(default=None, description="The model its turns use.")
    crews: list[CrewPart] | None = None
    agents: list[AgentPart] | None = None
    tools: list[ToolPart] | None = None
    served_version: int | None = Field(
        default=None, description="How many times this process swapped its config in."
    )
    serving_previous: bool = Field(
        description="The files are invalid and the last valid config is still served."
    )
    explain: str | None = Field(
        default=None,
        description="The effective config with each value's file:line (`validate --explain`).",
    )


class ConversationRowModel(BaseModel):
    """One conversation of ``GET /api/admin/conversations``."""

    conversation_id: str
    domain: str
    crew: str | None
    last_activity: float = Field(description="Unix time of its last turn.")
    last_message: str
    last_reply: str
    paused: bool
    paused_reason: str | None
    handed_off: bool


class ConversationList(BaseModel):
    """Body of ``GET /api/admin/conversations``: newest first."""

    success: Literal[True] = True
    conversations: list[ConversationRowModel]
    total: int = Field(description="Conversations indexed in the domains asked (unfiltered).")
    offset: int
    more: bool
    next_before: float | None = Field(
        description="Pass as `before` for the next page (null on the last page)."
    )


class ToolCallTrace(BaseModel):
    """A tool call of a turn."""

    agent: str
    tool: str
    args: Any
    ok: bool
    error: str | None = None
    result: str | None = Field(default=None, description="What the tool returned (cut).")


class HandoffTrace(BaseModel):
    """Why a turn handed the conversation to a human."""

    reason: str
    requested_by: str


class TurnTrace(BaseModel):
    """One turn as the bot saw it, and how its reply was reached."""

    model_config = ConfigDict(extra="allow")

    at: float
    customer: str
    channel: str
    reply: str
    domain: str
    crew: str
    route_method: str = Field(description="Routing layer: rule, classifier, llm, sticky...")
    route_score: float
    tool_calls: list[ToolCallTrace]
    llm_requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None = Field(description="Estimate; null when the price is unknown.")
    turn_ms: float
    fallback: bool
    handoff: HandoffTrace | None


class Transcript(BaseModel):
    """Body of ``GET .../transcript``: the turns kept (as long as the conversation's state)."""

    success: Literal[True] = True
    conversation_id: str
    domain: str | None
    transcript: list[TurnTrace]


class PlaygroundTurn(BaseModel):
    """Body of ``POST /api/admin/playground/turns``: a customer message to a domain."""

    model_config = ConfigDict(extra="forbid")

    domain: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=4000)
    channel: str = Field(
        default="whatsapp",
        pattern=r"^(whatsapp|webwidget|email|sms|telegram|instagram|facebook|api)$",
    )
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    verified: bool = False
    conversation_id: str | None = Field(
        default=None,
        pattern=PLAYGROUND_KEY,
        description="Continue this throw-away conversation; without it, a new one.",
    )


class PlaygroundAnswer(BaseModel):
    """The reply to a playground message and its trace."""

    success: Literal[True] = True
    conversation_id: str
    turn: TurnTrace


def _fail(error: str, code: int = 400, issues: list[str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"success": False, "error": error}
    if issues is not None:
        body["issues"] = issues
    return JSONResponse(body, status_code=code)


def _count(value: str | None, name: str, default: int, low: int, high: int) -> int:
    """A whole number query parameter within bounds (QueryError otherwise)."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise queries.QueryError(f"{name} must be a whole number, not {value[:40]!r}") from None
    if not low <= number <= high:
        raise queries.QueryError(f"{name} must be from {low} to {high}")
    return number


def _moment(value: str | None) -> float | None:
    """A Unix time query parameter (QueryError otherwise)."""
    if value is None or value == "":
        return None
    try:
        moment = float(value)
    except ValueError:
        raise queries.QueryError(f"before must be a Unix time, not {value[:40]!r}") from None
    if moment != moment or moment in (float("inf"), float("-inf")):
        raise queries.QueryError("before must be a finite Unix time")
    return moment


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def playground_of(request: Request) -> Playground:
    """The app's playground (built on first use, closed with the app)."""
    found: Playground | None = getattr(request.app.state, "playground", None)
    if found is None:
        service = _service(request)
        found = Playground(service.settings, service.system.registry)
        request.app.state.playground = found
    return found


async def _body(request: Request, model: type[BaseModel]) -> BaseModel | JSONResponse:
    try:
        data = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _fail("body is not JSON")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        return _fail(f"invalid body: {problems}", 422)


@router.get(
    "/session",
    summary="Who the token is and which domains it sees",
    response_model=WhoAmI,
    responses=ANSWERS,
)
async def session(request: Request) -> JSONResponse:
    """The caller of this token: the admin, or a tenant and its domains."""
    return JSONResponse({"success": True, **principal_of(request).public()})


@router.get(
    "/domains/{name}",
    summary="A domain as its files say it: errors, parents, crews, agents, tools, provenance",
    response_model=DomainDetail,
    responses=ANSWERS,
)
async def domain_detail(
    name: Annotated[str, Path(description="A domain folder's name, e.g. `cosmetics`.")],
    request: Request,
) -> JSONResponse:
    """A domain checked from its files, with its effective config and where each value is from."""
    found = await queries.domain(_service(request), principal_of(request), name)
    if found is None:
        return _fail(f"unknown domain {name!r}", 404)
    return JSONResponse({"success": True, **found})


@router.get(
    "/conversations",
    summary="The conversations the service has state for, newest first",
    response_model=ConversationList,
    responses=ANSWERS,
)
async def conversation_list(
    request: Request,
    domain: Annotated[str | None, Query(description="Only this domain's.")] = None,
    crew: Annotated[
        str | None, Query(description="Only those whose last turn ran this crew.")
    ] = None,
    state: Annotated[
        str, Query(description="any, active, paused (a human has it) or handed_off (by the bot).")
    ] = "any",
    offset: Annotated[
        str | None, Query(description="Conversations to skip (an integer, default 0).")
    ] = None,
    limit: Annotated[
        str | None, Query(description=f"Page size, 1 to 500 (default {queries.PAGE}).")
    ] = None,
    before: Annotated[
        str | None,
        Query(description="Only conversations last active before this Unix time (paging)."),
    ] = None,
) -> JSONResponse:
    """A page of conversations, filtered by domain, crew and state."""
    try:
        skip = _count(offset, "offset", 0, 0, 1_000_000)
        size = _count(limit, "limit", queries.PAGE, 1, 500)
        until = _moment(before)
        page = await queries.conversations(
            _service(request),
            principal_of(request),
            domain=domain,
            crew=crew,
            state=state,
            offset=skip,
            limit=size,
            before=until,
        )
    except queries.QueryError as exc:
        return _fail(str(exc), 422)
    return JSONResponse(page)


@router.get(
    "/conversations/{conversation_id}/transcript",
    summary="A conversation's turns as the bot saw them: messages, replies, tool calls",
    response_model=Transcript,
    responses=ANSWERS,
)
async def transcript(conversation_id: CONVERSATION, request: Request) -> JSONResponse:
    """The recorded turns of a conversation (kept as long as its state)."""
    try:
        found = await queries.conversation(
            _service(request), principal_of(request), conversation_id
        )
    except queries.QueryError as exc:
        return _fail(str(exc), 422)
    if found is None:
        return _fail(f"no conversation {conversation_id}", 404)
    return JSONResponse(
        {
            "success": True,
            "conversation_id": conversation_id,
            "domain": found.get("domain"),
            "transcript": found["transcript"],
        }
    )


@router.post(
    "/conversations/{conversation_id}/resume",
    summary="Give a paused conversation back to the bot",
    response_model=AdminDone,
    responses=ANSWERS,
)
async def resume(conversation_id: CONVERSATION, request: Request) -> JSONResponse:
    """Resume the bot in a conversation a human (or a handoff) paused."""
    try:
        done = await queries.resume(_service(request), principal_of(request), conversation_id)
    except queries.QueryError as exc:
        return _fail(str(exc), 422)
    if done is None:
        return _fail(f"no conversation {conversation_id}", 404)
    return JSONResponse(done)


@router.post(
    "/playground/turns",
    summary="Say something to a domain as a customer, on a throw-away conversation",
    response_model=PlaygroundAnswer,
    responses={**ANSWERS, 400: {"model": AdminFailure, "description": "Body not JSON."}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": PlaygroundTurn.model_json_schema()}},
        }
    },
)
async def playground_turn(request: Request) -> JSONResponse:
    """One turn through the workers' pipeline, never touching Chatwoot; the reply and trace."""
    parsed = await _body(request, PlaygroundTurn)
    if isinstance(parsed, JSONResponse):
        return parsed
    assert isinstance(parsed, PlaygroundTurn)
    if not principal_of(request).sees(parsed.domain):
        return _fail(f"unknown domain {parsed.domain!r}", 404)
    playground = playground_of(request)
    if parsed.conversation_id is not None:
        domain, _ = await playground.transcript(parsed.conversation_id)
        if domain is not None and not principal_of(request).sees(domain):
            return _fail(f"no conversation {parsed.conversation_id}", 404)
    try:
        answer = await playground.turn(PlaygroundMessage(**parsed.model_dump()))
    except DomainNotFoundError as exc:
        return _fail(str(exc), 404)
    except (ConfigError, PlaygroundError) as exc:
        return _fail(str(exc), 422)
    return JSONResponse({"success": True, **answer})


@router.get(
    "/playground/{conversation_id}",
    summary="A playground conversation's turns with their traces",
    response_model=Transcript,
    responses=ANSWERS,
)
async def playground_transcript(
    conversation_id: Annotated[str, Path(description="A `playground:...` conversation id.")],
    request: Request,
) -> JSONResponse:
    """The turns of a throw-away conversation (gone when the service restarts)."""
    domain, turns = await playground_of(request).transcript(conversation_id)
    if domain is None or not principal_of(request).sees(domain):
        return _fail(f"no conversation {conversation_id}", 404)
    return JSONResponse(
        {"success": True, "conversation_id": conversation_id, "domain": domain, "transcript": turns}
    )
