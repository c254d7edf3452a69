"""Key names: conversation keys and account scopes carry the installation only when it differs."""

from __future__ import annotations

import pytest

from chatwootai.store import keys


def test_the_deployments_own_installation_keeps_the_plain_keys() -> None:
    assert keys.conversation_key(3, 417) == "3:417"
    assert keys.account_scope(3) == "3"
    assert keys.scope_of("3:417") == "3"
    assert keys.dedupe_message("3", 424242) == "dedupe:message:3:424242"
    assert keys.dedupe_delivery("3", "d-1") == "dedupe:delivery:3:d-1"


def test_another_installation_is_a_short_stable_tag_of_its_base_url() -> None:
    tag = keys.installation_tag("https://chat.other.example")
    assert len(tag) == 8 and all(c in "0123456789abcdef" for c in tag)
    for spelling in (
        "https://Chat.Other.Example/",
        " https://chat.other.example:443 ",
        "https://chat.other.example/",
    ):
        assert keys.installation_tag(spelling) == tag
    assert keys.installation_tag("http://chat.other.example") != tag
    assert keys.installation_tag("https://chat.other.example:8443") != tag
    key = keys.conversation_key(3, 417, tag)
    assert key == f"3:417@{tag}"
    assert keys.scope_of(key) == f"3@{tag}"
    assert keys.account_scope(3, tag) == f"3@{tag}"


def test_every_per_conversation_key_follows_the_conversation_key() -> None:
    tag = keys.installation_tag("https://chat.other.example")
    key = keys.conversation_key(3, 417, tag)
    names = [
        keys.pending_messages(key),
        keys.turn_lock(key),
        keys.turn_failures(key),
        keys.conversation_state(key),
        keys.conversation_paused(key),
        keys.conversation_lifecycle(key, "idle"),
        keys.domain_conversation(key),
        keys.agent_state("retail", "sales", key),
        keys.turn_outcome(key, "t1"),
        keys.turn_sent(key, "t1"),
        keys.conversation_bookings("health", "calendar", key),
    ]
    assert all(key in name for name in names)
    assert not any(keys.conversation_key(3, 417) + ":" in name for name in names[:7])


def test_conversation_keys_parse_back() -> None:
    tag = keys.installation_tag("https://chat.other.example")
    assert keys.parse_conversation_key("3:417") == keys.ConversationRef(3, 417, None)
    assert keys.parse_conversation_key(f"3:417@{tag}") == keys.ConversationRef(3, 417, tag)
    for bad in ("3", "3:", "a:1", "3:417@", "3:417@XYZ", "3:417:9", " 3:417"):
        with pytest.raises(keys.ConversationKeyError, match="not a conversation key"):
            keys.parse_conversation_key(bad)
