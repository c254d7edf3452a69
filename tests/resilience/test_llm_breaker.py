"""The LLM circuit breaker: a failing model stops being called, then gets one trial call."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic_ai.exceptions import ModelHTTPError, UsageLimitExceeded
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel

from chatwootai.agents.crew import Crew
from chatwootai.agents.factory import CrewFactory
from chatwootai.breaker import BreakerOpenError, BreakerState, CircuitBreaker, model_key
from chatwootai.config.schema import DomainConfig, LLMSettings
from chatwootai.llm import ModelResolver
from chatwootai.settings import Settings
from chatwootai.tools.base import Tool, ToolContext, ToolResult

CTX = ToolContext(domain="shop", conversation_key="1:10", agent_id="")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- the breaker alone --------------------------------------------------------------------------


def test_opens_after_n_failures_in_the_window_and_lets_one_trial_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker(3, window_s=10, cooldown_s=30, clock=clock)
    for _ in range(2):
        breaker.check("m")
        breaker.failure("m")
    assert breaker.state("m") is BreakerState.CLOSED
    breaker.failure("m")
    assert breaker.state("m") is BreakerState.OPEN
    with pytest.raises(BreakerOpenError, match="CHATWOOTAI_LLM_BREAKER"):
        breaker.check("m")
    breaker.check("other")  # one key's breaker says nothing of another's
    clock.now += 30
    assert breaker.state("m") is BreakerState.HALF_OPEN
    breaker.check("m")  # the trial
    with pytest.raises(BreakerOpenError):
        breaker.check("m")  # only one trial at a time
    breaker.failure("m")  # the trial failed: open for another cooldown
    assert breaker.state("m") is BreakerState.OPEN
    clock.now += 30
    breaker.check("m")
    breaker.success("m")
    assert breaker.state("m") is BreakerState.CLOSED
    breaker.check("m")


def test_failures_outside_the_window_do_not_add_up_and_success_resets() -> None:
    clock = Clock()
    breaker = CircuitBreaker(3, window_s=10, cooldown_s=30, clock=clock)
    for _ in range(5):
        breaker.failure("m")
        breaker.failure("m")
        clock.now += 11  # the older failures leave the window
    assert breaker.state("m") is BreakerState.CLOSED
    breaker.failure("m")
    breaker.failure("m")
    breaker.success("m")
    breaker.failure("m")
    assert breaker.state("m") is BreakerState.CLOSED


def test_a_released_trial_may_run_again_and_zero_disables() -> None:
    clock = Clock()
    breaker = CircuitBreaker(1, window_s=10, cooldown_s=5, clock=clock)
    breaker.failure("m")
    clock.now += 5
    breaker.check("m")
    breaker.release("m")  # ended by a usage limit: neither success nor failure
    breaker.check("m")
    off = CircuitBreaker(0, window_s=10, cooldown_s=5, clock=clock)
    for _ in range(10):
        off.failure("m")
    off.check("m")


def test_settings_tune_the_breaker() -> None:
    settings = Settings.model_validate(
        {
            "CHATWOOTAI_LLM_BREAKER_FAILURES": "2",
            "CHATWOOTAI_LLM_BREAKER_WINDOW": "7",
            "CHATWOOTAI_LLM_BREAKER_COOLDOWN": "9",
        }
    )
    breaker = ModelResolver(settings).breaker
    assert (breaker.threshold, breaker.window_s, breaker.cooldown_s) == (2, 7.0, 9.0)


# -- wired into crews ---------------------------------------------------------------------------


class NoTools:
    """A tool proxy with no tools."""

    def tools_for(self, agent_id: str) -> list[Tool]:
        return []

    async def call(self, ctx: ToolContext, tool_id: str, args: Any) -> ToolResult:
        raise AssertionError("no tool may be called")


def shop(timeout_s: float = 5.0) -> DomainConfig:
    return DomainConfig.model_validate(
        {
            "name": "shop",
            "agents": {"support": {"type": "SupportAgent", "role": "atendente", "goal": "ajudar"}},
            "crews": {"support": {"name": "Suporte", "agents": ["support"]}},
            "limits": {"timeout_s": timeout_s},
        }
    )


class OneModel(ModelResolver):
    """Every agent gets `model`; the breaker is the resolver's, tuned by the test."""

    def __init__(self, model: Model, failures: int = 3, cooldown_s: float = 0.3) -> None:
        super().__init__(
            Settings.model_validate(
                {
                    "CHATWOOTAI_LLM_BREAKER_FAILURES": failures,
                    "CHATWOOTAI_LLM_BREAKER_COOLDOWN": cooldown_s,
                }
            )
        )
        self.model = model

    def resolve(self, domain: LLMSettings, agent: LLMSettings | None = None) -> Model:
        return self.model


class Provider:
    """A FunctionModel's brain that fails in a chosen way, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.mode = "error"

    async def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.calls += 1
        if self.mode == "error":
            raise ModelHTTPError(500, "fake-model", {"error": "internal"})
        if self.mode == "slow":
            await asyncio.sleep(30)
        if self.mode == "limit":
            raise UsageLimitExceeded("token limit")
        return ModelResponse(parts=[TextPart("Olá! Como posso ajudar?")])


def crew_of(provider: Provider, domain: DomainConfig, **tuning: Any) -> Crew:
    resolver = OneModel(FunctionModel(provider), **tuning)
    return CrewFactory(domain, NoTools(), resolver).build("support")  # type: ignore[arg-type]


async def test_model_errors_open_the_breaker_then_a_trial_closes_it() -> None:
    provider = Provider()
    domain = shop()
    crew = crew_of(provider, domain, failures=3, cooldown_s=0.3)
    for _ in range(3):
        result = await crew.run("oi", {}, CTX)
        assert result.fallback and result.handoff is not None
    assert provider.calls == 3
    for _ in range(5):  # open: fail fast, the provider is not called
        result = await crew.run("oi", {}, CTX)
        assert result.fallback and result.reply == domain.chatwoot.texts.fallback
        assert result.handoff is not None and "circuito aberto" in result.handoff.reason
    assert provider.calls == 3
    await asyncio.sleep(0.35)  # past the cooldown: one trial call, which succeeds
    provider.mode = "ok"
    result = await crew.run("oi", {}, CTX)
    assert not result.fallback and result.reply == "Olá! Como posso ajudar?"
    assert provider.calls == 4
    await crew.run("oi", {}, CTX)
    assert provider.calls == 5  # closed again


async def test_timeouts_open_the_breaker_and_a_failed_trial_reopens_it() -> None:
    provider = Provider()
    provider.mode = "slow"
    crew = crew_of(provider, shop(timeout_s=0.05), failures=2, cooldown_s=0.3)
    for _ in range(4):
        result = await crew.run("oi", {}, CTX)
        assert result.fallback and result.handoff is not None
    assert provider.calls == 2
    await asyncio.sleep(0.35)
    assert (await crew.run("oi", {}, CTX)).fallback  # the trial times out too
    assert provider.calls == 3
    assert (await crew.run("oi", {}, CTX)).fallback
    assert provider.calls == 3


async def test_usage_limits_never_open_the_breaker() -> None:
    provider = Provider()
    provider.mode = "limit"
    crew = crew_of(provider, shop(), failures=2, cooldown_s=30)
    for _ in range(5):
        assert (await crew.run("oi", {}, CTX)).fallback
    assert provider.calls == 5


async def test_the_key_is_the_model_and_its_endpoint() -> None:
    model = FunctionModel(Provider())
    key = model_key(model)
    assert key is not None and key.startswith("function:")
    assert model_key("openai:gpt-4o-mini") is None
