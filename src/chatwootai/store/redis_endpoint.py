"""Where and how to reach Redis: one address (URL or host) or Sentinel, ACL user, TLS.

The deployment's settings are turned into one :class:`RedisEndpoint`, from which both the store's
client (and its pub/sub) and the queue's arq settings are made, so the two always reach the same
server the same way. Settings are validated at the edge (:class:`~chatwootai.settings.Settings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel

from chatwootai.settings import Settings

R = TypeVar("R", bound=aioredis.Redis)

HEALTH_CHECK_S = 30
"""A pooled connection idle this long is PINGed before use (a dead one is replaced)."""


@dataclass(frozen=True, slots=True)
class RedisTLS:
    """TLS to Redis: the CA to verify the server with, an optional client certificate."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    verify: str = "required"
    """``required``, ``optional`` or ``none`` (redis-py's ``ssl_cert_reqs``)."""
    check_hostname: bool = False

    def client_kwargs(self) -> dict[str, Any]:
        """redis-py connection arguments."""
        return {
            "ssl": True,
            "ssl_ca_certs": self.ca_file,
            "ssl_certfile": self.cert_file,
            "ssl_keyfile": self.key_file,
            "ssl_cert_reqs": self.verify,
            "ssl_check_hostname": self.check_hostname,
        }


@dataclass(frozen=True, slots=True)
class RedisEndpoint:
    """How this deployment reaches its Redis."""

    host: str = "localhost"
    port: int = 6379
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: RedisTLS | None = None
    unix_path: str | None = None
    sentinels: tuple[tuple[str, int], ...] = ()
    """With sentinels, `host` and `port` are unused: the master's address comes from them."""
    sentinel_master: str = "mymaster"
    timeout_s: float = 2.0

    def __repr__(self) -> str:  # never show the password
        where = self.unix_path or (
            f"sentinels {list(self.sentinels)} master {self.sentinel_master!r}"
            if self.sentinels
            else f"{self.host}:{self.port}"
        )
        user = f" user {self.username!r}" if self.username else ""
        return f"RedisEndpoint({where} db {self.db}{user}{' TLS' if self.tls else ''})"

    def client(
        self,
        *,
        decode_responses: bool = True,
        redis_class: type[R] = aioredis.Redis,  # type: ignore[assignment]
        blocking: bool = False,
    ) -> R:
        """A redis.asyncio client (a connection pool; Sentinel-managed with sentinels).

        `redis_class` is the client's class (the queue's is arq's); `blocking` leaves out the
        read timeout, for a client whose commands block (the queue's wake-ups, BRPOP).
        """
        kwargs: dict[str, Any] = {
            "db": self.db,
            "username": self.username,
            "password": self.password,
            "decode_responses": decode_responses,
            "socket_timeout": None if blocking else self.timeout_s,
            "socket_connect_timeout": self.timeout_s,
            "health_check_interval": HEALTH_CHECK_S,
        }
        if self.tls is not None:
            kwargs.update(self.tls.client_kwargs())
        if self.sentinels:
            # The sentinels are asked with the same timeouts, without TLS or password; the
            # queue's client is made here too, so the queue and the store find the same master.
            sentinel_kwargs = {
                "socket_timeout": self.timeout_s,
                "socket_connect_timeout": self.timeout_s,
            }
            sentinel = Sentinel(  # type: ignore[no-untyped-call]
                list(self.sentinels), sentinel_kwargs=sentinel_kwargs, **kwargs
            )
            master: R = sentinel.master_for(self.sentinel_master, redis_class=redis_class)
            return master
        if self.unix_path:
            return redis_class(unix_socket_path=self.unix_path, **_without_tls(kwargs))
        return redis_class(host=self.host, port=self.port, **kwargs)


def _without_tls(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if not k.startswith("ssl")}


def redis_endpoint(settings: Settings) -> RedisEndpoint | None:
    """The endpoint the settings describe, or None when no Redis is configured."""
    password = settings.redis_password.get_secret_value() if settings.redis_password else None
    tls_files: dict[str, str | None] = {
        "ca_file": _path(settings.redis_tls_ca_file),
        "cert_file": _path(settings.redis_tls_cert_file),
        "key_file": _path(settings.redis_tls_key_file),
    }
    common: dict[str, Any] = {
        "username": settings.redis_username or None,
        "password": password,
        "db": settings.redis_db,
        "timeout_s": settings.redis_timeout_s,
    }
    if settings.redis_url:
        url = urlsplit(settings.redis_url)
        query = dict(parse_qsl(url.query))
        use_tls = url.scheme == "rediss" or settings.redis_tls
        if url.username:
            common["username"] = unquote(url.username)
        if url.password is not None:
            common["password"] = unquote(url.password)
        if url.scheme == "unix":
            common["db"] = int(query.get("db", 0))
            return RedisEndpoint(unix_path=url.path, **common)
        path_db = url.path.lstrip("/")
        common["db"] = int(query.get("db") or path_db or 0)
        tls = None
        if use_tls:
            tls = RedisTLS(
                ca_file=query.get("ssl_ca_certs") or tls_files["ca_file"],
                cert_file=query.get("ssl_certfile") or tls_files["cert_file"],
                key_file=query.get("ssl_keyfile") or tls_files["key_file"],
                verify=query.get("ssl_cert_reqs") or settings.redis_tls_verify,
                check_hostname=_flag(query.get("ssl_check_hostname"))
                if "ssl_check_hostname" in query
                else settings.redis_tls_check_hostname,
            )
        return RedisEndpoint(
            host=url.hostname or "localhost", port=url.port or 6379, tls=tls, **common
        )
    tls = (
        RedisTLS(
            verify=settings.redis_tls_verify,
            check_hostname=settings.redis_tls_check_hostname,
            **tls_files,
        )
        if settings.redis_tls
        else None
    )
    if settings.redis_sentinels:
        return RedisEndpoint(
            sentinels=tuple(settings.redis_sentinels),
            sentinel_master=settings.redis_sentinel_master,
            tls=tls,
            **common,
        )
    if settings.redis_host:
        return RedisEndpoint(host=settings.redis_host, port=settings.redis_port, tls=tls, **common)
    return None


def _path(value: object) -> str | None:
    return str(value) if value is not None else None


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")
