"""The local admin token `serve` makes when no ADMIN_TOKEN is set, so `make run` has a console.

It is random, written once to ``{CHATWOOTAI_DATA_DIR}/console-token`` readable by its owner only,
and reused by later starts; the token itself is never logged. Setting ``ADMIN_TOKEN`` replaces it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

FILE = "console-token"


class LocalTokenError(Exception):
    """The local token file cannot be read or written."""


def local_token(data_dir: Path) -> tuple[str, Path]:
    """The deployment's local admin token and its file (created on first use)."""
    path = data_dir / FILE
    try:
        if path.is_file():
            token = path.read_text(encoding="utf-8").strip()
            if token:
                return token, path
        data_dir.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(token + "\n")
    except OSError as exc:
        raise LocalTokenError(f"cannot keep the console token in {path}: {exc}") from exc
    return token, path
