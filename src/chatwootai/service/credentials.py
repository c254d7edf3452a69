"""Per-tenant Chatwoot credentials: webhook secret, URL token, API base URL and token.

A tenant entry in ``tenants.yaml`` names the *environment variables* holding its secrets
(``webhook_secret_env``, ``url_token_env``, ``api_token_env``); the values never appear in YAML.
Without an entry, the deployment-wide settings apply. An inbox entry wins over its account's,
except that an inbox entry without a secret (or token) of its own does not hide its account's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import ValidationError

from chatwootai.config.schema import TenantEntry, Tenants
from chatwootai.settings import Settings
from chatwootai.store import keys

TENANTS_FILE = "tenants.yaml"


class CredentialsError(Exception):
    """Chatwoot credentials are missing or unreadable for an account."""


@dataclass(frozen=True, slots=True)
class ApiAccess:
    """Where and with which token to call the Chatwoot API for one account."""

    base_url: str
    token: str


def load_tenants(domains_dir: Path) -> Tenants:
    """`domains/tenants.yaml` validated; empty when the file does not exist."""
    path = domains_dir / TENANTS_FILE
    if not path.is_file():
        return Tenants()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Tenants.model_validate(data)
    except (yaml.YAMLError, ValidationError, OSError) as exc:
        raise CredentialsError(f"{path}: cannot read the tenants file: {exc}") from exc


class Credentials:
    """Resolves secrets and API access for an account and inbox."""

    def __init__(
        self,
        settings: Settings,
        tenants: Tenants | Callable[[], Tenants] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self._tenants = tenants if tenants is not None else Tenants()
        self.environ = os.environ if environ is None else environ

    @property
    def tenants(self) -> Tenants:
        """The current tenants (read through, so a reloaded tenants.yaml applies at once)."""
        source = self._tenants
        return source if isinstance(source, Tenants) else source()

    def _entry(
        self, account_id: int | str | None, inbox_id: int | str | None
    ) -> TenantEntry | None:
        if account_id is None and inbox_id is None:
            return None
        if inbox_id is not None and str(inbox_id) in self.tenants.inboxes:
            return self.tenants.inboxes[str(inbox_id)]
        if account_id is None:
            return None
        return self.tenants.accounts.get(str(account_id))

    @property
    def any_secret(self) -> bool:
        """Whether any webhook secret is configured (global or per tenant)."""
        if self.settings.chatwoot_webhook_secret is not None:
            return True
        entries = [*self.tenants.accounts.values(), *self.tenants.inboxes.values()]
        return any(entry.webhook_secret_env for entry in entries)

    @property
    def any_credential(self) -> bool:
        """Whether any secret or URL token is configured: then every delivery must carry one."""
        entries = [*self.tenants.accounts.values(), *self.tenants.inboxes.values()]
        return self.any_secret or any(entry.url_token_env for entry in entries)

    def keyed_by(self) -> tuple[bool, bool]:
        """Whether some account, and some inbox, has a secret or URL token of its own.

        When neither has, every delivery takes the global secret and the webhook need not look
        for the ids in the body at all.
        """
        tenants = self.tenants

        def own(entries: Mapping[str, TenantEntry]) -> bool:
            return any(e.webhook_secret_env or e.url_token_env for e in entries.values())

        return own(tenants.accounts), own(tenants.inboxes)

    def global_secret(self) -> str | None:
        """The deployment-wide webhook secret, if set."""
        secret = self.settings.chatwoot_webhook_secret
        value = secret.get_secret_value() if secret is not None else ""
        return value or None

    def _own(
        self,
        field: Literal["webhook_secret_env", "url_token_env"],
        what: str,
        account_id: int | None,
        inbox_id: int | None,
    ) -> str | None:
        tenants = self.tenants
        entries = [
            tenants.inboxes.get(str(inbox_id)) if inbox_id is not None else None,
            tenants.accounts.get(str(account_id)) if account_id is not None else None,
        ]
        for entry in entries:
            variable = getattr(entry, field) if entry is not None else None
            if not variable:
                continue
            value: str = self.environ.get(variable, "")
            if not value:
                raise CredentialsError(
                    f"tenants.yaml names {variable} as the {what} of account {account_id} "
                    f"(inbox {inbox_id}), but that environment variable is empty"
                )
            return value
        return None

    def webhook_secret(self, account_id: int | None, inbox_id: int | None) -> str | None:
        """The secret a delivery for this account/inbox must be signed with, or None.

        The inbox entry's secret wins, else its account's, else ``CHATWOOT_WEBHOOK_SECRET``; an
        inbox entry without a secret of its own does not hide its account's. Takes the ids the
        delivery is keyed by (parsed integers), so a secret cannot be dodged by spelling them
        differently.
        """
        own = self._own("webhook_secret_env", "webhook secret", account_id, inbox_id)
        return own if own is not None else self.global_secret()

    def url_token(self, account_id: int | None, inbox_id: int | None) -> str | None:
        """The URL token that authenticates deliveries for this account/inbox, or None.

        The inbox entry's ``url_token_env`` wins, else its account's; there is no global token.
        """
        return self._own("url_token_env", "URL token", account_id, inbox_id)

    def installation(self, account_id: int | str, inbox_id: int | str | None = None) -> str | None:
        """The installation tag of this account/inbox's Chatwoot, None for the deployment's own.

        A tenant entry whose ``base_url`` differs from ``CHATWOOT_BASE_URL`` is on another Chatwoot
        installation, whose ids (accounts, conversations, messages) may repeat ours: its keys
        carry the tag (see :mod:`chatwootai.store.keys`). The entry is the one
        :meth:`api_access` uses, so keys and replies always agree on the installation.
        """
        entry = self._entry(account_id, inbox_id)
        if entry is None or not entry.base_url:
            return None
        default = self.settings.chatwoot_base_url
        if default and keys.normalize_base_url(default) == keys.normalize_base_url(entry.base_url):
            return None
        return keys.installation_tag(entry.base_url)

    def api_access(self, account_id: int | str, inbox_id: int | str | None = None) -> ApiAccess:
        """Base URL and token for calling Chatwoot on behalf of this account/inbox."""
        entry = self._entry(account_id, inbox_id)
        base_url = (entry.base_url if entry else None) or self.settings.chatwoot_base_url
        token = ""
        if entry is not None and entry.api_token_env:
            token = self.environ.get(entry.api_token_env, "")
        if not token and self.settings.chatwoot_api_token is not None:
            token = self.settings.chatwoot_api_token.get_secret_value()
        if not base_url or not token:
            raise CredentialsError(
                f"no Chatwoot API access for account {account_id}: set CHATWOOT_BASE_URL and "
                "CHATWOOT_API_TOKEN, or base_url/api_token_env for it in tenants.yaml"
            )
        return ApiAccess(base_url=base_url, token=token)
