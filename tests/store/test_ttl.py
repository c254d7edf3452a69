"""TTL policy: deployment defaults (CHATWOOTAI_TTL_*) survive a config's round trip through JSON."""

from __future__ import annotations

from chatwootai.config.schema import DomainConfig, TTLs
from chatwootai.settings import Settings
from chatwootai.store.ttl import deployment_ttls, effective_ttls


def test_deployment_ttls_survive_a_round_trip_through_the_store() -> None:
    defaults = deployment_ttls(
        Settings(CHATWOOTAI_TTL_CONVERSATION=70, CHATWOOTAI_TTL_AGENT_STATE=80)
    )
    written = DomainConfig.model_validate({"name": "shop", "ttl": {"config": 60}})
    stored = DomainConfig.model_validate_json(written.model_dump_json())
    ttls = effective_ttls(defaults, stored.ttl)
    assert (ttls.config, ttls.conversation, ttls.agent_state) == (60, 70, 80)


def test_a_domain_without_ttls_keeps_every_deployment_default() -> None:
    defaults = deployment_ttls(Settings(CHATWOOTAI_TTL_CONFIG=5))
    stored = DomainConfig.model_validate_json(DomainConfig(name="shop").model_dump_json())
    ttls = effective_ttls(defaults, stored.ttl)
    assert (ttls.config, ttls.conversation, ttls.agent_state) == (5, 86400, 86400)
    assert effective_ttls(defaults, TTLs.model_validate({})) == defaults
