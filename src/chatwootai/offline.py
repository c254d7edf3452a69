"""The offline model: deterministic answers from the agent's own tools, with no LLM behind it.

It reads the customer's message, picks one of the tools the agent was given (price or product
words → catalog; an order number → orders; scheduling words → calendar; anything else →
knowledge), calls it through the normal tool-call path (so the DataProxy's grants apply) and
words the result as a short, polite answer in Portuguese. When no tool fits it answers
:data:`NO_ANSWER`, which the crew turns into the fallback text and a handoff.

Tools are recognised by their pydantic-ai metadata: ``{"kinds": [...]}`` lists the tool kinds a
tool reaches (a delegate tool of a hierarchical crew lists its member's kinds).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.tools import ToolDefinition

from chatwootai.text import stems

NO_ANSWER = "[offline: no answer]"
"""The offline model's output when no tool fits the message (the crew falls back)."""

_CATALOG = frozenset(
    stems(
        "preço preços valor valores quanto custa custam produto produtos comprar compra "
        "estoque disponível tem vende vendem marca promoção desconto barato caro catálogo"
    )
)
_CALENDAR = frozenset(
    stems(
        "agendar agendamento agenda marcar marcação horário horários consulta reservar reserva "
        "vaga vagas disponibilidade atendimento sessão"
    )
)
_ORDERS = frozenset(stems("pedido pedidos encomenda rastreio rastreamento entrega compra status"))
_ORDER_NUMBER = re.compile(r"#?\b([A-Za-z]{0,4}-?\d{3,})\b")
_ID_FIELDS = ("order", "pedido", "number", "numero", "code", "codigo", "id")
_ACTION_WORDS = ("free", "slot", "availab", "list", "search", "find", "livre")


def intent_kinds(message: str) -> list[str]:
    """Tool kinds to try for `message`, best first (knowledge always last)."""
    words = set(stems(message))
    kinds: list[str] = []
    if _ORDER_NUMBER.search(message) and (words & _ORDERS or not words & _CATALOG):
        kinds.append("orders")
    if words & _CALENDAR:
        kinds.append("calendar")
    if words & _CATALOG:
        kinds.append("catalog")
    if words & _ORDERS and "orders" not in kinds:
        kinds.append("orders")
    kinds.append("knowledge")
    return kinds


def choose_tool(message: str, tools: list[ToolDefinition]) -> ToolDefinition | None:
    """The tool that best fits `message` among `tools`, or None."""
    for kind in intent_kinds(message):
        for tool in tools:
            if kind in (tool.metadata or {}).get("kinds", ()):
                return tool
    return None


def tool_arguments(message: str, tool: ToolDefinition) -> dict[str, Any]:
    """Arguments for `tool` drawn from `message`, following its JSON schema."""
    schema = tool.parameters_json_schema
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    order = _ORDER_NUMBER.search(message)
    args: dict[str, Any] = {}
    text_given = False
    for name, prop in properties.items():
        kind = prop.get("type")
        if "enum" in prop:
            values = [str(v) for v in prop["enum"]]
            pick = next((v for v in values if any(w in v.lower() for w in _ACTION_WORDS)), None)
            if pick is not None or name in required:
                args[name] = pick or values[0]
        elif any(f in name.lower() for f in _ID_FIELDS):
            if kind == "string" and order:
                args[name] = order.group(1).lstrip("#")
        elif kind == "string" and not text_given and (name in required or not required):
            args[name] = message
            text_given = True
        elif name in required and kind == "string":
            args[name] = message
    return args


def answer_from(results: list[str]) -> str:
    """A polite Portuguese answer quoting the tool results."""
    body = "\n\n".join(r.strip() for r in results if r.strip())
    if not body:
        return NO_ANSWER
    return f"Olá! Encontrei estas informações para você:\n\n{body}\n\nPosso ajudar em algo mais?"


def _last_prompt(messages: list[ModelMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    return ""


async def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """One offline model response: a tool call for a new message, then the worded answer."""
    last = messages[-1] if messages else None
    if isinstance(last, ModelRequest):
        returns = [p for p in last.parts if isinstance(p, ToolReturnPart)]
        if returns:
            return ModelResponse(
                parts=[TextPart(answer_from([p.model_response_str() for p in returns]))]
            )
    prompt = _last_prompt(messages)
    tool = choose_tool(prompt, info.function_tools)
    if tool is None:
        return ModelResponse(parts=[TextPart(NO_ANSWER)])
    return ModelResponse(
        parts=[ToolCallPart(tool_name=tool.name, args=tool_arguments(prompt, tool))]
    )


class OfflineModel(FunctionModel):
    """A deterministic pydantic-ai model answering from the agent's tools (no LLM)."""

    def __init__(self) -> None:
        super().__init__(respond, model_name="offline")
