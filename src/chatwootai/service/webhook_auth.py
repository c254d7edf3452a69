"""Who sent a webhook delivery: its signature or URL token, checked before the body is parsed.

Three steps, cheapest first, so an unsigned or forged request costs almost nothing whatever
its size (parsing and validating a 1 MiB body costs tens of milliseconds; a flood of them would
push genuine deliveries past Chatwoot's 5 s timeout):

1. :meth:`WebhookAuth.before_body`, headers only: a request with no signature headers, a
   malformed or stale timestamp, or a wrong URL token is refused before its body is read;
2. :meth:`WebhookAuth.verify`, one HMAC over the raw body with the secret its tenant takes: the
   tenant comes from the per-tenant path (``/webhooks/chatwoot/accounts/{id}`` or
   ``/inboxes/{id}``) or, on the generic path, from ids read cheaply off the raw bytes
   (:mod:`chatwootai.chatwoot.sniff`);
3. :meth:`WebhookAuth.confirm`, after parsing: the parsed ids must match the path and take the
   very secret (or token) that authenticated the delivery, so a body signed with one tenant's
   secret can never speak for another tenant.

URL tokens are for Chatwoot versions that cannot sign (agent bots before 4.13.0, account webhooks
before 4.11.2): ``?token=…`` on a per-tenant path, compared in constant time, never logged.
Once any secret or token is configured, a delivery that none applies to is refused (fail
closed); only a deployment with no credential at all accepts unsigned deliveries.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from chatwootai.chatwoot.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    check_headers,
    signature_matches,
)
from chatwootai.chatwoot.sniff import WINDOW, sniff_ids
from chatwootai.service.body import RawBody
from chatwootai.service.credentials import Credentials, CredentialsError
from chatwootai.service.rejections import RejectionLabel

TOKEN_PARAMETER = "token"
"""The query parameter carrying a tenant's URL token."""


@dataclass(frozen=True, slots=True)
class PathTenant:
    """The tenant a per-tenant webhook path names (both None on the generic path)."""

    account_id: int | None = None
    inbox_id: int | None = None

    @property
    def generic(self) -> bool:
        """True for ``/webhooks/chatwoot``, which names no tenant."""
        return self.account_id is None and self.inbox_id is None

    def describe(self) -> str:
        """``account 7``, ``inbox 12`` or ``the generic path``."""
        if self.inbox_id is not None:
            return f"inbox {self.inbox_id}"
        if self.account_id is not None:
            return f"account {self.account_id}"
        return "the generic path"


class Rejection(Exception):
    """A delivery refused: its HTTP status, metric label and a reason the sender can act on."""

    def __init__(self, reason: str, label: RejectionLabel, code: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.label: RejectionLabel = label
        self.code = code
        self.config_error = False
        """The refusal comes from this deployment's configuration (logged as an error)."""


@dataclass(frozen=True, slots=True)
class Proof:
    """How a delivery was authenticated, to be confirmed against its parsed ids."""

    kind: Literal["signature", "token", "open"]
    credential: str = ""


def _same(a: str, b: str) -> bool:
    """Constant-time equality that does not reveal the length either."""
    return hmac.compare_digest(
        hashlib.sha256(a.encode()).digest(), hashlib.sha256(b.encode()).digest()
    )


def _unconfigured(exc: CredentialsError, what: str) -> Rejection:
    rejection = Rejection(f"{what} is not configured: {exc}", "no_secret")
    rejection.config_error = True
    return rejection


class WebhookAuth:
    """Authenticates webhook deliveries with the deployment's secrets and URL tokens."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    def before_body(self, headers: Mapping[str, str], token: str | None, path: PathTenant) -> None:
        """Refuse what the headers, path and token already condemn; raise :class:`Rejection`."""
        if token is not None:
            if path.generic:
                raise Rejection(
                    "URL tokens are accepted only on a tenant's own path: "
                    "/webhooks/chatwoot/accounts/{id}?token=… or /webhooks/chatwoot/inboxes/{id}"
                    "?token=…",
                    "bad_token",
                )
            if path.account_id is not None or self._inbox_has_own_token(path):
                self._check_token(token, path.account_id, path.inbox_id, path)
            return
        if not self.credentials.any_credential:
            return
        try:
            check_headers(headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER))
        except SignatureError as exc:
            reason = str(exc)
            if exc.problem == "unsigned":
                reason += (
                    ": deliveries must be signed (the bot's or webhook's secret as "
                    "CHATWOOT_WEBHOOK_SECRET, or webhook_secret_env in tenants.yaml), or carry "
                    "the tenant's URL token on its own path for a Chatwoot that cannot sign"
                )
            raise Rejection(reason, exc.problem) from None

    def verify(
        self, raw: RawBody, headers: Mapping[str, str], token: str | None, path: PathTenant
    ) -> Proof:
        """Authenticate the raw body (one HMAC at most); raise :class:`Rejection` if not."""
        if token is not None:
            account_id, inbox_id = self._ids(raw, path)
            return Proof("token", self._check_token(token, account_id, inbox_id, path))
        if not self.credentials.any_credential:
            return Proof("open")
        account_id, inbox_id = self._ids(raw, path)
        try:
            secret = self.credentials.webhook_secret(account_id, inbox_id)
        except CredentialsError as exc:
            raise _unconfigured(exc, "the webhook secret") from None
        if secret is None:
            raise Rejection(
                f"no webhook secret applies to account {account_id}, inbox {inbox_id}: set "
                "CHATWOOT_WEBHOOK_SECRET or webhook_secret_env for it in tenants.yaml (or give "
                "it a url_token_env and send ?token= on its own path)",
                "no_secret",
            )
        timestamp = headers.get(TIMESTAMP_HEADER) or ""
        signature = headers.get(SIGNATURE_HEADER) or ""
        if not signature_matches(secret, timestamp, signature, raw.chunks):
            raise Rejection(
                "signature mismatch: check the webhook secret (not the API token) and that the "
                "raw body is verified byte for byte",
                "mismatch",
            )
        return Proof("signature", secret)

    def confirm(
        self, proof: Proof, path: PathTenant, account_id: int | None, inbox_id: int | None
    ) -> tuple[int | None, int | None]:
        """The delivery's account and inbox, once its parsed ids agree with how it was proven.

        The ids are the parsed ones, completed by the path's (a per-account path gives the
        account to an old Chatwoot's conversation events, which carry none).
        """
        for name, claimed, parsed in (
            ("account", path.account_id, account_id),
            ("inbox", path.inbox_id, inbox_id),
        ):
            if claimed is not None and parsed is not None and claimed != parsed:
                raise Rejection(
                    f"this URL is for {name} {claimed} but the delivery is for {name} {parsed}",
                    "wrong_tenant",
                )
        account_id = account_id if account_id is not None else path.account_id
        inbox_id = inbox_id if inbox_id is not None else path.inbox_id
        if proof.kind == "open":
            return account_id, inbox_id
        try:
            if proof.kind == "token":
                applies = self.credentials.url_token(account_id, inbox_id)
            else:
                applies = self.credentials.webhook_secret(account_id, inbox_id)
        except CredentialsError as exc:
            raise _unconfigured(exc, f"the {proof.kind} of this tenant") from None
        if applies is None or not _same(applies, proof.credential):
            what = "URL token" if proof.kind == "token" else "secret"
            raise Rejection(
                f"the delivery is for account {account_id}, inbox {inbox_id}, which takes "
                f"another {what} than the one that authenticated it",
                "wrong_tenant",
            )
        return account_id, inbox_id

    def _inbox_has_own_token(self, path: PathTenant) -> bool:
        entry = self.credentials.tenants.inboxes.get(str(path.inbox_id))
        return entry is not None and bool(entry.url_token_env)

    def _check_token(
        self, token: str, account_id: int | None, inbox_id: int | None, path: PathTenant
    ) -> str:
        try:
            expected = self.credentials.url_token(account_id, inbox_id)
        except CredentialsError as exc:
            raise _unconfigured(exc, "the URL token") from None
        if expected is None:
            raise Rejection(
                f"no URL token is configured for {path.describe()}: give it url_token_env in "
                "tenants.yaml",
                "bad_token",
            )
        if not _same(token, expected):
            raise Rejection(f"wrong URL token for {path.describe()}", "bad_token")
        return expected

    def _ids(self, raw: RawBody, path: PathTenant) -> tuple[int | None, int | None]:
        """The path's ids, completed from the raw body where a tenant's own credential needs."""
        accounts_own, inboxes_own = self.credentials.keyed_by()
        want_account = path.account_id is None and accounts_own
        want_inbox = path.inbox_id is None and inboxes_own
        if not (want_account or want_inbox):
            return path.account_id, path.inbox_id
        sniffed = sniff_ids(raw.ends(WINDOW), account=want_account, inbox=want_inbox)
        account_id = path.account_id if path.account_id is not None else sniffed.account_id
        inbox_id = path.inbox_id if path.inbox_id is not None else sniffed.inbox_id
        return account_id, inbox_id
