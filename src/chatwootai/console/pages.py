"""The console's pages under /console: server-rendered, autoescaped, with htmx for the small parts.

Each page reads through :mod:`chatwootai.console.queries` (what the JSON admin API gives the same
caller). Every POST carries the session's CSRF token (a form field, or the ``X-CSRF-Token``
header htmx sends); a missing or wrong one is refused with 403 and changes nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from chatwootai.config.errors import ConfigError
from chatwootai.config.registry import DomainNotFoundError
from chatwootai.console import overview, queries, session
from chatwootai.console.activity import STATES
from chatwootai.console.playground import CHANNELS, PlaygroundError, PlaygroundMessage
from chatwootai.service.admin import tokens_of
from chatwootai.service.admin_console import playground_of

if TYPE_CHECKING:
    from chatwootai.service.context import Service

log = logging.getLogger(__name__)

router = APIRouter(prefix="/console", include_in_schema=False)

templates = Environment(
    loader=PackageLoader("chatwootai.console", "templates"),
    autoescape=select_autoescape(["html"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(value: float | None) -> str:
    if not value:
        return "—"
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


templates.filters["when"] = _when
STATIC = resources.files("chatwootai.console") / "static"
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css"}
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
}


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _render(name: str, request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    html = templates.get_template(name).render(request=request, **context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _current(request: Request) -> session.Session | None:
    tokens = tokens_of(_service(request))
    return session.verify(request.cookies.get(session.COOKIE), tokens)


def _to_signin() -> RedirectResponse:
    return RedirectResponse("/console", status_code=303)


async def _form(request: Request) -> dict[str, str]:
    raw = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}


def _csrf_ok(request: Request, form: dict[str, str], expected: str) -> bool:
    given = form.get("csrf") or request.headers.get("x-csrf-token")
    return session.same(given, expected)


def _refused() -> HTMLResponse:
    return HTMLResponse(
        "<h1>403</h1><p>The form's CSRF token is missing or wrong: reload the page.</p>",
        status_code=403,
        headers=HEADERS,
    )


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


# -- static files -------------------------------------------------------------------------------


@router.get("/static/{name}")
async def static(name: str) -> Response:
    """htmx and the stylesheet, from the package."""
    suffix = name[name.rfind(".") :] if "." in name else ""
    entry = STATIC / name
    if "/" in name or suffix not in STATIC_TYPES or not entry.is_file():
        return Response("not found", status_code=404)
    return Response(
        entry.read_bytes(),
        media_type=STATIC_TYPES[suffix],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


# -- sign-in ------------------------------------------------------------------------------------


@router.get("")
@router.get("/")
async def signin_page(request: Request) -> Response:
    """The sign-in form, or the overview when signed in."""
    if _current(request) is not None:
        return RedirectResponse("/console/overview", status_code=303)
    return _signin(request)


def _signin(request: Request, error: str | None = None, status: int = 200) -> Response:
    nonce = session.signin_nonce()
    configured = tokens_of(_service(request)).any
    response = _render(
        "signin.html", request, status, csrf=nonce, error=error, configured=configured
    )
    response.set_cookie(
        session.SIGNIN_COOKIE,
        nonce,
        max_age=1800,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/console",
    )
    return response


@router.post("/sign-in")
async def signin(request: Request) -> Response:
    """Check the token; a session cookie for its principal."""
    form = await _form(request)
    expected = request.cookies.get(session.SIGNIN_COOKIE) or ""
    if not expected or not session.same(form.get("csrf"), expected):
        return _signin(request, "The form expired: try again.", 403)
    tokens = tokens_of(_service(request))
    principal = tokens.principal(form.get("token", "").strip())
    if principal is None:
        log.info("console: a sign-in with a wrong token")
        return _signin(request, "That token is not valid here.", 401)
    named = tokens.named(principal.name)
    assert named is not None
    response = RedirectResponse("/console/overview", status_code=303)
    response.set_cookie(
        session.COOKIE,
        session.issue(principal.name, named[0]),
        max_age=session.SESSION_S,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/console",
    )
    response.delete_cookie(session.SIGNIN_COOKIE, path="/console")
    log.info("console: %s signed in", principal.name)
    return response


@router.post("/sign-out")
async def signout(request: Request) -> Response:
    """Forget the session cookie."""
    current = _current(request)
    form = await _form(request)
    if current is not None and not _csrf_ok(request, form, current.csrf):
        return _refused()
    response = _to_signin()
    response.delete_cookie(session.COOKIE, path="/console")
    return response


# -- playground ---------------------------------------------------------------------------------


@router.get("/playground")
async def playground_page(request: Request) -> Response:
    """Pick a domain and chat with it as a customer."""
    current = _current(request)
    if current is None:
        return _to_signin()
    service = _service(request)
    names = [
        entry["name"]
        for entry in await queries.domains(service, current.principal)
        if entry["status"] == "valid" and not entry.get("abstract")
    ]
    params = request.query_params
    domain = params.get("domain") or (names[0] if names else "")
    conversation = params.get("conversation") or ""
    turns: list[dict[str, Any]] = []
    if conversation:
        found, turns = await playground_of(request).transcript(conversation)
        if found is None or not current.principal.sees(found):
            conversation, turns = "", []
        else:
            domain = found
    return _render(
        "playground.html",
        request,
        session=current,
        page="playground",
        domains=names,
        domain=domain,
        conversation=conversation,
        turns=turns,
        channels=CHANNELS,
        channel=params.get("channel") or "whatsapp",
    )


@router.post("/playground")
async def playground_say(request: Request) -> Response:
    """One customer message; the turn with its trace (htmx), or back to the page."""
    current = _current(request)
    if current is None:
        if request.headers.get("hx-request") == "true":  # the whole page goes to the sign-in
            return Response(status_code=204, headers={"HX-Redirect": "/console"})
        return _to_signin()
    form = await _form(request)
    if not _csrf_ok(request, form, current.csrf):
        return _refused()
    domain = form.get("domain", "")
    htmx = request.headers.get("hx-request") == "true"
    error = None
    answer: dict[str, Any] | None = None
    conversation = form.get("conversation_id") or None
    if not current.principal.sees(domain):
        error = f"unknown domain {domain!r}"
    else:
        playground = playground_of(request)
        if conversation is not None:
            found, _ = await playground.transcript(conversation)
            if found is not None and not current.principal.sees(found):
                conversation = None
        message = PlaygroundMessage(
            domain=domain,
            text=form.get("text", ""),
            channel=form.get("channel", "whatsapp"),
            phone=form.get("phone") or None,
            email=form.get("email") or None,
            verified=form.get("verified") in ("on", "true", "1"),
            conversation_id=conversation,
        )
        try:
            answer = await playground.turn(message)
        except (PlaygroundError, ConfigError, DomainNotFoundError) as exc:
            error = str(exc)
    if htmx:
        return _render(
            "_turn.html",
            request,
            turn=answer["turn"] if answer else None,
            conversation=answer["conversation_id"] if answer else conversation or "",
            error=error,
            oob=True,
        )
    query = {"domain": domain, "channel": form.get("channel", "whatsapp")}
    if answer is not None:
        query["conversation"] = answer["conversation_id"]
    return RedirectResponse(f"/console/playground?{urlencode(query)}", status_code=303)


# -- domains ------------------------------------------------------------------------------------


@router.get("/domains")
async def domains_page(request: Request) -> Response:
    """Every domain the user sees, with its validation state."""
    current = _current(request)
    if current is None:
        return _to_signin()
    entries = await queries.domains(_service(request), current.principal)
    return _render(
        "domains.html",
        request,
        session=current,
        page="domains",
        domains=entries,
        watching=_service(request).settings.watch,
    )


@router.get("/domains/{name}")
async def domain_page(request: Request, name: str) -> Response:
    """A domain: errors, parts and effective config with provenance."""
    current = _current(request)
    if current is None:
        return _to_signin()
    entry = await queries.domain(_service(request), current.principal, name)
    if entry is None:
        return _render(
            "missing.html", request, 404, session=current, page="domains", what=f"domain {name}"
        )
    return _render(
        "domain.html",
        request,
        session=current,
        page="domains",
        domain=entry,
        message=request.query_params.get("message"),
        issues=request.query_params.getlist("issue"),
    )


@router.post("/domains/{name}/reload")
async def domain_reload(request: Request, name: str) -> Response:
    """Reload a domain from its files (the old config stays if they are invalid)."""
    current = _current(request)
    if current is None:
        return _to_signin()
    form = await _form(request)
    if not _csrf_ok(request, form, current.csrf):
        return _refused()
    done = await queries.reload(_service(request), current.principal, name)
    if done is None:
        return _render(
            "missing.html", request, 404, session=current, page="domains", what=f"domain {name}"
        )
    query: list[tuple[str, str]] = [("message", done.get("message") or done.get("error", ""))]
    query += [("issue", issue) for issue in done.get("issues", [])]
    return RedirectResponse(f"/console/domains/{quote(name)}?{urlencode(query)}", status_code=303)


# -- conversations ------------------------------------------------------------------------------


@router.get("/conversations")
async def conversations_page(request: Request) -> Response:
    """The conversations the service has state for, newest first, filtered."""
    current = _current(request)
    if current is None:
        return _to_signin()
    params = request.query_params
    state = params.get("state") or "any"
    try:
        before = float(params.get("before") or "nan")
    except ValueError:
        before = float("nan")
    filters = {
        "domain": params.get("domain") or "",
        "crew": params.get("crew") or "",
        "state": state if state in STATES else "any",
    }
    service = _service(request)
    page = await queries.conversations(
        service,
        current.principal,
        domain=filters["domain"] or None,
        crew=filters["crew"] or None,
        state=filters["state"],
        before=before if before == before and abs(before) != float("inf") else None,
    )
    names = current.principal.visible(service.system.registry.names())
    crews: set[str] = set()
    for name in names:  # the crews of the configs held in memory (no file read)
        config = service.system.registry.cached(name)
        if config is not None:
            crews.update(config.crews)
    if filters["crew"]:
        crews.add(filters["crew"])
    return _render(
        "conversations.html",
        request,
        session=current,
        page="conversations",
        listing=page,
        filters=filters,
        domains=[n for n in names if not n.startswith("_")],
        crews=sorted(crews),
        states=STATES,
        paged=params.get("before") is not None,
        query=urlencode({k: v for k, v in filters.items() if v}),
    )


@router.get("/conversations/{conversation_id}")
async def conversation_page(request: Request, conversation_id: str) -> Response:
    """A conversation: state, domain, transcript; resume and change of domain."""
    current = _current(request)
    if current is None:
        return _to_signin()
    service = _service(request)
    try:
        found = await queries.conversation(service, current.principal, conversation_id)
    except queries.QueryError:
        found = None
    if found is None:
        return _render(
            "missing.html",
            request,
            404,
            session=current,
            page="conversations",
            what=f"conversation {conversation_id}",
        )
    names = current.principal.visible(service.system.registry.names())
    return _render(
        "conversation.html",
        request,
        session=current,
        page="conversations",
        conversation=found,
        domains=[n for n in names if not n.startswith("_")],
        message=request.query_params.get("message"),
    )


async def _conversation_action(request: Request, conversation_id: str, action: str) -> Response:
    current = _current(request)
    if current is None:
        return _to_signin()
    form = await _form(request)
    if not _csrf_ok(request, form, current.csrf):
        return _refused()
    service = _service(request)
    try:
        if action == "resume":
            done = await queries.resume(service, current.principal, conversation_id)
        else:
            done = await queries.change_domain(
                service, current.principal, conversation_id, form.get("domain", "")
            )
    except queries.QueryError as exc:
        done = {"success": False, "message": str(exc)}
    if done is None:
        return _render(
            "missing.html",
            request,
            404,
            session=current,
            page="conversations",
            what=f"conversation {conversation_id}",
        )
    query = urlencode({"message": done.get("message", "")})
    return RedirectResponse(
        f"/console/conversations/{quote(conversation_id)}?{query}", status_code=303
    )


@router.post("/conversations/{conversation_id}/resume")
async def conversation_resume(request: Request, conversation_id: str) -> Response:
    """Give a paused conversation back to the bot."""
    return await _conversation_action(request, conversation_id, "resume")


@router.post("/conversations/{conversation_id}/domain")
async def conversation_domain(request: Request, conversation_id: str) -> Response:
    """Serve a conversation by another domain."""
    return await _conversation_action(request, conversation_id, "domain")


# -- overview -----------------------------------------------------------------------------------


@router.get("/overview")
async def overview_page(request: Request) -> Response:
    """Per domain and per day: messages, turns, handoffs, fallbacks, tokens, cost, turn time."""
    current = _current(request)
    if current is None:
        return _to_signin()
    service = _service(request)
    params = request.query_params
    try:
        days = min(90, max(1, int(params.get("days") or 30)))
    except ValueError:
        days = 30
    names = [n for n in current.principal.visible(service.system.registry.names()) if n[:1] != "_"]
    domain = params.get("domain") or ""
    chosen = [domain] if domain in names else names
    data = await overview.overview(
        service.system.store,
        chosen,
        days=days,
        abandoned_after_s=service.settings.abandoned_after_s,
    )
    return _render(
        "overview.html",
        request,
        session=current,
        page="overview",
        data=data,
        domains=names,
        domain=domain if domain in names else "",
        days=days,
    )
