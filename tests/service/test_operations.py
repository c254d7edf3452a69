"""Health, readiness, metrics, and the local spool that keeps messages while Redis is down."""

from __future__ import annotations

from conftest import Harness


async def test_health_and_readiness(harness: Harness) -> None:
    assert (await harness.http.get("/healthz")).json() == {"status": "ok"}
    ready = await harness.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"store": "ok", "domains": "ok"}


async def test_not_ready_when_redis_is_unreachable(store_down: Harness) -> None:
    assert (await store_down.http.get("/healthz")).status_code == 200
    ready = await store_down.http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["store"] == "unreachable"


async def test_metrics_count_what_happened(harness: Harness) -> None:
    fake = harness.fake
    await harness.post(fake.incoming(3, 417, "oi"))
    await harness.post(fake.incoming(4, 51, "quero um humano"))
    await harness.settle()
    text = (await harness.http.get("/metrics")).text
    assert "chatwootai_messages_received_total 2.0" in text
    assert "chatwootai_messages_queued_total 2.0" in text
    assert 'chatwootai_messages_answered_total{domain="cosmetics"} 1.0' in text
    assert 'chatwootai_handoffs_total{domain="health"} 1.0' in text
    assert 'chatwootai_routing_total{crew="sales",domain="cosmetics",method="rule"} 1.0' in text
    assert 'chatwootai_llm_tokens_total{direction="input"} 10.0' in text
    assert "chatwootai_turn_seconds_count 2.0" in text
    assert "chatwootai_queue_depth 0.0" in text


async def test_messages_are_spooled_while_redis_is_down_then_replayed(
    store_down: Harness, harness: Harness
) -> None:
    fake = store_down.fake
    payload = fake.incoming(3, 417, "alguém aí?")
    response = await store_down.post(payload)
    assert response.status_code == 200
    assert response.json() == {"status": "spooled"}
    assert len(store_down.service.spool) == 1
    assert store_down.service.spool.dir == harness.service.spool.dir  # same data_dir

    # Redis is back (the same deployment, now with a reachable store): the spool drains.
    assert await harness.service.drain_spool() == 1
    await harness.settle()
    assert len(harness.service.spool) == 0
    assert harness.replies(3, 417) == ["[cosmetics/sales] alguém aí?"]
    # A late retry of the same delivery is still recognised as a duplicate.
    assert (await harness.post(payload)).json()["status"] in ("duplicate", "queued")


async def test_pause_events_while_redis_is_down_still_get_a_200(store_down: Harness) -> None:
    response = await store_down.post(store_down.fake.agent_reply(3, 417, "assumi"))
    assert response.status_code == 200
