"""The Typer application every command module adds its command to."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="chatwootai",
    help="Teams of AI agents behind Chatwoot inboxes, configured in YAML.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
