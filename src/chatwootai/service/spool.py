"""The local spool: what the webhook accepted while the store was unreachable, kept in files.

Chatwoot must get its 200 even when Redis is down (any failure opens the conversation), so a
customer message, or a change of owner (a human took the conversation over, or handed it back),
that the store cannot take is written to a file under ``data_dir/spool`` (written to a temporary
name, fsynced, then renamed; named by arrival time) and replayed, oldest first, once the store is
back.

The rule on replay: entries are replayed in arrival order, so a pause or resume is in the store
before any later message of its conversation is queued; and a customer message followed, later
in the spool, by a pause of the same conversation is *superseded*: a human took the conversation
over after it arrived and is answering it, so it is dropped (logged, and counted by
``chatwootai_spool_superseded_total``) instead of being answered by the bot.

While the spool holds entries of a conversation, new deliveries of that conversation join the
spool too (even if the store answers again), so nothing of it overtakes what is waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from chatwootai.service.turns import PendingMessage

log = logging.getLogger(__name__)

SPOOL_DIR = "spool"
STRAY_AFTER_S = 60.0
"""A temporary file older than this is a write that died (another process may be mid-write)."""


class OwnershipChange(BaseModel):
    """A conversation paused (a human took it over) or resumed (back to the bot), spooled."""

    kind: Literal["ownership"] = "ownership"
    conversation_key: str
    paused: bool
    reason: str
    received_at: float


SpoolEntry = PendingMessage | OwnershipChange
"""What the spool keeps: a customer message or a change of the conversation's owner."""

Accept = Callable[[PendingMessage], Awaitable[object]]
Own = Callable[[OwnershipChange], Awaitable[object]]
Superseded = Callable[[PendingMessage], object]


def parse_entry(text: str) -> SpoolEntry:
    """The entry held by a spool file's text (raises ``ValueError`` when it holds none)."""
    data = json.loads(text)
    if isinstance(data, dict) and data.get("kind") == "ownership":
        return OwnershipChange.model_validate(data)
    return PendingMessage.model_validate(data)


def _tag(entry: SpoolEntry) -> str:
    if isinstance(entry, PendingMessage):
        return str(entry.message_id)
    return "paused" if entry.paused else "resumed"


class Spool:
    """A directory of messages and ownership changes waiting for the store."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / SPOOL_DIR
        self._held: Counter[str] | None = None

    def write(self, entry: SpoolEntry) -> Path:
        """Keep an entry durably on disk; the file written (raises ``OSError``, leaving nothing).

        The entry is encoded before any file is opened, and the temporary file is removed on
        any failure, so a failed write leaves no file behind (an empty one would be replayed
        as garbage).
        """
        try:
            data = entry.model_dump_json().encode("utf-8")
        except (UnicodeError, ValueError) as exc:
            raise OSError(f"spool entry cannot be encoded: {exc}") from exc
        self.dir.mkdir(parents=True, exist_ok=True)
        held = self._counts()
        stamp = f"{int(entry.received_at * 1e6):020d}-{_tag(entry)}-{uuid.uuid4().hex[:8]}"
        final = self.dir / f"{stamp}.json"
        tmp = self.dir / f".{stamp}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            tmp.replace(final)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise
        held[entry.conversation_key] += 1
        return final

    def files(self) -> list[Path]:
        """Spooled entries, oldest first."""
        if not self.dir.is_dir():
            return []
        return sorted(self.dir.glob("*.json"))

    def __len__(self) -> int:
        return len(self.files())

    def holds(self, conversation_key: str) -> bool:
        """True while entries of this conversation wait in the spool."""
        return self._counts()[conversation_key] > 0

    def _counts(self) -> Counter[str]:
        """Entries per conversation (read from the files once, then kept up to date)."""
        if self._held is None:
            self._sweep()
            held: Counter[str] = Counter()
            for path in self.files():
                with contextlib.suppress(OSError, ValueError):
                    held[parse_entry(path.read_text(encoding="utf-8")).conversation_key] += 1
            self._held = held
        return self._held

    def _sweep(self) -> None:
        """Remove temporary files a process left when it died mid-write (never acknowledged)."""
        if not self.dir.is_dir():
            return
        cutoff = time.time() - STRAY_AFTER_S
        for tmp in self.dir.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()

    def _forget(self, path: Path, conversation_key: str) -> None:
        path.unlink(missing_ok=True)
        held = self._counts()
        held[conversation_key] -= 1
        if held[conversation_key] <= 0:
            del held[conversation_key]

    def _read_all(self) -> list[tuple[Path, SpoolEntry]]:
        entries: list[tuple[Path, SpoolEntry]] = []
        for path in self.files():
            try:
                entries.append((path, parse_entry(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, ValidationError) as exc:
                log.error("spooled file %s is unreadable, moved aside: %s", path.name, exc)
                with contextlib.suppress(OSError):
                    path.rename(path.with_suffix(".bad"))
        return entries

    async def drain(self, accept: Accept, own: Own, *, superseded: Superseded | None = None) -> int:
        """Replay every spooled entry, oldest first; the number replayed or dropped.

        Messages go to `accept`, ownership changes to `own`; a message followed by a pause of
        its conversation goes to `superseded` instead. Stops at the first failure (the store is
        still down); that file and the later ones stay for the next try.
        """
        entries = self._read_all()
        last_pause: dict[str, int] = {}
        for index, (_, entry) in enumerate(entries):
            if isinstance(entry, OwnershipChange) and entry.paused:
                last_pause[entry.conversation_key] = index
        drained = 0
        for index, (path, entry) in enumerate(entries):
            key = entry.conversation_key
            if isinstance(entry, PendingMessage) and last_pause.get(key, -1) > index:
                log.info(
                    "spooled message %s of %s dropped: a human took the conversation over after it",
                    entry.message_id,
                    key,
                )
                if superseded is not None:
                    superseded(entry)
                self._forget(path, key)
                drained += 1
                continue
            try:
                if isinstance(entry, PendingMessage):
                    await accept(entry)
                else:
                    await own(entry)
            except Exception as exc:
                log.info("spool drain paused after %d entries: %s", drained, exc)
                break
            self._forget(path, key)
            drained += 1
        return drained

    async def drain_forever(
        self,
        accept: Accept,
        own: Own,
        ready: Callable[[], Awaitable[bool]],
        *,
        superseded: Superseded | None = None,
        every_s: float = 1.0,
    ) -> None:
        """Drain whenever there is something spooled and the store answers.

        A failure of one round (the disk, say) is logged and the next round tries again: the
        drainer never ends on its own, or the conversations it holds would stay spooled.
        """
        while True:
            try:
                if self.files() and await ready():
                    count = await self.drain(accept, own, superseded=superseded)
                    if count:
                        log.info("replayed %d spooled entries", count)
            except Exception:
                log.exception("spool drain failed; trying again in %g s", every_s)
            await asyncio.sleep(every_s)
