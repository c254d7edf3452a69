"""What a deployment will not do, said once at start by `serve` and `worker`.

Three kinds of findings, each a line ``subject: problem: consequence``:

- domains that cannot answer (invalid files, an invalid folder name) and folders that are not
  domains;
- tenants.yaml entries (and ``CHATWOOT_DOMAIN``) naming a domain that cannot answer;
- tenants whose webhook secret, URL token or API token variable is unset, and what then happens
  to their deliveries and replies.

The credential findings come from :class:`Credentials` alone: the replies' API access by calling
:meth:`Credentials.api_access` as the replies do; the webhook's secrets by the rule
:meth:`Credentials.webhook_secret` applies (a tenant's own variable, else the global secret; once
any secret is configured, a delivery no secret applies to is refused). A change to how secrets
are picked changes :func:`credential_findings` only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from chatwootai.config.errors import ConfigError
from chatwootai.config.loader import DomainLoader as FileLoader
from chatwootai.config.registry import DomainRegistry
from chatwootai.config.schema import TenantEntry, Tenants
from chatwootai.service.credentials import Credentials, CredentialsError

log = logging.getLogger("chatwootai.startup")

REFUSED = "its deliveries are refused with 401 (fail closed)"
TOKEN_REFUSED = (
    "its deliveries authenticated by URL token (?token= on its own webhook path) are refused "
    "with 401 (fail closed)"
)
NOT_ANSWERED = (
    "its messages are received but not answered: each turn is dropped with an error log line "
    '(chatwootai_messages_ignored{reason="no chatwoot credentials"})'
)
HANDED_OVER = (
    "its conversations are handed to a human with a private note (chatwootai_domain_unavailable)"
)

Level = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the deployment will not do: who, what is wrong, what happens then."""

    subject: str
    problem: str
    consequence: str
    level: Level = "warning"

    def __str__(self) -> str:
        """``subject: problem: consequence``."""
        return f"{self.subject}: {self.problem}: {self.consequence}"


@dataclass(slots=True)
class StartupReport:
    """Every finding of a start, by kind."""

    domains: list[Finding] = field(default_factory=list)
    tenants: list[Finding] = field(default_factory=list)
    credentials: list[Finding] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        """All findings, domains first."""
        return [*self.domains, *self.tenants, *self.credentials]

    def lines(self) -> list[str]:
        """One line per finding."""
        return [str(finding) for finding in self.findings]


def tenant_label(kind: str, key: str, entry: TenantEntry) -> str:
    """``account 3 (retail)`` or ``inbox 20 (farmacia)``."""
    return f"{kind} {key} ({entry.domain})"


def _entries(tenants: Tenants) -> list[tuple[str, str, TenantEntry]]:
    return [
        *(("account", key, entry) for key, entry in tenants.accounts.items()),
        *(("inbox", key, entry) for key, entry in tenants.inboxes.items()),
    ]


def _unset(environ: Mapping[str, str], variable: str | None) -> bool:
    return bool(variable) and not environ.get(variable or "", "")


def credential_findings(credentials: Credentials) -> list[Finding]:
    """Tenants whose webhook secret or API token is missing, and what happens to them.

    A tenant naming a variable of its own that is unset gets a line of its own; tenants that
    rely on the deployment-wide settings share one line per missing setting with the accounts
    and inboxes that have no entry in tenants.yaml.
    """
    findings: list[Finding] = []
    signed = credentials.any_secret
    no_global_secret = credentials.global_secret() is None
    if not signed:
        findings.append(
            Finding(
                "webhook",
                "no CHATWOOT_WEBHOOK_SECRET and no webhook_secret_env in tenants.yaml",
                "deliveries are accepted unsigned: anyone who can reach the webhook URL can "
                "make the bot answer; set the bot's secret as CHATWOOT_WEBHOOK_SECRET",
            )
        )
    unsigned: list[str] = []
    unanswered: dict[tuple[str, ...], list[str]] = {}
    for kind, key, entry in _entries(credentials.tenants):
        subject = tenant_label(kind, key, entry)
        variable = entry.webhook_secret_env
        if signed and variable and _unset(credentials.environ, variable):
            findings.append(Finding(subject, f"{variable} is not set", REFUSED))
        elif signed and not variable and no_global_secret:
            unsigned.append(f"{kind} {key}")
        token_variable = entry.url_token_env
        if token_variable and _unset(credentials.environ, token_variable):
            findings.append(Finding(subject, f"{token_variable} is not set", TOKEN_REFUSED))
        findings += _token_findings(credentials, kind, key, entry, subject, unanswered)
    findings += _console_findings(credentials)
    if signed and no_global_secret:
        findings.append(
            Finding(
                _group(unsigned, "no webhook_secret_env"),
                "CHATWOOT_WEBHOOK_SECRET is not set",
                "their deliveries are refused with 401 (fail closed)"
                + ("; an inbox uses its account's secret first" if unsigned else ""),
            )
        )
    settings = credentials.settings
    missing = _missing_settings(bool(settings.chatwoot_base_url), _has_token(credentials, None))
    if missing:
        unanswered.setdefault(missing, [])
    for settings_missing, tenants in unanswered.items():
        if settings_missing == missing:
            subject = _group(tenants, "no settings of their own")
        else:  # e.g. tenants with a base_url of their own
            subject = ", ".join(tenants)
        verb = "is" if len(settings_missing) == 1 else "are"
        findings.append(
            Finding(
                subject,
                f"{' and '.join(settings_missing)} {verb} not set",
                NOT_ANSWERED.replace("its messages", "their messages"),
            )
        )
    return findings


def _console_findings(credentials: Credentials) -> list[Finding]:
    """Console tokens named in tenants.yaml whose variable is unset."""
    named: dict[str, list[str]] = {}
    for kind, key, entry in _entries(credentials.tenants):
        if entry.console_token_env:
            named.setdefault(entry.console_token_env, []).append(f"{kind} {key}")
    return [
        Finding(
            ", ".join(tenants),
            f"{variable} is not set",
            "no console token: that business cannot sign in to the console",
        )
        for variable, tenants in named.items()
        if _unset(credentials.environ, variable)
    ]


def _group(tenants: list[str], why: str) -> str:
    """``accounts and inboxes not in tenants.yaml``, with the listed tenants in front."""
    rest = "accounts and inboxes not in tenants.yaml"
    if not tenants:
        return rest
    return f"{', '.join(tenants)} ({why}) and {rest}"


def _has_token(credentials: Credentials, entry: TenantEntry | None) -> bool:
    if entry is not None and entry.api_token_env and credentials.environ.get(entry.api_token_env):
        return True
    token = credentials.settings.chatwoot_api_token
    return token is not None and bool(token.get_secret_value())


def _missing_settings(has_base_url: bool, has_token: bool) -> tuple[str, ...]:
    missing = []
    if not has_base_url:
        missing.append("CHATWOOT_BASE_URL")
    if not has_token:
        missing.append("CHATWOOT_API_TOKEN")
    return tuple(missing)


def _token_findings(
    credentials: Credentials,
    kind: str,
    key: str,
    entry: TenantEntry,
    subject: str,
    unanswered: dict[tuple[str, ...], list[str]],
) -> list[Finding]:
    """What :meth:`Credentials.api_access` gives the entry's replies.

    A tenant failing only for want of deployment-wide settings is added to `unanswered`.
    """
    account, inbox = (key, None) if kind == "account" else ("", key)
    variable = entry.api_token_env
    own_unset = _unset(credentials.environ, variable)
    try:
        credentials.api_access(account, inbox)
    except CredentialsError:
        has_base_url = bool(entry.base_url or credentials.settings.chatwoot_base_url)
        if not own_unset:
            missing = _missing_settings(has_base_url, _has_token(credentials, entry))
            unanswered.setdefault(missing, []).append(f"{kind} {key}")
            return []
        problems = [f"{variable} is not set and neither is CHATWOOT_API_TOKEN"]
        if not has_base_url:
            problems.append("no base_url and CHATWOOT_BASE_URL is not set")
        return [Finding(subject, "; ".join(problems), NOT_ANSWERED)]
    if own_unset:
        return [
            Finding(
                subject,
                f"{variable} is not set",
                "replies are posted with CHATWOOT_API_TOKEN instead (the deployment-wide "
                "token: it must be a bot of this account)",
            )
        ]
    return []


async def domain_findings(
    registry: DomainRegistry, tenants: Tenants, default_domain: str | None
) -> tuple[list[Finding], list[Finding]]:
    """Domains that cannot answer, and the tenants (and default) mapped to one of them."""
    loader = registry.loader
    names = registry.names()
    unservable: set[str] = set()
    findings: list[Finding] = []
    if isinstance(loader, FileLoader):
        for warning in await asyncio.to_thread(loader.stray_folders):
            folder = warning.file.name if warning.file is not None else "?"
            findings.append(
                Finding(
                    f"folder {folder}",
                    "no domain.yaml",
                    "it is not a domain and is ignored (`chatwootai validate` says more)",
                )
            )
    for name in names:
        try:
            await asyncio.to_thread(loader.load, name)
        except Exception as exc:  # any failure of one domain is a finding, never a crash
            first = exc.issues[0] if isinstance(exc, ConfigError) and exc.issues else exc
            count = len(exc.issues) if isinstance(exc, ConfigError) else 1
            problem = f"not valid ({count} error{'s' if count != 1 else ''}, first: {first})"
            consequence = await _broken_consequence(registry, name)
            if consequence.startswith(HANDED_OVER):
                unservable.add(name)
            findings.append(Finding(f"domain {name}", problem, consequence, "error"))
    mapped = _mapping_findings(registry, tenants, default_domain, names, unservable)
    return findings, mapped


async def _broken_consequence(registry: DomainRegistry, name: str) -> str:
    loader = registry.loader
    abstract = loader.is_abstract(name) if isinstance(loader, FileLoader) else name[:1] == "_"
    if abstract:
        return "the domains extending it are not valid either"
    try:
        await registry.get_domain_config(name)
    except Exception:
        return HANDED_OVER + "; run `chatwootai validate` to see every error"
    return (
        "the valid copy cached in the store (from before the change) is served until it "
        "expires (CHATWOOTAI_TTL_CONFIG) or a valid reload replaces it"
    )


def _mapping_findings(
    registry: DomainRegistry,
    tenants: Tenants,
    default_domain: str | None,
    names: list[str],
    unservable: set[str],
) -> list[Finding]:
    loader = registry.loader
    findings: list[Finding] = []

    def why(domain: str) -> str | None:
        if domain not in names:
            return f"domain {domain!r} does not exist"
        if domain in unservable:
            return f"domain {domain!r} is not valid"
        abstract = loader.is_abstract(domain) if isinstance(loader, FileLoader) else False
        return f"domain {domain!r} is abstract (never served)" if abstract else None

    for kind, key, entry in _entries(tenants):
        problem = why(entry.domain)
        if problem is not None:
            findings.append(Finding(tenant_label(kind, key, entry), problem, HANDED_OVER, "error"))
    if default_domain and default_domain in unservable:
        findings.append(
            Finding(
                f"CHATWOOT_DOMAIN={default_domain}",
                f"domain {default_domain!r} is not valid",
                "the conversations it answers by default are handed to a human",
                "error",
            )
        )
    return findings


async def startup_report(registry: DomainRegistry, credentials: Credentials) -> StartupReport:
    """The findings of a start: domains, their tenants, and the tenants' credentials."""
    tenants = credentials.tenants
    default = credentials.settings.default_domain
    domains, mapped = await domain_findings(registry, tenants, default)
    return StartupReport(domains, mapped, credential_findings(credentials))


def log_report(report: StartupReport, logger: logging.Logger = log) -> None:
    """Log each finding (errors and warnings), or one line saying there is none."""
    findings = report.findings
    if not findings:
        logger.info("start-up report: every domain is valid and every tenant's credentials set")
        return
    logger.warning("start-up report: %d finding(s)", len(findings))
    for finding in findings:
        level = logging.ERROR if finding.level == "error" else logging.WARNING
        logger.log(level, "%s", finding)
