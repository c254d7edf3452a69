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
