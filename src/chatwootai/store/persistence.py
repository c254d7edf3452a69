"""What a Redis server keeps across a restart, read from ``INFO persistence`` and ``CONFIG GET``.

Managed Redis services often refuse ``CONFIG``; then only what ``INFO`` says is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from chatwootai.store.redis import RedisStore


@dataclass(frozen=True, slots=True)
class Persistence:
    """A Redis server's persistence settings (None where the server would not say)."""

    aof: bool | None
    """Append-only file on."""
    appendfsync: str | None
    """``always``, ``everysec`` or ``no``."""
    save: str | None
    """RDB snapshot rules (``"3600 1 300 100"``), ``""`` when snapshots are off."""

    @property
    def keeps_nothing(self) -> bool:
        """True when a restart is known to come back empty."""
        return self.aof is False and self.save == ""

    def describe(self) -> str:
        """What a restart of this Redis keeps, in words an operator can act on."""
        if self.aof:
            window = {
                "always": "nothing acknowledged is lost",
                "everysec": "at most the last second of writes can be lost if the Redis host "
                "crashes",
                "no": "writes not yet flushed by the OS can be lost if the Redis host crashes",
            }.get(self.appendfsync or "", "the fsync policy is unknown")
            return f"append-only file on (appendfsync {self.appendfsync or '?'}): {window}"
        if self.save:
            return (
                f"RDB snapshots only (save {self.save!r}): a restart loses every write since the "
                "last snapshot (minutes of pending messages, locks and conversation state)"
            )
        if self.keeps_nothing:
            return (
                "no persistence (save '' and appendonly no): a restart comes back empty (pending "
                "messages, queue, dedupe marks, conversation state and agent memory are lost)"
            )
        return "persistence unknown (CONFIG is not allowed here): assume a restart may lose data"


def _config(raw: Any, name: str) -> str | None:
    if isinstance(raw, dict) and name in raw:
        return str(raw[name])
    return None


async def redis_persistence(store: RedisStore) -> Persistence:
    """The persistence of the store's Redis (raises ``RedisError`` when Redis is unreachable)."""
    info: dict[str, Any] = await store.client.info("persistence")
    aof_raw = info.get("aof_enabled")
    aof = None if aof_raw is None else bool(int(aof_raw))
    save = appendfsync = None
    try:
        save = _config(await store.client.config_get("save"), "save")
        appendfsync = _config(await store.client.config_get("appendfsync"), "appendfsync")
    except RedisError:
        pass  # CONFIG renamed or forbidden (managed Redis): INFO is all there is
    return Persistence(aof=aof, appendfsync=appendfsync, save=save)
