"""Per-turn limits of a domain as pydantic-ai usage limits."""

from __future__ import annotations

from pydantic_ai.usage import UsageLimits

from chatwootai.config.schema import RunLimits


def usage_limits(limits: RunLimits) -> UsageLimits:
    """LLM requests and tokens allowed in one turn."""
    return UsageLimits(
        request_limit=limits.max_requests, total_tokens_limit=limits.max_total_tokens
    )
