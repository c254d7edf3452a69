"""Who is calling the console or the admin API: the admin, or a tenant seeing its own domains.

The admin token (``ADMIN_TOKEN``) sees every domain. A ``tenants.yaml`` entry may name the
environment variable of a console token (``console_token_env``); that token sees the domains of
every entry naming the same variable, and nothing else. Tokens are compared in constant time
and never leave this module except as the key that signs a session.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from chatwootai.config.schema import Tenants
from chatwootai.settings import Settings

ADMIN = "admin"
"""The name of the admin principal (tenant principals are named by their variable)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in caller: the admin, or a tenant limited to `domains`."""

    name: str
    admin: bool
    domains: frozenset[str] = frozenset()

    def sees(self, domain: str | None) -> bool:
        """Whether this caller may see and act on `domain`."""
        return self.admin or (domain is not None and domain in self.domains)

    def visible(self, names: Iterable[str]) -> list[str]:
        """The names among `names` this caller may see, in their order."""
        return [name for name in names if self.sees(name)]

    def public(self) -> dict[str, object]:
        """Who this is, as the API says it (no token)."""
        return {
            "principal": self.name,
            "admin": self.admin,
            "domains": None if self.admin else sorted(self.domains),
        }


class Tokens:
    """The tokens that open the console and the admin API, read from the environment."""

    def __init__(
        self, settings: Settings, tenants: Tenants, environ: Mapping[str, str] | None = None
    ) -> None:
        env = os.environ if environ is None else environ
        self._entries: dict[str, tuple[str, Principal]] = {}
        admin = settings.admin_token.get_secret_value() if settings.admin_token else ""
        if admin:
            self._entries[ADMIN] = (admin, Principal(ADMIN, admin=True))
        domains: dict[str, set[str]] = {}
        for entry in [*tenants.accounts.values(), *tenants.inboxes.values()]:
            if entry.console_token_env:
                domains.setdefault(entry.console_token_env, set()).add(entry.domain)
        for variable, names in domains.items():
            token = env.get(variable, "").strip()
            if token and variable != ADMIN:
                self._entries[variable] = (token, Principal(variable, False, frozenset(names)))

    @property
    def any(self) -> bool:
        """Whether any token is configured (else the admin API and console are off)."""
        return bool(self._entries)

    def principal(self, token: str) -> Principal | None:
        """The principal whose token this is, or None (every token compared, constant time)."""
        found: Principal | None = None
        given = token.encode()
        for secret, principal in self._entries.values():
            if hmac.compare_digest(given, secret.encode()) and found is None:
                found = principal
        return found

    def named(self, name: str) -> tuple[str, Principal] | None:
        """The token and principal named `name` (a session's signer), or None."""
        return self._entries.get(name)
