"""What the console and the admin API read and do, for one caller (admin or tenant).

Both the JSON API (``service/admin_console.py``) and the pages (``console/pages.py``) call these
functions, so a page never shows what the API would not give the same caller. ``None`` means
"no such thing for this caller": another tenant's domain or conversation is not found, the same
as one that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chatwootai.config.errors import ConfigError
from chatwootai.config.registry import DomainNotFoundError
from chatwootai.console.activity import STATES, ConversationActivity, StateFilter
from chatwootai.console.domains import domain_states
from chatwootai.console.principal import Principal
from chatwootai.store import keys

if TYPE_CHECKING:
    from chatwootai.service.context import Service

PAGE = 50
"""Conversations per page."""


class QueryError(Exception):
    """A request the caller may make but that cannot be done (said as it is)."""


def activity_of(service: Service) -> ConversationActivity:
    """The service's conversation index and transcripts."""
    found = service.runner.activity
    if found is None:  # a runner built without one: read the same keys anyway
        found = ConversationActivity(service.system.store, ttl=service.settings.ttl_conversation)
    return found


async def domains(service: Service, principal: Principal) -> list[dict[str, Any]]:
    """Every domain the caller sees, checked from its files."""
    registry = service.system.registry
    names = principal.visible(registry.names())
    return await domain_states(registry, service.settings, names)


async def domain(service: Service, principal: Principal, name: str) -> dict[str, Any] | None:
    """One domain with its effective config and provenance; None when not seen."""
    registry = service.system.registry
    if name not in registry.names() or not principal.sees(name):
        return None
    (entry,) = await domain_states(registry, service.settings, [name], explain=True)
    return entry


async def reload(service: Service, principal: Principal, name: str) -> dict[str, Any] | None:
    """Reload a domain from its files: ``{"success", "message" | "issues"}``; None when not seen."""
    registry = service.system.registry
    if name not in registry.names() or not principal.sees(name):
        return None
    issues = await registry.update_domain_configuration(name)
    if issues:
        return {
            "success": False,
            "error": f"{name} is not valid; the previous config is kept",
            "issues": [str(issue) for issue in issues],
        }
    return {"success": True, "message": f"{name} reloaded"}


def _domains_asked(service: Service, principal: Principal, name: str | None) -> list[str]:
    visible = principal.visible(service.system.registry.names())
    if name is None or name == "":
        return visible
    return [name] if name in visible else []


async def conversations(
    service: Service,
    principal: Principal,
    *,
    domain: str | None = None,
    crew: str | None = None,
    state: str = "any",
    offset: int = 0,
    limit: int = PAGE,
    before: float | None = None,
) -> dict[str, Any]:
    """A page of the conversations the service has state for, newest first (last active before
    `before`, when given: the `next_before` of the page before)."""
    if state not in STATES:
        raise QueryError(f"state must be one of {', '.join(STATES)}")
    wanted: StateFilter = state  # type: ignore[assignment]
    page = await activity_of(service).page(
        _domains_asked(service, principal, domain),
        crew=crew or None,
        state=wanted,
        offset=max(0, offset),
        limit=max(1, min(limit, 500)),
        before=before,
    )
    return {
        "success": True,
        "conversations": [row.public() for row in page.rows],
        "total": page.total,
        "offset": offset,
        "more": page.more,
        "next_before": page.rows[-1].last_activity if page.more and page.rows else None,
    }


async def conversation(
    service: Service, principal: Principal, conversation_id: str
) -> dict[str, Any] | None:
    """A conversation's state and transcript; None when the caller does not see it."""
    try:
        keys.parse_conversation_key(conversation_id)
    except keys.ConversationKeyError as exc:
        raise QueryError(str(exc)) from None
    summary = dict(await service.system.conversation_summary(conversation_id))
    activity = activity_of(service)
    recorded = await activity.domain_of(conversation_id)
    if not principal.sees(summary.get("domain")) and not (
        summary.get("domain") is None and principal.sees(recorded)
    ):
        return None
    pending = await service.pending.peek(conversation_id)
    summary["pending_messages"] = len(pending)
    summary["transcript"] = await activity.transcript(conversation_id)
    return {"success": True, **summary, "conversation_id": conversation_id}


async def resume(
    service: Service, principal: Principal, conversation_id: str
) -> dict[str, Any] | None:
    """Give a paused conversation back to the bot; None when the caller does not see it."""
    found = await conversation(service, principal, conversation_id)
    if found is None:
        return None
    if not found.get("paused"):
        return {"success": True, "message": f"conversation {conversation_id} was not paused"}
    await service.system.conversations.resume(conversation_id)
    return {"success": True, "message": f"conversation {conversation_id} is the bot's again"}


async def change_domain(
    service: Service, principal: Principal, conversation_id: str, name: str
) -> dict[str, Any] | None:
    """Serve a conversation by another domain (as ``POST /api/admin/domain`` does)."""
    found = await conversation(service, principal, conversation_id)
    if found is None:
        return None
    if not principal.sees(name):
        raise QueryError(f"unknown domain {name!r}")
    try:
        await service.system.domains.set_conversation_domain(conversation_id, name)
    except DomainNotFoundError as exc:
        raise QueryError(str(exc)) from None
    except ConfigError as exc:
        raise QueryError(f"domain {name!r} is not valid; nothing changed:\n{exc}") from None
    return {"success": True, "message": f"conversation {conversation_id} now served by {name}"}
