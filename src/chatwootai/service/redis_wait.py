"""Waiting for Redis before a worker starts: logged once, capped backoff, ends on a signal.

arq's worker exits when Redis does not answer at start; a worker started during an outage (or
before Redis in a compose file) instead waits here until Redis answers a PING, then runs.
SIGTERM or SIGINT while waiting ends the wait, and the worker exits cleanly without running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time

from chatwootai.settings import Settings
from chatwootai.store.connection import open_store, store_ready

log = logging.getLogger(__name__)

FIRST_BACKOFF_S = 0.1
BACKOFF_MAX_S = 2.0
"""Longest pause between two tries while waiting for Redis at start."""

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def wait_for_redis(
    settings: Settings,
    stop: asyncio.Event,
    *,
    first_s: float = FIRST_BACKOFF_S,
    max_s: float = BACKOFF_MAX_S,
) -> bool:
    """True once the deployment's Redis answers; False when `stop` is set first."""
    store = open_store(settings)
    started = time.monotonic()
    tries = 0
    try:
        while not stop.is_set():
            if await store_ready(store):
                if tries:
                    waited = time.monotonic() - started
                    log.warning("Redis answers after %.1f s; the worker starts", waited)
                return True
            tries += 1
            if tries == 1:
                log.warning(
                    "Redis does not answer; the worker waits for it (retrying every %.1f s at "
                    "most; SIGTERM or Ctrl-C to stop)",
                    max_s,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), min(first_s * 2 ** (tries - 1), max_s))
        log.warning("stopped while waiting for Redis; the worker exits without starting")
        return False
    finally:
        with contextlib.suppress(Exception):
            await store.close()


def wait_for_redis_or_signal(settings: Settings) -> bool:
    """Block until Redis answers (True) or SIGTERM/SIGINT arrives (False).

    Runs on a new event loop left current for the worker that follows (arq takes the current
    loop); the signal handlers are removed again so the worker installs its own.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    stop = asyncio.Event()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    try:
        return loop.run_until_complete(wait_for_redis(settings, stop))
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
