"""The start-up report: tenants whose secret or token variable is unset, and what then happens.

Each consequence it states is checked against what the code does: the webhook's answer to a
delivery of such a tenant, and the API access its replies get.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pydantic import SecretStr

from chatwootai.config.schema import Tenants
from chatwootai.service.credentials import Credentials, CredentialsError
from chatwootai.service.startup_report import (
    StartupReport,
    credential_findings,
    log_report,
)
from chatwootai.settings import Settings

SHIPPED = Tenants.model_validate(
    {
        "accounts": {
            "1": "cosmetics",
            "3": {
                "domain": "retail",
                "webhook_secret_env": "CHATWOOT_WEBHOOK_SECRET_RETAIL",
                "api_token_env": "CHATWOOT_API_TOKEN_RETAIL",
            },
        },
        "inboxes": {
            "12": "bela-pele-moema",
            "20": {"domain": "farmacia", "webhook_secret_env": "CHATWOOT_WEBHOOK_SECRET_FARMACIA"},
        },
    }
)
"""The shape of the shipped tenants.yaml."""


def _settings(**values: Any) -> Settings:
    return Settings.model_validate(values)


def _lines(credentials: Credentials) -> list[str]:
    return [str(finding) for finding in credential_findings(credentials)]


def test_a_fresh_deployment_is_told_which_tenants_are_refused_and_why() -> None:
    settings = _settings(
        CHATWOOT_BASE_URL="https://chat.example.com",
        CHATWOOT_API_TOKEN="bot-token",
        CHATWOOT_WEBHOOK_SECRET="global-secret",
    )
    credentials = Credentials(settings, SHIPPED, environ={})
    assert _lines(credentials) == [
        "account 3 (retail): CHATWOOT_WEBHOOK_SECRET_RETAIL is not set: its deliveries are "
        "refused with 401 (fail closed)",
        "account 3 (retail): CHATWOOT_API_TOKEN_RETAIL is not set: replies are posted with "
        "CHATWOOT_API_TOKEN instead (the deployment-wide token: it must be a bot of this "
        "account)",
        "inbox 20 (farmacia): CHATWOOT_WEBHOOK_SECRET_FARMACIA is not set: its deliveries are "
        "refused with 401 (fail closed)",
    ]
    # What the report says is what the code does:
    with pytest.raises(CredentialsError):
        credentials.webhook_secret(3, None)
    with pytest.raises(CredentialsError):
        credentials.webhook_secret(None, 20)
    assert credentials.api_access(3).token == "bot-token"
    assert credentials.webhook_secret(1, None) == "global-secret"


def test_nothing_to_report_when_every_variable_is_set() -> None:
    settings = _settings(
        CHATWOOT_BASE_URL="https://chat.example.com",
        CHATWOOT_API_TOKEN="bot-token",
        CHATWOOT_WEBHOOK_SECRET="global-secret",
    )
    environ = {
        "CHATWOOT_WEBHOOK_SECRET_RETAIL": "r",
        "CHATWOOT_API_TOKEN_RETAIL": "t",
        "CHATWOOT_WEBHOOK_SECRET_FARMACIA": "f",
    }
    assert _lines(Credentials(settings, SHIPPED, environ=environ)) == []


def test_without_a_global_secret_tenants_relying_on_it_are_listed_together() -> None:
    settings = _settings(CHATWOOT_BASE_URL="https://chat.example.com", CHATWOOT_API_TOKEN="t")
    environ = {"CHATWOOT_WEBHOOK_SECRET_RETAIL": "r", "CHATWOOT_API_TOKEN_RETAIL": "t"}
    lines = _lines(Credentials(settings, SHIPPED, environ=environ))
    assert lines == [
        "inbox 20 (farmacia): CHATWOOT_WEBHOOK_SECRET_FARMACIA is not set: its deliveries are "
        "refused with 401 (fail closed)",
        "account 1, inbox 12 (no webhook_secret_env) and accounts and inboxes not in "
        "tenants.yaml: CHATWOOT_WEBHOOK_SECRET is not set: their deliveries are refused with "
        "401 (fail closed); an inbox uses its account's secret first",
    ]
    credentials = Credentials(settings, SHIPPED, environ=environ)
    assert credentials.webhook_secret(1, None) is None  # the webhook answers 401 to it


def test_without_any_secret_deliveries_are_accepted_unsigned_and_said_so() -> None:
    settings = _settings(CHATWOOT_BASE_URL="https://chat.example.com", CHATWOOT_API_TOKEN="t")
    tenants = Tenants.model_validate({"accounts": {"1": "cosmetics"}})
    credentials = Credentials(settings, tenants, environ={})
    assert not credentials.any_secret
    assert _lines(credentials) == [
        "webhook: no CHATWOOT_WEBHOOK_SECRET and no webhook_secret_env in tenants.yaml: "
        "deliveries are accepted unsigned: anyone who can reach the webhook URL can make the "
        "bot answer; set the bot's secret as CHATWOOT_WEBHOOK_SECRET"
    ]


def test_without_an_api_token_anywhere_messages_are_not_answered() -> None:
    settings = _settings(CHATWOOT_WEBHOOK_SECRET="s")
    environ = {"CHATWOOT_WEBHOOK_SECRET_RETAIL": "r", "CHATWOOT_WEBHOOK_SECRET_FARMACIA": "f"}
    credentials = Credentials(settings, SHIPPED, environ=environ)
    lines = _lines(credentials)
    assert lines == [
        "account 3 (retail): CHATWOOT_API_TOKEN_RETAIL is not set and neither is "
        "CHATWOOT_API_TOKEN; no base_url and CHATWOOT_BASE_URL is not set: its messages are "
        "received but not answered: each turn is dropped with an error log line "
        '(chatwootai_messages_ignored{reason="no chatwoot credentials"})',
        "account 1, inbox 12, inbox 20 (no settings of their own) and accounts and inboxes not "
        "in tenants.yaml: CHATWOOT_BASE_URL and CHATWOOT_API_TOKEN are not set: their messages "
        "are received but not answered: each turn is dropped with an error log line "
        '(chatwootai_messages_ignored{reason="no chatwoot credentials"})',
    ]
    with pytest.raises(CredentialsError):
        credentials.api_access(1)


def test_a_tenant_with_its_own_base_url_is_listed_by_what_it_still_lacks() -> None:
    settings = _settings(CHATWOOT_WEBHOOK_SECRET="s", CHATWOOT_API_TOKEN="t")
    tenants = Tenants.model_validate(
        {"accounts": {"4": {"domain": "cosmetics", "base_url": "https://other.example.com"}}}
    )
    lines = _lines(Credentials(settings, tenants, environ={}))
    assert lines == [
        "accounts and inboxes not in tenants.yaml: CHATWOOT_BASE_URL is not set: their "
        "messages are received but not answered: each turn is dropped with an error log line "
        '(chatwootai_messages_ignored{reason="no chatwoot credentials"})'
    ]
    settings.chatwoot_api_token = SecretStr("")
    lines = _lines(Credentials(settings, tenants, environ={}))
    assert lines[0].startswith("account 4: CHATWOOT_API_TOKEN is not set: their messages are")
    assert lines[1].startswith(
        "accounts and inboxes not in tenants.yaml: CHATWOOT_BASE_URL and CHATWOOT_API_TOKEN"
    )


def test_the_report_is_logged_once_per_finding(caplog: pytest.LogCaptureFixture) -> None:
    credentials = Credentials(
        _settings(CHATWOOT_WEBHOOK_SECRET="s", CHATWOOT_BASE_URL="u", CHATWOOT_API_TOKEN="t"),
        SHIPPED,
        environ={},
    )
    report = StartupReport(credentials=credential_findings(credentials))
    with caplog.at_level(logging.INFO, logger="chatwootai.startup"):
        log_report(report)
        log_report(StartupReport())
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "start-up report: 3 finding(s)"
    assert messages[1].startswith("account 3 (retail): CHATWOOT_WEBHOOK_SECRET_RETAIL is not set")
    assert messages[-1].startswith("start-up report: every domain is valid")
    assert all(r.levelno == logging.WARNING for r in caplog.records[:4])


def test_a_tenant_whose_url_token_variable_is_unset_is_told_its_token_deliveries_are_refused() -> (
    None
):
    settings = _settings(CHATWOOT_WEBHOOK_SECRET="s", CHATWOOT_BASE_URL="https://chat.example.com")
    tenants = Tenants.model_validate(
        {"accounts": {"5": {"domain": "retail", "url_token_env": "CHATWOOT_URL_TOKEN_RETAIL"}}}
    )
    credentials = Credentials(settings, tenants, environ={"CHATWOOT_API_TOKEN": "t"})
    lines = _lines(credentials)
    assert (
        "account 5 (retail): CHATWOOT_URL_TOKEN_RETAIL is not set: its deliveries authenticated "
        "by URL token (?token= on its own webhook path) are refused with 401 (fail closed)"
    ) in lines
    with pytest.raises(CredentialsError):  # the webhook turns this into a 401
        credentials.url_token(5, None)
    environ = {"CHATWOOT_URL_TOKEN_RETAIL": "u"}
    assert not any("URL_TOKEN" in line for line in _lines(Credentials(settings, tenants, environ)))
