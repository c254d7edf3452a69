"""ConversationState: crew and flow under conversation:state:{key}, the pause under its own key."""

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


async def test_a_turn_saving_its_route_never_undoes_a_pause(store: Store) -> None:
    conversations = ConversationStore(store)
    before_the_run = await conversations.load("3:8")  # a turn loads, then its LLM runs...
    await conversations.pause("3:8", "human agent replied")  # ...while a human takes over
    await conversations.save("3:8", before_the_run.model_copy(update={"crew": "sales"}))
    after = await conversations.load("3:8")
    assert after.paused and after.paused_reason == "human agent replied"
    assert after.crew == "sales"


async def test_resume_drops_a_flow_begun_before_the_pause(store: Store) -> None:
    conversations = ConversationStore(store)
    await conversations.save("3:9", ConversationState(crew="scheduling", in_flow=True))
    await conversations.pause("3:9", "human agent replied")
    resumed = await conversations.resume("3:9")
    assert not resumed.paused and not resumed.in_flow and resumed.crew == "scheduling"
    await conversations.save("3:9", resumed.model_copy(update={"in_flow": True}))
    assert (await conversations.load("3:9")).in_flow  # a flow begun after the resume counts


async def test_a_pause_flag_in_the_routing_record_is_not_trusted(store: Store) -> None:
    await store.set(keys.conversation_state("3:10"), '{"crew": "sales", "paused": true}')
    assert not (await ConversationStore(store).load("3:10")).paused
