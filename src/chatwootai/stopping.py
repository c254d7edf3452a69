"""Stopping a background task for sure.

A cancellation can be lost inside a library call: redis-py's asyncio client swallows one now and
then when it lands in a command (redis-py issues 2028 and 2551; seen here on Python 3.11 with
redis 5.3, about one cancel in 300 in a tight loop of GET and SET). A loop task whose cancel was
lost goes on forever, and ``await task`` after ``task.cancel()`` never returns: a shutdown that
hangs. :func:`stop_task` asks again until the task has ended.
"""

from __future__ import annotations

import asyncio
from typing import Any

AGAIN_S = 0.5
"""How long to wait for a cancelled task before cancelling it again."""


async def stop_task(task: asyncio.Task[Any] | None, *, again_s: float = AGAIN_S) -> None:
    """Cancel `task` and wait until it has ended; an error it ended with is raised."""
    if task is None:
        return
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=again_s)
    if not task.cancelled():
        task.result()
