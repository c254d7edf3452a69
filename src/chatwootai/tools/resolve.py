"""The resolve tool: an agent ends the conversation when the customer is done.

The call runs through the DataProxy like any tool (grants, arguments, the call recorded); its
result carries ``resolve=True`` and the domain's closing text. The turn then posts that text and
resolves the conversation in Chatwoot (``toggle_status resolved``), and the conversation's routing
starts fresh when the customer writes again (:mod:`chatwootai.service.lifecycle`).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from chatwootai.config.schema import ResolveSettings
from chatwootai.store.base import Store
from chatwootai.tools.base import Tool, ToolContext, ToolResult


class ResolveArgs(BaseModel):
    """Arguments of a resolution."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(
        default="",
        max_length=500,
        description="Resumo curto do que foi resolvido (para o histórico da equipe).",
    )


class ResolveTool(Tool):
    """Ends (resolves) the conversation with the domain's closing text."""

    kind: ClassVar[str] = "resolve"
    args_model: ClassVar[type[BaseModel]] = ResolveArgs

    def __init__(
        self,
        tool_id: str,
        description: str,
        store: Store,
        settings: ResolveSettings | None = None,
    ) -> None:
        super().__init__(tool_id, description, store)
        self.settings = settings or ResolveSettings()

    def model_description(self) -> str:
        """The YAML's description, and when to call it."""
        return (
            self.description or "Encerra a conversa."
        ) + " Use só quando o cliente disser que não precisa de mais nada."

    async def run(self, ctx: ToolContext, args: BaseModel) -> ToolResult:
        """A result asking the turn to resolve the conversation, with the closing text."""
        summary = ResolveArgs.model_validate(args).summary.strip()
        return ToolResult(
            text=self.settings.closing_message,
            data={"resolve": True, "summary": summary},
            resolve=True,
        )
