"""Chatwoot's identity validation (``hmac_verified``) reaches the turn as a verified customer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatwootai.chatwoot.payloads import MessageEvent, parse_event_data
from chatwootai.service.turns import merge_burst
from chatwootai.service.webhook import pending_message

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "chatwoot" / "b_incoming_widget.json"


@pytest.mark.parametrize(
    ("meta", "contact_inbox", "verified"),
    [(False, False, False), (True, False, True), (False, True, True), (None, None, False)],
)
def test_widget_contact_is_verified_only_when_chatwoot_says_so(
    meta: bool | None, contact_inbox: bool | None, verified: bool
) -> None:
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    data["conversation"]["meta"]["hmac_verified"] = meta
    data["conversation"]["contact_inbox"]["hmac_verified"] = contact_inbox
    event = parse_event_data(data)
    assert isinstance(event, MessageEvent)
    pending = pending_message(event, None)
    assert pending.customer_verified is verified
    assert merge_burst([pending]).customer.verified is verified
