"""Webhook signature checks: Chatwoot's scheme, and the ways a delivery can fail it."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from chatwootai.chatwoot.signature import (
    SignatureError,
    check_headers,
    sign,
    signature_matches,
    verify_signature,
)
from fakes.chatwoot_server import FIXTURES, FakeChatwoot, load_fixture

SECRET = "webhook-secret-Zr8"
NOW = 1_781_950_502
BODY = (FIXTURES / "a_incoming_whatsapp.json").read_bytes()


def test_sign_matches_chatwoots_formula() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, str(NOW), BODY) == f"sha256={expected}"


def test_good_signature_passes() -> None:
    verify_signature(SECRET, str(NOW), sign(SECRET, str(NOW), BODY), BODY, now=NOW + 10)


def test_uppercase_hex_passes() -> None:
    signature = "sha256=" + sign(SECRET, str(NOW), BODY).removeprefix("sha256=").upper()
    verify_signature(SECRET, str(NOW), signature, BODY, now=NOW)


def test_delivery_built_by_the_fake_verifies() -> None:
    body, headers = FakeChatwoot().build_delivery(load_fixture("b_incoming_widget"), secret=SECRET)
    verify_signature(SECRET, headers["X-Chatwoot-Timestamp"], headers["X-Chatwoot-Signature"], body)
    assert headers["X-Chatwoot-Delivery"]


def test_body_only_signature_is_rejected() -> None:
    body_only = "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    with pytest.raises(SignatureError, match="mismatch"):
        verify_signature(SECRET, str(NOW), body_only, BODY, now=NOW)


def test_wrong_secret_is_rejected() -> None:
    with pytest.raises(SignatureError, match="mismatch"):
        verify_signature(SECRET, str(NOW), sign("other", str(NOW), BODY), BODY, now=NOW)


def test_tampered_body_is_rejected() -> None:
    signature = sign(SECRET, str(NOW), BODY)
    with pytest.raises(SignatureError, match="mismatch"):
        verify_signature(SECRET, str(NOW), signature, BODY.replace(b"1234", b"9999"), now=NOW)


def test_reencoded_body_is_rejected() -> None:
    signature = sign(SECRET, str(NOW), BODY)
    with pytest.raises(SignatureError, match="byte for byte"):
        verify_signature(SECRET, str(NOW), signature, BODY + b"\n", now=NOW)


def test_timestamp_is_part_of_the_signature() -> None:
    signature = sign(SECRET, str(NOW), BODY)
    with pytest.raises(SignatureError, match="mismatch"):
        verify_signature(SECRET, str(NOW + 1), signature, BODY, now=NOW)


@pytest.mark.parametrize("skew", [301, -301, 3600])
def test_stale_or_future_timestamp_is_rejected(skew: int) -> None:
    signature = sign(SECRET, str(NOW), BODY)
    with pytest.raises(SignatureError, match="stale or replayed"):
        verify_signature(SECRET, str(NOW), signature, BODY, now=NOW + skew)


def test_skew_is_configurable() -> None:
    signature = sign(SECRET, str(NOW), BODY)
    verify_signature(SECRET, str(NOW), signature, BODY, now=NOW + 500, max_skew=600)


@pytest.mark.parametrize(
    ("timestamp", "signature", "reason"),
    [
        (None, "sha256=" + "0" * 64, "missing X-Chatwoot-Timestamp"),
        ("", "sha256=" + "0" * 64, "missing X-Chatwoot-Timestamp"),
        (str(NOW), None, "missing X-Chatwoot-Signature"),
        ("yesterday", "sha256=" + "0" * 64, "not unix seconds"),
        (str(NOW), "0" * 64, "sha256=<64 hex digits>"),
        (str(NOW), "sha256=abc", "sha256=<64 hex digits>"),
    ],
)
def test_missing_or_malformed_headers(
    timestamp: str | None, signature: str | None, reason: str
) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify_signature(SECRET, timestamp, signature, BODY, now=NOW)


def test_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(SignatureError, match="no webhook secret"):
        verify_signature("", str(NOW), sign("", str(NOW), BODY), BODY, now=NOW)


@pytest.mark.parametrize(
    ("timestamp", "signature", "problem"),
    [
        (None, "sha256=" + "0" * 64, "unsigned"),
        (str(NOW), "", "unsigned"),
        ("12.5", "sha256=" + "0" * 64, "malformed"),
        ("9" * 40, "sha256=" + "0" * 64, "malformed"),
        (str(NOW), "sha256=" + "g" * 64, "malformed"),
        (str(NOW - 301), "sha256=" + "0" * 64, "stale"),
    ],
)
def test_headers_are_judged_without_the_body(
    timestamp: str | None, signature: str | None, problem: str
) -> None:
    with pytest.raises(SignatureError) as caught:
        check_headers(timestamp, signature, now=NOW)
    assert caught.value.problem == problem


def test_signature_matches_is_one_hmac_over_the_body() -> None:
    signature = sign(SECRET, str(NOW), BODY)
    assert signature_matches(SECRET, str(NOW), signature, BODY)
    assert signature_matches(
        SECRET, str(NOW), signature.upper().replace("SHA256=", "sha256="), BODY
    )
    assert not signature_matches("other", str(NOW), signature, BODY)
    assert not signature_matches(SECRET, str(NOW), signature, BODY + b" ")
