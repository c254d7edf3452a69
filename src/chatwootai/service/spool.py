"""The local spool: accepted messages kept in files while the store is unreachable.

Chatwoot must get its 200 even when Redis is down (any failure opens the conversation), so a
message the store cannot take is written to a file under ``data_dir/spool`` (written to a
temporary name, flushed, then renamed) and replayed, oldest first, once the store is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from pydantic import ValidationError

from chatwootai.service.turns import PendingMessage

log = logging.getLogger(__name__)

SPOOL_DIR = "spool"


class Spool:
    """A directory of pending messages waiting for the store."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / SPOOL_DIR

    def write(self, message: PendingMessage) -> Path:
        """Keep a message durably on disk; the file written."""
        self.dir.mkdir(parents=True, exist_ok=True)
        stamp = f"{int(message.received_at * 1e6):020d}-{message.message_id}-{uuid.uuid4().hex[:8]}"
        final = self.dir / f"{stamp}.json"
        tmp = self.dir / f".{stamp}.tmp"
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(message.model_dump_json())
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(final)
        return final

    def files(self) -> list[Path]:
        """Spooled messages, oldest first."""
        if not self.dir.is_dir():
            return []
        return sorted(self.dir.glob("*.json"))

    def __len__(self) -> int:
        return len(self.files())

    async def drain(self, accept: Callable[[PendingMessage], Awaitable[object]]) -> int:
        """Hand every spooled message to `accept`, oldest first; the number drained.

        Stops at the first failure (the store is still down); that file stays for the next try.
        """
        drained = 0
        for path in self.files():
            try:
                message = PendingMessage.model_validate_json(path.read_text(encoding="utf-8"))
            except (OSError, ValidationError) as exc:
                log.error("spooled file %s is unreadable, moved aside: %s", path.name, exc)
                with contextlib.suppress(OSError):
                    path.rename(path.with_suffix(".bad"))
                continue
            try:
                await accept(message)
            except Exception as exc:
                log.info("spool drain paused after %d messages: %s", drained, exc)
                break
            path.unlink(missing_ok=True)
            drained += 1
        return drained

    async def drain_forever(
        self,
        accept: Callable[[PendingMessage], Awaitable[object]],
        ready: Callable[[], Awaitable[bool]],
        *,
        every_s: float = 1.0,
    ) -> None:
        """Drain whenever there is something spooled and the store answers."""
        while True:
            if self.files() and await ready():
                count = await self.drain(accept)
                if count:
                    log.info("replayed %d spooled messages", count)
            await asyncio.sleep(every_s)
