"""The LLM circuit breaker: a failing model stops being called, then gets one trial call."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel
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


async def test_opens_after_n_failures_in_the_window_and_lets_one_trial_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker(3, window_s=10, cooldown_s=30, clock=clock)
    for _ in range(2):
        await breaker.check("m")
        await breaker.failure("m")
    assert await breaker.state("m") is BreakerState.CLOSED
    await breaker.failure("m")
    assert await breaker.state("m") is BreakerState.OPEN
    with pytest.raises(BreakerOpenError, match="CHATWOOTAI_LLM_BREAKER"):
        await breaker.check("m")
    await breaker.check("other")  # one key's breaker says nothing of another's
    clock.now += 30
    assert await breaker.state("m") is BreakerState.HALF_OPEN
    await breaker.check("m")  # the trial
    with pytest.raises(BreakerOpenError):
        await breaker.check("m")  # only one trial at a time
    await breaker.failure("m")  # the trial failed: open for another cooldown
    assert await breaker.state("m") is BreakerState.OPEN
    clock.now += 30
    await breaker.check("m")
    await breaker.success("m")
    assert await breaker.state("m") is BreakerState.CLOSED
    await breaker.check("m")


async def test_failures_outside_the_window_do_not_add_up_and_success_resets() -> None:
    clock = Clock()
    breaker = CircuitBreaker(3, window_s=10, cooldown_s=30, clock=clock)
    for _ in range(5):
        await breaker.failure("m")
        await breaker.failure("m")
        clock.now += 11  # the older failures leave the window
    assert await breaker.state("m") is BreakerState.CLOSED
    await breaker.failure("m")
    await breaker.failure("m")
    await breaker.success("m")
    await breaker.failure("m")
    assert await breaker.state("m") is BreakerState.CLOSED


async def test_a_released_trial_may_run_again_and_zero_disables() -> None:
    clock = Clock()
    breaker = CircuitBreaker(1, window_s=10, cooldown_s=5, clock=clock)
    await breaker.failure("m")
    clock.now += 5
    await breaker.check("m")
    await breaker.release("m")  # ended by a usage limit: neither success nor failure
    await breaker.check("m")
    off = CircuitBreaker(0, window_s=10, cooldown_s=5, clock=clock)
    for _ in range(10):
        await off.failure("m")
    await off.check("m")


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


# -- what counts, and whose breaker -------------------------------------------------------------


def test_only_outages_count_refusals_never_do() -> None:
    from pydantic_ai.exceptions import (
        ModelAPIError,
        ModelConnectionError,
        ModelRequestTimeout,
        ModelTimeoutError,
    )

    from chatwootai.breaker import is_outage

    outages = [
        ModelHTTPError(500, "m"),
        ModelHTTPError(503, "m"),
        ModelHTTPError(429, "m"),
        ModelConnectionError("m", "connection refused"),
        ModelTimeoutError("m", "read timeout"),
        ModelRequestTimeout("m", 30.0),
    ]
    refusals = [
        ModelHTTPError(400, "m"),
        ModelHTTPError(401, "m"),
        ModelHTTPError(403, "m"),
        ModelHTTPError(404, "m"),
        ModelAPIError("m", "could not decode"),
        UsageLimitExceeded("too many requests"),
    ]
    assert [is_outage(e) for e in outages] == [True] * len(outages)
    assert [is_outage(e) for e in refusals] == [False] * len(refusals)


class Refusing(Provider):
    """A provider refusing one tenant's key with 401 (or another status)."""

    def __init__(self, status: int) -> None:
        super().__init__()
        self.status = status

    async def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.calls += 1
        raise ModelHTTPError(self.status, "fake-model", {"error": "refused"})


class LookupArgs(BaseModel):
    """Arguments of the slow lookup."""

    query: str


class SlowLookup(Tool):
    """A knowledge tool that takes far longer than a turn."""

    kind: ClassVar[str] = "knowledge"
    args_model: ClassVar[type[BaseModel]] = LookupArgs

    async def run(self, ctx: ToolContext, args: BaseModel) -> ToolResult:
        await asyncio.sleep(30)
        return ToolResult(text="late")


class SlowToolProxy:
    """A tool proxy whose only tool is slow."""

    def __init__(self) -> None:
        self.tool = SlowLookup("slow_lookup", "busca lenta", store=None)  # type: ignore[arg-type]

    def tools_for(self, agent_id: str) -> list[Tool]:
        return [self.tool]

    async def call(self, ctx: ToolContext, tool_id: str, args: Any) -> ToolResult:
        return await self.tool.run(ctx, LookupArgs.model_validate(args))


@pytest.mark.parametrize("status", [400, 401, 403])
async def test_refused_requests_never_open_the_breaker(status: int) -> None:
    provider = Refusing(status)
    crew = crew_of(provider, shop(), failures=2, cooldown_s=30)
    for _ in range(5):
        assert (await crew.run("oi", {}, CTX)).fallback
    assert provider.calls == 5  # every turn still reached the model


async def test_a_turn_timeout_spent_in_a_tool_does_not_count() -> None:
    from pydantic_ai.messages import ToolCallPart

    async def call_the_tool(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[ToolCallPart("slow_lookup", {"query": "x"})])

    domain = DomainConfig.model_validate(
        {
            "name": "shop",
            "agents": {
                "support": {
                    "type": "SupportAgent",
                    "role": "atendente",
                    "goal": "ajudar",
                    "tools": ["slow_lookup"],
                }
            },
            "tools": {"slow_lookup": {"kind": "knowledge"}},
            "crews": {"support": {"name": "Suporte", "agents": ["support"]}},
            "limits": {"timeout_s": 0.05},
        }
    )
    resolver = OneModel(FunctionModel(call_the_tool), failures=1, cooldown_s=30)
    crew = CrewFactory(domain, SlowToolProxy(), resolver).build("support")  # type: ignore[arg-type]
    for _ in range(3):
        result = await crew.run("oi", {}, CTX)
        assert result.fallback and result.handoff is not None
        assert "tempo limite" in result.handoff.reason
    key = crew.steps[0].breaker_key
    assert key is not None and await resolver.breaker.state(key) is BreakerState.CLOSED


async def test_tenants_with_different_keys_have_different_breakers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOP_A_KEY", "sk-tenant-a-secret")
    monkeypatch.setenv("SHOP_B_KEY", "sk-tenant-b-secret")
    resolver = ModelResolver(Settings())
    a = LLMSettings(model="openai:gpt-4o-mini", api_key_env="SHOP_A_KEY")
    b = LLMSettings(model="openai:gpt-4o-mini", api_key_env="SHOP_B_KEY")
    key_a, key_b = resolver.breaker_key(a), resolver.breaker_key(b)
    assert key_a is not None and key_b is not None and key_a != key_b
    assert "secret" not in key_a and "sk-" not in key_a  # the key itself never shows
    for _ in range(resolver.breaker.threshold):
        await resolver.breaker.failure(key_a)
    assert await resolver.breaker.state(key_a) is BreakerState.OPEN
    await resolver.breaker.check(key_b)  # tenant B's turns still reach the model
    # the model itself also tells its key apart (the LLM router passes only the model)
    assert model_key(resolver.resolve(a)) == key_a
    assert resolver.breaker_key(LLMSettings(model="offline")) is None


async def test_a_late_failure_while_open_neither_extends_the_cooldown_nor_frees_the_trial() -> None:
    clock = Clock()
    breaker = CircuitBreaker(1, window_s=10, cooldown_s=30, clock=clock)
    late = await breaker.check("m")  # admitted while closed
    await breaker.failure("m")  # another call fails: open
    clock.now += 20
    await breaker.failure("m", trial=late)  # the late call fails: the cooldown is not extended
    clock.now += 10
    assert await breaker.state("m") is BreakerState.HALF_OPEN
    assert await breaker.check("m") is True  # the trial
    await breaker.failure("m", trial=False)  # another late failure while the trial runs
    await breaker.release("m", trial=False)
    with pytest.raises(BreakerOpenError):
        await breaker.check("m")  # still only one trial
    await breaker.failure("m", trial=True)  # the trial itself fails: open again
    assert await breaker.state("m") is BreakerState.OPEN


async def test_a_late_failure_without_trial_flag_during_the_cooldown_is_ignored() -> None:
    clock = Clock()
    breaker = CircuitBreaker(1, window_s=10, cooldown_s=30, clock=clock)
    await breaker.failure("m")
    clock.now += 29
    await breaker.failure("m")  # no trial can be running during the cooldown
    clock.now += 1
    assert await breaker.state("m") is BreakerState.HALF_OPEN
