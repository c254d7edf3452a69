"""The LLM provider down or slow: the customer gets the fallback text and a human, at once.

The real pipeline (a one-crew domain whose model is a fake OpenAI-compatible server) behind the
service in process, on the test Redis, replying to the fake Chatwoot. With the breaker open, later
turns do not call the provider at all: the fake's request count stops growing.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from resilience_support import InProcess, quick_client, running

from chatwootai.service.app import create_app
from chatwootai.settings import Settings
from chatwootai.system import ChatwootAISystem
from fakes import openai_server
from fakes.chatwoot_server import FakeChatwoot

DOMAIN = """
name: loja
business:
  company_name: Loja Teste
llm:
  model: openai:fake-gpt
  base_url: {base_url}
  timeout_s: 10
  retries: 1
limits:
  timeout_s: {deadline_s}
agents:
  atendente:
    type: ManagerAgent
    role: Atendente
    goal: Ajudar o cliente
crews:
  atendimento:
    name: Atendimento
    agents: [atendente]
routing:
  default_crew: atendimento
  crews:
    atendimento:
      description: Qualquer pergunta do cliente.
"""
DEADLINE_S = 1.0


@pytest.fixture
def provider() -> Iterator[Any]:
    """The fake OpenAI-compatible server."""
    yield from openai_server.serve()


@pytest.fixture
async def service(
    provider: Any, fake: FakeChatwoot, redis_url: str, key_prefix: str, tmp_path: Path
) -> AsyncIterator[InProcess]:
    """The real pipeline on the fake model, breaker after 2 failures, turns in process."""
    domains = tmp_path / "domains"
    (domains / "loja").mkdir(parents=True)
    (domains / "loja" / "domain.yaml").write_text(
        DOMAIN.format(base_url=provider.base_url, deadline_s=DEADLINE_S)
    )
    (domains / "tenants.yaml").write_text('accounts:\n  "3": loja\n')
    settings = Settings.model_validate(
        {
            "REDIS_URL": redis_url,
            "CHATWOOTAI_REDIS_PREFIX": key_prefix,
            "CHATWOOTAI_DOMAINS_DIR": str(domains),
            "CHATWOOTAI_DATA_DIR": str(tmp_path / "data"),
            "CHATWOOT_BASE_URL": fake.base_url,
            "CHATWOOT_API_TOKEN": fake.bot_token,
            "CHATWOOTAI_BURST_WINDOW": 0,
            "CHATWOOTAI_LLM_BREAKER_FAILURES": 2,
            "CHATWOOTAI_LLM_BREAKER_COOLDOWN": 60,
        }
    )
    system = await ChatwootAISystem.create(settings)
    app = create_app(settings, system, client_factory=quick_client, in_process=True)
    await system.start()
    async for harness in running(app, fake):
        yield harness
    await system.close()


async def fallback_text(service: InProcess) -> str:
    config = await service.service.system.registry.get_domain_config("loja")
    return config.chatwoot.texts.fallback


async def one_turn(service: InProcess, display_id: int) -> float:
    """A customer message in a new conversation, answered; seconds until the turn ended."""
    fake = service.fake
    fake.add_conversation(account_id=3, display_id=display_id)
    started = time.monotonic()
    response = await service.post(fake.incoming(3, display_id, "Oi, vocês entregam hoje?"))
    assert response.status_code == 200 and response.json()["status"] == "queued"
    await service.settle()
    return time.monotonic() - started


async def assert_fallback_and_handoff(service: InProcess, display_id: int) -> None:
    fake = service.fake
    assert service.replies(3, display_id) == [await fallback_text(service)]
    conversation = fake.conversations[(3, display_id)]
    assert conversation.status == "open"  # handed to the humans


async def test_provider_answering_500s_gives_fallback_then_is_not_called(
    service: InProcess, provider: Any
) -> None:
    provider.script(*[openai_server.error(500)] * 50)
    for display_id in (801, 802):
        await one_turn(service, display_id)
        await assert_fallback_and_handoff(service, display_id)
    called = provider.count
    assert called >= 2  # each turn asked (with the SDK's retry), and failed
    for display_id in (803, 804, 805):
        await one_turn(service, display_id)
        await assert_fallback_and_handoff(service, display_id)
    assert provider.count == called  # the breaker is open: no request reached the provider


async def test_a_provider_slower_than_the_deadline_gives_fallback_then_is_not_called(
    service: InProcess, provider: Any
) -> None:
    provider.delay_s = 3 * DEADLINE_S
    took = []
    for display_id in (811, 812):
        took.append(await one_turn(service, display_id))
        await assert_fallback_and_handoff(service, display_id)
    called = provider.count
    assert called >= 2
    took.append(await one_turn(service, 813))
    await assert_fallback_and_handoff(service, 813)
    assert provider.count == called
    print(f"\nturn durations with a {provider.delay_s:.0f} s provider: {took} s")
