"""The last-resort router: one structured-output LLM call choosing among the crew ids."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, create_model
from pydantic_ai import Agent
from pydantic_ai.exceptions import AgentRunError, UserError
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings

from chatwootai.breaker import BreakerOpenError, CircuitBreaker, is_outage, model_key

log = logging.getLogger(__name__)

INSTRUCTIONS = (
    "You route a customer's message to the team best able to answer it. "
    "Choose exactly one team id from the list, or null when none fits. "
    "The message may be in Portuguese or another language and may contain typos."
)


class LLMRouter(Protocol):
    """Picks a crew for a message the classifier is unsure about; None when none fits."""

    async def __call__(self, message: str, crews: Mapping[str, str]) -> str | None:
        """The chosen crew id (a key of `crews`, which maps ids to descriptions) or None."""
        ...


def _choice_model(crew_ids: tuple[str, ...]) -> type[BaseModel]:
    """A pydantic model whose only field accepts one of `crew_ids` or null."""
    choice: Any = Literal[crew_ids]  # type: ignore[valid-type]
    return create_model(
        "CrewChoice",
        crew=(choice | None, Field(description="The id of the chosen team, or null.")),
    )


def _prompt(message: str, crews: Mapping[str, str]) -> str:
    """The user prompt listing the teams and the message."""
    teams = "\n".join(f"- {crew}: {description or crew}" for crew, description in crews.items())
    return f"Teams:\n{teams}\n\nCustomer message:\n{message}"


def pydantic_ai_router(
    model: Model | str,
    *,
    breaker: CircuitBreaker | None = None,
    timeout_s: float | None = None,
    breaker_key: str | None = None,
) -> LLMRouter:
    """An :class:`LLMRouter` making one pydantic-ai call, its output restricted to crew ids.

    With a `breaker`, the call is skipped while the model's breaker is open, and its outages
    (5xx, 429, connection errors) and timeouts (after `timeout_s`) count against it; either way
    routing falls back to the default. `breaker_key` defaults to :func:`model_key` of `model`.
    """
    agents: dict[tuple[str, ...], Agent[None, Any]] = {}
    key = (breaker_key or model_key(model)) if breaker is not None else None

    async def route(message: str, crews: Mapping[str, str]) -> str | None:
        crew_ids = tuple(sorted(crews))
        if not crew_ids:
            return None
        agent = agents.get(crew_ids)
        if agent is None:
            agent = Agent(
                model,
                output_type=_choice_model(crew_ids),
                instructions=INSTRUCTIONS,
                retries=1,
            )
            agents[crew_ids] = agent
        trial = False
        if breaker is not None and key is not None:
            try:
                trial = await breaker.check(key)
            except BreakerOpenError:
                return None
        try:
            async with asyncio.timeout(timeout_s):
                # the half-open trial is one HTTP request: no retries by the provider's SDK
                settings = ModelSettings(max_retries=0) if trial else None
                result = await agent.run(_prompt(message, crews), model_settings=settings)
        except (AgentRunError, UserError, TimeoutError) as exc:
            if breaker is not None and key is not None:
                if isinstance(exc, TimeoutError) or is_outage(exc):
                    await breaker.failure(key, trial=trial)
                else:
                    await breaker.release(key, trial=trial)
            log.warning("LLM router failed, falling back: %s", type(exc).__name__)
            return None
        except BaseException:
            if breaker is not None and key is not None:
                await breaker.release(key, trial=trial)
            raise
        if breaker is not None and key is not None:
            await breaker.success(key)
        crew = getattr(result.output, "crew", None)
        return crew if isinstance(crew, str) and crew in crews else None

    return route
