"""Web pages are fetched only from allowed, public hosts, bounded in size and time."""

from __future__ import annotations

import socket

import pytest
from tests.knowledge.conftest import Page, WebServer

from chatwootai.knowledge.fetch import (
    Fetcher,
    FetchError,
    FetchPolicy,
    HostNotAllowedError,
    PrivateAddressError,
    TooLargeError,
    is_public,
)


def fetcher(*hosts: str, allow_private: bool = True, max_bytes: int = 100_000) -> Fetcher:
    return Fetcher(FetchPolicy(frozenset(hosts), allow_private=allow_private, max_bytes=max_bytes))


async def test_allowed_page_is_fetched(web: WebServer) -> None:
    web.pages["/faq"] = Page(b"<h1>FAQ</h1><p>Entregamos em 2 dias.</p>")
    fetched = await fetcher(web.host).fetch(web.url("/faq"))
    assert b"2 dias" in fetched.content
    assert fetched.media_type == "text/html"


async def test_host_not_allowed_is_refused_before_any_request(web: WebServer) -> None:
    web.pages["/faq"] = Page(b"x")
    with pytest.raises(HostNotAllowedError, match="not allowed"):
        await fetcher("www.example.com").fetch(web.url("/faq"))
    assert web.hits == {}


async def test_private_network_refused_by_default(web: WebServer) -> None:
    web.pages["/faq"] = Page(b"x")
    with pytest.raises(PrivateAddressError, match="non-public"):
        await fetcher(web.host, allow_private=False).fetch(web.url("/faq"))
    assert web.hits == {}


async def test_name_resolving_to_a_private_address_is_refused() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "169.254.169.254"]  # one public, one cloud metadata

    guarded = Fetcher(FetchPolicy(frozenset({"site.example"})), resolver=resolver)
    with pytest.raises(PrivateAddressError, match=r"169\.254\.169\.254"):
        await guarded.fetch("http://site.example/")


def test_public_addresses() -> None:
    assert is_public("93.184.216.34") and is_public("2606:2800:220:1::1")
    for address in ("127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.4", "169.254.169.254"):
        assert not is_public(address), address
    assert not is_public("::1") and not is_public("::ffff:10.0.0.1") and not is_public("x")


async def test_redirect_to_another_host_is_refused(web: WebServer) -> None:
    web.pages["/old"] = Page(b"", 301, {"location": "http://intranet.local/admin"})
    with pytest.raises(HostNotAllowedError, match=r"intranet\.local"):
        await fetcher(web.host).fetch(web.url("/old"))


async def test_redirect_within_allowed_host_is_followed(web: WebServer) -> None:
    web.pages["/old"] = Page(b"", 302, {"location": "/new"})
    web.pages["/new"] = Page(b"<p>nova</p>")
    fetched = await fetcher(web.host).fetch(web.url("/old"))
    assert fetched.content == b"<p>nova</p>" and fetched.url.endswith("/new")


async def test_redirect_loop_ends(web: WebServer) -> None:
    web.pages["/a"] = Page(b"", 302, {"location": "/a"})
    with pytest.raises(FetchError, match="redirects"):
        await fetcher(web.host).fetch(web.url("/a"))


async def test_huge_page_is_refused_by_its_declared_length(web: WebServer) -> None:
    web.pages["/declared"] = Page(b"<p>" + b"x" * 300_000 + b"</p>")
    with pytest.raises(TooLargeError, match="100000"):
        await fetcher(web.host).fetch(web.url("/declared"))


async def test_huge_page_without_length_is_cut_while_streaming(web: WebServer) -> None:
    web.pages["/big"] = Page(
        b"y" * 300_000, headers={"content-type": "text/html", "transfer-encoding": "chunked"}
    )
    with pytest.raises(TooLargeError, match="100000"):
        await fetcher(web.host).fetch(web.url("/big"))


async def test_unreachable_url_is_a_fetch_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError, match=r"ConnectError|connect"):
        await fetcher("127.0.0.1").fetch(f"http://127.0.0.1:{port}/faq")


async def test_http_error_is_a_fetch_error(web: WebServer) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        await fetcher(web.host).fetch(web.url("/missing"))


async def test_other_schemes_and_credentials_are_refused() -> None:
    with pytest.raises(FetchError, match="http and https"):
        await fetcher("x.com").fetch("file:///etc/passwd")
    with pytest.raises(FetchError, match="credentials"):
        await fetcher("x.com").fetch("https://user:pw@x.com/")
