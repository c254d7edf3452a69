"""The LLM circuit breaker is one per deployment, and its half-open trial is one HTTP request.

Its state lives in the store, so breakers of different processes on one store are one breaker:
one opens it for all, and one trial call is let through in the whole deployment. The trial is
made with the provider SDK's retries off. The last test runs the real pipeline in two `worker`
processes and counts the requests reaching the fake OpenAI-compatible server.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from resilience_support import visible_replies
from service_deployment import launch, wait_for

from chatwootai.agents.factory import CrewFactory
from chatwootai.breaker import BreakerOpenError, BreakerState, CircuitBreaker
from chatwootai.config.schema import DomainConfig
from chatwootai.llm import ModelResolver
from chatwootai.settings import Settings
from chatwootai.store.base import Store
from chatwootai.tools.base import Tool, ToolContext, ToolResult
from fakes import openai_server

CTX = ToolContext(domain="loja", conversation_key="1:10", agent_id="")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_breakers_on_one_store_are_one_breaker(store: Store) -> None:
    clock = Clock()
    worker_a = CircuitBreaker(2, window_s=10, cooldown_s=30, store=store, clock=clock)
    worker_b = CircuitBreaker(2, window_s=10, cooldown_s=30, store=store, clock=clock)
    await worker_a.failure("m")
    await worker_b.failure("m")  # failures add up across processes
    for breaker in (worker_a, worker_b):
        assert await breaker.state("m") is BreakerState.OPEN
        with pytest.raises(BreakerOpenError):
            await breaker.check("m")
    clock.now += 30
    trials = await asyncio.gather(
        *(b.check("m") for b in (worker_a, worker_b, worker_a, worker_b)),
        return_exceptions=True,
    )
    assert trials.count(True) == 1  # one trial in the whole deployment
    assert all(isinstance(t, BreakerOpenError) for t in trials if t is not True)
    await worker_a.failure("m", trial=True)  # ...which fails: open again, for everybody
    assert await worker_b.state("m") is BreakerState.OPEN
    clock.now += 30
    assert await worker_b.check("m") is True
    await worker_b.success("m")
    assert await worker_a.state("m") is BreakerState.CLOSED
    assert await worker_a.check("m") is False


async def test_a_trial_whose_process_died_is_given_up(store: Store) -> None:
    clock = Clock()
    dead = CircuitBreaker(1, window_s=10, cooldown_s=5, store=store, clock=clock, trial_s=20)
    alive = CircuitBreaker(1, window_s=10, cooldown_s=5, store=store, clock=clock, trial_s=20)
    await dead.failure("m")
    clock.now += 5
    assert await dead.check("m") is True  # ...and its process dies during the call
    with pytest.raises(BreakerOpenError):
        await alive.check("m")
    clock.now += 20
    assert await alive.check("m") is True


class NoTools:
    """A tool proxy with no tools."""

    def tools_for(self, agent_id: str) -> list[Tool]:
        return []

    async def call(self, ctx: ToolContext, tool_id: str, args: Any) -> ToolResult:
        raise AssertionError("no tool may be called")


@pytest.fixture
def provider() -> Iterator[Any]:
    """The fake OpenAI-compatible server."""
    yield from openai_server.serve()


async def test_the_half_open_trial_is_one_http_request(provider: Any) -> None:
    domain = DomainConfig.model_validate(
        {
            "name": "loja",
            "llm": {
                "model": "openai:fake-gpt",
                "base_url": provider.base_url,
                "retries": 2,
                "timeout_s": 5,
            },
            "agents": {"a": {"type": "SupportAgent", "role": "atendente", "goal": "ajudar"}},
            "crews": {"c": {"name": "Atendimento", "agents": ["a"]}},
        }
    )
    settings = Settings.model_validate(
        {"CHATWOOTAI_LLM_BREAKER_FAILURES": 1, "CHATWOOTAI_LLM_BREAKER_COOLDOWN": 0.3}
    )
    crew = CrewFactory(domain, NoTools(), ModelResolver(settings)).build("c")  # type: ignore[arg-type]
    provider.script(*[openai_server.error(500)] * 10)
    assert (await crew.run("oi", {}, CTX)).fallback
    assert provider.count == 3  # a normal call: the SDK's own retries (1 + 2)
    assert (await crew.run("oi", {}, CTX)).fallback
    assert provider.count == 3  # open
    await asyncio.sleep(0.35)
    assert (await crew.run("oi", {}, CTX)).fallback
    assert provider.count == 4  # the trial: one request, no SDK retries
    await asyncio.sleep(0.35)
    provider._script.clear()  # the provider answers again
    result = await crew.run("oi", {}, CTX)
    assert not result.fallback and provider.count == 5  # the trial succeeds: closed
    await crew.run("oi", {}, CTX)
    assert provider.count == 6


DOMAIN = """
name: loja
business:
  company_name: Loja Teste
llm:
  model: openai:fake-gpt
  base_url: {base_url}
  timeout_s: 10
  retries: 2
agents:
  atendente:
    type: ManagerAgent
    role: Atendente
    goal: Ajudar o cliente
crews:
  atendimento:
    name: Atendimento
    agents: [atendente]
routing:
  default_crew: atendimento
  crews:
    atendimento:
      keywords: [entregam]  # routed by rule: no LLM routing call, only the crew's
"""
COOLDOWN_S = 8.0


@pytest.mark.slow(seconds=35)
def test_one_breaker_for_two_worker_processes(provider: Any, tmp_path: Path) -> None:
    """Worker A's failure opens the breaker; worker B then calls nothing; the trial is one
    request for both. Breaker settings are the subject of this test (1 failure, 8 s)."""
    domains = tmp_path / "domains"
    (domains / "loja").mkdir(parents=True)
    (domains / "loja" / "domain.yaml").write_text(DOMAIN.format(base_url=provider.base_url))
    (domains / "tenants.yaml").write_text('accounts:\n  "3": loja\n')
    overrides = {
        "CHATWOOTAI_SYSTEM_FACTORY": "",
        "CHATWOOTAI_DOMAINS_DIR": str(domains),
        "CHATWOOTAI_MODEL": "",
        "OPENAI_API_KEY": "sk-fake",
        "CHATWOOTAI_LLM_BREAKER_FAILURES": "1",
        "CHATWOOTAI_LLM_BREAKER_COOLDOWN": str(COOLDOWN_S),
    }
    provider.script(*[openai_server.error(500)] * 100)
    with launch(tmp_path, (3,), overrides, workers=2) as dep:
        fake = dep.fake
        worker_a, worker_b = dep.workers
        display = iter(range(3001, 3100))

        def turns(count: int) -> list[int]:
            """`count` customers write at once; wait for every answer (the fallback here)."""
            ids = [next(display) for _ in range(count)]
            for display_id in ids:
                fake.add_conversation(account_id=3, display_id=display_id)
                dep.deliver(fake.incoming(3, display_id, "Oi, vocês entregam hoje?"))
            wait_for(lambda: all(visible_replies(fake, 3, d) for d in ids), "the replies", 60)
            return ids

        os.kill(worker_b.pid, signal.SIGSTOP)  # only A takes turns
        try:
            turns(1)
        finally:
            os.kill(worker_b.pid, signal.SIGCONT)
        opened = time.monotonic()
        assert provider.count == 3  # a failed turn: 1 + 2 SDK retries; open now
        os.kill(worker_a.pid, signal.SIGSTOP)  # only B takes turns
        try:
            turns(3)
        finally:
            os.kill(worker_a.pid, signal.SIGCONT)
        assert provider.count == 3  # B never called: A's breaker is B's
        time.sleep(max(0.0, opened + COOLDOWN_S + 0.5 - time.monotonic()))
        turns(4)  # four turns on two workers, half-open: one trial, which fails
        assert provider.count == 4
        provider._script.clear()  # the provider answers again
        time.sleep(COOLDOWN_S + 0.5)
        [answered] = turns(1)  # the trial succeeds: closed
        assert provider.count == 5
        assert visible_replies(fake, 3, answered) == ["ok"]
        turns(2)
        assert provider.count == 7  # closed: every turn calls the model
