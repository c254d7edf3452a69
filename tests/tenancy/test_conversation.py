"""ConversationState: current crew, flow and pause, under conversation:state:{key} with a TTL."""

from __future__ import annotations

from chatwootai.conversation import ConversationState, ConversationStore
from chatwootai.store import keys
from chatwootai.store.base import Store


async def test_fresh_conversation(store: Store) -> None:
    assert await ConversationStore(store).load("1:1") == ConversationState()


async def test_round_trip_key_and_ttl(store: Store) -> None:
    conversations = ConversationStore(store)
    saved = await conversations.save("1:1", ConversationState(crew="sales", in_flow=True))
    assert saved.updated_at > 0
    loaded = await conversations.load("1:1")
    assert loaded == saved
    ttl = await store.ttl(keys.conversation_state("1:1"))
    assert ttl is not None and 86390 <= ttl <= 86400
    assert await store.get("conversation:state:1:1") is not None


async def test_pause_and_resume(store: Store) -> None:
    conversations = ConversationStore(store, ttl=100)
    await conversations.save("2:5", ConversationState(crew="scheduling", in_flow=True))
    paused = await conversations.pause("2:5", "human agent replied")
    assert paused.paused and paused.paused_reason == "human agent replied"
    assert not paused.in_flow and paused.crew == "scheduling"
    assert (await conversations.load("2:5")).paused
    resumed = await conversations.resume("2:5")
    assert not resumed.paused and resumed.paused_reason is None
    ttl = await store.ttl(keys.conversation_state("2:5"))
    assert ttl is not None and ttl <= 100
    await conversations.clear("2:5")
    assert await conversations.load("2:5") == ConversationState()


async def test_unreadable_state_starts_fresh(store: Store) -> None:
    await store.set(keys.conversation_state("1:1"), "{broken")
    assert await ConversationStore(store).load("1:1") == ConversationState()
