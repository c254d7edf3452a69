"""Lifetimes of what the service keeps: deployment defaults, overridden per domain."""

from __future__ import annotations

from dataclasses import dataclass

from chatwootai.config.schema import TTLs
from chatwootai.settings import Settings

CONFIG_TTL = 3600
"""`domain:config:{domain}`: one hour."""
CONVERSATION_TTL = 86400
"""`domain:conversation:{conversation_key}`: one day."""
AGENT_STATE_TTL = 86400
"""`agent:state:{domain}:{agent_id}:{conversation_key}`: one day."""


@dataclass(frozen=True, slots=True)
class Lifetimes:
    """TTLs in seconds with every value decided (a domain's over the deployment's)."""

    config: int = CONFIG_TTL
    conversation: int = CONVERSATION_TTL
    agent_state: int = AGENT_STATE_TTL


def deployment_ttls(settings: Settings) -> Lifetimes:
    """The deployment's default TTLs (CHATWOOTAI_TTL_*)."""
    return Lifetimes(
        config=settings.ttl_config,
        conversation=settings.ttl_conversation,
        agent_state=settings.ttl_agent_state,
    )


def effective_ttls(defaults: Lifetimes, domain: TTLs | None) -> Lifetimes:
    """`defaults` with the values a domain wrote in its `ttl:` section put over them."""
    if domain is None:
        return defaults
    return Lifetimes(
        config=ttl_or(domain.config, defaults.config),
        conversation=ttl_or(domain.conversation, defaults.conversation),
        agent_state=ttl_or(domain.agent_state, defaults.agent_state),
    )


def ttl_or(written: int | None, default: int) -> int:
    """A domain's TTL if it wrote one, else `default`."""
    return default if written is None else written
