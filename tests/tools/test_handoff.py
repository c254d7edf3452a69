"""The handoff tool returns a handoff request with the reason."""

from __future__ import annotations

import pytest

from chatwootai.config.schema import HandoffSettings
from chatwootai.store.base import Store
from chatwootai.tools.base import ToolArgumentsError, ToolContext
from chatwootai.tools.handoff import HandoffArgs, HandoffTool


async def test_handoff_carries_the_reason(store: Store, ctx: ToolContext) -> None:
    tool = HandoffTool("handoff", "", store, HandoffSettings())
    result = await tool.run(ctx, HandoffArgs(reason="cliente pediu um humano"))
    assert result.handoff is not None
    assert result.handoff.reason == "cliente pediu um humano"
    assert result.handoff.requested_by == "agent"


async def test_reason_required(store: Store, ctx: ToolContext) -> None:
    tool = HandoffTool("handoff", "", store, HandoffSettings(reason_required=True))
    with pytest.raises(ToolArgumentsError, match="reason"):
        await tool.run(ctx, HandoffArgs(reason="  "))


async def test_reason_optional(store: Store, ctx: ToolContext) -> None:
    tool = HandoffTool("handoff", "", store, HandoffSettings(reason_required=False))
    result = await tool.run(ctx, HandoffArgs())
    assert result.handoff is not None
    assert result.handoff.reason
