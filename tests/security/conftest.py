"""An obedient scripted LLM and a system over the example domains, for the boundary tests.

The scripted model does whatever the test planned, as a model that obeys a prompt injection
would: it emits the planned tool calls (granted or not, well-formed or not), then answers with
the text of every tool result and retry message it received, so any data a tool leaks would
show up in the reply. It records the instructions and tools each request was given.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel

from chatwootai.config.schema import LLMSettings
from chatwootai.llm import ModelResolver
from chatwootai.settings import Settings
from chatwootai.store.redis import RedisStore
from chatwootai.system import ChatwootAISystem
from chatwootai.turn import Customer, IncomingMessage

DOMAINS = Path(__file__).resolve().parents[2] / "domains"

SECRETS = {
    "OPENAI_API_KEY": "sk-test-SECRET-openai-0123456789",
    "CHATWOOT_API_TOKEN": "cw-SECRET-token-abcdef",
    "CHATWOOT_API_TOKEN_RETAIL": "cw-SECRET-retail-token-987",
    "CHATWOOT_WEBHOOK_SECRET": "whsec-SECRET-global-555",
    "CHATWOOT_WEBHOOK_SECRET_RETAIL": "whsec-SECRET-retail-777",
    "ADMIN_TOKEN": "admin-SECRET-token-321",
}
"""Secret-looking environment values set for every test here: none may reach a prompt or reply."""


@dataclass
class Request:
    """What one agent request of the scripted model was given."""

    instructions: str
    tools: set[str]
    tool_descriptions: str
    user_prompts: list[str]


@dataclass
class Script:
    """The plan of the obedient model for the next turns, and what it saw."""

    route: str | None = None
    """Crew the LLM router picks when it is asked (None: no crew fits)."""
    batches: list[list[tuple[str, Any]]] = field(default_factory=list)
    """Tool-call batches to emit, one per agent request that has no tool result to read."""
    echo_instructions: bool = False
    """Answer with the full instructions (a model revealing its system prompt)."""
    final_text: str | None = None
    """A fixed final answer instead of the echo of tool results."""
    echo_history: bool = False
    """Answer with every user prompt in the message history (to see what history it got)."""
    requests: list[Request] = field(default_factory=list)
    returns: list[str] = field(default_factory=list)
    """Texts of every tool result and retry message the model received."""

    def plan(self, *batches: list[tuple[str, Any]]) -> None:
        """Replace the planned tool-call batches."""
        self.batches = list(batches)


def _user_prompts(messages: list[ModelMessage]) -> list[str]:
    return [
        str(part.content)
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, UserPromptPart)
    ]


def obedient_model(script: Script) -> FunctionModel:
    """A FunctionModel that plays `script` for the router and for every agent."""

    async def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        await asyncio.sleep(0)  # let concurrent turns interleave
        if info.output_tools and not info.allow_text_output:  # the LLM router
            return ModelResponse(
                parts=[ToolCallPart(info.output_tools[0].name, {"crew": script.route})]
            )
        script.requests.append(
            Request(
                instructions=info.instructions or "",
                tools={t.name for t in info.function_tools},
                tool_descriptions="\n".join(
                    f"{t.name}: {t.description} {t.parameters_json_schema}"
                    for t in info.function_tools
                ),
                user_prompts=_user_prompts(messages),
            )
        )
        last = messages[-1]
        answered = [
            p
            for p in (last.parts if isinstance(last, ModelRequest) else [])
            if isinstance(p, ToolReturnPart | RetryPromptPart)
        ]
        if not answered and script.batches:
            batch = script.batches.pop(0)
            return ModelResponse(parts=[ToolCallPart(name, args) for name, args in batch])
        texts = [
            str(p.content) if isinstance(p, ToolReturnPart) else p.model_response()
            for p in answered
        ]
        script.returns.extend(texts)
        if script.echo_instructions:
            return ModelResponse(parts=[TextPart(info.instructions or "")])
        if script.echo_history:
            return ModelResponse(parts=[TextPart(" | ".join(_user_prompts(messages)))])
        if script.final_text is not None:
            return ModelResponse(parts=[TextPart(script.final_text)])
        return ModelResponse(parts=[TextPart("Resultado: " + " || ".join(texts))])

    return FunctionModel(respond)


class ScriptedResolver(ModelResolver):
    """Every domain and agent gets the obedient scripted model."""

    def __init__(self, settings: Settings, model: Model) -> None:
        super().__init__(settings)
        self.model = model

    def resolve(self, domain: LLMSettings, agent: LLMSettings | None = None) -> Model:
        """The scripted model, whatever the `llm:` settings say."""
        return self.model


@pytest.fixture
def script() -> Script:
    """A fresh plan for the obedient model."""
    return Script()


@pytest.fixture
async def system(
    script: Script,
    redis_url: str,
    key_prefix: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[ChatwootAISystem]:
    """The example domains on the real Redis, answered by the obedient model."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    settings = Settings(CHATWOOTAI_DOMAINS_DIR=DOMAINS, CHATWOOTAI_DATA_DIR=tmp_path)
    store = RedisStore.from_url(redis_url, prefix=key_prefix)
    system = await ChatwootAISystem.create(
        settings, store=store, models=ScriptedResolver(settings, obedient_model(script))
    )
    yield system
    await system.close()


def message(
    text: str, account: str = "1", phone: str | None = None, name: str | None = None
) -> IncomingMessage:
    """A customer text message in `account`."""
    return IncomingMessage(text=text, account_id=account, customer=Customer(phone=phone, name=name))


def catalog_skus(domain: str) -> set[str]:
    """Every SKU in a domain's catalog file."""
    with (DOMAINS / domain / "catalog.csv").open(encoding="utf-8") as handle:
        return {row["sku"] for row in csv.DictReader(handle)}
