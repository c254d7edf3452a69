"""The Store contract, on Redis and on the embedded store alike."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest

from chatwootai.store.base import Store, StoreError
from chatwootai.store.embedded import EmbeddedStore


async def test_get_set_delete(store: Store) -> None:
    assert await store.get("k") is None
    assert await store.set("k", "v1") is True
    assert await store.get("k") == "v1"
    assert await store.set("k", "v2") is True
    assert await store.get("k") == "v2"
    assert await store.delete("k", "absent") == 1
    assert await store.get("k") is None
    assert await store.delete() == 0


async def test_mget_and_mset(store: Store) -> None:
    assert await store.mget([]) == []
    await store.mset({"a": "1", "b": "2"}, ttl=100)
    assert await store.mget(["a", "missing", "b"]) == ["1", None, "2"]
    ttl = await store.ttl("b")
    assert ttl is not None and 98 <= ttl <= 100
    await store.mset({"c": "3"})
    assert await store.ttl("c") is None
    await store.mset({})


async def test_unicode_and_json_values(store: Store) -> None:
    value = '{"texto": "Olá, ação ✓"}'
    await store.set("json", value)
    assert await store.get("json") == value


async def test_ttl_and_expire(store: Store) -> None:
    await store.set("t", "x", ttl=300)
    ttl = await store.ttl("t")
    assert ttl is not None and 298 <= ttl <= 300
    await store.set("p", "x")
    assert await store.ttl("p") is None
    assert await store.ttl("absent") is None
    assert await store.expire("p", 50) is True
    ttl = await store.ttl("p")
    assert ttl is not None and 48 <= ttl <= 50
    assert await store.expire("absent", 50) is False


async def test_expired_keys_are_invisible(store: Store) -> None:
    await store.set("short", "x", ttl=1)
    await store.set("long", "y", ttl=100)
    await store.set("counter", "5", ttl=1)
    await asyncio.sleep(1.1)
    assert await store.get("short") is None
    assert await store.mget(["short", "long"]) == [None, "y"]
    assert await store.ttl("short") is None
    assert "short" not in await store.scan("*")
    assert await store.expire("short", 10) is False
    assert await store.delete("short") == 0
    assert await store.compare_and_delete("short", "x") is False
    assert await store.set("short", "new", nx=True) is True
    assert await store.incr("counter") == 1


async def test_set_nx(store: Store) -> None:
    assert await store.set("lock", "a", ttl=30, nx=True) is True
    assert await store.set("lock", "b", ttl=30, nx=True) is False
    assert await store.get("lock") == "a"


async def test_set_nx_is_atomic_under_concurrency(store: Store) -> None:
    results = await asyncio.gather(*(store.set("race", str(i), nx=True) for i in range(50)))
    assert sum(results) == 1
    winner = results.index(True)
    assert await store.get("race") == str(winner)


async def test_incr(store: Store) -> None:
    assert await store.incr("n", ttl=100) == 1
    assert await store.incr("n", ttl=5) == 2
    ttl = await store.ttl("n")
    assert ttl is not None and ttl > 5  # the TTL is set on creation only
    assert await store.incr("m") == 1
    assert await store.ttl("m") is None
    counts = await asyncio.gather(*(store.incr("c") for _ in range(40)))
    assert sorted(counts) == list(range(1, 41))


async def test_incr_on_text_fails(store: Store) -> None:
    await store.set("text", "abc")
    with pytest.raises(StoreError):
        await store.incr("text")


async def test_compare_and_delete(store: Store) -> None:
    await store.set("lock", "owner-1")
    assert await store.compare_and_delete("lock", "owner-2") is False
    assert await store.get("lock") == "owner-1"
    assert await store.compare_and_delete("lock", "owner-1") is True
    assert await store.get("lock") is None
    assert await store.compare_and_delete("lock", "owner-1") is False


async def test_scan(store: Store) -> None:
    await store.mset({"agent:state:a:1": "x", "agent:state:a:2": "y", "domain:config:a": "z"})
    assert sorted(await store.scan("agent:state:*")) == ["agent:state:a:1", "agent:state:a:2"]
    assert await store.scan("domain:config:?") == ["domain:config:a"]
    assert await store.scan("nothing:*") == []


async def test_publish_subscribe(store: Store) -> None:
    received: list[str] = []
    ready = asyncio.Event()

    async def listen() -> None:
        async for message in store.subscribe("chan"):
            if message == "hello":
                ready.set()
                continue
            received.append(message)
            if len(received) == 2:
                return

    task = asyncio.create_task(listen())
    while not ready.is_set():  # the subscription starts when the listener first iterates
        await store.publish("chan", "hello")
        await asyncio.sleep(0.02)
    await store.publish("other", "ignored")
    await store.publish("chan", "one")
    await store.publish("chan", "two")
    await asyncio.wait_for(task, timeout=5)
    assert received == ["one", "two"]


async def test_ping(store: Store) -> None:
    assert await store.ping() is True


async def test_embedded_store_persists_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "data" / "store.sqlite3"
    first = EmbeddedStore(path)
    await first.set("kept", "v")
    await first.set("with-ttl", "w", ttl=500)
    await first.set("gone", "x", ttl=1)
    await first.incr("n")
    await first.close()
    assert await first.ping() is False
    with pytest.raises(StoreError, match="closed"):
        await first.get("kept")
    await asyncio.sleep(1.05)
    second = EmbeddedStore(path)
    assert await second.mget(["kept", "with-ttl", "gone", "n"]) == ["v", "w", None, "1"]
    ttl = await second.ttl("with-ttl")
    assert ttl is not None and 490 <= ttl <= 500
    await second.close()


async def test_embedded_store_purges_expired_rows(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "store.sqlite3"
    store = EmbeddedStore(path)
    for i in range(10):
        await store.set(f"old:{i}", "x", ttl=1)
    await asyncio.sleep(1.05)
    for i in range(500):
        await store.set(f"new:{i}", "y")
    await store.close()
    rows = sqlite3.connect(path).execute("SELECT count(*) FROM kv WHERE key LIKE '%old:%'")
    assert rows.fetchone()[0] == 0


async def test_prefix_isolates_namespaces(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    one, two = EmbeddedStore(path, prefix="one:"), EmbeddedStore(path, prefix="two:")
    await one.set("k", "1")
    assert await two.get("k") is None
    assert await two.scan("*") == []
    await one.close()
    await two.close()


async def test_list_push_range_remove(store: Store) -> None:
    assert await store.list_range("l") == []
    assert await store.list_push("l", "a", ttl=100) == 1
    assert await store.list_push("l", "b", ttl=100) == 2
    assert await store.list_push("l", "a") == 3
    assert await store.list_push("l", "Olá ✓ 👋") == 4
    assert await store.list_range("l") == ["a", "b", "a", "Olá ✓ 👋"]
    ttl = await store.ttl("l")
    assert ttl is not None and 98 <= ttl <= 100  # a push without a TTL keeps the list's TTL
    assert "l" in await store.scan("*")
    assert await store.list_remove("l", ["a", "missing", "a"]) == 2  # every occurrence, once
    assert await store.list_range("l") == ["b", "Olá ✓ 👋"]
    assert await store.list_remove("l", []) == 0
    assert await store.list_remove("l", ["b", "Olá ✓ 👋"]) == 2
    assert await store.list_range("l") == []
    assert await store.scan("*") == []  # an emptied list is gone
    assert await store.list_remove("absent", ["x"]) == 0


async def test_list_ttl_expire_and_delete(store: Store) -> None:
    await store.list_push("short", "x", ttl=1)
    await store.list_push("kept", "y")
    assert await store.ttl("kept") is None
    assert await store.expire("kept", 50) is True
    ttl = await store.ttl("kept")
    assert ttl is not None and 48 <= ttl <= 50
    await asyncio.sleep(1.1)
    assert await store.list_range("short") == []
    assert await store.scan("*") == ["kept"]
    assert await store.list_push("short", "z") == 1  # an expired list starts afresh
    assert await store.delete("kept", "short") == 2
    assert await store.list_range("kept") == []


async def test_list_push_is_atomic_under_concurrency(store: Store) -> None:
    lengths = await asyncio.gather(*(store.list_push("q", str(i), ttl=60) for i in range(40)))
    assert sorted(lengths) == list(range(1, 41))
    assert sorted(await store.list_range("q"), key=int) == [str(i) for i in range(40)]
    removed = await asyncio.gather(*(store.list_remove("q", [str(i)]) for i in range(40)))
    assert sum(removed) == 40
    assert await store.list_range("q") == []


async def test_embedded_lists_persist_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    first = EmbeddedStore(path)
    await first.list_push("pending", "m1", ttl=500)
    await first.list_push("pending", "m2")
    await first.close()
    second = EmbeddedStore(path)
    assert await second.list_range("pending") == ["m1", "m2"]
    await second.close()


async def test_compare_and_expire_renews_only_the_holders_lease(store: Store) -> None:
    await store.set("lease", "token-a", ttl=2)
    assert await store.compare_and_expire("lease", "token-b", 100) is False
    ttl = await store.ttl("lease")
    assert ttl is not None and ttl <= 2
    assert await store.compare_and_expire("lease", "token-a", 100) is True
    ttl = await store.ttl("lease")
    assert ttl is not None and 98 <= ttl <= 100
    assert await store.compare_and_expire("absent", "token-a", 100) is False
    await store.set("short", "t", ttl=1)
    await asyncio.sleep(1.1)
    assert await store.compare_and_expire("short", "t", 100) is False  # expired: lost
    assert await store.get("short") is None


async def test_compare_and_set_is_optimistic_concurrency(store: Store) -> None:
    assert await store.compare_and_set("cas", None, "v1", ttl=100) is True
    assert await store.compare_and_set("cas", None, "v2") is False  # not absent
    assert await store.compare_and_set("cas", "other", "v2") is False
    assert await store.compare_and_set("cas", "v1", "v2", ttl=50) is True
    assert await store.get("cas") == "v2"
    ttl = await store.ttl("cas")
    assert ttl is not None and 48 <= ttl <= 50
    assert await store.compare_and_set("cas", "v2", "v3") is True
    assert await store.ttl("cas") is None
    results = await asyncio.gather(*(store.compare_and_set("race", None, str(n)) for n in range(8)))
    assert results.count(True) == 1


async def test_sorted_sets(store: Store) -> None:
    assert await store.zrange_by_score("z", 100.0) == []
    assert await store.zcount("z") == 0
    await store.zadd("z", {"a": 10.0, "b": 5.0, "c": 30.0})
    await store.zadd("z", {"a": 20.0})  # moved
    await store.zadd("z", {})
    assert await store.zrange_by_score("z", 25.0) == [("b", 5.0), ("a", 20.0)]
    assert await store.zrange_by_score("z", 25.0, limit=1) == [("b", 5.0)]
    assert await store.zcount("z") == 3
    assert await store.zcount("z", 20.0) == 2
    assert await store.zrem("z", "a", "missing") == 1
    assert await store.zrem("z") == 0
    assert await store.zrange_by_score("z", math.inf) == [("b", 5.0), ("c", 30.0)]
    assert await store.delete("z") == 1
    assert await store.zcount("z") == 0
