"""Splitting long replies for channel limits, without losing or reordering words."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from chatwootai.chatwoot.split import channel_limit, split_reply


def test_channel_limits() -> None:
    assert channel_limit("Channel::Whatsapp") == 4096
    assert channel_limit("whatsapp") == 4096
    assert channel_limit("Channel::Instagram") == 1000
    assert channel_limit("Channel::FacebookPage") == 2000
    assert channel_limit("Channel::TwilioSms") == 1600
    assert channel_limit("Channel::WebWidget") == 10_000
    assert channel_limit("Channel::Api") == 10_000


def test_short_reply_is_one_message() -> None:
    assert split_reply("  Olá, tudo bem?  ", "Channel::Whatsapp") == ["Olá, tudo bem?"]
    assert split_reply("   ", "whatsapp") == []


def test_paragraphs_first() -> None:
    first, second = "a" * 30, "b" * 30
    assert split_reply(f"{first}\n\n{second}", "api", limit=40) == [first, second]
    assert split_reply("aa\n\nbb\n\ncc", "api", limit=6) == ["aa\n\nbb", "cc"]


def test_sentences_before_words() -> None:
    text = "Seu pedido saiu hoje. Chega amanhã! Alguma dúvida?"
    assert split_reply(text, "api", limit=25) == [
        "Seu pedido saiu hoje.",
        "Chega amanhã!",
        "Alguma dúvida?",
    ]


def test_words_when_a_sentence_is_too_long() -> None:
    parts = split_reply("um dois tres quatro cinco seis", "api", limit=10)
    assert parts == ["um dois", "tres", "quatro", "cinco seis"]


def test_a_huge_word_is_cut() -> None:
    url = "https://example.com/" + "x" * 50
    parts = split_reply(url, "api", limit=20)
    assert "".join(parts) == url
    assert all(len(part) <= 20 for part in parts)


def test_whatsapp_reply_of_10000_chars() -> None:
    text = " ".join([f"Frase número {i} do atendimento." for i in range(400)])
    parts = split_reply(text, "Channel::Whatsapp")
    assert len(parts) >= 3
    assert all(len(part) <= 4096 for part in parts)
    assert " ".join(parts).split() == text.split()


words = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=" \t\n\r\x0b\x0c"),
    min_size=1,
    max_size=30,
)
separators = st.sampled_from([" ", "  ", "\n", "\n\n", ". ", "! ", "? ", "\n \n"])


@st.composite
def replies(draw: st.DrawFn) -> str:
    items = draw(st.lists(st.tuples(words, separators), max_size=60))
    return "".join(word + sep for word, sep in items)


@settings(max_examples=200, deadline=None)
@given(text=replies(), limit=st.integers(min_value=1, max_value=200))
def test_split_keeps_every_character_in_order(text: str, limit: int) -> None:
    parts = split_reply(text, "api", limit=limit)
    assert all(1 <= len(part) <= limit for part in parts)
    assert all(part == part.strip() for part in parts)
    squeeze = re.compile(r"\s+")
    assert squeeze.sub("", "".join(parts)) == squeeze.sub("", text)


@settings(max_examples=200, deadline=None)
@given(text=replies(), limit=st.integers(min_value=31, max_value=200))
def test_split_keeps_every_word_when_words_fit(text: str, limit: int) -> None:
    # Words are up to 30 characters, plus the punctuation a separator may glue to them.
    parts = split_reply(text, "api", limit=limit)
    assert [w for part in parts for w in part.split()] == text.split()
