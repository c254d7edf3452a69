"""Agent runtime overhead: framework time per message with an instant model (no LLM latency).

Measures `Crew.run` on the cosmetics example domain with a pydantic-ai FunctionModel that answers
at once, for a one-step crew without tools and a one-step crew making one tool call (the real
`faq` knowledge tool behind the real DataProxy, in-memory store). Prints median and p95 per
message, LLM requests per message, and prompt tokens per request (pydantic-ai's tokenizer-free
estimate for function models, plus characters/4 of the system prompt).

Run: .venv/bin/python bench/agent_overhead.py [runs]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel

from chatwootai.agents.crew import Crew
from chatwootai.agents.factory import CrewFactory
from chatwootai.agents.state import AgentState
from chatwootai.config.loader import DomainLoader
from chatwootai.config.schema import CrewConfig, DomainConfig, LLMSettings
from chatwootai.llm import ModelResolver
from chatwootai.settings import Settings
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.tools.base import ToolContext
from chatwootai.tools.proxy import DataProxy

DOMAINS = Path(__file__).resolve().parent.parent / "domains"


class Fixed(ModelResolver):
    """Every agent gets the same model."""

    def __init__(self, model: Model) -> None:
        super().__init__(Settings())
        self.model = model

    def resolve(self, domain: LLMSettings, agent: LLMSettings | None = None) -> Model:
        return self.model


async def no_tools(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    return ModelResponse(parts=[TextPart("Abrimos às 9h.")])


async def one_tool(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    last = messages[-1]
    if isinstance(last, ModelRequest) and any(p.part_kind == "tool-return" for p in last.parts):
        return ModelResponse(parts=[TextPart("Abrimos às 9h.")])
    return ModelResponse(parts=[ToolCallPart("faq", {"query": "horário de funcionamento"})])


def one_step(config: DomainConfig) -> DomainConfig:
    crew = CrewConfig(name="Uma etapa", agents=["atendente"])
    return config.model_copy(update={"crews": {**config.crews, "one": crew}})


async def measure(crew: Crew, runs: int) -> tuple[list[float], list[float], int, int, int]:
    ctx = ToolContext(domain="cosmetics", conversation_key="bench:1", agent_id="")
    states: dict[str, AgentState] = {}
    for _ in range(20):  # warm up
        await crew.run("qual o horário?", {}, ctx)
    times: list[float] = []
    cpu: list[float] = []
    requests = tokens = 0
    for i in range(runs):
        if i % 6 == 0:
            states = {}  # conversations of a few turns, as in production
        start, start_cpu = time.perf_counter(), time.process_time()
        result = await crew.run("qual o horário de funcionamento?", states, ctx)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        states = result.states
        requests += result.requests
        tokens += result.input_tokens
        assert not result.fallback, result.handoff
    return times, cpu, requests, tokens, len(crew.steps[0].agent.system_prompt())


def report(
    label: str, times: list[float], cpu: list[float], requests: int, tokens: int, chars: int
) -> None:
    runs = len(times)
    ordered = sorted(times)
    median_ms = statistics.median(times) * 1000
    p95_ms = ordered[int(runs * 0.95) - 1] * 1000
    print(f"{label}:")
    print(f"  framework time per message: median {median_ms:.2f} ms, p95 {p95_ms:.2f} ms (wall)")
    print(f"  CPU time per message: median {statistics.median(cpu) * 1000:.2f} ms")
    print(f"  LLM requests per message: {requests / runs:.2f}")
    print(
        f"  prompt tokens per request: {tokens / requests:.0f} (pydantic-ai estimate); "
        f"system prompt ≈ {chars / 4:.0f} tokens (chars/4)"
    )


async def main(runs: int) -> None:
    config = one_step(DomainLoader(DOMAINS).load("cosmetics"))
    proxy = DataProxy.for_domain(config, EmbeddedStore(":memory:"))
    for label, fn in (("one-step crew, no tools", no_tools), ("one-step crew, 1 tool", one_tool)):
        crew = CrewFactory(config, proxy, Fixed(FunctionModel(fn))).build("one")
        report(label, *await measure(crew, runs))
    print(
        f"\nmeasured: {runs} runs each after 20 warm-up runs, one process, Python "
        f"{sys.version.split()[0]}, state carried over 6-turn conversations, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print("command: .venv/bin/python bench/agent_overhead.py " + str(runs))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
