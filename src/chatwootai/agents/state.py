"""Per-conversation state of one agent: its message history and the slots it has collected."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AgentState(BaseModel):
    """What an agent remembers of one conversation between turns (JSON-serialisable)."""

    model_config = ConfigDict(extra="ignore")

    messages: list[dict[str, Any]] = Field(
        default_factory=list,
        description="pydantic-ai messages dumped with ModelMessagesTypeAdapter (mode='json').",
    )
    slots: dict[str, Any] = Field(default_factory=dict)
    updated_at: float = 0.0
