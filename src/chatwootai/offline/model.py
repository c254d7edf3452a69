"""The offline model: a deterministic pydantic-ai model that answers from the agent's own tools.

Each request it reads the turn (the customer's message, the time from the instructions, the
agent's tools, the calls made so far in this turn) and either calls one more tool, through the
normal tool path (so the DataProxy's grants apply), or answers. What it does, in order:

1. requests it cannot carry out (cancel an order, send a payment link, photos, a call, a
   discount, clinical advice) and complaints: an honest answer and a handoff;
2. a hello or a thank-you: a short answer, no tool;
3. with a calendar: bookings, changes and cancellations (:mod:`~chatwootai.offline.scheduling`);
4. otherwise the catalog, the knowledge base and the orders, in the order the message suggests
   (:mod:`~chatwootai.offline.lookup`).

A manager of a hierarchical crew hands the message to the member whose tools fit it and passes
its answer on. When nothing fits it answers :data:`NO_ANSWER`: the crew falls back (the domain's
fallback text and a handoff).
"""

from __future__ import annotations

from datetime import date

from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from chatwootai.offline import wording
from chatwootai.offline.lookup import NO_ANSWER, kinds_for, look_up
from chatwootai.offline.message import Message
from chatwootai.offline.scheduling import faq_first, schedule
from chatwootai.offline.services import find_service, services_of
from chatwootai.offline.turn import Action, Call, Reply, Turn


def intent_kinds(message: str, today: date | None = None) -> list[str]:
    """Kinds of tool the offline model would try for `message`, best first."""
    read = Message.read(message, today or date.today())
    kinds = kinds_for(read)
    if read.scheduling and not read.identifies_order:
        kinds.insert(0, "calendar")
    return list(dict.fromkeys(kinds))


def decide(turn: Turn) -> Action:
    """What the offline model does next in `turn`."""
    message = Message.read(turn.prompt, turn.today)
    if message.cannot is not None:
        what, why = message.cannot
        return _hand_off(
            turn, why, wording.cannot(what), f"Isso eu não consigo fazer por aqui: {what}."
        )
    if message.complaint:
        return _hand_off(turn, "reclamação do cliente", wording.COMPLAINT, NO_ANSWER)
    if message.small_talk == "thanks" and turn.tool("resolve") is not None:
        return _resolve(turn)
    if message.small_talk is not None and not turn.done:
        if message.small_talk == "thanks":
            return Reply(wording.THANKS)
        return Reply(wording.GREETING)
    if turn.delegates():
        return _manage(turn, message)
    calendar = turn.tool("calendar")
    if calendar is None and (message.yes or message.no) and len(message.folded.split()) <= 3:
        return Reply("Certo! Como posso te ajudar?")  # an answer to nothing this agent asked
    if calendar is not None:
        named = find_service(message.text, services_of(calendar.metadata))
        if message.question and not message.scheduling and not (message.price and named):
            answered = faq_first(turn, message)
            if answered is not None:
                return answered
            if named is None:
                return Reply(NO_ANSWER)
        return schedule(turn, message)
    return look_up(turn, message)


def _resolve(turn: Turn) -> Action:
    """The customer is done (thanks, bye): end the conversation with the resolve tool's text."""
    tool = turn.tool("resolve")
    assert tool is not None
    done = turn.last(tool.name)
    if done is None:
        return Call(tool.name, {})
    return Reply(done.text if done.ok else wording.THANKS)


def _hand_off(turn: Turn, reason: str, text: str, without_handoff: str) -> Action:
    """Hand off with `reason`, then answer `text` (or `without_handoff` with no handoff tool)."""
    handoff = turn.tool("handoff")
    if handoff is None:
        return Reply(without_handoff)
    if turn.last(handoff.name) is None:
        return Call(handoff.name, {"reason": reason})
    return Reply(text)


def _manage(turn: Turn, message: Message) -> Action:
    """A manager: hand the message to the members whose tools fit (at most two), then answer
    with what they said."""
    plan = _delegation_plan(turn, message)
    for name in plan:
        if turn.last(name) is None:
            return Call(name, {"task": turn.prompt})
    answers = [d.text for d in turn.done if d.name in plan and d.ok]
    useful = [a for a in answers if NO_ANSWER not in a]
    if useful:
        parts = [a.removesuffix(f"\n\n{wording.MORE_HELP}") for a in useful[:-1]]
        return Reply("\n\n".join([*parts, useful[-1]]))
    return Reply(NO_ANSWER)


def _delegation_plan(turn: Turn, message: Message) -> list[str]:
    """The delegate tools to call for `message`, in order (one or two)."""
    delegates = turn.delegates()

    def member_for(kind: str) -> str | None:
        return next(
            (t.name for t in delegates if kind in (t.metadata or {}).get("kinds", ())), None
        )

    wanted: list[str] = []
    if message.identifies_order or message.order_status:
        wanted.append("orders")
    if message.catalog or message.price:
        wanted.append("catalog")
    if message.scheduling and not message.identifies_order:
        wanted.append("calendar")
    if message.policy and not wanted:
        wanted.append("knowledge")
    plan = [m for m in (member_for(kind) for kind in wanted) if m is not None]
    plan = list(dict.fromkeys(plan))[:2]
    if plan:
        return plan
    earlier = turn.earlier_delegate()
    if earlier is not None:
        return [earlier]
    for kind in kinds_for(message):
        member = member_for(kind)
        if member is not None:
            return [member]
    return [delegates[0].name]


async def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """One offline model response: the next tool call of the turn, or the answer."""
    turn = Turn.read(messages, info)
    action = decide(turn)
    if isinstance(action, Call):
        if any(d.name == action.tool and d.args == action.args for d in turn.done):
            action = Reply(NO_ANSWER)  # never the same call twice in a turn
        else:
            return ModelResponse(parts=[ToolCallPart(tool_name=action.tool, args=action.args)])
    return ModelResponse(parts=[TextPart(action.text)])


class OfflineModel(FunctionModel):
    """A deterministic pydantic-ai model answering from the agent's tools (no LLM)."""

    def __init__(self) -> None:
        super().__init__(respond, model_name="offline")
