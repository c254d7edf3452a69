"""Fuzzing the webhook: no body, however broken, gets a 5xx (a 5xx makes Chatwoot retry).

Malformed JSON, wrong types, missing fields, bodies above the size limit (413), 10,000-character
messages, emoji and mixed scripts: never a 5xx, never a crash, and a valid message delivered
twice among the fuzz is answered once. Hypothesis runs without deadlines (CI machines are slow
and shared) and with a bounded number of examples.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Harness
from fakes.chatwoot_server import load_fixture

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
"""No deadline (timing on a shared machine is not a property); a fixed budget of examples."""
LIMIT = 1024 * 1024
"""The default CHATWOOTAI_MAX_BODY_BYTES."""

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
    alphabet=st.sampled_from(
        "aé😀🇧🇷👩‍👩‍👧\u200d\x00\n\t ç\\\"'<>{}"
        "日本語中文한국어العربيةעבריתहिन्दीРусский\u202e\u200f\ufeff\U0010ffff"
    ),
    max_size=300,
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
    st.just(json.dumps({**BASE, "content": "y" * (LIMIT + 10)}).encode()),
    st.just(b"{" + b" " * LIMIT + b"}"),
)


@FUZZ
@given(body=bodies)
async def test_no_body_gets_a_5xx(harness: Harness, body: bytes) -> None:
    response = await harness.http.post(
        "/webhooks/chatwoot", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code < 500, response.text
    assert response.status_code in (200, 400, 413, 422)
    assert response.json()["status"] != "error", "an internal error was hidden behind a 200"
    assert (response.status_code == 413) == (len(body) > LIMIT)


async def test_a_body_above_the_limit_is_refused_with_413_even_without_a_length(
    harness: Harness,
) -> None:
    big = json.dumps({**BASE, "content": "z" * LIMIT}).encode()
    declared = await harness.http.post("/webhooks/chatwoot", content=big)
    assert declared.status_code == 413

    async def stream() -> Any:  # chunked: no Content-Length to check up front
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    chunked = await harness.http.post("/webhooks/chatwoot", content=stream())
    assert chunked.status_code == 413
    assert (await harness.http.get("/healthz")).status_code == 200


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    noise=st.lists(bodies, min_size=2, max_size=8),
    first=st.integers(min_value=0, max_value=8),
    second=st.integers(min_value=0, max_value=8),
)
async def test_a_valid_message_delivered_twice_among_fuzz_is_answered_once(
    harness: Harness, noise: list[bytes], first: int, second: int
) -> None:
    fake = harness.fake
    display_id = 10_000 + len(fake.conversations)  # a new conversation for each example
    fake.add_conversation(account_id=4, display_id=display_id)
    body, headers = fake.build_delivery(fake.incoming(4, display_id, "meu pedido 123 😀"))
    deliveries = [(b, {"Content-Type": "application/json"}) for b in noise]
    second = max(second, first + 1)
    deliveries.insert(min(first, len(deliveries)), (body, headers))
    again = {**headers, "X-Chatwoot-Delivery": ""}  # the same message, another delivery
    deliveries.insert(min(second, len(deliveries)), (body, again))
    statuses = []
    for content, sent_headers in deliveries:
        response = await harness.http.post(
            "/webhooks/chatwoot", content=content, headers=sent_headers
        )
        assert response.status_code < 500
        if content is body:
            statuses.append(response.json()["status"])
    assert statuses == ["queued", "duplicate"]
    await harness.settle()
    assert harness.replies(4, display_id) == ["[health/sales] meu pedido 123 😀"]


async def test_a_10000_character_emoji_message_is_answered(harness: Harness) -> None:
    text = ("Olá 😀 " * 1500)[:10_000]
    response = await harness.post(harness.fake.incoming(3, 417, text))
    assert response.json()["status"] == "queued"
    await harness.settle()
    assert "".join(harness.replies(3, 417)).startswith("[cosmetics/sales] Olá 😀")


async def test_a_10000_character_mixed_script_message_is_answered_whole(harness: Harness) -> None:
    text = ("Olá 日本語 العربية हिन्दी Русский 👩‍👩‍👧 " * 400)[:10_000]
    response = await harness.post(harness.fake.incoming(4, 51, text))
    assert response.json()["status"] == "queued"
    await harness.settle()
    parts = harness.replies(4, 51)
    assert len(parts) > 1  # split for WhatsApp's message size, in order, nothing lost
    assert "".join(parts).replace(" ", "") == f"[health/sales] {text.strip()}".replace(" ", "")
