"""The ignored-messages counter keeps a fixed set of labels whatever the payloads say."""

from __future__ import annotations

import uuid

from chatwootai.chatwoot.filters import LABELS
from chatwootai.service.webhook import NO_ACCOUNT
from conftest import Harness


def ignored_labels(harness: Harness) -> set[str]:
    """The label values the ignored-messages counter has seen."""
    return {
        sample.labels["reason"]
        for metric in harness.service.metrics.registry.collect()
        if metric.name == "chatwootai_messages_ignored"
        for sample in metric.samples
        if sample.name.endswith("_total")
    }


async def test_payload_text_never_becomes_a_label(harness: Harness) -> None:
    fake = harness.fake
    for _ in range(3):
        made_up = uuid.uuid4().hex
        odd_kind = fake.incoming(3, 417, "oi")
        odd_kind["message_type"] = f"kind-{made_up}"
        odd_status = fake.conversation_payload(
            fake.conversations[(4, 51)],
            "conversation_status_changed",
            {"status": {"previous_value": "pending", "current_value": made_up}},
        )
        odd_status["status"] = made_up
        odd_sender = fake.incoming(5, 9, "oi")
        odd_sender["sender"]["type"] = f"robot-{made_up}"
        no_account = fake.conversation_payload(fake.conversations[(3, 417)], "conversation_opened")
        del no_account["account"]
        no_account["messages"] = []
        for payload in (
            {"event": f"event-{made_up}"},
            odd_kind,
            odd_status,
            odd_sender,
            no_account,
        ):
            response = await harness.post(payload)
            assert response.json()["status"] == "ignored", response.json()
    assert ignored_labels(harness) == {
        "unhandled_event",
        "other_message_type",
        "other_status",
        "not_from_contact",
        NO_ACCOUNT,
    }
    assert ignored_labels(harness) <= LABELS | {NO_ACCOUNT}
