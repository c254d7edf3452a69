"""`serve` without ADMIN_TOKEN keeps a local console token (owner-only file, never logged)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from chatwootai.cli.serve import with_console_token
from chatwootai.console.local_token import local_token
from chatwootai.settings import Settings


def test_the_token_is_made_once_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    token, path = local_token(tmp_path / "data")
    assert len(token) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, _ = local_token(tmp_path / "data")
    assert again == token


def test_serve_uses_it_only_without_an_admin_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings.model_validate({"CHATWOOTAI_DATA_DIR": str(tmp_path), "ADMIN_TOKEN": ""})
    local = with_console_token(settings.model_copy(update={"admin_token": None}))
    assert local.admin_token is not None
    token = local.admin_token.get_secret_value()
    assert (tmp_path / "console-token").read_text().strip() == token
    printed = capsys.readouterr()
    assert token not in printed.out + printed.err and "console-token" in printed.out
    own = settings.model_copy(update={"admin_token": SecretStr("mine")})
    assert with_console_token(own).admin_token == SecretStr("mine")


def test_an_unset_console_token_is_reported_at_start() -> None:
    from chatwootai.config.schema import Tenants
    from chatwootai.service.credentials import Credentials
    from chatwootai.service.startup_report import credential_findings

    tenants = Tenants.model_validate(
        {
            "accounts": {"1": {"domain": "cosmetics", "console_token_env": "CONSOLE_TOKEN_BELA"}},
            "inboxes": {"12": {"domain": "bela", "console_token_env": "CONSOLE_TOKEN_BELA"}},
        }
    )
    settings = Settings.model_validate({})
    unset = credential_findings(Credentials(settings, tenants, environ={}))
    said = [str(f) for f in unset if "CONSOLE_TOKEN_BELA" in f.problem]
    assert len(said) == 1 and "account 1, inbox 12" in said[0] and "console" in said[0]
    given = Credentials(settings, tenants, environ={"CONSOLE_TOKEN_BELA": "x" * 32})
    assert not [f for f in credential_findings(given) if "CONSOLE_TOKEN" in f.problem]
