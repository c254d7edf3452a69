"""Agent types: config models, type-specific checks, resolution of `type:` names."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chatwootai.agents.builtin import ManagerAgent, SalesAgent, SchedulingAgent, SupportAgent
from chatwootai.agents.types import AgentTypeError, agent_class


def test_builtin_names_and_allowed_dotted_paths_resolve():
    assert agent_class("SalesAgent") is SalesAgent
    assert agent_class("chatwootai.agents.support.SupportAgent") is SupportAgent
    assert agent_class("SalesAgent") is agent_class("SalesAgent")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("SellerAgent", "unknown agent type"),
        ("BaseAgent", "unknown agent type"),
        ("os.path.join", "outside the allowed packages"),
        ("chatwootai.agents.nope.Agent", "cannot import"),
        ("chatwootai.agents.base.business_facts", "not an agent class"),
    ],
)
def test_bad_type_names_are_refused(name: str, message: str):
    with pytest.raises(AgentTypeError, match=message):
        agent_class(name)


def test_config_models_forbid_unknown_keys():
    assert SalesAgent.config_model.model_validate({"currency": "USD"})
    with pytest.raises(ValidationError):
        SalesAgent.config_model.model_validate({"currencyy": "USD"})


def test_check_config_requires_the_tool_kind_of_the_type(shop):
    assert SupportAgent.check_config("support", shop.agents["support"], shop) == []
    assert SalesAgent.check_config("sales", shop.agents["sales"], shop) == []
    assert ManagerAgent.check_config("boss", shop.agents["boss"], shop) == []
    problems = SchedulingAgent.check_config("support", shop.agents["support"], shop)
    assert len(problems) == 1 and "calendar" in problems[0]
    bad = shop.agents["sales"].model_copy(update={"config": {"nope": 1}})
    assert "invalid config" in SalesAgent.check_config("sales", bad, shop)[0]


def test_scheduling_prompt_asks_for_confirmation(scheduler_domain):
    agent = SchedulingAgent("scheduler", scheduler_domain.agents["scheduler"], scheduler_domain)
    prompt = agent.system_prompt()
    assert "confirmação" in prompt and "service, date, time" in prompt
