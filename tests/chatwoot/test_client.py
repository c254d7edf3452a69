"""The Chatwoot API client against a fake Chatwoot over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import socket

import httpx
import pytest

from chatwootai.chatwoot.client import (
    MARK_ATTRIBUTE,
    ChatwootAuthError,
    ChatwootClient,
    ChatwootDeliveryUnknown,
    ChatwootNotFound,
    ChatwootRateLimited,
    ChatwootRejected,
    ChatwootUnavailable,
)
from fakes.chatwoot_server import NOT_FOR_BOTS, FakeChatwoot

ACCOUNT, CONVERSATION = 3, 417


def _client(fake: FakeChatwoot, **kw: float) -> ChatwootClient:
    options: dict[str, float] = {"backoff": 0.01, "timeout": 2}
    options.update(kw)
    return ChatwootClient(fake.base_url, fake.bot_token, **options)  # type: ignore[arg-type]


async def test_send_message_request_and_response(
    fake: FakeChatwoot, client: ChatwootClient
) -> None:
    message = await client.send_message(ACCOUNT, CONVERSATION, "Olá! Seu pedido saiu hoje.")
    [call] = fake.calls
    assert call.endpoint == "messages.create"
    assert call.path == "/api/v1/accounts/3/conversations/417/messages"
    assert call.headers["api_access_token"] == fake.bot_token
    assert call.headers["content-type"] == "application/json"
    body = call.body
    assert body["content"] == "Olá! Seu pedido saiu hoje."
    assert body["message_type"] == "outgoing"
    assert body["private"] is False
    assert body["content_type"] == "text"
    assert len(body["echo_id"]) == 32
    assert message["message_type"] == 1
    assert message["conversation_id"] == CONVERSATION
    assert message["sender"]["type"] == "agent_bot"
    assert message["echo_id"] == body["echo_id"]


async def test_each_reply_gets_its_own_echo_id(fake: FakeChatwoot, client: ChatwootClient) -> None:
    await client.send_message(ACCOUNT, CONVERSATION, "um")
    await client.send_message(ACCOUNT, CONVERSATION, "dois", echo_id="mine")
    first, second = (call.body["echo_id"] for call in fake.calls)
    assert first != second and second == "mine"


async def test_private_note(fake: FakeChatwoot, client: ChatwootClient) -> None:
    await client.send_message(ACCOUNT, CONVERSATION, "nota interna", private=True)
    assert fake.calls[0].body["private"] is True
    assert fake.conversations[(ACCOUNT, CONVERSATION)].messages[0]["private"] is True


async def test_toggle_status_open_is_a_bot_handoff(
    fake: FakeChatwoot, client: ChatwootClient
) -> None:
    result = await client.toggle_status(ACCOUNT, CONVERSATION, "open")
    assert fake.calls[0].body == {"status": "open"}
    assert result["payload"]["current_status"] == "open"
    conversation = fake.conversations[(ACCOUNT, CONVERSATION)]
    assert conversation.status == "open"
    assert conversation.bot_handoffs == 1


async def test_toggle_typing(fake: FakeChatwoot, client: ChatwootClient) -> None:
    await client.toggle_typing(ACCOUNT, CONVERSATION, True)
    await client.toggle_typing(ACCOUNT, CONVERSATION, False)
    assert [c.body for c in fake.calls] == [
        {"typing_status": "on", "is_private": False},
        {"typing_status": "off", "is_private": False},
    ]
    assert fake.endpoints() == ["toggle_typing", "toggle_typing"]


async def test_get_conversation(fake: FakeChatwoot, client: ChatwootClient) -> None:
    fake.conversations[(ACCOUNT, CONVERSATION)].labels = ["pedido"]
    conversation = await client.get_conversation(ACCOUNT, CONVERSATION)
    assert conversation["id"] == CONVERSATION
    assert conversation["status"] == "pending"
    assert conversation["labels"] == ["pedido"]
    assert conversation["meta"]["sender"]["name"] == "Maria Silva"


async def test_add_labels_merges_instead_of_replacing(
    fake: FakeChatwoot, client: ChatwootClient
) -> None:
    fake.conversations[(ACCOUNT, CONVERSATION)].labels = ["pedido", "vip"]
    labels = await client.add_labels(ACCOUNT, CONVERSATION, ["handoff", "pedido", "handoff"])
    assert labels == ["pedido", "vip", "handoff"]
    assert fake.conversations[(ACCOUNT, CONVERSATION)].labels == ["pedido", "vip", "handoff"]
    assert fake.endpoints() == ["labels.index", "labels.create"]
    assert fake.calls[1].body == {"labels": ["pedido", "vip", "handoff"]}


async def test_add_labels_already_there_posts_nothing(
    fake: FakeChatwoot, client: ChatwootClient
) -> None:
    fake.conversations[(ACCOUNT, CONVERSATION)].labels = ["pedido"]
    assert await client.add_labels(ACCOUNT, CONVERSATION, ["pedido"]) == ["pedido"]
    assert fake.endpoints() == ["labels.index"]


async def test_custom_attributes_are_merged(fake: FakeChatwoot, client: ChatwootClient) -> None:
    conversation = fake.conversations[(ACCOUNT, CONVERSATION)]
    conversation.custom_attributes = {"order_id": "1234", "crew": "sales"}
    merged = await client.merge_custom_attributes(ACCOUNT, CONVERSATION, {"crew": "support"})
    assert merged == {"order_id": "1234", "crew": "support"}
    assert conversation.custom_attributes == {"order_id": "1234", "crew": "support"}
    assert fake.endpoints() == ["conversation.show", "custom_attributes"]


async def test_assign_team(fake: FakeChatwoot, client: ChatwootClient) -> None:
    await client.assign_team(ACCOUNT, CONVERSATION, 2)
    assert fake.calls[0].body == {"team_id": 2}
    assert fake.conversations[(ACCOUNT, CONVERSATION)].team == {"id": 2, "name": "vendas"}


# -- retries ---------------------------------------------------------------------------------


async def test_retries_on_429_honouring_retry_after(
    fake: FakeChatwoot, client: ChatwootClient
) -> None:
    fake.fail("toggle_status", "rate_limit", times=2, retry_after="0")
    await client.toggle_status(ACCOUNT, CONVERSATION, "open")
    assert [c.outcome for c in fake.calls] == ["rate_limit", "rate_limit", "ok"]


async def test_long_retry_after_is_not_waited(fake: FakeChatwoot) -> None:
    fake.fail("toggle_status", "rate_limit", retry_after="120")
    async with _client(fake, max_retry_after=5) as client:
        with pytest.raises(ChatwootRateLimited) as info:
            await client.toggle_status(ACCOUNT, CONVERSATION, "open")
    assert info.value.retry_after == 120
    assert info.value.status == 429
    assert len(fake.calls) == 1


async def test_retries_on_500(fake: FakeChatwoot, client: ChatwootClient) -> None:
    fake.fail("conversation.show", "error", times=2)
    conversation = await client.get_conversation(ACCOUNT, CONVERSATION)
    assert conversation["id"] == CONVERSATION
    assert [c.outcome for c in fake.calls] == ["error", "error", "ok"]


async def test_retries_on_timeout(fake: FakeChatwoot) -> None:
    fake.fail("toggle_status", "timeout", delay=0.5)
    async with _client(fake, timeout=0.2) as client:
        await client.toggle_status(ACCOUNT, CONVERSATION, "open")
    assert [c.outcome for c in fake.calls_to("toggle_status")] == ["timeout", "ok"]


async def test_gives_up_after_the_retries(fake: FakeChatwoot) -> None:
    fake.fail("toggle_status", "error", times=10, status=503)
    async with _client(fake, retries=2) as client:
        with pytest.raises(ChatwootUnavailable) as info:
            await client.toggle_status(ACCOUNT, CONVERSATION, "open")
    assert info.value.status == 503
    assert len(fake.calls) == 3
    assert fake.conversations[(ACCOUNT, CONVERSATION)].status == "pending"


async def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with ChatwootClient(f"http://127.0.0.1:{port}", "t", retries=1, backoff=0.01) as api:
        with pytest.raises(ChatwootUnavailable, match="connection failed"):
            await api.get_conversation(ACCOUNT, CONVERSATION)


# -- never post twice ------------------------------------------------------------------------


async def test_the_mark_is_kept_in_content_attributes_and_read_back(
    fake: FakeChatwoot, client: ChatwootClient
) -> None:
    posted = await client.send_message(ACCOUNT, CONVERSATION, "Oi", echo_id="e1", mark="turn1:0")
    assert fake.calls[0].body["content_attributes"] == {MARK_ATTRIBUTE: "turn1:0"}
    seen = await client.read_back(ACCOUNT, CONVERSATION, "turn1:0")
    assert seen.found and seen.message is not None and seen.message["id"] == posted["id"]
    assert "echo_id" not in seen.message  # echoed once by the create call, never shown again
    other = await client.read_back(ACCOUNT, CONVERSATION, "turn2:0")
    assert not other.found and other.latest_id == posted["id"]
    assert other.absent_after(posted["id"]) and not other.absent_after(posted["id"] - 1)


async def test_a_post_that_may_have_reached_chatwoot_is_not_repeated_in_the_call(
    fake: FakeChatwoot, client: ChatwootClient
) -> None:
    fake.fail("messages.create", "error")  # an answer: Chatwoot is done with it
    with pytest.raises(ChatwootDeliveryUnknown, match="may have been posted") as info:
        await client.send_message(ACCOUNT, CONVERSATION, "Oi", mark="m")
    assert not info.value.settle
    fake.fail("messages.create", "error", status=502)  # a gateway: the app may still be at it
    with pytest.raises(ChatwootDeliveryUnknown) as info:
        await client.send_message(ACCOUNT, CONVERSATION, "Oi", mark="m")
    assert info.value.settle
    assert fake.endpoints() == ["messages.create", "messages.create"]


async def test_a_timed_out_post_is_not_repeated_and_must_settle(fake: FakeChatwoot) -> None:
    fake.fail("messages.create", "timeout", delay=0.5)
    async with _client(fake, timeout=0.2) as client:
        assert client.settle_s == pytest.approx(0.6)
        with pytest.raises(ChatwootDeliveryUnknown) as info:
            await client.send_message(ACCOUNT, CONVERSATION, "Chega amanhã.", mark="m")
    assert info.value.settle
    assert fake.endpoints() == ["messages.create"]


async def test_a_slow_save_shows_only_after_the_request_timed_out(fake: FakeChatwoot) -> None:
    """Chatwoot saving a reply after the client's timeout: read back too early, it is absent."""
    customer = fake.incoming(ACCOUNT, CONVERSATION, "Oi")["id"]
    fake.fail("messages.create", "slow", delay=0.6)
    async with _client(fake, timeout=0.2) as client:
        with pytest.raises(ChatwootDeliveryUnknown):
            await client.send_message(ACCOUNT, CONVERSATION, "Olá!", mark="t:0")
        early = await client.read_back(ACCOUNT, CONVERSATION, "t:0")
        assert early.absent_after(customer)  # looks absent: only waiting tells the truth
        await asyncio.sleep(0.6)
        late = await client.read_back(ACCOUNT, CONVERSATION, "t:0")
    assert late.found
    assert [m["content"] for m in fake.conversations[(ACCOUNT, CONVERSATION)].messages] == [
        "Oi",
        "Olá!",
    ]


async def test_a_later_message_makes_a_read_back_inconclusive(
    fake: FakeChatwoot, client: ChatwootClient
) -> None:
    customer = fake.incoming(ACCOUNT, CONVERSATION, "Oi")["id"]
    await client.send_message(ACCOUNT, CONVERSATION, "Olá!", mark="t:0")
    fake.incoming(ACCOUNT, CONVERSATION, "tem alguém aí?")
    seen = await client.read_back(ACCOUNT, CONVERSATION, "t:0")
    assert not seen.found and not seen.absent_after(customer)


async def test_a_rate_limited_post_is_sent_again_in_the_call(
    fake: FakeChatwoot, client: ChatwootClient
) -> None:
    fake.fail("messages.create", "rate_limit")
    await client.send_message(ACCOUNT, CONVERSATION, "Oi")
    assert fake.endpoints() == ["messages.create", "messages.create"]
    assert len(fake.conversations[(ACCOUNT, CONVERSATION)].messages) == 1


async def test_a_post_that_never_left_is_sent_again_in_the_call() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with ChatwootClient(f"http://127.0.0.1:{port}", "t", retries=2, backoff=0.01) as api:
        with pytest.raises(ChatwootUnavailable, match="connection failed") as info:
            await api.send_message(ACCOUNT, CONVERSATION, "Oi")
    assert not isinstance(info.value, ChatwootDeliveryUnknown)


# -- errors ----------------------------------------------------------------------------------


async def test_wrong_token_is_an_auth_error_without_the_token(fake: FakeChatwoot) -> None:
    secret = "wrong-token-s3cr3t"
    async with ChatwootClient(fake.base_url, secret, backoff=0.01) as api:
        with pytest.raises(ChatwootAuthError) as info:
            await api.send_message(ACCOUNT, CONVERSATION, "Oi")
    assert info.value.status == 401
    assert "Invalid Access Token" in str(info.value)
    assert secret not in str(info.value) and secret not in repr(api)
    assert len(fake.calls) == 1


async def test_other_account_is_an_auth_error(fake: FakeChatwoot, client: ChatwootClient) -> None:
    with pytest.raises(ChatwootAuthError, match="not authorized to access this account"):
        await client.get_conversation(99, CONVERSATION)


async def test_unknown_conversation_is_not_found(client: ChatwootClient) -> None:
    with pytest.raises(ChatwootNotFound, match="HTTP 404"):
        await client.toggle_status(ACCOUNT, 999, "open")


async def test_invalid_request_is_rejected_at_once(
    fake: FakeChatwoot, client: ChatwootClient
) -> None:
    with pytest.raises(ChatwootRejected, match="not a valid status"):
        await client.toggle_status(ACCOUNT, CONVERSATION, "closed")
    assert len(fake.calls) == 1


async def test_the_token_is_never_logged(
    fake: FakeChatwoot, client: ChatwootClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.fail("conversation.show", "error")
    await client.read_back(ACCOUNT, CONVERSATION, "m")
    assert "retry" in caplog.text
    assert fake.bot_token not in caplog.text


async def test_fake_refuses_bots_outside_their_endpoints(fake: FakeChatwoot) -> None:
    path = f"/api/v1/accounts/{ACCOUNT}/conversations/{CONVERSATION}/messages"
    async with httpx.AsyncClient(base_url=fake.base_url) as http:
        bot = await http.get(path, headers={"api_access_token": fake.bot_token})
        user = await http.get(path, headers={"api_access_token": fake.user_token})
    assert bot.status_code == 401 and bot.json() == {"error": NOT_FOR_BOTS}
    assert user.status_code == 200 and user.json()["payload"] == []
