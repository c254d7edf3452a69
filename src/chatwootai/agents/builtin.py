"""The built-in agent types, by the short names YAML uses in `type:`."""

from __future__ import annotations

from chatwootai.agents.base import BaseAgent
from chatwootai.agents.manager import ManagerAgent
from chatwootai.agents.sales import SalesAgent
from chatwootai.agents.scheduling import SchedulingAgent
from chatwootai.agents.support import SupportAgent

__all__ = ["BaseAgent", "ManagerAgent", "SalesAgent", "SchedulingAgent", "SupportAgent"]
