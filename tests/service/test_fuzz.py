"""Fuzzing the webhook: no body, however broken, gets a 5xx (a 5xx makes Chatwoot retry)."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Harness
from fakes.chatwoot_server import load_fixture

BASE = load_fixture("a_incoming_whatsapp")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)

FIELDS = [
    ("event",),
    ("id",),
    ("content",),
    ("message_type",),
    ("private",),
    ("account",),
    ("account", "id"),
    ("inbox",),
    ("sender",),
    ("attachments",),
    ("conversation",),
    ("conversation", "id"),
    ("conversation", "status"),
    ("conversation", "meta"),
    ("conversation", "messages"),
    ("conversation", "account"),
    ("content_attributes",),
]


@st.composite
def mutated_payloads(draw: st.DrawFn) -> bytes:
    """A real payload with fields replaced by wrong types, or removed."""
    payload: dict[str, Any] = copy.deepcopy(BASE)
    payload["id"] = draw(st.integers(min_value=1, max_value=10**12))
    for path in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
        target: Any = payload
        for part in path[:-1]:
            target = target.get(part) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            continue
        if draw(st.booleans()):
            target.pop(path[-1], None)
        else:
            target[path[-1]] = draw(json_values)
    return json.dumps(payload).encode()


emoji_text = st.text(
    alphabet=st.sampled_from("aé😀🇧🇷👩‍👩‍👧\u200d\x00\n\t ç\\\"'<>{}"), max_size=300
)

bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    mutated_payloads(),
    emoji_text.map(
        lambda t: json.dumps({**BASE, "id": abs(hash(t)) % 10**9 + 1, "content": t}).encode()
    ),
    st.just(json.dumps({**BASE, "content": "😀" * 10_000}).encode()),
    st.just(json.dumps({**BASE, "content": "x" * 200_000}).encode()),
    st.just(b"[" * 100_000),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
async def test_no_body_gets_a_5xx(harness: Harness, body: bytes) -> None:
    response = await harness.http.post(
        "/webhooks/chatwoot", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code < 500, response.text
    assert response.status_code in (200, 400, 413, 422)
    assert response.json()["status"] != "error", "an internal error was hidden behind a 200"


async def test_a_10000_character_emoji_message_is_answered(harness: Harness) -> None:
    text = ("Olá 😀 " * 1500)[:10_000]
    response = await harness.post(harness.fake.incoming(3, 417, text))
    assert response.json()["status"] == "queued"
    await harness.settle()
    assert "".join(harness.replies(3, 417)).startswith("[cosmetics/sales] Olá 😀")
