"""Conversations whose domain cannot answer (its files invalid, or no such servable domain).

One broken domain never stops the others: its turns do not fail and retry, they hand the
conversation to a human at once (the default handoff text, a private note saying why, status
open), with one error log line and ``chatwootai_domain_unavailable{domain}`` counted.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from chatwootai.config.errors import ConfigError
from chatwootai.config.registry import DomainNotFoundError
from chatwootai.config.schema import ChatwootOptions
from chatwootai.service.replies import PlannedReply, ReplyTarget

if TYPE_CHECKING:
    from chatwootai.service.worker import TurnRunner

log = logging.getLogger(__name__)

UNAVAILABLE = (ConfigError, DomainNotFoundError)
"""What :meth:`DomainRegistry.get_domain_config` raises for a domain that cannot answer."""

OUTCOME = "domain unavailable"
"""What the turn job reports for such a turn."""


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


async def hand_over(
    runner: TurnRunner,
    target: ReplyTarget,
    message_ids: list[int],
    turn_id: str,
    domain: str,
    error: Exception,
    customer_text: str,
) -> str:
    """Hand the conversation to a human because its domain cannot answer; the turn's outcome."""
    key = target.conversation_key
    log.error(
        "conversation %s: %s; its %d message(s) are handed to a human",
        key,
        unavailable_reason(domain, error),
        len(message_ids),
    )
    runner.metrics.domain_unavailable.labels(domain).inc()
    plan = PlannedReply(
        reply="",
        domain=domain,
        crew="unavailable",
        route_method="unavailable",
        handoff_reason=_note_reason(domain, error),
        handoff_by="service",
        fallback=True,
        planned_at=time.time(),
    )
    options = ChatwootOptions()
    await runner.replier.deliver(target, plan, options, turn_id, customer_text=customer_text)
    await runner.system.conversations.pause(key, "handoff: domain unavailable")
    await runner.pending.remove(key, message_ids)
    return OUTCOME
