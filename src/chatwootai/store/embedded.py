"""The store in the process itself, kept in a local SQLite file: the default when no Redis is set.

Every operation runs under one lock, so set-if-absent, counters and compare-and-delete are atomic
within the process. The file is in WAL mode and each write is committed, so a restart loses
nothing. Expired keys are invisible at once and purged from the file as they are met and by a
periodic sweep. Pub/sub reaches the subscribers of this process only (asyncio queues).
"""

from __future__ import annotations

import asyncio
import fnmatch
import math
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

from chatwootai.store.base import CountBatch, Store, StoreError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at REAL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS list_head (
    key TEXT PRIMARY KEY,
    expires_at REAL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS list_item (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS list_item_key ON list_item (key, seq);
CREATE TABLE IF NOT EXISTS zset (
    key TEXT NOT NULL,
    member TEXT NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (key, member)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS zset_score ON zset (key, score);
CREATE TABLE IF NOT EXISTS hash_head (
    key TEXT PRIMARY KEY,
    expires_at REAL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hash_field (
    key TEXT NOT NULL,
    field TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (key, field)
) WITHOUT ROWID;
"""

T = TypeVar("T")

_SWEEP_EVERY = 500
"""Writes between two sweeps of expired keys."""


class EmbeddedStore(Store):
    """A :class:`Store` in a local SQLite file, for one process."""

    def __init__(self, path: Path | str, prefix: str = "chatwootai:") -> None:
        self.path = Path(path)
        self.prefix = prefix
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(
                str(path), check_same_thread=False, isolation_level=None, timeout=5.0
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the embedded store at {self.path}: {exc}") from exc
        self._lock = threading.Lock()
        self._writes = 0
        self._subscribers: dict[str, set[asyncio.Queue[str]]] = {}
        self._closed = False

    # -- helpers -----------------------------------------------------------------------------

    def _k(self, key: str) -> str:
        return self.prefix + key

    @staticmethod
    def _expiry(ttl: int | None) -> float | None:
        return None if ttl is None else time.time() + ttl

    def _live(self, full: str, now: float) -> tuple[str, float | None] | None:
        row = self._db.execute("SELECT value, expires_at FROM kv WHERE key = ?", (full,)).fetchone()
        if row is None:
            return None
        value, expires_at = row
        if expires_at is not None and expires_at <= now:
            self._db.execute("DELETE FROM kv WHERE key = ?", (full,))
            return None
        return str(value), expires_at

    def _list_live(self, full: str, now: float) -> tuple[float | None] | None:
        """The list's (expiry,) when it exists and is live; an expired list is dropped."""
        row = self._db.execute("SELECT expires_at FROM list_head WHERE key = ?", (full,)).fetchone()
        if row is None:
            return None
        if row[0] is not None and row[0] <= now:
            self._drop_list(full)
            return None
        return (row[0],)

    def _drop_list(self, full: str) -> None:
        self._db.execute("DELETE FROM list_item WHERE key = ?", (full,))
        self._db.execute("DELETE FROM list_head WHERE key = ?", (full,))

    def _hash_live(self, full: str, now: float) -> bool:
        """True when the hash exists and is live; an expired hash is dropped."""
        row = self._db.execute("SELECT expires_at FROM hash_head WHERE key = ?", (full,)).fetchone()
        if row is None:
            return False
        if row[0] is not None and row[0] <= now:
            self._drop_hash(full)
            return False
        return True

    def _drop_hash(self, full: str) -> None:
        self._db.execute("DELETE FROM hash_field WHERE key = ?", (full,))
        self._db.execute("DELETE FROM hash_head WHERE key = ?", (full,))

    def _hincr(self, full: str, field: str, amount: int) -> None:
        self._db.execute(
            "INSERT INTO hash_field (key, field, value) VALUES (?, ?, ?)"
            " ON CONFLICT (key, field) DO UPDATE SET value = value + excluded.value",
            (full, field, amount),
        )

    def _hget(self, full: str, field: str) -> str | None:
        row = self._db.execute(
            "SELECT value FROM hash_field WHERE key = ? AND field = ?", (full, field)
        ).fetchone()
        return None if row is None else str(row[0])

    def _count(self, batch: CountBatch) -> list[int]:
        """:meth:`count`'s work, inside one transaction (the same steps as Redis's script)."""
        now = time.time()
        if batch.sweep is not None:
            zkey, targets = self._k(batch.sweep.key), self._k(batch.sweep.key + ":targets")
            due = self._db.execute(
                "SELECT member FROM zset WHERE key = ? AND score <= ? ORDER BY score, member"
                " LIMIT ?",
                (zkey, batch.sweep.before, batch.sweep.limit),
            ).fetchall()
            for (member,) in due:
                target = self._hget(targets, str(member))
                if target is not None and self._hash_live(target, now):
                    self._hincr(target, batch.sweep.field, 1)
                self._db.execute("DELETE FROM zset WHERE key = ? AND member = ?", (zkey, member))
                self._db.execute(
                    "DELETE FROM hash_field WHERE key = ? AND field = ?", (targets, member)
                )
        expires_at = self._expiry(batch.ttl)
        for key, fields in batch.counts.items():
            if not fields:
                continue
            full = self._k(key)
            live = self._hash_live(full, now)
            if batch.ttl is not None or not live:
                self._db.execute(
                    "INSERT OR REPLACE INTO hash_head (key, expires_at) VALUES (?, ?)",
                    (full, expires_at if batch.ttl is not None else None),
                )
            for field, amount in fields.items():
                self._hincr(full, field, int(amount))
        if batch.watch is not None:
            w = batch.watch
            zkey, targets = self._k(w.key), self._k(w.key + ":targets")
            if w.score is None:
                self._db.execute("DELETE FROM zset WHERE key = ? AND member = ?", (zkey, w.member))
                self._db.execute(
                    "DELETE FROM hash_field WHERE key = ? AND field = ?", (targets, w.member)
                )
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO zset (key, member, score) VALUES (?, ?, ?)",
                    (zkey, w.member, float(w.score)),
                )
                self._db.execute(
                    "INSERT OR IGNORE INTO hash_head (key, expires_at) VALUES (?, NULL)",
                    (targets,),
                )
                self._db.execute(
                    "INSERT OR REPLACE INTO hash_field (key, field, value) VALUES (?, ?, ?)",
                    (targets, w.member, self._k(w.target)),
                )
        out: list[int] = []
        for key, field in batch.read:
            full = self._k(key)
            value = self._hget(full, field) if self._hash_live(full, now) else None
            out.append(0 if value is None else int(value))
        return out

    def _transaction(self, work: Callable[[], T]) -> T:
        """Run `work` in one SQLite transaction (rolled back if it raises)."""
        self._db.execute("BEGIN")
        try:
            result = work()
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return result

    def _wrote(self) -> None:
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            now = time.time()
            self._db.execute(
                "DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?", (now,)
            )
            expired = self._db.execute(
                "SELECT key FROM list_head WHERE expires_at IS NOT NULL AND expires_at <= ?", (now,)
            ).fetchall()
            for (full,) in expired:
                self._drop_list(str(full))
            expired = self._db.execute(
                "SELECT key FROM hash_head WHERE expires_at IS NOT NULL AND expires_at <= ?", (now,)
            ).fetchall()
            for (full,) in expired:
                self._drop_hash(str(full))

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the embedded store is closed")

    # -- Store -------------------------------------------------------------------------------

    async def get(self, key: str) -> str | None:
        """The value of `key`, or None."""
        with self._lock:
            self._check_open()
            found = self._live(self._k(key), time.time())
        return None if found is None else found[0]

    async def mget(self, keys: Sequence[str]) -> list[str | None]:
        """The values of `keys`, in order."""
        with self._lock:
            self._check_open()
            now = time.time()
            values: list[str | None] = []
            for key in keys:
                found = self._live(self._k(key), now)
                values.append(None if found is None else found[0])
        return values

    async def set(self, key: str, value: str, ttl: int | None = None, *, nx: bool = False) -> bool:
        """Set `key`, optionally with a TTL and only-if-absent."""
        full = self._k(key)
        with self._lock:
            self._check_open()
            if nx and self._live(full, time.time()) is not None:
                return False
            self._db.execute(
                "INSERT OR REPLACE INTO kv (key, value, expires_at) VALUES (?, ?, ?)",
                (full, value, self._expiry(ttl)),
            )
            self._wrote()
        return True

    async def mset(self, items: Mapping[str, str], ttl: int | None = None) -> None:
        """Set several keys, each with the same TTL, in one transaction."""
        if not items:
            return
        expires_at = self._expiry(ttl)
        rows = [(self._k(k), v, expires_at) for k, v in items.items()]
        with self._lock:
            self._check_open()
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO kv (key, value, expires_at) VALUES (?, ?, ?)", rows
                )
            except sqlite3.Error:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self._wrote()

    async def delete(self, *keys: str) -> int:
        """Delete keys; the number of live keys deleted."""
        deleted = 0
        with self._lock:
            self._check_open()
            now = time.time()
            for key in keys:
                full = self._k(key)
                if self._live(full, now) is not None:
                    self._db.execute("DELETE FROM kv WHERE key = ?", (full,))
                    deleted += 1
                elif self._list_live(full, now) is not None:
                    self._transaction(partial(self._drop_list, full))
                    deleted += 1
                elif self._hash_live(full, now):
                    self._transaction(partial(self._drop_hash, full))
                    deleted += 1
                elif self._db.execute("DELETE FROM zset WHERE key = ?", (full,)).rowcount:
                    deleted += 1
        return deleted

    async def ttl(self, key: str) -> int | None:
        """Seconds left, or None."""
        with self._lock:
            self._check_open()
            now = time.time()
            full = self._k(key)
            found = self._live(full, now)
            if found is None:
                listed = self._list_live(full, now)
                found = None if listed is None else ("", listed[0])
            if found is None and self._hash_live(full, now):
                row = self._db.execute("SELECT expires_at FROM hash_head WHERE key = ?", (full,))
                found = ("", row.fetchone()[0])
        if found is None or found[1] is None:
            return None
        return max(0, math.ceil(found[1] - now - 0.5))

    async def expire(self, key: str, ttl: int) -> bool:
        """Give `key` a new TTL."""
        full = self._k(key)
        with self._lock:
            self._check_open()
            now = time.time()
            if self._live(full, now) is not None:
                table = "kv"
            elif self._list_live(full, now) is not None:
                table = "list_head"
            elif self._hash_live(full, now):
                table = "hash_head"
            else:
                return False
            self._db.execute(
                f"UPDATE {table} SET expires_at = ? WHERE key = ?", (self._expiry(ttl), full)
            )
        return True

    async def incr(self, key: str, ttl: int | None = None) -> int:
        """Increment a counter, setting the TTL on creation."""
        full = self._k(key)
        with self._lock:
            self._check_open()
            found = self._live(full, time.time())
            if found is None:
                value, expires_at = 1, self._expiry(ttl)
            else:
                try:
                    value = int(found[0]) + 1
                except ValueError:
                    raise StoreError(f"key {key!r} does not hold an integer") from None
                expires_at = found[1]
            self._db.execute(
                "INSERT OR REPLACE INTO kv (key, value, expires_at) VALUES (?, ?, ?)",
                (full, str(value), expires_at),
            )
            self._wrote()
        return value

    async def compare_and_delete(self, key: str, value: str) -> bool:
        """Delete `key` only if it holds `value`."""
        full = self._k(key)
        with self._lock:
            self._check_open()
            found = self._live(full, time.time())
            if found is None or found[0] != value:
                return False
            self._db.execute("DELETE FROM kv WHERE key = ?", (full,))
        return True

    async def compare_and_expire(self, key: str, value: str, ttl: int) -> bool:
        """Give `key` a new TTL only if it holds `value`."""
        full = self._k(key)
        with self._lock:
            self._check_open()
            found = self._live(full, time.time())
            if found is None or found[0] != value:
                return False
            self._db.execute(
                "UPDATE kv SET expires_at = ? WHERE key = ?", (self._expiry(max(1, ttl)), full)
            )
        return True

    async def compare_and_set(
        self, key: str, expected: str | None, value: str, ttl: int | None = None
    ) -> bool:
        """Set `key` only if it holds `expected` (None: only if absent)."""
        full = self._k(key)
        with self._lock:
            self._check_open()
            found = self._live(full, time.time())
            current = None if found is None else found[0]
            if current != expected:
                return False
            self._db.execute(
                "INSERT OR REPLACE INTO kv (key, value, expires_at) VALUES (?, ?, ?)",
                (full, value, self._expiry(ttl)),
            )
            self._wrote()
        return True

    async def zadd(self, key: str, members: Mapping[str, float]) -> None:
        """Add members (or move them to new scores)."""
        if not members:
            return
        full = self._k(key)
        rows = [(full, str(member), float(score)) for member, score in members.items()]
        with self._lock:
            self._check_open()
            self._transaction(
                lambda: self._db.executemany(
                    "INSERT OR REPLACE INTO zset (key, member, score) VALUES (?, ?, ?)", rows
                )
            )

    async def zrange_by_score(
        self, key: str, max_score: float, *, limit: int = 100
    ) -> list[tuple[str, float]]:
        """Members scored at most `max_score`, lowest first."""
        with self._lock:
            self._check_open()
            rows = self._db.execute(
                "SELECT member, score FROM zset WHERE key = ? AND score <= ?"
                " ORDER BY score, member LIMIT ?",
                (self._k(key), max_score, limit),
            ).fetchall()
        return [(str(member), float(score)) for member, score in rows]

    async def zrange_desc(
        self, key: str, *, below: float | None = None, offset: int = 0, limit: int = 100
    ) -> list[tuple[str, float]]:
        """Members highest scored first (the score index read backwards)."""
        if limit <= 0:
            return []
        top = math.inf if below is None else below
        with self._lock:
            self._check_open()
            rows = self._db.execute(
                "SELECT member, score FROM zset WHERE key = ? AND score < ?"
                " ORDER BY score DESC, member DESC LIMIT ? OFFSET ?",
                (self._k(key), top, limit, offset),
            ).fetchall()
        return [(str(member), float(score)) for member, score in rows]

    async def zrem(self, key: str, *members: str) -> int:
        """Remove members; how many were there."""
        if not members:
            return 0
        full = self._k(key)
        with self._lock:
            self._check_open()

            def work() -> int:
                removed = 0
                for member in dict.fromkeys(members):
                    cursor = self._db.execute(
                        "DELETE FROM zset WHERE key = ? AND member = ?", (full, member)
                    )
                    removed += cursor.rowcount
                return removed

            return self._transaction(work)

    async def zcount(self, key: str, max_score: float = math.inf) -> int:
        """Members scored at most `max_score`."""
        with self._lock:
            self._check_open()
            row = self._db.execute(
                "SELECT count(*) FROM zset WHERE key = ? AND score <= ?", (self._k(key), max_score)
            ).fetchone()
        return int(row[0])

    async def list_push(self, key: str, value: str, ttl: int | None = None) -> int:
        """Append to the list (one transaction); its new length."""
        full = self._k(key)

        def work() -> int:
            exists = self._list_live(full, time.time()) is not None
            if ttl is not None or not exists:
                self._db.execute(
                    "INSERT OR REPLACE INTO list_head (key, expires_at) VALUES (?, ?)",
                    (full, self._expiry(ttl)),
                )
            self._db.execute("INSERT INTO list_item (key, value) VALUES (?, ?)", (full, value))
            row = self._db.execute("SELECT count(*) FROM list_item WHERE key = ?", (full,))
            return int(row.fetchone()[0])

        with self._lock:
            self._check_open()
            length = self._transaction(work)
            self._wrote()
        return length

    async def list_range(self, key: str) -> list[str]:
        """Every item, oldest first."""
        full = self._k(key)
        with self._lock:
            self._check_open()
            if self._list_live(full, time.time()) is None:
                return []
            rows = self._db.execute(
                "SELECT value FROM list_item WHERE key = ? ORDER BY seq", (full,)
            ).fetchall()
        return [str(row[0]) for row in rows]

    async def list_remove(self, key: str, values: Sequence[str]) -> int:
        """Remove every occurrence of each value (one transaction); how many were removed."""
        full = self._k(key)
        wanted = list(dict.fromkeys(values))

        def work() -> int:
            if not wanted or self._list_live(full, time.time()) is None:
                return 0
            removed = 0
            for value in wanted:
                cursor = self._db.execute(
                    "DELETE FROM list_item WHERE key = ? AND value = ?", (full, value)
                )
                removed += cursor.rowcount
            left = self._db.execute("SELECT 1 FROM list_item WHERE key = ? LIMIT 1", (full,))
            if left.fetchone() is None:
                self._db.execute("DELETE FROM list_head WHERE key = ?", (full,))
            return removed

        with self._lock:
            self._check_open()
            return self._transaction(work)

    async def count(self, batch: CountBatch) -> list[int]:
        """Apply the batch in one SQLite transaction; the values of ``batch.read``."""
        with self._lock:
            self._check_open()
            result = self._transaction(partial(self._count, batch))
            self._wrote()
        return result

    async def read_counts(self, keys: Sequence[str]) -> list[dict[str, int]]:
        """Every field of each hash (empty when absent)."""
        out: list[dict[str, int]] = []
        with self._lock:
            self._check_open()
            now = time.time()
            for key in keys:
                full = self._k(key)
                if not self._hash_live(full, now):
                    out.append({})
                    continue
                rows = self._db.execute(
                    "SELECT field, value FROM hash_field WHERE key = ?", (full,)
                ).fetchall()
                out.append({str(f): int(v) for f, v in rows})
        return out

    async def scan(self, pattern: str) -> list[str]:
        """Logical keys (strings and lists) matching the glob `pattern`."""
        with self._lock:
            self._check_open()
            rows = self._db.execute(
                "SELECT key FROM kv WHERE key GLOB ? AND (expires_at IS NULL OR expires_at > ?)"
                " UNION SELECT key FROM list_head WHERE key GLOB ?"
                " AND (expires_at IS NULL OR expires_at > ?)"
                " UNION SELECT key FROM hash_head WHERE key GLOB ?"
                " AND (expires_at IS NULL OR expires_at > ?)",
                (self._k(pattern), time.time()) * 3,
            ).fetchall()
        n = len(self.prefix)
        return [str(row[0])[n:] for row in rows if fnmatch.fnmatchcase(row[0], self._k(pattern))]

    async def publish(self, channel: str, message: str) -> None:
        """Deliver `message` to this process's subscribers of `channel`."""
        self._check_open()
        for queue in list(self._subscribers.get(channel, ())):
            queue.put_nowait(message)

    async def subscribe(self, channel: str) -> AsyncIterator[str]:
        """Messages published on `channel` from the first iteration on."""
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._subscribers.setdefault(channel, set()).add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            subscribers = self._subscribers.get(channel)
            if subscribers is not None:
                subscribers.discard(queue)
                if not subscribers:
                    del self._subscribers[channel]

    async def ping(self) -> bool:
        """True while the store is open."""
        return not self._closed

    async def close(self) -> None:
        """Close the file."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()
