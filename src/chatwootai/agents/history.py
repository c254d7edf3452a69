"""Bounding message histories without cutting a tool call from its result.

A history is cut only at the start of a customer turn (a request carrying the user's prompt), so
what remains is whole request/response exchanges: never a tool return without its call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelMessagesTypeAdapter,
    ModelRequest,
    UserPromptPart,
)

from chatwootai.media.prompt import IMAGE_NOTE


def _turn_starts(messages: Sequence[ModelMessage]) -> list[int]:
    return [
        i
        for i, message in enumerate(messages)
        if isinstance(message, ModelRequest)
        and any(isinstance(part, UserPromptPart) for part in message.parts)
    ]


def bound_state(messages: Sequence[ModelMessage], limit: int) -> list[ModelMessage]:
    """`messages` reduced to at most `limit` (oldest whole turns dropped; may be empty)."""
    if len(messages) <= limit:
        return list(messages)
    for start in _turn_starts(messages):
        if len(messages) - start <= limit:
            return list(messages[start:])
    return []


def _dumped_turn_starts(messages: Sequence[dict[str, Any]]) -> list[int]:
    return [
        i
        for i, message in enumerate(messages)
        if message.get("kind") == "request"
        and any(part.get("part_kind") == "user-prompt" for part in message.get("parts", ()))
    ]


def bound_dumped(messages: Sequence[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Like :func:`bound_state`, on messages in their JSON form (no re-serialisation)."""
    if len(messages) <= limit:
        return list(messages)
    for start in _dumped_turn_starts(messages):
        if len(messages) - start <= limit:
            return list(messages[start:])
    return []


def load_messages(dumped: Sequence[dict[str, Any]]) -> list[ModelMessage]:
    """Messages from their JSON form (as kept in an AgentState)."""
    if not dumped:
        return []
    return list(ModelMessagesTypeAdapter.validate_python(list(dumped)))


def dump_messages(messages: Sequence[ModelMessage]) -> list[dict[str, Any]]:
    """Messages in their JSON form (as kept in an AgentState), without instructions or metadata.

    pydantic-ai sends the running agent's current instructions with each request, never the
    ones stored in the history, so keeping them would only fill the state (they were about
    60 % of it). Tool-return metadata (a tool's structured data) is never sent to a model.
    """
    if not messages:
        return []
    dumped: list[dict[str, Any]] = ModelMessagesTypeAdapter.dump_python(list(messages), mode="json")
    for message in dumped:
        if message.get("instructions") is not None:
            message["instructions"] = None
        for part in message.get("parts") or ():
            if not isinstance(part, dict):
                continue
            if part.get("metadata") is not None:
                part["metadata"] = None
            content = part.get("content") if part.get("part_kind") == "user-prompt" else None
            if isinstance(content, list):  # a customer's image: never kept, a note instead
                part["content"] = [
                    item if isinstance(item, str) else IMAGE_NOTE for item in content
                ]
    return dumped
