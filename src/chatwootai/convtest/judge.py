"""The LLM judge of `says:` expectations ("the reply says that X"), used only when asked for.

Deterministic checks (`reply_contains`, tools, bookings) say whether the right thing happened;
with a real model a reply may word it in many ways, and `says:` asks a model whether the reply
states something. It runs only with `chatwootai test --judge MODEL` and its verdicts are
labelled as an LLM's in the report.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic_ai import Agent
from pydantic_ai.models import Model

INSTRUCTIONS = (
    "You check one reply of a customer-service assistant. Given the customer's message, the "
    "reply and a statement, decide whether the reply states that statement (a paraphrase "
    "counts; a reply that says something else, only hints at it or hedges does not). The "
    "conversation is usually in Portuguese. Answer with holds and a one-sentence reason."
)


class Verdict(BaseModel):
    """The judge's answer."""

    holds: bool = Field(description="The reply states the statement.")
    reason: str = Field(default="", description="One sentence saying why.")


class Judge:
    """Asks a model whether a reply states something."""

    def __init__(self, model: Model, name: str) -> None:
        self.name = name
        self.agent: Agent[None, Verdict] = Agent(
            model, output_type=Verdict, instructions=INSTRUCTIONS, name="convtest-judge"
        )

    async def check(self, customer: str, reply: str, statement: str) -> Verdict:
        """Whether `reply` (to `customer`) states `statement`."""
        prompt = f"Customer: {customer}\n\nReply: {reply}\n\nStatement: {statement}"
        result = await self.agent.run(prompt)
        return result.output
