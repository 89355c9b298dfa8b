"""The sandbox signature: a known vector, tampering, wrong key, stale and malformed headers."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from siyu.payments.sandbox import signing

KEY = "sandbox-test-key"
BODY = b'{"id":"evt_1","type":"payment.succeeded","amount":1800}'
T = 1_767_225_600


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(KEY.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signing.compute(KEY, T, BODY) == expected
    assert signing.sign(BODY, KEY, T) == f"t={T},v1={expected}"


def test_a_fresh_signature_verifies():
    signing.verify(signing.sign(BODY, KEY, T), BODY, KEY, now=T + 10)


def test_a_tampered_body_is_refused():
    header = signing.sign(BODY, KEY, T)
    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.verify(header, BODY.replace(b"1800", b"1"), KEY, now=T)


def test_another_key_is_refused():
    header = signing.sign(BODY, "someone-else", T)
    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.verify(header, BODY, KEY, now=T)


@pytest.mark.parametrize("offset", [301, -301, 86_400])
def test_a_timestamp_outside_the_tolerance_is_refused(offset):
    header = signing.sign(BODY, KEY, T)
    with pytest.raises(signing.SignatureError, match="away from now"):
        signing.verify(header, BODY, KEY, now=T + offset)


def test_the_tolerance_edge_is_accepted():
    signing.verify(signing.sign(BODY, KEY, T), BODY, KEY, now=T + 300)
    signing.verify(signing.sign(BODY, KEY, T), BODY, KEY, now=T - 300)


def test_a_changed_timestamp_breaks_the_signature():
    """Moving ``t`` forward to pass the freshness check invalidates the HMAC."""
    digest = signing.compute(KEY, T, BODY)
    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.verify(f"t={T + 3600},v1={digest}", BODY, KEY, now=T + 3600)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        f"t={T}",
        "v1=" + "a" * 64,
        f"t=abc,v1={'a' * 64}",
        f"t={T},t={T},v1={'a' * 64}",
        f"t={T},v1=zz",
    ],
)
def test_malformed_headers_are_refused(header):
    with pytest.raises(signing.SignatureError):
        signing.verify(header, BODY, KEY, now=T)


def test_any_of_several_v1_values_may_match():
    good = signing.compute(KEY, T, BODY)
    signing.verify(f"t={T},v1={'0' * 64},v1={good}", BODY, KEY, now=T)
