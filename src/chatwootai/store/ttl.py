"""Lifetimes of what the service keeps: deployment defaults, overridden per domain."""

from __future__ import annotations

from chatwootai.config.schema import TTLs
from chatwootai.settings import Settings

CONFIG_TTL = 3600
"""`domain:config:{domain}`: one hour."""
CONVERSATION_TTL = 86400
"""`domain:conversation:{conversation_key}`: one day."""
AGENT_STATE_TTL = 86400
"""`agent:state:{domain}:{agent_id}:{conversation_key}`: one day."""


def deployment_ttls(settings: Settings) -> TTLs:
    """The deployment's default TTLs (CHATWOOTAI_TTL_*)."""
    return TTLs(
        config=settings.ttl_config,
        conversation=settings.ttl_conversation,
        agent_state=settings.ttl_agent_state,
    )


def effective_ttls(defaults: TTLs, domain: TTLs | None) -> TTLs:
    """`defaults` with the values a domain wrote in its `ttl:` section put over them."""
    if domain is None:
        return defaults
    overrides = {name: getattr(domain, name) for name in domain.model_fields_set}
    return defaults.model_copy(update=overrides) if overrides else defaults
