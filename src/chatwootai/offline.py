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


_FAQ_ANSWER = re.compile(r"^R: (.+?)(?=\n\nP: |\Z)", re.S | re.M)
_SERVICE = re.compile(r"^- (.+?) \(id ([\w\-]+)\)", re.M)


def best_answer(knowledge_text: str) -> str | None:
    """The answer of the best knowledge-base entry in a knowledge tool's result."""
    match = _FAQ_ANSWER.search(knowledge_text)
    return match.group(1).strip() if match else None


def best_service(message: str, listing: str) -> str | None:
    """The id of the service, in a calendar's service listing, that `message` names."""
    asked = set(stems(message))
    best: tuple[float, str] | None = None
    for name, service_id in _SERVICE.findall(listing):
        words = set(stems(name)) | set(stems(service_id.replace("-", " ")))
        overlap = len(asked & words) / max(len(words), 1)
        if overlap > 0 and (best is None or overlap > best[0]):
            best = (overlap, service_id)
    return best[1] if best else None


def _last_prompt(messages: list[ModelMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    return ""


def _kinds(tool_name: str, info: AgentInfo) -> tuple[str, ...]:
    for tool in info.function_tools:
        if tool.name == tool_name:
            return tuple((tool.metadata or {}).get("kinds", ()))
    return ()


def _follow_up(
    ret: ToolReturnPart, prompt: str, info: AgentInfo, messages: list[ModelMessage]
) -> ModelResponse | None:
    """A second tool call after a calendar listed its services and the message names one."""
    if "calendar" not in _kinds(ret.tool_name, info):
        return None
    calls = [
        p
        for m in messages
        if isinstance(m, ModelResponse)
        for p in m.parts
        if isinstance(p, ToolCallPart) and p.tool_name == ret.tool_name
    ]
    if len(calls) != 1 or calls[0].args_as_dict().get("service"):
        return None
    service = best_service(prompt, ret.model_response_str())
    if service is None:
        return None
    args = {"action": "availability", "service": service, "days": 3}
    return ModelResponse(parts=[ToolCallPart(tool_name=ret.tool_name, args=args)])


def _worded(ret: ToolReturnPart, info: AgentInfo) -> str:
    text = ret.model_response_str()
    if "knowledge" in _kinds(ret.tool_name, info):
        answer = best_answer(text)
        if answer:
            return f"{answer}\n\nPosso ajudar em algo mais?"
    return answer_from([text])


async def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """One offline model response: a tool call for a new message, then the worded answer."""
    last = messages[-1] if messages else None
    prompt = _last_prompt(messages)
    if isinstance(last, ModelRequest):
        returns = [p for p in last.parts if isinstance(p, ToolReturnPart)]
        if returns:
            turn = messages[_turn_start(messages) :]
            follow_up = _follow_up(returns[-1], prompt, info, turn)
            if follow_up is not None:
                return follow_up
            if len(returns) == 1:
                return ModelResponse(parts=[TextPart(_worded(returns[0], info))])
            return ModelResponse(
                parts=[TextPart(answer_from([p.model_response_str() for p in returns]))]
            )
    tool = choose_tool(prompt, info.function_tools)
    if tool is None:
        return ModelResponse(parts=[TextPart(NO_ANSWER)])
    return ModelResponse(
        parts=[ToolCallPart(tool_name=tool.name, args=tool_arguments(prompt, tool))]
    )


def _turn_start(messages: list[ModelMessage]) -> int:
    """Index of the request that carries the current customer message."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, ModelRequest) and any(
            isinstance(p, UserPromptPart) for p in message.parts
        ):
            return index
    return 0


class OfflineModel(FunctionModel):
    """A deterministic pydantic-ai model answering from the agent's tools (no LLM)."""

    def __init__(self) -> None:
        super().__init__(respond, model_name="offline")
