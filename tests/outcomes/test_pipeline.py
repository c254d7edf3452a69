"""Outcomes, the monthly budget and the flood limit through the real pipeline, on both stores.

The shipped domains answer with the offline model; ``CHATWOOTAI_PRICES`` gives the test model
names a price, so turns cost something and budgets are crossed.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chatwootai.config.schema import LLMSettings
from chatwootai.llm import ModelResolver
from chatwootai.outcomes import read_report
from chatwootai.settings import Settings
from chatwootai.store.base import Store
from chatwootai.store.embedded import EmbeddedStore
from chatwootai.store.redis import RedisStore
from chatwootai.system import ChatwootAISystem
from chatwootai.turn import IncomingMessage, TurnOutcome

DOMAINS = Path(__file__).resolve().parents[2] / "domains"
EXPENSIVE = "test:expensive"
"""A model name the test resolver answers with the offline model, priced by the settings."""
PRICES = {
    EXPENSIVE: {"input_per_mtok": 1000.0, "output_per_mtok": 1000.0},
    "offline": {"input_per_mtok": 1.0, "output_per_mtok": 1.0},
}
MID_MONTH = datetime(2026, 11, 14, 13, 0, tzinfo=UTC)  # 10:00 in São Paulo


class Resolver(ModelResolver):
    """Resolves :data:`EXPENSIVE` to the offline model (no network), as if it were a real one."""

    def resolve(self, domain: LLMSettings, agent: LLMSettings | None = None) -> object:  # type: ignore[override]
        """The offline model for EXPENSIVE, the usual resolution otherwise."""
        if self.effective(domain, agent).model == EXPENSIVE:
            return super().resolve(domain.model_copy(update={"model": "offline"}))
        return super().resolve(domain, agent)


def reopen(store: Store, redis_url: str) -> Store:
    """Another connection to the same store, as another process of the deployment has."""
    if isinstance(store, RedisStore):
        return RedisStore.from_url(redis_url, prefix=store.prefix)
    assert isinstance(store, EmbeddedStore)
    return EmbeddedStore(store.path, prefix=store.prefix)


def domains_with(tmp_path: Path, extra_yaml: str) -> Path:
    """The shipped domains, with `extra_yaml` appended to cosmetics' domain.yaml."""
    root = tmp_path / "domains"
    shutil.copytree(DOMAINS, root)
    path = root / "cosmetics" / "domain.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n" + extra_yaml, encoding="utf-8")
    return root


async def open_system(store: Store, tmp_path: Path, extra_yaml: str) -> ChatwootAISystem:
    """The real pipeline on `store`, for domains with `extra_yaml` in cosmetics."""
    settings = Settings.model_validate(
        {
            "CHATWOOTAI_DOMAINS_DIR": str(domains_with(tmp_path, extra_yaml)),
            "CHATWOOTAI_DATA_DIR": str(tmp_path / "data"),
            "CHATWOOTAI_PRICES": json.dumps(PRICES),
        }
    )
    system = await ChatwootAISystem.create(settings, store=store, models=Resolver(settings))
    await system.start()
    return system


@pytest.fixture
async def plain(store: Store, tmp_path: Path) -> AsyncIterator[ChatwootAISystem]:
    """The shipped domains as they are."""
    system = await open_system(store, tmp_path, "")
    yield system
    await system.close()


async def ask(
    system: ChatwootAISystem,
    text: str,
    *,
    key: str = "1:1",
    now: datetime = MID_MONTH,
    ids: tuple[str, ...] = ("1",),
) -> TurnOutcome:
    """One turn of cosmetics (account 1) at `now`."""
    message = IncomingMessage(text=text, account_id="1", message_ids=ids, now=now)
    return await system.process_message(message, key, "api")


async def test_every_turn_is_counted_with_its_layer_handoff_tokens_and_cost(
    plain: ChatwootAISystem,
) -> None:
    sales = await ask(plain, "quanto custa o protetor solar?", ids=("1", "2"))
    asked = await ask(plain, "quero falar com um atendente", key="1:2")
    support = await ask(plain, "qual o horário de funcionamento?", key="1:3")
    assert sales.recorded is not None and sales.recorded.route_method == "rules"
    assert asked.recorded is not None and asked.recorded.handoff_reason == "asked"
    day = MID_MONTH.date()
    report = await read_report(
        plain.store, "cosmetics", day, day, now=MID_MONTH + timedelta(minutes=1)
    )
    totals = report.totals
    assert totals.turns == 3 and totals.messages == 4
    assert totals.handoffs == 1 and totals.handoffs_by_reason == {"asked": 1}
    assert totals.conversations.handed_off == 1
    assert totals.llm_requests == sales.llm_requests + support.llm_requests > 0
    assert totals.input_tokens == sales.input_tokens + support.input_tokens > 0
    assert totals.output_tokens == sales.output_tokens + support.output_tokens > 0
    priced = (totals.input_tokens + totals.output_tokens) / 1_000_000  # 1 USD per Mtok
    assert totals.cost_usd == pytest.approx(priced, abs=1e-6)
    assert totals.tool_calls == len(sales.tool_calls) + len(support.tool_calls)
    assert totals.turn_ms_p50 is not None


BUDGET_YAML = """
llm:
  model: test:expensive
limits:
  monthly_budget_usd: {budget}
  over_budget:
{rule}
"""


async def test_a_budget_crossed_mid_month_hands_off_until_the_next_month(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture, redis_url: str
) -> None:
    rule = "    action: handoff\n    text: Nosso atendimento automático está pausado."
    system = await open_system(store, tmp_path, BUDGET_YAML.format(budget=3, rule=rule))
    try:
        alerts: list[float] = []
        spent = 0.0
        turns = 0
        while True:  # each turn costs ~0.54 USD (1000 USD per million tokens)
            outcome = await ask(system, "quanto custa o protetor solar?", key=f"1:{turns}")
            if outcome.recorded is not None and outcome.recorded.handoff_reason == "budget":
                break
            assert outcome.recorded is not None and outcome.recorded.cost_usd
            spent += outcome.recorded.cost_usd
            turns += 1
            if outcome.budget_alert is not None:
                alerts.append(outcome.budget_alert)
            assert turns < 20
        assert spent >= 3
        assert alerts == [0.8, 1.0]  # 80 % once, then 100 % once
        assert "monthly LLM budget" in caplog.text
        assert outcome.reply == "Nosso atendimento automático está pausado."
        assert outcome.handoff is not None and outcome.handoff.kind == "budget"
        assert outcome.llm_requests == 0
        # another process of the deployment knows the spend from the store
        other = await open_system(
            reopen(store, redis_url), tmp_path / "other", BUDGET_YAML.format(budget=3, rule=rule)
        )
        refused = await ask(other, "quanto custa o protetor solar?", key="1:90")
        assert refused.handoff is not None and refused.handoff.kind == "budget"
        await other.close()
        # next month, the budget is whole again
        december = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
        answered = await ask(system, "quanto custa o protetor solar?", key="1:91", now=december)
        assert answered.handoff is None and answered.llm_requests > 0
        day = MID_MONTH.date()
        report = await read_report(
            store, "cosmetics", day, day, now=MID_MONTH + timedelta(minutes=1)
        )
        assert report.totals.handoffs_by_reason == {"budget": 2}
        assert report.totals.cost_usd == pytest.approx(spent, abs=1e-6)
    finally:
        await system.close()


async def test_past_the_budget_a_cheaper_model_answers(store: Store, tmp_path: Path) -> None:
    rule = "    action: model\n    model: offline"
    system = await open_system(store, tmp_path, BUDGET_YAML.format(budget=0.5, rule=rule))
    try:
        models = []
        for index in range(4):
            outcome = await ask(system, "quanto custa o protetor solar?", key=f"1:{index}")
            assert outcome.handoff is None and outcome.recorded is not None
            models.append(outcome.recorded.model)
        assert models[0] == EXPENSIVE and models[-1] == "offline"
        assert models.index("offline") >= 1
    finally:
        await system.close()


FLOOD_YAML = """
limits:
  flood:
    messages_per_minute: 3
    handoff_after: 2
"""


async def test_a_flooding_conversation_is_held_then_merged_then_handed_off(
    store: Store, tmp_path: Path
) -> None:
    system = await open_system(store, tmp_path, FLOOD_YAML)
    text = "quanto custa o protetor solar?"
    t0 = MID_MONTH
    try:
        first = await ask(system, text, now=t0, ids=("1",))
        second = await ask(system, text, now=t0 + timedelta(seconds=5), ids=("2", "3"))
        assert first.held_until is None and second.held_until is None  # 3 messages: the limit
        held = await ask(system, text, now=t0 + timedelta(seconds=10), ids=("4",))
        assert held.held_until == pytest.approx(t0.timestamp() + 60)
        assert held.reply == "" and held.llm_requests == 0 and held.recorded is None
        again = await ask(system, text, now=t0 + timedelta(seconds=20), ids=("4", "5"))
        assert again.held_until == pytest.approx(t0.timestamp() + 60)
        # the next minute: the held messages go as one turn, whatever their number
        merged = await ask(system, text, now=t0 + timedelta(seconds=60), ids=("4", "5", "6", "7"))
        assert merged.held_until is None and merged.llm_requests > 0
        # and a second minute over the limit in a row hands the conversation off
        flooded = await ask(system, text, now=t0 + timedelta(seconds=65), ids=("8",))
        assert flooded.handoff is not None and flooded.handoff.kind == "flood"
        assert "mensagens por minuto" in flooded.handoff.summary
        # another conversation is not affected
        other = await ask(system, text, key="1:2", now=t0 + timedelta(seconds=66))
        assert other.held_until is None and other.handoff is None
        day = MID_MONTH.date()
        report = await read_report(store, "cosmetics", day, day, now=t0 + timedelta(minutes=2))
        assert report.totals.turns == 5  # held turns are not turns
        assert report.totals.messages == 1 + 2 + 4 + 1 + 1
        assert report.totals.handoffs_by_reason == {"flood": 1}
    finally:
        await system.close()


async def test_a_quiet_minute_forgives_an_earlier_flood(store: Store, tmp_path: Path) -> None:
    system = await open_system(store, tmp_path, FLOOD_YAML)
    text = "quanto custa o protetor solar?"
    t0 = MID_MONTH
    try:
        await ask(system, text, now=t0, ids=("1", "2", "3"))
        held = await ask(system, text, now=t0 + timedelta(seconds=1), ids=("4",))
        assert held.held_until is not None
        later = t0 + timedelta(minutes=3)  # a minute without messages in between
        await ask(system, text, now=later, ids=("4", "5", "6"))
        held = await ask(system, text, now=later + timedelta(seconds=1), ids=("7",))
        assert held.held_until is not None and held.handoff is None  # held, not handed off
        # `chat` and conversation tests (no message ids) are never held
        for _ in range(5):
            typed = await ask(system, text, now=later + timedelta(seconds=2), ids=())
            assert typed.held_until is None and typed.handoff is None
    finally:
        await system.close()
