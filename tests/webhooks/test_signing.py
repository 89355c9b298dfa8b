"""The signature scheme, checked against HMACs computed here independently."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from siyu.webhooks import signing

SECRET = "whsec_test_0123456789abcdef"
BODY = b'{"id":42,"type":"catalog.product.created","data":{"name":"\xe6\x8b\xbf\xe9\x93\x81"}}'
T = 1_767_225_600  # 2026-01-01T00:00:00Z


def reference_hmac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_known_vector():
    # computed independently with `openssl dgst -sha256 -hmac` and written down: no drift
    assert signing.compute(SECRET, T, BODY) == (
        "c77378528c730b3571d0cadc9114be605f0c4a53af4b7a41af11131ff1007306"
    )
    assert signing.compute(SECRET, T, BODY) == reference_hmac(SECRET, T, BODY)


def test_sign_header_format():
    header = signing.sign(BODY, SECRET, T)
    assert header == f"t={T},v1={reference_hmac(SECRET, T, BODY)}"
    assert signing.sign(BODY.decode(), SECRET, T) == header  # text and bytes sign alike


def test_verify_accepts_a_fresh_genuine_signature():
    header = signing.sign(BODY, SECRET, T)
    assert signing.verify(header, BODY, SECRET, now=T + 10)
    assert signing.verify(header, BODY.decode(), SECRET, now=T - 10)


def test_verify_rejects_a_tampered_body():
    header = signing.sign(BODY, SECRET, T)
    assert not signing.verify(header, BODY.replace(b"42", b"43"), SECRET, now=T)
    assert not signing.verify(header, BODY + b" ", SECRET, now=T)


def test_verify_rejects_a_wrong_secret():
    header = signing.sign(BODY, SECRET, T)
    assert not signing.verify(header, BODY, "whsec_someone_else", now=T)


def test_verify_rejects_old_and_future_timestamps():
    header = signing.sign(BODY, SECRET, T)
    assert signing.verify(header, BODY, SECRET, now=T + 300)
    assert not signing.verify(header, BODY, SECRET, now=T + 301)
    assert not signing.verify(header, BODY, SECRET, now=T - 301)
    assert signing.verify(header, BODY, SECRET, tolerance_seconds=3600, now=T + 3000)


def test_a_moved_timestamp_breaks_the_signature():
    header = signing.sign(BODY, SECRET, T).replace(f"t={T}", f"t={T + 100}")
    assert not signing.verify(header, BODY, SECRET, now=T + 100)


def test_several_signatures_during_rotation():
    old, new = "whsec_old_secret", "whsec_new_secret"
    header = signing.sign(BODY, [new, old], T)
    assert header.count("v1=") == 2
    assert signing.verify(header, BODY, old, now=T)
    assert signing.verify(header, BODY, new, now=T)
    assert not signing.verify(header, BODY, "whsec_third", now=T)
    # order and extra unknown schemes do not matter
    t_part, v_new, v_old = header.split(",")
    assert signing.verify(f"{v_old},v0=abc,{t_part},{v_new}", BODY, new, now=T)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        f"t={T}",
        "v1=" + "a" * 64,
        f"t=abc,v1={'a' * 64}",
        f"t={T},t={T},v1={'a' * 64}",
        f"t={T},v1=not-hex",
        f"t={T},v1=é" + "a" * 63,
    ],
)
def test_malformed_headers_are_rejected_without_errors(header):
    assert not signing.verify(header, BODY, SECRET, now=T)


def test_sign_needs_a_secret():
    with pytest.raises(ValueError, match="secret"):
        signing.sign(BODY, [], T)
