"""The journal: a local, fsynced record of every message the webhook acknowledged, kept until its
turn has ended.

Redis holds the pending messages, their dedupe marks and the queue. A Redis that restarts
without persistence (the default of many installations) comes back empty, and a message
acknowledged with 200 just before would be lost silently: Chatwoot does not deliver it again.
So before answering 200, the webhook appends the message to this journal (under
``data_dir/journal``) and waits for the disk to have it; the journal keeper
(:mod:`chatwootai.service.durability`) forgets the entry once the message has left the store's
pending list (its turn ended), and replays every entry when the store lost its data.

* **Appends are group-committed**: each delivery writes one line, then waits for an ``fdatasync``
  that covers it; deliveries arriving during a sync share the next one, so the disk sees one
  sync per batch, not per message (the sync runs in a thread: the event loop never blocks).
* **Segments**: lines go to ``{slot}/{seq}.jsonl``; a new segment starts past ``SEGMENT_BYTES``,
  and a segment whose entries have all ended is deleted. Which entries ended is kept in memory
  only: after a restart every entry found is live again until the keeper checks it.
* **Slots**: each serve process holds an exclusive lock on a slot directory (``0``, ``1``…), so
  processes sharing a data dir never share files; a process starting takes over the entries of
  slots nobody holds (a process that died), so they are never orphaned.
* A torn last line (the process died mid-write, before that delivery got its 200) is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from chatwootai.service.turns import PendingMessage

log = logging.getLogger(__name__)

JOURNAL_DIR = "journal"
SEGMENT_BYTES = 4 * 1024 * 1024
"""A segment grows to about this size before the next one starts."""
FIRST_CHECK_S = 0.5
"""An entry is first checked against the store this long after it was stored..."""
MAX_CHECK_S = 30.0
"""...then ever less often (doubling), up to this interval."""
_LOCK = "lock"
_EPOCH = "epoch"
_SUFFIX = ".jsonl"

EntryKey = tuple[str, int]
"""(conversation key, message id)."""


@dataclass(slots=True)
class JournalEntry:
    """A message in the journal, and what the keeper knows about it."""

    message: PendingMessage
    segment: int
    epoch: str | None
    """The store epoch it was stored under (None: not known, e.g. loaded after a restart)."""
    stored: bool = False
    """The store took it (its turn may now end); False while the webhook is still storing it."""
    next_check_at: float = 0.0
    check_every_s: float = FIRST_CHECK_S


def _datasync(fd: int) -> None:
    sync = getattr(os, "fdatasync", os.fsync)
    sync(fd)


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _key(message: PendingMessage) -> EntryKey:
    return (message.conversation_key, message.message_id)


class Journal:
    """Accepted messages on local disk until their turn ends (see the module docstring)."""

    def __init__(self, data_dir: Path, *, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.root = data_dir / JOURNAL_DIR
        self.segment_bytes = segment_bytes
        self.dir: Path | None = None
        self._lock_fd: int | None = None
        self._entries: dict[EntryKey, JournalEntry] = {}
        self._counts: Counter[int] = Counter()
        self._segment = 0
        self._fd: int | None = None
        self._size = 0
        self._written = 0
        self._synced = 0
        self._round: asyncio.Task[None] | None = None

    # -- opening -----------------------------------------------------------------------------

    def open(self) -> int:
        """Take a slot and load its entries and those of abandoned slots; how many are live."""
        if self.dir is not None:
            return len(self._entries)
        self.root.mkdir(parents=True, exist_ok=True)
        slot = 0
        while self._lock_fd is None:
            candidate = self.root / str(slot)
            fd = self._try_lock(candidate)
            if fd is not None:
                self.dir, self._lock_fd = candidate, fd
            slot += 1
        assert self.dir is not None
        saved = self.saved_epoch()
        for path in self._segments(self.dir):
            self._load(path, int(path.stem), saved)
        self._segment = max(self._counts, default=0)
        for other in sorted(self.root.iterdir()):
            if other != self.dir and other.is_dir():
                self._adopt(other)
        for seq in [s for s, n in self._counts.items() if n <= 0]:
            self._drop_segment(seq)
        return len(self._entries)

    @staticmethod
    def _try_lock(directory: Path) -> int | None:
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(directory / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        return fd

    @staticmethod
    def _segments(directory: Path) -> list[Path]:
        return sorted(p for p in directory.glob(f"*{_SUFFIX}") if p.stem.isdigit())

    def _load(self, path: Path, seq: int, epoch: str | None) -> list[PendingMessage]:
        loaded: list[PendingMessage] = []
        self._counts[seq] += 0
        try:
            lines = path.read_bytes().splitlines()
        except OSError as exc:
            log.error("journal segment %s is unreadable: %s", path, exc)
            return loaded
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                message = PendingMessage.model_validate_json(line)
            except ValidationError:
                if number < len(lines):
                    log.error("journal %s line %d is unreadable; skipped", path.name, number)
                continue  # a torn last line: that delivery never got its 200
            if _key(message) not in self._entries:
                entry = JournalEntry(message, seq, epoch, stored=True)
                self._entries[_key(message)] = entry
                self._counts[seq] += 1
                loaded.append(message)
        return loaded

    def _adopt(self, other: Path) -> None:
        """Take over the entries of a slot no process holds (its process died)."""
        fd = self._try_lock(other)
        if fd is None:
            return  # another live process holds it
        try:
            epoch = _read_text(other / _EPOCH)
            messages: list[PendingMessage] = []
            seen: set[EntryKey] = set(self._entries)
            for path in self._segments(other):
                for message in self._read_segment(path):
                    if _key(message) not in seen:
                        seen.add(_key(message))
                        messages.append(message)
            if messages:
                self._append_now(messages, epoch)
                log.warning(
                    "journal: took over %d entries of slot %s (its process is gone)",
                    len(messages),
                    other.name,
                )
            for path in self._segments(other):
                path.unlink(missing_ok=True)
        finally:
            os.close(fd)

    @staticmethod
    def _read_segment(path: Path) -> list[PendingMessage]:
        messages: list[PendingMessage] = []
        with contextlib.suppress(OSError):
            for line in path.read_bytes().splitlines():
                with contextlib.suppress(ValidationError):
                    messages.append(PendingMessage.model_validate_json(line))
        return messages

    def _append_now(self, messages: list[PendingMessage], epoch: str | None) -> None:
        """Append synchronously (at start, before serving): write, then one sync."""
        for message in messages:
            self._write(message, epoch, stored=True)
        if self._fd is not None:
            _datasync(self._fd)
            self._synced = self._written

    # -- the epoch the entries were stored under ------------------------------------------------

    def saved_epoch(self) -> str | None:
        """The store epoch this slot last saw (kept in the slot, so it outlives a restart)."""
        return _read_text(self.dir / _EPOCH) if self.dir is not None else None

    def save_epoch(self, epoch: str) -> None:
        """Remember the store epoch now in force."""
        if self.dir is None:
            return
        tmp = self.dir / f".{_EPOCH}.tmp"
        tmp.write_text(epoch, encoding="utf-8")
        tmp.replace(self.dir / _EPOCH)

    # -- writing ---------------------------------------------------------------------------------

    async def record(self, message: PendingMessage, epoch: str | None) -> None:
        """Append a message and return once it is on disk (group commit); raises ``OSError``."""
        if _key(message) in self._entries:
            return
        self._write(message, epoch, stored=False)
        try:
            await self._durable(self._written)
        except BaseException:
            self.discard(message)
            raise

    def _write(self, message: PendingMessage, epoch: str | None, *, stored: bool) -> None:
        line = (message.model_dump_json() + "\n").encode("utf-8")
        if self._fd is None or self._size >= self.segment_bytes:
            self._next_segment()
        assert self._fd is not None
        written = os.write(self._fd, line)
        if written != len(line):
            raise OSError(f"journal: short write ({written} of {len(line)} bytes)")
        self._size += written
        self._written += 1
        key = _key(message)
        self._entries[key] = JournalEntry(message, self._segment, epoch, stored=stored)
        self._counts[self._segment] += 1

    def _next_segment(self) -> None:
        if self.dir is None:
            self.open()  # first use before the keeper started (a service used without start)
        assert self.dir is not None
        if self._fd is not None:
            # Everything written to the old segment is synced before it is let go.
            _datasync(self._fd)
            self._synced = self._written
            os.close(self._fd)
            self._fd = None
            if self._counts[self._segment] <= 0:
                self._drop_segment(self._segment)
        self._segment += 1
        path = self.dir / f"{self._segment:012d}{_SUFFIX}"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._size = 0
        self._counts[self._segment] += 0
        _sync_dir(self.dir)  # the new file's name is durable before anything relies on it

    async def _durable(self, upto: int) -> None:
        while self._synced < upto:
            if self._round is None:
                self._round = asyncio.get_running_loop().create_task(self._sync_round())
            await asyncio.shield(self._round)

    async def _sync_round(self) -> None:
        try:
            upto = self._written
            if self._fd is not None:
                # A duplicate descriptor: the segment may be rotated (closed) meanwhile.
                fd = os.dup(self._fd)
                try:
                    await asyncio.to_thread(_datasync, fd)
                finally:
                    os.close(fd)
            self._synced = max(self._synced, upto)
        finally:
            self._round = None

    # -- what the keeper learns ------------------------------------------------------------------

    def stored(self, message: PendingMessage, epoch: str | None) -> None:
        """The store took the message: from now on its turn may end."""
        entry = self._entries.get(_key(message))
        if entry is not None:
            entry.stored = True
            entry.epoch = epoch
            entry.next_check_at = time.monotonic() + FIRST_CHECK_S

    def discard(self, message: PendingMessage) -> None:
        """Forget a message that was not acknowledged (the store failed; the spool has it)."""
        self._end(_key(message))

    def ended(self, messages: Iterable[PendingMessage]) -> None:
        """Forget messages whose turn ended; delete the segments left without live entries."""
        for message in messages:
            self._end(_key(message))

    def answered(self, conversation_key: str, reply_id: int) -> int:
        """A reply (message `reply_id`) was posted in the conversation: forget the entries it
        answers (those older than it); how many."""
        answered = [
            key
            for key in self._entries
            if key[0] == conversation_key and key[1] < reply_id and self._entries[key].stored
        ]
        for key in answered:
            self._end(key)
        return len(answered)

    def _end(self, key: EntryKey) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        seq = entry.segment
        self._counts[seq] -= 1
        if self._counts[seq] > 0:
            return
        if seq != self._segment or self._fd is None:
            self._drop_segment(seq)
        elif self._synced >= self._written:
            os.close(self._fd)
            self._fd = None
            self._drop_segment(seq)

    def _drop_segment(self, seq: int) -> None:
        self._counts.pop(seq, None)
        if self.dir is not None:
            with contextlib.suppress(OSError):
                (self.dir / f"{seq:012d}{_SUFFIX}").unlink(missing_ok=True)

    def entries(self) -> list[JournalEntry]:
        """Every live entry, oldest first."""
        return sorted(self._entries.values(), key=lambda e: (e.message.received_at, e.segment))

    def due(self, now: float) -> list[JournalEntry]:
        """Stored entries whose next check against the store is due."""
        return [e for e in self._entries.values() if e.stored and e.next_check_at <= now]

    def checked(self, entry: JournalEntry, now: float) -> None:
        """An entry was still pending: check it again later, less often."""
        entry.check_every_s = min(MAX_CHECK_S, entry.check_every_s * 2)
        entry.next_check_at = now + entry.check_every_s

    def __len__(self) -> int:
        return len(self._entries)

    def close(self) -> None:
        """Sync and close the current segment; release the slot."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                _datasync(self._fd)
            os.close(self._fd)
            self._fd = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None
