"""Per-turn limits of a domain as pydantic-ai objects: usage limits and the history bound."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic_ai.capabilities import ProcessHistory
from pydantic_ai.messages import ModelMessage
from pydantic_ai.usage import UsageLimits

from chatwootai.agents.deps import TurnDeps
from chatwootai.agents.history import trim_history
from chatwootai.config.schema import RunLimits


def usage_limits(limits: RunLimits) -> UsageLimits:
    """LLM requests and tokens allowed in one turn."""
    return UsageLimits(
        request_limit=limits.max_requests, total_tokens_limit=limits.max_total_tokens
    )


def history_bound(limits: RunLimits) -> ProcessHistory[TurnDeps]:
    """A capability sending the LLM at most `history_messages` of past turns (plus this turn)."""
    bound = limits.history_messages

    async def trim(messages: list[ModelMessage]) -> list[ModelMessage]:
        return trim_history(messages, bound)

    processor: Callable[[list[ModelMessage]], Awaitable[list[ModelMessage]]] = trim
    return ProcessHistory(processor)
