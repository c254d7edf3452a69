"""Fetching a business's web pages safely: allowed hosts, public addresses, bounded size and time.

Every request, and every redirect hop, is checked before it is sent: scheme http or https, no
credentials in the URL, a host in the source's ``allowed_hosts``, and (unless the deployment sets
``CHATWOOTAI_KNOWLEDGE_ALLOW_PRIVATE_NETWORKS``) every address the host resolves to public, so a
page cannot point the service at its own network (loopback, private ranges, link-local cloud
metadata). The address actually connected to is checked again once the response starts, and the
body is read only if it is public too (a host that resolves differently the second time is
refused). Bodies are streamed and cut at ``max_bytes``; the whole fetch, redirects included, is
bounded by ``timeout_s``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

USER_AGENT = "ChatwootAI-knowledge-sync/1 (+https://github.com/chatwootai)"
MAX_REDIRECTS = 5

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Host and port to the IP addresses it resolves to."""


class FetchError(Exception):
    """A page could not be fetched (network error, HTTP error, refused by policy)."""


class HostNotAllowedError(FetchError):
    """The URL's host (or a redirect's) is not in the source's allowed hosts."""


class PrivateAddressError(FetchError):
    """The host resolves to an address of a private, loopback or reserved network."""


class TooLargeError(FetchError):
    """The body is larger than the configured maximum."""


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """What a fetch may do."""

    allowed_hosts: frozenset[str]
    allow_private: bool = False
    max_bytes: int = 5_000_000
    timeout_s: float = 15.0
    max_redirects: int = MAX_REDIRECTS


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched body: the final URL (after redirects), bytes and media type."""

    url: str
    content: bytes
    media_type: str | None


def is_public(address: str) -> bool:
    """True for a globally routable unicast address (not private, loopback, link-local...)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (the system's resolver, off the event loop)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc}") from None
    return sorted({str(info[4][0]) for info in infos})


class Fetcher:
    """Fetches URLs under a :class:`FetchPolicy`."""

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.policy = policy
        self.transport = transport
        self.resolver = resolver or system_resolver

    async def check(self, url: str) -> None:
        """Raise FetchError unless `url` may be requested under the policy."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchError(f"{url!r}: only http and https URLs are fetched")
        if parts.username or parts.password:
            raise FetchError(f"{url!r}: credentials in URLs are not allowed")
        host = (parts.hostname or "").lower()
        if host not in self.policy.allowed_hosts:
            allowed = ", ".join(sorted(self.policy.allowed_hosts)) or "none"
            raise HostNotAllowedError(f"host {host!r} is not allowed (allowed_hosts: {allowed})")
        if self.policy.allow_private:
            return
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = await self.resolver(host, port)
        if not addresses:
            raise FetchError(f"host {host!r} resolves to no address")
        private = [a for a in addresses if not is_public(a)]
        if private:
            raise PrivateAddressError(
                f"host {host!r} resolves to a non-public address ({', '.join(private)}); "
                "private networks are refused unless CHATWOOTAI_KNOWLEDGE_ALLOW_PRIVATE_NETWORKS "
                "is set"
            )

    async def fetch(self, url: str) -> Fetched:
        """The body at `url` (redirects followed and checked); raises FetchError."""
        try:
            async with asyncio.timeout(self.policy.timeout_s):
                return await self._fetch(url)
        except TimeoutError:
            raise FetchError(
                f"{url}: no complete answer within {self.policy.timeout_s:g} s"
            ) from None

    async def _fetch(self, url: str) -> Fetched:
        timeout = httpx.Timeout(self.policy.timeout_s, connect=min(5.0, self.policy.timeout_s))
        headers = {"User-Agent": USER_AGENT, "Accept": "text/html,application/pdf,*/*;q=0.5"}
        async with httpx.AsyncClient(
            transport=self.transport, timeout=timeout, follow_redirects=False, headers=headers
        ) as client:
            current = url
            for _ in range(self.policy.max_redirects + 1):
                await self.check(current)
                try:
                    async with client.stream("GET", current) as response:
                        self._check_peer(response, current)
                        if response.is_redirect:
                            location = response.headers.get("location")
                            if not location:
                                raise FetchError(f"{current}: redirect without a location")
                            current = urljoin(current, location)
                            continue
                        if not response.is_success:
                            raise FetchError(f"{current}: HTTP {response.status_code}")
                        content = await self._body(response, current)
                        media = response.headers.get("content-type")
                        return Fetched(str(response.url), content, media)
                except httpx.TimeoutException:
                    raise FetchError(f"{current}: timed out") from None
                except httpx.HTTPError as exc:
                    raise FetchError(f"{current}: {type(exc).__name__}: {exc}") from None
            raise FetchError(f"{url}: more than {self.policy.max_redirects} redirects")

    def _check_peer(self, response: httpx.Response, url: str) -> None:
        """Refuse a response from a non-public address (DNS answered differently at connect)."""
        if self.policy.allow_private:
            return
        stream = response.extensions.get("network_stream")
        if stream is None:
            return
        peer = stream.get_extra_info("server_addr")
        if peer and not is_public(str(peer[0])):
            raise PrivateAddressError(f"{url}: connected to non-public address {peer[0]}")

    async def _body(self, response: httpx.Response, url: str) -> bytes:
        limit = self.policy.max_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise TooLargeError(f"{url}: {int(declared)} bytes, more than the {limit} allowed")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise TooLargeError(f"{url}: more than the {limit} bytes allowed")
            chunks.append(chunk)
        return b"".join(chunks)
