"""Fetching a customer's attachment from Chatwoot: trusted hosts only, bounded size and time.

A webhook's ``data_url`` is an ActiveStorage *redirect* URL on the conversation's Chatwoot
installation, which answers with a redirect to the blob: on the same host (Chatwoot's disk
service) or on a storage host (S3, MinIO, GCS). Every hop is checked before it is requested:

* scheme http or https, no credentials in the URL;
* the host is the Chatwoot installation's own (as configured: its base URL, trusted even on a
  private network, as self-hosted installations usually are), or one of the deployment's
  storage hosts (``CHATWOOTAI_MEDIA_ALLOWED_HOSTS``: exact names, or ``.example.com`` for any
  subdomain);
* a storage host must resolve to public addresses only (and the address connected to is checked
  again), unless ``CHATWOOTAI_MEDIA_ALLOW_PRIVATE_NETWORKS`` is set (a MinIO on the LAN).

The bot token is sent to the Chatwoot host only, never to a redirect target. The body is streamed
and counted (a declared length above the limit is refused before reading), kept in memory up to
1 MiB and beyond that in an anonymous temporary file, removed when the download is closed. The
whole download, redirects included, is bounded by one timeout. Nothing of the file and no URL
(they carry signed ids) is logged; errors name the host only.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import IO
from urllib.parse import urljoin, urlsplit

import httpx

from chatwootai.knowledge.fetch import Resolver, is_public, system_resolver
from chatwootai.media.errors import (
    DownloadTimeoutError,
    HostRefusedError,
    MediaError,
    NotFoundError,
    TooLargeError,
)
from chatwootai.media.sniff import HEAD_BYTES, sniff

TOKEN_HEADER = "api_access_token"
MAX_REDIRECTS = 5
CHUNK_BYTES = 64 * 1024
IN_MEMORY_BYTES = 1 << 20
"""A download is kept in memory up to this size, beyond it in a temporary file."""
USER_AGENT = "ChatwootAI-media/1"


@dataclass(frozen=True, slots=True)
class DownloadPolicy:
    """Where downloads may go and how long they may take (deployment settings)."""

    allowed_hosts: frozenset[str] = frozenset()
    allow_private: bool = False
    timeout_s: float = 15.0
    max_redirects: int = MAX_REDIRECTS

    @classmethod
    def of(
        cls, hosts: Iterable[str], *, allow_private: bool = False, timeout_s: float = 15.0
    ) -> DownloadPolicy:
        """A policy from the deployment's host list (case and ``*.`` prefixes normalised)."""
        cleaned = {h.strip().lower().removeprefix("*") for h in hosts if h.strip()}
        return cls(frozenset(cleaned), allow_private, timeout_s)

    def allows(self, host: str) -> bool:
        """Whether a storage host is allowed (exactly, or under a ``.domain`` entry)."""
        host = host.lower()
        return any(
            host == entry or (entry.startswith(".") and host.endswith(entry))
            for entry in self.allowed_hosts
        )


@dataclass(frozen=True, slots=True)
class Origin:
    """The conversation's Chatwoot installation: its base URL and the bot token for it."""

    base_url: str
    token: str | None = None

    @property
    def address(self) -> tuple[str, int]:
        """Host name and port of the installation."""
        return _address(self.base_url)


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return (parts.hostname or "").lower(), parts.port or default


class Downloaded:
    """A downloaded file: in memory up to 1 MiB, beyond that in an anonymous temporary file.

    Close it (or use it as a context manager): the temporary file is removed then.
    """

    def __init__(self, file: IO[bytes], size: int, media_type: str | None, declared: str | None):
        self.file = file
        self.size = size
        self.media_type = media_type
        """The type recognised from the first bytes (see :mod:`chatwootai.media.sniff`)."""
        self.declared_type = declared
        """The Content-Type the server declared (not trusted)."""

    def read(self) -> bytes:
        """The whole content (in memory: only for files known to be small)."""
        self.file.seek(0)
        return self.file.read()

    def rewind(self) -> IO[bytes]:
        """The file object, positioned at its start."""
        self.file.seek(0)
        return self.file

    def close(self) -> None:
        """Free the memory or remove the temporary file."""
        self.file.close()

    def __enter__(self) -> Downloaded:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Downloaded({self.media_type}, {self.size} bytes)"


class MediaDownloader:
    """Downloads attachments under a :class:`DownloadPolicy` (one connection pool, reused)."""

    def __init__(
        self,
        policy: DownloadPolicy,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.policy = policy
        self.resolver = resolver or system_resolver
        timeout = httpx.Timeout(policy.timeout_s, connect=min(5.0, policy.timeout_s))
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def download(
        self, url: str, origin: Origin | None, *, max_bytes: int, trust_url_host: bool = False
    ) -> Downloaded:
        """The file at `url` (redirects followed and checked); raises :class:`MediaError`.

        `origin` is the conversation's Chatwoot (its host is trusted and gets the token);
        `trust_url_host` also allows the first URL's own host (a file a domain's catalog names),
        still refused on a private network unless the deployment allows it.
        """
        try:
            async with asyncio.timeout(self.policy.timeout_s):
                return await self._download(url, origin, max_bytes, trust_url_host)
        except TimeoutError:
            raise DownloadTimeoutError(
                f"no complete download within {self.policy.timeout_s:g} s"
            ) from None

    async def _check(self, url: str, origin: Origin | None, extra_host: str | None) -> bool:
        """Raise unless `url` may be requested; True when it is the Chatwoot host (trusted)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise HostRefusedError("only http and https URLs are downloaded")
        if parts.username or parts.password:
            raise HostRefusedError("credentials in a URL are refused")
        host, port = _address(url)
        if not host:
            raise HostRefusedError("a URL without a host")
        if origin is not None and (host, port) == origin.address:
            return True
        if host != extra_host and not self.policy.allows(host):
            raise HostRefusedError(
                f"host {host!r} is neither the conversation's Chatwoot nor an allowed storage "
                "host (CHATWOOTAI_MEDIA_ALLOWED_HOSTS)"
            )
        if not self.policy.allow_private:
            try:
                addresses = await self.resolver(host, port)
            except Exception as exc:
                raise MediaError(f"cannot resolve host {host!r}: {type(exc).__name__}") from None
            private = [a for a in addresses if not is_public(a)]
            if not addresses or private:
                raise HostRefusedError(
                    f"host {host!r} resolves to a non-public address; private networks are "
                    "refused unless CHATWOOTAI_MEDIA_ALLOW_PRIVATE_NETWORKS is set"
                )
        return False

    async def _download(
        self, url: str, origin: Origin | None, max_bytes: int, trust_url_host: bool
    ) -> Downloaded:
        current = url
        extra = _address(url)[0] if trust_url_host else None
        for _ in range(self.policy.max_redirects + 1):
            trusted = await self._check(current, origin, extra)
            headers = {}
            if trusted and origin is not None and origin.token:
                headers[TOKEN_HEADER] = origin.token  # the Chatwoot host only, never a redirect's
            host = _address(current)[0]
            try:
                async with self._http.stream("GET", current, headers=headers) as response:
                    if not trusted:
                        self._check_peer(response, host)
                    if response.is_redirect:
                        location = response.headers.get("location")
                        if not location:
                            raise MediaError(f"{host}: a redirect without a location")
                        current = urljoin(current, location)
                        continue
                    if response.status_code in (404, 410):
                        raise NotFoundError(f"{host}: HTTP {response.status_code}")
                    if not response.is_success:
                        raise MediaError(f"{host}: HTTP {response.status_code}")
                    return await _body(response, host, max_bytes)
            except httpx.TimeoutException:
                raise DownloadTimeoutError(f"{host}: timed out") from None
            except httpx.HTTPError as exc:
                raise MediaError(f"{host}: {type(exc).__name__}") from None
        raise MediaError(f"more than {self.policy.max_redirects} redirects")

    def _check_peer(self, response: httpx.Response, host: str) -> None:
        """Refuse a storage host's answer from a non-public address (DNS changed at connect)."""
        if self.policy.allow_private:
            return
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if peer and not is_public(str(peer[0])):
            raise HostRefusedError(f"{host}: connected to a non-public address")


async def _body(response: httpx.Response, host: str, max_bytes: int) -> Downloaded:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise TooLargeError(f"{host}: {int(declared)} bytes, more than the {max_bytes} allowed")
    file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)  # noqa: SIM115
    size = 0
    head = b""
    try:
        async for chunk in response.aiter_bytes(CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                raise TooLargeError(f"{host}: more than the {max_bytes} bytes allowed")
            if len(head) < HEAD_BYTES:
                head += chunk[: HEAD_BYTES - len(head)]
            file.write(chunk)
    except BaseException:
        file.close()
        raise
    media_type = response.headers.get("content-type")
    return Downloaded(file, size, sniff(head), media_type.split(";")[0] if media_type else None)
