"""Deployment settings, read from the environment once at the edge, passed on as typed objects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import parse_qsl, urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FilePath,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REDIS_URL_PARAMETERS = frozenset(
    {"db", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs", "ssl_check_hostname"}
)
"""Query parameters REDIS_URL may carry (redis-py's names); the rest would be silently lost."""


class ModelPrice(BaseModel):
    """A model's price per million tokens in USD (``CHATWOOTAI_PRICES``), e.g. a self-hosted one."""

    model_config = ConfigDict(extra="forbid")

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)


class Settings(BaseSettings):
    """Everything a deployment configures. Secrets live only here, from the environment."""

    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", populate_by_name=True, hide_input_in_errors=True
    )
    # hide_input_in_errors: a URL with a password must never be echoed in an error message.

    # Domains
    domains_dir: Path = Field(default=Path("domains"), alias="CHATWOOTAI_DOMAINS_DIR")
    agent_packages: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        alias="CHATWOOTAI_AGENT_PACKAGES",
        description="Comma-separated packages, besides chatwootai.agents, holding agent classes.",
    )
    model_override: str | None = Field(default=None, alias="CHATWOOTAI_MODEL")
    default_domain: str | None = Field(default=None, alias="CHATWOOT_DOMAIN")
    watch: bool = Field(default=False, alias="CHATWOOTAI_WATCH")
    max_runtimes: int = Field(default=1000, ge=1, alias="CHATWOOTAI_MAX_RUNTIMES")
    """Domain runtimes a process keeps (least recently used evicted, rebuilt on next message)."""

    # Store
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    redis_host: str | None = Field(default=None, alias="REDIS_HOST")
    redis_port: int = Field(default=6379, alias="REDIS_PORT")
    redis_db: int = Field(default=0, alias="REDIS_DB")
    redis_password: SecretStr | None = Field(default=None, alias="REDIS_PASSWORD")
    redis_prefix: str = Field(default="chatwootai:", alias="CHATWOOTAI_REDIS_PREFIX")
    redis_timeout_s: float = Field(default=2.0, alias="REDIS_TIMEOUT")
    data_dir: Path = Field(default=Path(".chatwootai"), alias="CHATWOOTAI_DATA_DIR")
    # Redis in production: ACL user, TLS, Sentinel (docs/operations.md, "Redis in production")
    redis_username: str | None = Field(default=None, alias="REDIS_USERNAME")
    """ACL user (with REDIS_PASSWORD); a user and password in REDIS_URL take precedence."""
    redis_tls: bool = Field(default=False, alias="REDIS_TLS")
    """TLS to Redis (implied by a ``rediss://`` REDIS_URL)."""
    redis_tls_ca_file: FilePath | None = Field(default=None, alias="REDIS_TLS_CA_FILE")
    """CA certificate(s) the server's certificate must chain to (default: the system's)."""
    redis_tls_cert_file: FilePath | None = Field(default=None, alias="REDIS_TLS_CERT_FILE")
    """Client certificate, for servers that require one (``tls-auth-clients yes``)."""
    redis_tls_key_file: FilePath | None = Field(default=None, alias="REDIS_TLS_KEY_FILE")
    redis_tls_verify: Literal["required", "optional", "none"] = Field(
        default="required", alias="REDIS_TLS_VERIFY"
    )
    """Verification of the server's certificate; ``none`` only for tests."""
    redis_tls_check_hostname: bool = Field(default=False, alias="REDIS_TLS_CHECK_HOSTNAME")
    """Also match the certificate's names against the host (not with Sentinel: masters are IPs)."""
    redis_sentinels: Annotated[list[tuple[str, int]], NoDecode] = Field(
        default_factory=list, alias="REDIS_SENTINELS"
    )
    """Sentinels as ``host:port,host:port``; the master's address comes from them."""
    redis_sentinel_master: str = Field(default="mymaster", alias="REDIS_SENTINEL_MASTER")

    # TTLs (deployment defaults; a domain's `ttl` overrides)
    ttl_config: int = Field(default=3600, alias="CHATWOOTAI_TTL_CONFIG")
    ttl_conversation: int = Field(default=86400, alias="CHATWOOTAI_TTL_CONVERSATION")
    ttl_agent_state: int = Field(default=86400, alias="CHATWOOTAI_TTL_AGENT_STATE")

    # Chatwoot
    chatwoot_base_url: str | None = Field(default=None, alias="CHATWOOT_BASE_URL")
    chatwoot_api_token: SecretStr | None = Field(default=None, alias="CHATWOOT_API_TOKEN")
    chatwoot_webhook_secret: SecretStr | None = Field(default=None, alias="CHATWOOT_WEBHOOK_SECRET")
    admin_token: SecretStr | None = Field(default=None, alias="ADMIN_TOKEN")

    # Service
    host: str = Field(default="127.0.0.1", alias="CHATWOOTAI_HOST")
    port: int = Field(default=8000, alias="CHATWOOTAI_PORT")
    burst_window_s: float = Field(default=2.0, ge=0, alias="CHATWOOTAI_BURST_WINDOW")
    max_body_bytes: int = Field(default=1024 * 1024, gt=0, alias="CHATWOOTAI_MAX_BODY_BYTES")
    """Largest webhook body: Chatwoot's e-mail deliveries carry the HTML part twice."""
    journal: bool = Field(default=True, alias="CHATWOOTAI_JOURNAL")
    """Journal every acknowledged message on local disk until its turn ends (with Redis), so a
    Redis that loses its data loses no message; off only where Redis persists every write."""
    # Queue and workers
    job_timeout_s: float = Field(default=120.0, gt=0, alias="CHATWOOTAI_JOB_TIMEOUT")
    """Longest a turn job may run (thinking plus one delivery attempt)."""
    worker_concurrency: int = Field(default=32, ge=1, alias="CHATWOOTAI_WORKER_CONCURRENCY")
    """Turns one worker process runs at once. Turns mostly wait on the LLM, so a worker can run
    many: with a 1 s LLM, 10 gave 8.7 messages/s per worker and 32 gave 23.6 (bench/load.py)."""
    worker_poll_s: float = Field(default=1.0, gt=0, alias="CHATWOOTAI_WORKER_POLL")
    """How often a worker looks for due jobs when nothing woke it (seconds): a safety net, since
    each enqueued job wakes one idle worker at once (service/wakeup.py); two Redis commands per
    poll of an idle worker."""
    turn_lease_s: int = Field(default=10, ge=2, le=300, alias="CHATWOOTAI_TURN_LEASE")
    """Seconds a conversation's turn lease lives unless renewed (every quarter of it): a worker
    that dies mid-turn is replaced after about this long plus a second."""
    delivery_horizon_s: float = Field(default=900.0, gt=0, alias="CHATWOOTAI_DELIVERY_HORIZON")
    """How long a reply Chatwoot does not take is retried with backoff (capped at 30 s,
    honouring Retry-After) before each further attempt is logged as an error; it is never
    dropped, and past this it is retried every 30 s."""
    worker_shutdown_grace_s: int | None = Field(
        default=None, ge=1, alias="CHATWOOTAI_WORKER_SHUTDOWN_GRACE"
    )
    """On SIGTERM, how long running turns may finish (default: the job timeout); a turn still
    running then is cancelled and goes back to the queue for another worker."""
    turn_attempts: int = Field(default=8, ge=1, alias="CHATWOOTAI_TURN_ATTEMPTS")
    """Failed attempts at a turn (its thinking failing, or Chatwoot refusing its reply; never
    Chatwoot being down) before it hands off with the fallback text."""

    # LLM circuit breaker (per model and endpoint)
    llm_breaker_failures: int = Field(default=5, ge=0, alias="CHATWOOTAI_LLM_BREAKER_FAILURES")
    """Consecutive model failures that open the breaker; 0 turns the breaker off."""
    llm_breaker_window_s: float = Field(default=60.0, gt=0, alias="CHATWOOTAI_LLM_BREAKER_WINDOW")
    """The failures must fall within this many seconds of each other to count as consecutive."""
    llm_breaker_cooldown_s: float = Field(
        default=30.0, gt=0, alias="CHATWOOTAI_LLM_BREAKER_COOLDOWN"
    )
    """How long an open breaker refuses calls before it lets one trial call through."""

    # Knowledge sources
    knowledge_allow_private_networks: bool = Field(
        default=False, alias="CHATWOOTAI_KNOWLEDGE_ALLOW_PRIVATE_NETWORKS"
    )
    """Let knowledge sync fetch pages whose host resolves to a private, loopback or link-local
    address (an intranet site); off by default so a domain's URL cannot reach the deployment's
    own network."""

    # Customer media: voice notes, images, documents (chatwootai.media, service/turn_media.py)
    transcribe_model: str | None = Field(default=None, alias="CHATWOOTAI_TRANSCRIBE_MODEL")
    """Speech-to-text model (e.g. whisper-1); unset: voice notes are not transcribed."""
    transcribe_base_url: str | None = Field(default=None, alias="CHATWOOTAI_TRANSCRIBE_BASE_URL")
    """OpenAI-compatible API of the transcription model (default OPENAI_BASE_URL, else OpenAI)."""
    transcribe_api_key: SecretStr | None = Field(
        default=None, alias="CHATWOOTAI_TRANSCRIBE_API_KEY"
    )
    """Key of the transcription API (default OPENAI_API_KEY; none for a local server)."""
    transcribe_timeout_s: float = Field(
        default=30.0, gt=0, le=300, alias="CHATWOOTAI_TRANSCRIBE_TIMEOUT"
    )
    """Longest wait for one transcript (a retry included)."""
    media_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="CHATWOOTAI_MEDIA_ALLOWED_HOSTS"
    )
    """Storage hosts attachments may be downloaded from besides the conversation's Chatwoot
    (where ActiveStorage redirects: S3, MinIO...), comma-separated; `.example.com` for any
    subdomain."""
    media_allow_private_networks: bool = Field(
        default=False, alias="CHATWOOTAI_MEDIA_ALLOW_PRIVATE_NETWORKS"
    )
    """Let those storage hosts (and catalog image URLs) be on private networks (a LAN MinIO);
    the Chatwoot host itself is trusted as configured."""
    media_download_timeout_s: float = Field(
        default=15.0, gt=0, le=120, alias="CHATWOOTAI_MEDIA_DOWNLOAD_TIMEOUT"
    )
    """Longest download of one attachment, redirects included."""

    # Outcomes, spend and abuse limits (chatwootai.outcomes)
    outcomes_retention_days: int = Field(
        default=90, ge=1, le=3660, alias="CHATWOOTAI_OUTCOMES_RETENTION_DAYS"
    )
    """Days each domain's daily outcome aggregates are kept in the store."""
    prices: dict[str, ModelPrice] = Field(default_factory=dict, alias="CHATWOOTAI_PRICES")
    """Per-model prices over the genai-prices table, as JSON: ``{"ollama:llama3.1":
    {"input_per_mtok": 0.1, "output_per_mtok": 0.2}}`` (keyed by the model as `llm.model`
    names it, or by its name without the provider)."""
    metrics_domains: int = Field(default=50, ge=0, le=10_000, alias="CHATWOOTAI_METRICS_DOMAINS")
    """Domains labelled by name in the Prometheus metrics (the first seen); the rest are
    labelled ``other``, so the number of series stays bounded."""
    abandoned_after_s: float = Field(default=86400.0, gt=0, alias="CHATWOOTAI_ABANDONED_AFTER")
    """A conversation the bot answered last, with no customer message for this long, counts as
    abandoned (in the day of its last answer)."""

    log_json: bool = Field(default=False, alias="CHATWOOTAI_LOG_JSON")
    log_level: str = Field(default="INFO", alias="CHATWOOTAI_LOG_LEVEL")

    @field_validator("agent_packages", "media_allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """Accept "a.agents, b.agents" as well as a list."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("prices", mode="before")
    @classmethod
    def _json_prices(cls, value: Any) -> Any:
        """Accept the JSON text itself (as the environment gives it)."""
        if isinstance(value, str):
            try:
                return json.loads(value) if value.strip() else {}
            except ValueError as exc:
                raise ValueError(
                    'CHATWOOTAI_PRICES is not JSON: give {"model": {"input_per_mtok": 0.15, '
                    f'"output_per_mtok": 0.6}}}} ({exc})'
                ) from None
        return value

    @field_validator("redis_sentinels", mode="before")
    @classmethod
    def _host_port_list(cls, value: Any) -> Any:
        """Parse "host:port,host:port" (IPv6 as "[::1]:26379")."""
        if not isinstance(value, str):
            return value
        sentinels = []
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            host, sep, port = part.rpartition(":")
            host = host.strip("[]")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(
                    f"REDIS_SENTINELS: {part!r} is not host:port (e.g. sentinel-1:26379)"
                )
            sentinels.append((host, int(port)))
        return sentinels

    @model_validator(mode="after")
    def _redis_choice(self) -> Self:
        """One way to reach Redis, and TLS settings that hold together."""
        if self.redis_sentinels and (self.redis_url or self.redis_host):
            raise ValueError(
                "REDIS_SENTINELS is set together with REDIS_URL or REDIS_HOST: with Sentinel the "
                "master's address comes from the sentinels; unset REDIS_URL and REDIS_HOST"
            )
        if self.redis_url:
            url = urlsplit(self.redis_url)
            if url.scheme not in ("redis", "rediss", "unix"):
                raise ValueError(
                    f"REDIS_URL must start with redis://, rediss:// (TLS) or unix://, "
                    f"not {url.scheme or 'nothing'}://"
                )
            query = dict(parse_qsl(url.query))
            unknown = sorted(set(query) - REDIS_URL_PARAMETERS)
            if unknown:
                raise ValueError(
                    f"REDIS_URL has parameters this service does not pass on: {unknown}; "
                    f"known: {sorted(REDIS_URL_PARAMETERS)}"
                )
            for name in ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile"):
                if name in query and not Path(query[name]).is_file():
                    raise ValueError(f"REDIS_URL: {name} is not a file: {query[name]}")
        if bool(self.redis_tls_cert_file) != bool(self.redis_tls_key_file):
            raise ValueError("REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE go together")
        return self

    @property
    def redis_configured(self) -> bool:
        """True when a Redis server is configured; otherwise the embedded store is used."""
        return bool(self.redis_url or self.redis_host or self.redis_sentinels)
