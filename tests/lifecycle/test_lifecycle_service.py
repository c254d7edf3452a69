"""Out-of-hours handoffs, the opening when the team is back and the idle resolution, through the
worker's real path (pending list → turn → pipeline → delivery to a fake Chatwoot → scheduled
steps), on real Redis with arq and on the embedded store with the in-process queue.

The service never pins the clock, so "the team is away now" is made true at any hour by
holidays on yesterday, today and tomorrow; the time a scheduled step waits for is its record's
due time, which a test moves into the past instead of waiting hours.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis

from chatwootai.hours import Schedule
from chatwootai.service.context import Service
from chatwootai.service.lifecycle import IDLE, OPENING, StepRecord, lifecycle_job
from chatwootai.service.queue import InProcessTurnQueue
from chatwootai.service.turns import PendingMessage
from chatwootai.service.worker import build_worker
from chatwootai.store import keys
from chatwootai.system import ChatwootAISystem
from fakes.chatwoot_server import FakeChatwoot


def close_now(domains: Path, domain: str) -> None:
    """Make `domain`'s team away right now: yesterday, today and tomorrow are holidays."""
    today = datetime.now(ZoneInfo("America/Sao_Paulo")).date()
    days = "".join(
        f'    - {{date: "{today + timedelta(days=d)}", name: Folga}}\n' for d in (-1, 0, 1)
    )
    path = domains / domain / "domain.yaml"
    text = path.read_text(encoding="utf-8")
    assert "  holidays:\n" in text
    path.write_text(text.replace("  holidays:\n", "  holidays:\n" + days, 1), encoding="utf-8")


async def say(service: Service, fake: FakeChatwoot, account: int, display: int, text: str) -> str:
    """A customer message recorded by Chatwoot and waiting for its turn; the turn's outcome."""
    conversation = fake.conversations[(account, display)]
    payload = fake.incoming(account, display, text)
    key = f"{account}:{display}"
    await service.pending.push(
        PendingMessage(
            message_id=payload["id"],
            conversation_key=key,
            account_id=account,
            display_id=display,
            inbox_id=conversation.inbox_id,
            channel="whatsapp",
            text=text,
            received_at=time.time(),
        )
    )
    return await service.runner.run(key)


def public(fake: FakeChatwoot, account: int, display: int) -> list[str]:
    return [
        m["content"]
        for m in fake.conversations[(account, display)].messages
        if m["message_type"] == 1 and not m.get("private")
    ]


def private(fake: FakeChatwoot, account: int, display: int) -> list[str]:
    return [
        m["content"] for m in fake.conversations[(account, display)].messages if m.get("private")
    ]


async def schedule_of(service: Service, domain: str) -> Schedule:
    system = service.system
    assert isinstance(system, ChatwootAISystem)
    schedule = Schedule.of(await system.registry.get_domain_config(domain))
    assert schedule is not None
    return schedule


def queued(service: Service, key: str, step: str, redis_url: str) -> bool:
    """Whether the step's job is waiting in the deployment's queue."""
    queue = service.queue
    if isinstance(queue, InProcessTurnQueue):
        return f"{step}:{key}" in queue._later
    client = redis.Redis.from_url(redis_url)
    try:
        name = f"{service.settings.redis_prefix}{step}:{key}"
        return (
            bool(client.exists(f"arq:job:{name}"))
            and client.zscore(f"{service.settings.redis_prefix}arq:queue", name) is not None
        )
    finally:
        client.close()


async def move_due_to_the_past(service: Service, key: str, step: str) -> None:
    """As if the step's time had come."""
    name = keys.conversation_lifecycle(key, step)
    raw = await service.system.store.get(name)
    assert raw is not None
    record = StepRecord.model_validate_json(raw).model_copy(update={"due": time.time() - 1})
    await service.system.store.set(name, record.model_dump_json(), 3600)


def ctx(service: Service) -> dict[str, Any]:
    return {"runner": service.runner, "settings": service.settings, "job_try": 1}


async def test_a_handoff_outside_hours_says_when_the_team_is_back_and_opens_now(
    service: Service, fake: FakeChatwoot, domains: Path
) -> None:
    close_now(domains, "cosmetics")
    fake.add_conversation(account_id=1, display_id=501, inbox_id=1)
    assert await say(service, fake, 1, 501, "quero falar com um atendente") == "answered"
    back = (await schedule_of(service, "cosmetics")).back_text()
    assert back.startswith("Nossa equipe volta ")
    [reply] = public(fake, 1, 501)
    assert "fora do horário de atendimento" in reply and back in reply
    [note] = private(fake, 1, 501)
    assert "Recebido fora do horário" in note and back in note
    conversation = fake.conversations[(1, 501)]
    assert conversation.status == "open"  # open_now: the humans see it when they are back
    assert "handoff" in conversation.labels
    assert (await service.system.conversations.load("1:501")).paused
    assert await service.system.store.get(keys.conversation_lifecycle("1:501", OPENING)) is None


async def test_bot_until_open_keeps_answering_and_opens_when_the_team_is_back(
    service: Service, fake: FakeChatwoot, domains: Path, redis_url: str
) -> None:
    close_now(domains, "bela-pele-moema")  # inbox 12; outside_handoff: bot_until_open
    fake.add_conversation(account_id=1, display_id=502, inbox_id=12)
    fake.teams[12] = {"id": 12, "name": "moema"}
    key = "1:502"
    assert await say(service, fake, 1, 502, "quero falar com um atendente") == "answered"
    schedule = await schedule_of(service, "bela-pele-moema")
    opening = schedule.next_opening()
    assert opening is not None
    [reply] = public(fake, 1, 502)
    assert schedule.back_text() in reply and "posso continuar te ajudando" in reply
    [note] = private(fake, 1, 502)
    assert "O bot segue atendendo" in note
    conversation = fake.conversations[(1, 502)]
    assert conversation.status == "pending" and "handoff" in conversation.labels
    assert not fake.calls_to("assignments.create")  # the team comes with the opening
    assert not (await service.system.conversations.load(key)).paused
    raw = await service.system.store.get(keys.conversation_lifecycle(key, OPENING))
    assert raw is not None
    assert StepRecord.model_validate_json(raw).due == opening.timestamp()
    assert queued(service, key, OPENING, redis_url)

    # the bot keeps answering meanwhile
    assert await say(service, fake, 1, 502, "qual o horário de funcionamento?") == "answered"
    assert len(public(fake, 1, 502)) == 2
    # an early run changes nothing and asks to be run at the opening
    outcome, again = await service.runner.lifecycle.run(key, OPENING)  # type: ignore[union-attr]
    assert (outcome, again) == ("not yet", opening.timestamp())

    await move_due_to_the_past(service, key, OPENING)
    assert await lifecycle_job(ctx(service), key, OPENING) == "opened"
    assert conversation.status == "open"
    assert conversation.team == {"id": 12, "name": "moema"}
    assert (await service.system.conversations.load(key)).paused
    assert await service.system.store.get(keys.conversation_lifecycle(key, OPENING)) is None


async def test_the_opening_of_a_bot_assigned_conversation_takes_the_bot_off_it(
    service: Service, fake: FakeChatwoot, domains: Path
) -> None:
    close_now(domains, "bela-pele-moema")
    fake.add_conversation(account_id=1, display_id=506, inbox_id=12)
    fake.assign_bot(1, 506)
    key = "1:506"
    assert await say(service, fake, 1, 506, "quero falar com um atendente") == "answered"
    conversation = fake.conversations[(1, 506)]
    assert conversation.assignee_type == "AgentBot"  # the bot keeps it until the team is back
    await move_due_to_the_past(service, key, OPENING)
    assert await lifecycle_job(ctx(service), key, OPENING) == "opened"
    assert conversation.assignee is None and conversation.status == "open"


async def test_an_opening_is_dropped_when_a_human_took_over_meanwhile(
    service: Service, fake: FakeChatwoot, domains: Path
) -> None:
    close_now(domains, "bela-pele-moema")
    fake.add_conversation(account_id=1, display_id=503, inbox_id=12)
    key = "1:503"
    await say(service, fake, 1, 503, "quero falar com um atendente")
    await service.system.conversations.pause(key, "human_reply")  # a human answered
    await move_due_to_the_past(service, key, OPENING)
    assert await lifecycle_job(ctx(service), key, OPENING) == "held by a human"
    assert fake.conversations[(1, 503)].status == "pending"
    assert not fake.calls_to("toggle_status")


async def test_an_idle_conversation_is_resolved_and_starts_afresh(
    service: Service, fake: FakeChatwoot, redis_url: str
) -> None:
    fake.add_conversation(account_id=1, display_id=504, inbox_id=1)
    key = "1:504"
    before = time.time()
    assert await say(service, fake, 1, 504, "quero agendar uma limpeza de pele") == "answered"
    state = await service.system.conversations.load(key)
    assert state.crew == "scheduling" and state.in_flow
    system = service.system
    assert isinstance(system, ChatwootAISystem)
    agenda = (await system.states.load_many("cosmetics", ["agendador"], key))["agendador"]
    assert agenda.slots.get("service") == "limpeza-de-pele"
    record = StepRecord.model_validate_json(
        await service.system.store.get(keys.conversation_lifecycle(key, IDLE)) or ""
    )
    assert before + 12 * 3600 <= record.due <= time.time() + 12 * 3600  # cosmetics: 12 h
    assert queued(service, key, IDLE, redis_url)
    # a newer answer moves the due time; the job already queued stays the only one
    await say(service, fake, 1, 504, "amanhã")
    later = StepRecord.model_validate_json(
        await service.system.store.get(keys.conversation_lifecycle(key, IDLE)) or ""
    )
    assert later.due > record.due
    outcome, again = await service.runner.lifecycle.run(key, IDLE)  # type: ignore[union-attr]
    assert (outcome, again) == ("not yet", later.due)

    await move_due_to_the_past(service, key, IDLE)
    assert await lifecycle_job(ctx(service), key, IDLE) == "resolved"
    conversation = fake.conversations[(1, 504)]
    assert conversation.status == "resolved"
    assert public(fake, 1, 504)[-1].startswith("Vou encerrar este atendimento por aqui.")
    state = await service.system.conversations.load(key)
    assert state.crew is None and not state.in_flow
    agenda = (await system.states.load_many("cosmetics", ["agendador"], key))["agendador"]
    assert agenda.slots == {} and agenda.messages  # history kept within its TTL
    assert await service.system.store.get(keys.conversation_lifecycle(key, IDLE)) is None

    # the customer writes again: Chatwoot reopens it as pending; routing starts fresh
    fake.customer_reopens(1, 504, "oi")
    conversation.messages.pop()  # (the fake recorded it; the test sends its own)
    assert await say(service, fake, 1, 504, "amanhã") == "answered"
    agenda = (await system.states.load_many("cosmetics", ["agendador"], key))["agendador"]
    assert "service" not in agenda.slots  # the booking begun before the resolution is gone
    assert "qual serviço você quer agendar" in public(fake, 1, 504)[-1].lower()


async def test_idle_resolution_never_touches_a_conversation_a_human_holds(
    service: Service, fake: FakeChatwoot
) -> None:
    fake.add_conversation(account_id=1, display_id=505, inbox_id=1)
    key = "1:505"
    await say(service, fake, 1, 505, "qual o horário de funcionamento?")
    fake.assign_human(1, 505)  # Chatwoot says a person holds it (no event reached us)
    await move_due_to_the_past(service, key, IDLE)
    assert await lifecycle_job(ctx(service), key, IDLE) == "held by a human"
    assert fake.conversations[(1, 505)].status == "pending"
    assert await service.system.store.get(keys.conversation_lifecycle(key, IDLE)) is None


async def test_idle_resolution_waits_for_a_customer_message_in_flight(
    service: Service, fake: FakeChatwoot
) -> None:
    fake.add_conversation(account_id=1, display_id=506, inbox_id=1)
    key = "1:506"
    await say(service, fake, 1, 506, "qual o horário de funcionamento?")
    await move_due_to_the_past(service, key, IDLE)
    payload = fake.incoming(1, 506, "e vocês abrem sábado?")
    await service.pending.push(
        PendingMessage(
            message_id=payload["id"],
            conversation_key=key,
            account_id=1,
            display_id=506,
            text="e vocês abrem sábado?",
            received_at=time.time(),
        )
    )
    assert await lifecycle_job(ctx(service), key, IDLE) == "customer wrote"
    assert fake.conversations[(1, 506)].status == "pending"


async def test_a_handoff_cancels_the_idle_resolution(service: Service, fake: FakeChatwoot) -> None:
    fake.add_conversation(account_id=1, display_id=507, inbox_id=1)
    key = "1:507"
    await say(service, fake, 1, 507, "qual o horário de funcionamento?")
    assert await service.system.store.get(keys.conversation_lifecycle(key, IDLE)) is not None
    await say(service, fake, 1, 507, "quero falar com um atendente")
    assert await service.system.store.get(keys.conversation_lifecycle(key, IDLE)) is None
    assert json.dumps(fake.conversations[(1, 507)].labels)


async def forget_job(service: Service, key: str, step: str, redis_url: str) -> None:
    """Lose the queued job of a step (a restart of `serve` without Redis loses its tasks)."""
    queue = service.queue
    if isinstance(queue, InProcessTurnQueue):
        task = queue._later[f"{step}:{key}"]
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return
    client = redis.Redis.from_url(redis_url)
    name = f"{service.settings.redis_prefix}{step}:{key}"
    client.delete(f"arq:job:{name}")
    client.zrem(f"{service.settings.redis_prefix}arq:queue", name)
    client.close()


async def test_scheduled_steps_come_back_from_their_records(
    service: Service, fake: FakeChatwoot, redis_url: str
) -> None:
    fake.add_conversation(account_id=1, display_id=508, inbox_id=1)
    key = "1:508"
    await say(service, fake, 1, 508, "qual o horário de funcionamento?")
    await forget_job(service, key, IDLE, redis_url)
    assert not queued(service, key, IDLE, redis_url)
    lifecycle = service.runner.lifecycle
    assert lifecycle is not None
    assert await lifecycle.recover() == 1
    assert queued(service, key, IDLE, redis_url)


async def set_score(service: Service, key: str, step: str, redis_url: str, at: float) -> None:
    """Move the step's arq job in the queue (as if its deferral were over)."""
    client = redis.Redis.from_url(redis_url)
    name = f"{service.settings.redis_prefix}{step}:{key}"
    client.zadd(f"{service.settings.redis_prefix}arq:queue", {name: int(at * 1000)})
    client.close()


def job_score(service: Service, key: str, step: str, redis_url: str) -> float | None:
    client = redis.Redis.from_url(redis_url)
    name = f"{service.settings.redis_prefix}{step}:{key}"
    score = client.zscore(f"{service.settings.redis_prefix}arq:queue", name)
    client.close()
    return None if score is None else score / 1000


@pytest.mark.parametrize("store", ["redis"], indirect=True)
async def test_an_arq_worker_runs_the_step_deferring_it_while_not_due(
    service: Service, fake: FakeChatwoot, redis_url: str
) -> None:
    fake.add_conversation(account_id=1, display_id=509, inbox_id=1)
    key = "1:509"
    await say(service, fake, 1, 509, "qual o horário de funcionamento?")
    record = await service.runner.lifecycle.record(key, IDLE)  # type: ignore[union-attr]
    assert record is not None
    score = job_score(service, key, IDLE, redis_url)
    assert score is not None and abs(score - record.due) < 1  # deferred to the due time

    async def factory() -> tuple[Any, Any]:
        async def close() -> None:
            return None

        return service.runner, close

    worker = build_worker(service.settings, factory, handle_signals=False)
    running = asyncio.create_task(worker.async_run())
    try:
        # the job comes early (its record was moved by a newer answer): it defers itself again
        await set_score(service, key, IDLE, redis_url, time.time())
        await wait_until(lambda: (job_score(service, key, IDLE, redis_url) or 0) > time.time())
        later = job_score(service, key, IDLE, redis_url)
        assert later is not None and abs(later - record.due) < 2
        assert fake.conversations[(1, 509)].status == "pending"
        # its time has come
        await move_due_to_the_past(service, key, IDLE)
        await set_score(service, key, IDLE, redis_url, time.time())
        await wait_until(lambda: fake.conversations[(1, 509)].status == "resolved")
        await wait_until(lambda: job_score(service, key, IDLE, redis_url) is None)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await worker.close()


async def wait_until(check: Any, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_an_opening_never_reopens_a_conversation_closed_meanwhile(
    service: Service, fake: FakeChatwoot, domains: Path
) -> None:
    close_now(domains, "bela-pele-moema")
    fake.add_conversation(account_id=1, display_id=510, inbox_id=12)
    key = "1:510"
    await say(service, fake, 1, 510, "quero falar com um atendente")
    fake.conversations[(1, 510)].status = "resolved"  # someone closed it before the team's return
    await move_due_to_the_past(service, key, OPENING)
    assert await lifecycle_job(ctx(service), key, OPENING) == "closed meanwhile"
    assert fake.conversations[(1, 510)].status == "resolved"
    assert not fake.calls_to("toggle_status")
    assert await service.system.store.get(keys.conversation_lifecycle(key, OPENING)) is None
