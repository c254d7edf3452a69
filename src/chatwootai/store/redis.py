"""The store on Redis (redis.asyncio), under a namespace prefix so it can share Chatwoot's Redis."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chatwootai.store.base import CountBatch, Store, StoreError, StoreUnavailableError

T = TypeVar("T")

_COMPARE_AND_DELETE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_COMPARE_AND_EXPIRE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_COMPARE_AND_SET = """
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current then return 0 end
elseif current ~= ARGV[2] then
  return 0
end
if ARGV[4] == '' then redis.call('SET', KEYS[1], ARGV[3])
else redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4]) end
return 1
"""

_COUNT = """
local plan = cjson.decode(ARGV[1])
local sweep = plan['sweep']
if sweep then
  local due = redis.call('ZRANGEBYSCORE', KEYS[sweep[1]], '-inf', sweep[3], 'LIMIT', 0, sweep[5])
  for _, member in ipairs(due) do
    local target = redis.call('HGET', KEYS[sweep[2]], member)
    if target and redis.call('EXISTS', target) == 1 then
      redis.call('HINCRBY', target, sweep[4], 1)
    end
    redis.call('ZREM', KEYS[sweep[1]], member)
    redis.call('HDEL', KEYS[sweep[2]], member)
  end
end
for _, entry in ipairs(plan['counts']) do
  local key = KEYS[entry[1]]
  local pairs_ = entry[2]
  for j = 1, #pairs_, 2 do redis.call('HINCRBY', key, pairs_[j], pairs_[j + 1]) end
  if plan['ttl'] then redis.call('EXPIRE', key, plan['ttl']) end
end
local watch = plan['watch']
if watch then
  if watch[4] ~= '' then
    redis.call('ZADD', KEYS[watch[1]], watch[4], watch[3])
    redis.call('HSET', KEYS[watch[2]], watch[3], KEYS[watch[5]])
  else
    redis.call('ZREM', KEYS[watch[1]], watch[3])
    redis.call('HDEL', KEYS[watch[2]], watch[3])
  end
end
local out = {}
for i, entry in ipairs(plan['read']) do
  out[i] = tonumber(redis.call('HGET', KEYS[entry[1]], entry[2]) or '0')
end
return out
"""
_READ_COUNTS = """
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HGETALL', key) end
return out
"""


class _Keys:
    """Full key names of a script call, each given once, with their 1-based index in KEYS."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.names: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, key: str) -> int:
        full = self.prefix + key
        if full not in self._index:
            self.names.append(full)
            self._index[full] = len(self.names)
        return self._index[full]


class RedisStore(Store):
    """A :class:`Store` on a Redis server."""

    def __init__(self, client: aioredis.Redis, prefix: str = "chatwootai:") -> None:
        self.client = client
        self.prefix = prefix
        self._cad = client.register_script(_COMPARE_AND_DELETE)
        self._cae = client.register_script(_COMPARE_AND_EXPIRE)
        self._cas = client.register_script(_COMPARE_AND_SET)
        self._count = client.register_script(_COUNT)
        self._read_counts = client.register_script(_READ_COUNTS)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "chatwootai:", timeout: float = 2.0) -> RedisStore:
        """A store on the Redis at `url`, with socket timeouts."""
        client = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        return cls(client, prefix)

    def _k(self, key: str) -> str:
        return self.prefix + key

    async def _call(self, op: Callable[[], Awaitable[T]]) -> T:
        try:
            return await op()
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailableError(f"Redis is unreachable: {exc}") from exc
        except RedisError as exc:
            raise StoreError(f"Redis error: {exc}") from exc

    async def get(self, key: str) -> str | None:
        """The value of `key`, or None."""
        value: Any = await self._call(lambda: self.client.get(self._k(key)))
        return value if value is None else str(value)

    async def mget(self, keys: Sequence[str]) -> list[str | None]:
        """The values of `keys` in one round trip."""
        if not keys:
            return []
        values: list[Any] = await self._call(lambda: self.client.mget([self._k(k) for k in keys]))
        return [v if v is None else str(v) for v in values]

    async def set(self, key: str, value: str, ttl: int | None = None, *, nx: bool = False) -> bool:
        """Set `key`, optionally with a TTL and only-if-absent."""
        result = await self._call(lambda: self.client.set(self._k(key), value, ex=ttl, nx=nx))
        return bool(result)

    async def mset(self, items: Mapping[str, str], ttl: int | None = None) -> None:
        """Set several keys, each with `ttl`, in one round trip (a pipeline)."""
        if not items:
            return

        async def op() -> None:
            async with self.client.pipeline(transaction=False) as pipe:
                for key, value in items.items():
                    pipe.set(self._k(key), value, ex=ttl)
                await pipe.execute()

        await self._call(op)

    async def delete(self, *keys: str) -> int:
        """Delete keys."""
        if not keys:
            return 0
        return int(await self._call(lambda: self.client.delete(*(self._k(k) for k in keys))))

    async def ttl(self, key: str) -> int | None:
        """Seconds left, or None."""
        value = int(await self._call(lambda: self.client.ttl(self._k(key))))
        return value if value >= 0 else None

    async def expire(self, key: str, ttl: int) -> bool:
        """Give `key` a new TTL."""
        return bool(await self._call(lambda: self.client.expire(self._k(key), ttl)))

    async def incr(self, key: str, ttl: int | None = None) -> int:
        """Increment a counter, setting the TTL on creation (SET NX EX, then INCR: any Redis 6)."""
        full = self._k(key)

        async def op() -> int:
            async with self.client.pipeline(transaction=True) as pipe:
                if ttl is not None:
                    pipe.set(full, 0, ex=ttl, nx=True)
                pipe.incr(full)
                results = await pipe.execute()
            return int(results[-1])

        return await self._call(op)

    async def compare_and_delete(self, key: str, value: str) -> bool:
        """Delete `key` only if it holds `value`."""
        return bool(await self._call(lambda: self._cad(keys=[self._k(key)], args=[value])))

    async def compare_and_expire(self, key: str, value: str, ttl: int) -> bool:
        """EXPIRE `key` only if it holds `value` (one script call)."""
        args: list[str | int] = [value, max(1, int(ttl))]
        return bool(await self._call(lambda: self._cae(keys=[self._k(key)], args=args)))

    async def compare_and_set(
        self, key: str, expected: str | None, value: str, ttl: int | None = None
    ) -> bool:
        """SET `key` only if it holds `expected` (None: only if absent), in one script call."""
        args = [
            "1" if expected is None else "0",
            expected or "",
            value,
            "" if ttl is None else str(max(1, int(ttl))),
        ]
        return bool(await self._call(lambda: self._cas(keys=[self._k(key)], args=args)))

    async def zadd(self, key: str, members: Mapping[str, float]) -> None:
        """ZADD."""
        if members:
            await self._call(lambda: self.client.zadd(self._k(key), dict(members)))

    async def zrange_by_score(
        self, key: str, max_score: float, *, limit: int = 100
    ) -> list[tuple[str, float]]:
        """ZRANGEBYSCORE -inf max_score WITHSCORES LIMIT 0 limit."""
        full = self._k(key)

        async def op() -> list[tuple[str, float]]:
            rows = await self.client.zrangebyscore(
                full, "-inf", max_score, start=0, num=limit, withscores=True
            )
            return [(str(member), float(score)) for member, score in rows]

        return await self._call(op)

    async def zrange_desc(
        self, key: str, *, below: float | None = None, offset: int = 0, limit: int = 100
    ) -> list[tuple[str, float]]:
        """ZREVRANGEBYSCORE key (below -inf WITHSCORES LIMIT offset limit."""
        full = self._k(key)
        top = "+inf" if below is None else f"({below!r}"

        async def op() -> list[tuple[str, float]]:
            rows = await self.client.zrevrangebyscore(
                full, top, "-inf", start=offset, num=limit, withscores=True
            )
            return [(str(member), float(score)) for member, score in rows]

        if limit <= 0:
            return []
        return await self._call(op)

    async def zrem(self, key: str, *members: str) -> int:
        """ZREM."""
        if not members:
            return 0
        return int(await self._call(lambda: self.client.zrem(self._k(key), *members)))

    async def zcount(self, key: str, max_score: float = math.inf) -> int:
        """ZCOUNT -inf max_score."""
        top: float | str = "+inf" if max_score == math.inf else max_score
        return int(await self._call(lambda: self.client.zcount(self._k(key), "-inf", top)))

    async def list_push(self, key: str, value: str, ttl: int | None = None) -> int:
        """RPUSH (and EXPIRE) in one transaction; the list's new length."""
        full = self._k(key)

        async def op() -> int:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.rpush(full, value)
                if ttl is not None:
                    pipe.expire(full, ttl)
                results = await pipe.execute()
            return int(results[0])

        return await self._call(op)

    async def list_range(self, key: str) -> list[str]:
        """LRANGE of the whole list."""
        full = self._k(key)

        async def op() -> list[str]:
            return [str(v) for v in await self.client.lrange(full, 0, -1)]  # type: ignore[misc]

        return await self._call(op)

    async def list_remove(self, key: str, values: Sequence[str]) -> int:
        """One LREM per value, in one transaction; the number of items removed."""
        if not values:
            return 0
        full = self._k(key)

        async def op() -> int:
            async with self.client.pipeline(transaction=True) as pipe:
                for value in dict.fromkeys(values):
                    pipe.lrem(full, 0, value)
                results = await pipe.execute()
            return sum(int(r) for r in results)

        return await self._call(op)

    async def count(self, batch: CountBatch) -> list[int]:
        """One script call (EVALSHA): sweep, HINCRBYs and EXPIREs, watch, then HGETs.

        The sweep's target hashes are named inside the watch set's targets hash, so the script
        touches keys it was not given (fine on one Redis server, not on Redis Cluster).
        """
        key = _Keys(self.prefix)
        plan: dict[str, Any] = {
            "counts": [
                [key(name), [part for f, n in fields.items() for part in (f, str(int(n)))]]
                for name, fields in batch.counts.items()
                if fields
            ],
            "read": [[key(name), f] for name, f in batch.read],
        }
        if batch.ttl is not None:  # absent rather than null: cjson's null is true in Lua
            plan["ttl"] = max(1, int(batch.ttl))
        if batch.watch is not None:
            w = batch.watch
            plan["watch"] = [
                key(w.key),
                key(w.key + ":targets"),
                w.member,
                "" if w.score is None else repr(float(w.score)),
                key(w.target) if w.score is not None else 0,
            ]
        if batch.sweep is not None:
            sw = batch.sweep
            plan["sweep"] = [
                key(sw.key),
                key(sw.key + ":targets"),
                repr(float(sw.before)),
                sw.field,
                int(sw.limit),
            ]
        args = [json.dumps(plan)]
        result: list[Any] = await self._call(lambda: self._count(keys=key.names, args=args))
        return [int(v) for v in result]

    async def read_counts(self, keys: Sequence[str]) -> list[dict[str, int]]:
        """Every field of each hash, in one script call (EVALSHA of HGETALLs)."""
        if not keys:
            return []
        names = [self._k(k) for k in keys]
        rows: list[Any] = await self._call(lambda: self._read_counts(keys=names, args=[]))
        out: list[dict[str, int]] = []
        for row in rows:
            flat = [str(v) for v in row]
            out.append({flat[i]: int(flat[i + 1]) for i in range(0, len(flat), 2)})
        return out

    async def scan(self, pattern: str) -> list[str]:
        """Logical keys matching `pattern`."""

        async def op() -> list[str]:
            n = len(self.prefix)
            return [str(k)[n:] async for k in self.client.scan_iter(self._k(pattern), count=500)]

        return await self._call(op)

    async def publish(self, channel: str, message: str) -> None:
        """Publish on `channel`."""
        await self._call(lambda: self.client.publish(self._k(channel), message))

    async def subscribe(self, channel: str) -> AsyncIterator[str]:
        """Messages published on `channel` from now on."""
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        await self._call(lambda: pubsub.subscribe(self._k(channel)))
        try:
            while True:
                message = await self._call(
                    lambda: pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                )
                if message is not None and message.get("type") == "message":
                    yield str(message["data"])
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def ping(self) -> bool:
        """True when Redis answers."""
        try:
            return bool(await self.client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()
