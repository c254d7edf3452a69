"""The in-process queue: a turn outlasting the job timeout is cut, retried, then given up."""

from __future__ import annotations

import asyncio

from chatwootai.service.queue import InProcessTurnQueue
from chatwootai.settings import Settings


async def test_a_turn_that_never_ends_is_cut_and_given_up(settings: Settings) -> None:
    quick = settings.model_copy(update={"job_timeout_s": 0.1, "turn_attempts": 2})
    started: list[str] = []
    gave_up: list[str] = []

    async def run(conversation_key: str) -> None:
        started.append(conversation_key)
        await asyncio.Event().wait()  # a turn stuck for good

    async def give_up(conversation_key: str) -> None:
        gave_up.append(conversation_key)

    queue = InProcessTurnQueue(run, quick, on_give_up=give_up)
    await queue.enqueue("3:417", 1, 0)
    await asyncio.wait_for(queue.drain(), 30)
    assert started == ["3:417", "3:417"]
    assert gave_up == ["3:417"]
