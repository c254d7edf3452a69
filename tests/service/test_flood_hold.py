"""A turn the flood limit holds: nothing is posted, its messages wait and go with later ones."""

from __future__ import annotations

from service_fakes import FakeSystem

from conftest import Harness


async def test_a_held_turn_is_answered_later_with_the_messages_that_came_meanwhile(
    harness: Harness, system: FakeSystem
) -> None:
    fake = harness.fake
    first = await harness.post(fake.incoming(3, 417, "segura essa"))
    assert first.json()["status"] == "queued"
    await harness.post(fake.incoming(3, 417, "e mais esta"))
    await harness.settle()
    assert harness.replies(3, 417) == ["[cosmetics/sales] segura essa\ne mais esta"]
    assert [message.text for _, message in system.turns] == ["segura essa\ne mais esta"]
    assert "3:417" in system.held  # the first turn was held, not answered
    pending = await harness.service.pending.peek("3:417")
    assert pending == []
