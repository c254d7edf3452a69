"""Sending a turn's answer to Chatwoot: typing, crew label, reply parts and human handoff.

Each step of a turn's delivery is recorded under the turn id once done, and a re-run of the turn
(after a crash, a timeout or a failed step) skips the recorded steps. A step cut between posting
and recording is not recorded: before posting such a message again, a re-run reads the
conversation and skips the post when the message is there (same echo id, or same content and
privacy, posted since the turn was planned). A bot token can read only the conversation's last
messages, so the guarantee is: a message is not posted twice unless another message was posted
to the conversation in between (then it may be). A handoff records each of its steps (customer
text, private note, labels, team, status), so a retry resumes it where it stopped. Labels are
merged, so adding one twice is harmless.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from chatwootai.chatwoot.client import ChatwootClient, ChatwootError
from chatwootai.chatwoot.handoff import hand_off
from chatwootai.chatwoot.split import split_reply
from chatwootai.config.schema import ChatwootOptions
from chatwootai.service.credentials import ApiAccess, Credentials
from chatwootai.store import keys
from chatwootai.store.base import Store
from chatwootai.turn import TurnOutcome

log = logging.getLogger(__name__)

SENT_TTL_S = 86400
HANDOFF_STEP = "handoff:"
"""Prefix of the recorded handoff sub-steps (``handoff:private_note``...)."""
SUMMARY_CHARS = 500


class PlannedReply(BaseModel):
    """What a turn decided to say and do, kept so a re-run after a crash does not think twice."""

    reply: str
    domain: str
    crew: str
    route_method: str = ""
    handoff_reason: str | None = None
    handoff_by: str = ""
    handoff_summary: str = ""
    fallback: bool = False
    offline: bool = False
    planned_at: float = 0.0
    """When the plan was made (epoch seconds): a re-run looks for its messages since then."""

    @classmethod
    def from_outcome(cls, outcome: TurnOutcome) -> PlannedReply:
        """The plan of a pipeline outcome."""
        handoff = outcome.handoff
        return cls(
            reply=outcome.reply,
            domain=outcome.domain,
            crew=outcome.crew,
            route_method=outcome.route_method,
            handoff_reason=handoff.reason if handoff else None,
            handoff_by=handoff.requested_by if handoff else "",
            handoff_summary=handoff.summary if handoff else "",
            fallback=outcome.fallback,
            offline=outcome.offline,
            planned_at=time.time(),
        )


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """The Chatwoot conversation a turn answers."""

    conversation_key: str
    account_id: int
    display_id: int
    inbox_id: int | None
    channel: str


ClientFactory = Callable[[ApiAccess], ChatwootClient]


def default_client_factory(access: ApiAccess) -> ChatwootClient:
    """A Chatwoot client for the access (bot token)."""
    return ChatwootClient(access.base_url, access.token)


class Replier:
    """Posts replies, labels and handoffs through the Chatwoot API, once per turn step."""

    def __init__(
        self,
        store: Store,
        credentials: Credentials,
        *,
        client_factory: ClientFactory = default_client_factory,
    ) -> None:
        self.store = store
        self.credentials = credentials
        self.client_factory = client_factory
        self._clients: dict[ApiAccess, ChatwootClient] = {}

    def client_for(self, target: ReplyTarget) -> ChatwootClient:
        """The (cached) client for the target's account and inbox."""
        access = self.credentials.api_access(target.account_id, target.inbox_id)
        client = self._clients.get(access)
        if client is None:
            client = self._clients[access] = self.client_factory(access)
        return client

    async def typing(self, target: ReplyTarget, on: bool) -> None:
        """Show or hide the typing indicator; failures are only logged."""
        try:
            await self.client_for(target).toggle_typing(target.account_id, target.display_id, on)
        except Exception as exc:  # best effort: typing never fails a turn
            log.debug("typing %s in %s failed: %s", on, target.conversation_key, exc)

    async def _done(self, target: ReplyTarget, turn_id: str) -> list[str]:
        raw = await self.store.get(keys.turn_sent(target.conversation_key, turn_id))
        if raw is None:
            return []
        try:
            steps = json.loads(raw)
        except ValueError:
            return []
        return [str(s) for s in steps] if isinstance(steps, list) else []

    async def _record(self, target: ReplyTarget, turn_id: str, steps: list[str]) -> None:
        key = keys.turn_sent(target.conversation_key, turn_id)
        await self.store.set(key, json.dumps(steps), SENT_TTL_S)

    async def deliver(
        self,
        target: ReplyTarget,
        plan: PlannedReply,
        options: ChatwootOptions,
        turn_id: str,
        *,
        customer_text: str = "",
        first_attempt: bool = False,
    ) -> list[str]:
        """Post the plan's reply parts, crew label and handoff; the steps done by this call.

        With `first_attempt` (the plan was just made, so nothing of it can have been sent) the
        record of sent steps is not read; otherwise a message not recorded as sent is first
        looked for in the conversation (see the module's docstring).
        """
        client = self.client_for(target)
        done = [] if first_attempt else await self._done(target, turn_id)
        performed: list[str] = []
        since = plan.planned_at or time.time() - SENT_TTL_S

        async def posted(content: str, echo_id: str) -> bool:
            """On a re-run: whether an earlier attempt posted this message unrecorded."""
            if first_attempt:
                return False
            found = await client.find_posted(
                target.account_id, target.display_id, content, echo_id=echo_id, since=since
            )
            if found is not None:
                log.info("reply %s of %s was already posted", echo_id, target.conversation_key)
            return found is not None

        async def step(name: str) -> bool:
            return name not in done

        async def mark(name: str) -> None:
            done.append(name)
            performed.append(name)
            await self._record(target, turn_id, done)

        label = options.crew_labels.get(plan.crew)
        if label and await step("label"):
            try:
                await client.add_labels(target.account_id, target.display_id, [label])
            except ChatwootError as exc:
                log.warning("crew label on %s failed: %s", target.conversation_key, exc)
            await mark("label")
        for index, part in enumerate(split_reply(plan.reply, target.channel)):
            name = f"reply:{index}"
            if await step(name):
                echo_id = f"{turn_id}-{index}"
                if not await posted(part, echo_id):
                    await client.send_message(
                        target.account_id, target.display_id, part, echo_id=echo_id
                    )
                await mark(name)
        if plan.handoff_reason is not None and await step("handoff"):
            summary = _summary(plan, customer_text)

            async def handoff_step(name: str) -> None:
                await mark(f"{HANDOFF_STEP}{name}")

            await hand_off(
                client,
                target.account_id,
                target.display_id,
                reason=plan.handoff_reason,
                summary=summary,
                customer_text=None if plan.reply.strip() else options.texts.handoff,
                team_id=options.handoff_team_id,
                labels=options.handoff_labels,
                done=[s.removeprefix(HANDOFF_STEP) for s in done if s.startswith(HANDOFF_STEP)],
                on_step=handoff_step,
                since=None if first_attempt else since,
            )
            await mark("handoff")
        return performed

    async def close(self) -> None:
        """Close every client's connections."""
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


def _summary(plan: PlannedReply, customer_text: str) -> str:
    lines = [f"Domínio: {plan.domain} · equipe: {plan.crew}"]
    if plan.handoff_by:
        lines.append(f"Pedido por: {plan.handoff_by}")
    if plan.handoff_summary.strip():
        lines.append(plan.handoff_summary.strip())
    text = customer_text.strip()
    if text:
        if len(text) > SUMMARY_CHARS:
            text = text[: SUMMARY_CHARS - 1] + "…"
        lines.append(f"Cliente: {text}")
    return "\n".join(lines)
