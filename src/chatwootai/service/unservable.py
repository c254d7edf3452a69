"""Conversations whose domain cannot answer (its files invalid, or no such servable domain).

One broken domain never stops the others: its turns do not fail and retry, they hand the
conversation to a human at once (the default handoff text, a private note saying why, status
open), with one error log line and ``chatwootai_domain_unavailable{domain}`` counted.
"""

from __future__ import annotations

import logging
import time

from chatwootai.config.errors import ConfigError
from chatwootai.config.registry import DomainNotFoundError
from chatwootai.service.metrics import Metrics
from chatwootai.service.replies import PlannedReply

log = logging.getLogger(__name__)

UNAVAILABLE = (ConfigError, DomainNotFoundError)
"""What :meth:`DomainRegistry.get_domain_config` raises for a domain that cannot answer."""


def unavailable_reason(domain: str, error: Exception) -> str:
    """Why `domain` cannot answer, in one line for operators."""
    if isinstance(error, ConfigError) and error.issues:
        count = len(error.issues)
        plural = "s" if count != 1 else ""
        return (
            f"domain {domain!r} is not valid ({count} configuration error{plural}, first: "
            f"{error.issues[0]}); run `chatwootai validate {domain}`"
        )
    return f"domain {domain!r} cannot answer: {error}"


def _note_reason(domain: str, error: Exception) -> str:
    """Why the bot stepped aside, for the agents reading the private note."""
    if isinstance(error, ConfigError):
        return (
            f"a configuração do domínio {domain!r} está inválida; o bot não pode responder "
            f"até ela ser corrigida (chatwootai validate {domain})"
        )
    return f"o domínio {domain!r} não existe ou não atende conversas; revise tenants.yaml"


def handover_plan(
    metrics: Metrics, key: str, domain: str, error: Exception, message_count: int
) -> PlannedReply:
    """The plan handing a conversation to a human because its domain cannot answer.

    Logged once per turn and counted; it is delivered like any other plan (a Chatwoot outage
    defers it, and the bot is paused only once the handoff reached Chatwoot).
    """
    log.error(
        "conversation %s: %s; its %d message(s) are handed to a human",
        key,
        unavailable_reason(domain, error),
        message_count,
    )
    metrics.domain_unavailable.labels(metrics.domain(domain)).inc()
    return PlannedReply(
        reply="",
        domain=domain,
        crew="unavailable",
        route_method="unavailable",
        handoff_reason=_note_reason(domain, error),
        handoff_by="service",
        fallback=True,
        planned_at=time.time(),
    )
