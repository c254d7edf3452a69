"""The console's conversation index and transcripts, on Redis and on the embedded store."""

from __future__ import annotations

import json
import time

from chatwootai.console.activity import MAX_TURNS, ConversationActivity
from chatwootai.store import keys
from chatwootai.store.base import Store


def turn(domain: str, at: float, *, crew: str = "sales", text: str = "oi") -> dict[str, object]:
    """A recorded turn as :func:`trace_of` makes it (the fields the index reads)."""
    return {"domain": domain, "crew": crew, "at": at, "customer": text, "reply": "olá"}


async def test_sorted_sets_read_from_the_top(store: Store) -> None:
    await store.zadd("z", {"a": 1.0, "b": 3.0, "c": 2.0, "d": 4.0})
    assert await store.zrange_desc("z", limit=2) == [("d", 4.0), ("b", 3.0)]
    assert await store.zrange_desc("z", offset=2, limit=5) == [("c", 2.0), ("a", 1.0)]
    assert await store.zrange_desc("missing") == []


async def test_newest_first_across_domains_with_pages(store: Store) -> None:
    activity = ConversationActivity(store)
    now = time.time() - 1000
    for n in range(450):  # more than two batches of the merge, over three domains
        domain = ("cosmetics", "retail", "health")[n % 3]
        await activity.record(f"1:{n}", turn(domain, now + n))
    first = await activity.page(["cosmetics", "retail", "health"], limit=50)
    assert first.total == 450 and first.more
    assert [r.conversation_id for r in first.rows] == [f"1:{n}" for n in range(449, 399, -1)]
    deep = await activity.page(["cosmetics", "retail", "health"], offset=400, limit=50)
    assert [r.conversation_id for r in deep.rows] == [f"1:{n}" for n in range(49, -1, -1)]
    assert not deep.more
    one = await activity.page(["retail"], limit=3)
    assert [r.conversation_id for r in one.rows] == ["1:448", "1:445", "1:442"]
    assert one.total == 150


async def test_filters_by_crew_and_state(store: Store) -> None:
    activity = ConversationActivity(store)
    now = time.time()
    await activity.record("1:1", turn("cosmetics", now, crew="sales"))
    await activity.record("1:2", turn("cosmetics", now + 1, crew="support"))
    await activity.record("1:3", turn("cosmetics", now + 2, crew="sales"))
    paused = json.dumps({"paused": True, "reason": "handoff: pediu humano", "at": now})
    await store.set(keys.conversation_paused("1:2"), paused)
    human = json.dumps({"paused": True, "reason": "a human replied", "at": now})
    await store.set(keys.conversation_paused("1:3"), human)
    resumed = json.dumps({"paused": False, "at": now})
    await store.set(keys.conversation_paused("1:1"), resumed)

    async def ids(**filters: object) -> list[str]:
        page = await activity.page(["cosmetics"], **filters)  # type: ignore[arg-type]
        return [row.conversation_id for row in page.rows]

    assert await ids(crew="sales") == ["1:3", "1:1"]
    assert await ids(state="paused") == ["1:3", "1:2"]
    assert await ids(state="handed_off") == ["1:2"]
    assert await ids(state="active") == ["1:1"]
    assert await ids(crew="sales", state="paused") == ["1:3"]


async def test_a_domain_change_moves_the_conversation(store: Store) -> None:
    activity = ConversationActivity(store)
    now = time.time()
    await activity.record("1:1", turn("cosmetics", now))
    await activity.record("1:1", turn("health", now + 1))
    assert (await activity.page(["cosmetics"])).rows == []
    moved = await activity.page(["cosmetics", "health"])
    assert [(r.conversation_id, r.domain) for r in moved.rows] == [("1:1", "health")]
    assert len(await activity.transcript("1:1")) == 2


async def test_entries_live_as_long_as_the_conversation(store: Store) -> None:
    activity = ConversationActivity(store, ttl=3600)
    now = time.time()
    await activity.record("1:1", turn("cosmetics", now))
    for key in (keys.console_activity("1:1"), keys.console_transcript("1:1")):
        left = await store.ttl(key)
        assert left is not None and 3500 < left <= 3600
    await activity.record("1:2", turn("cosmetics", now - 7200), ttl=3600)  # older than its TTL
    await activity.record("1:3", turn("cosmetics", now + 1), ttl=3600)
    members = await store.zrange_desc(keys.console_recent("cosmetics"))
    assert [m for m, _ in members] == ["1:3", "1:1"]  # pruned as turns are added
    await store.delete(keys.console_activity("1:1"))  # expired
    page = await activity.page(["cosmetics"])
    assert [r.conversation_id for r in page.rows] == ["1:3"]
    assert [m for m, _ in await store.zrange_desc(keys.console_recent("cosmetics"))] == ["1:3"]


async def test_a_transcript_keeps_its_newest_turns(store: Store) -> None:
    activity = ConversationActivity(store)
    now = time.time()
    for n in range(MAX_TURNS + 25):
        await activity.record("1:1", turn("cosmetics", now + n, text=f"mensagem {n}"))
    kept = await activity.transcript("1:1")
    assert MAX_TURNS <= len(kept) <= MAX_TURNS + 20
    assert kept[-1]["customer"] == f"mensagem {MAX_TURNS + 24}"
    assert kept[0]["customer"] != "mensagem 0"


async def test_paging_by_last_activity_lists_each_conversation_once(store: Store) -> None:
    activity = ConversationActivity(store)
    now = time.time() - 1000
    for n in range(230):
        await activity.record(f"1:{n}", turn(("cosmetics", "retail")[n % 2], now + n))
    await store.zadd("z", {"a": 1.0, "b": 2.0, "c": 3.0})
    assert await store.zrange_desc("z", below=3.0) == [("b", 2.0), ("a", 1.0)]
    seen: list[str] = []
    before: float | None = None
    while True:
        page = await activity.page(["cosmetics", "retail"], limit=50, before=before)
        seen += [row.conversation_id for row in page.rows]
        if not page.more:
            break
        before = page.rows[-1].last_activity
    assert seen == [f"1:{n}" for n in range(229, -1, -1)]


class _Directory:
    """Tenancy as the backfill needs it: account 1 is cosmetics, account 9 has no domain."""

    async def get_domain_for_conversation(
        self, key: str, *, account_id: object = None, inbox_id: object = None
    ) -> str:
        if key.startswith("9:"):
            raise LookupError("no domain")
        return "cosmetics"


class _System:
    def __init__(self) -> None:
        self.domains = _Directory()


async def test_conversations_kept_before_the_index_are_added_once(store: Store) -> None:
    from chatwootai.conversation import ConversationState, ConversationStore

    conversations = ConversationStore(store, ttl=3600)
    for key in ("1:1", "1:2", "9:1"):
        await conversations.save(key, ConversationState(crew="sales"))
    activity = ConversationActivity(store)
    await activity.record("1:3", turn("cosmetics", time.time() + 10))
    assert await activity.backfill(_System()) == 2  # type: ignore[arg-type]
    page = await activity.page(["cosmetics"])
    assert page.rows[0].conversation_id == "1:3"
    assert {r.conversation_id for r in page.rows} == {"1:1", "1:2", "1:3"}
    left = await store.ttl(keys.console_activity("1:1"))
    assert left is not None and left <= 3600
    await conversations.save("1:4", ConversationState(crew="sales"))
    assert await activity.backfill(_System()) == 0  # once per store
