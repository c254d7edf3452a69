"""The handoff tool: an agent asks for a human to take the conversation over."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from chatwootai.config.schema import HandoffSettings
from chatwootai.store.base import Store
from chatwootai.tools.base import HandoffRequest, Tool, ToolArgumentsError, ToolContext, ToolResult


class HandoffArgs(BaseModel):
    """Arguments of a handoff."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        default="",
        max_length=500,
        description="Por que um atendente humano deve assumir (ex.: cliente pediu, reclamação).",
    )


class HandoffTool(Tool):
    """Requests that a human take the conversation over, with the reason."""

    kind: ClassVar[str] = "handoff"
    args_model: ClassVar[type[BaseModel]] = HandoffArgs

    def __init__(
        self,
        tool_id: str,
        description: str,
        store: Store,
        settings: HandoffSettings | None = None,
    ) -> None:
        super().__init__(tool_id, description, store)
        self.settings = settings or HandoffSettings()

    async def run(self, ctx: ToolContext, args: BaseModel) -> ToolResult:
        """A result carrying the handoff request."""
        reason = HandoffArgs.model_validate(args).reason.strip()
        if not reason:
            if self.settings.reason_required:
                raise ToolArgumentsError("handoff needs a 'reason': why a human should take over")
            reason = "transferência solicitada pelo agente"
        return ToolResult(
            text="Transferência para atendimento humano solicitada.",
            data={"reason": reason},
            handoff=HandoffRequest(reason=reason, requested_by="agent"),
        )
