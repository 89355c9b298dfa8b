"""The sandbox provider's notification signature (pure: no database, no clock unless given).

Every notification carries ``Siyu-Sandbox-Signature: t=<unix seconds>,v1=<hex>``
where the hex is ``HMAC-SHA256(SANDBOX_GATEWAY_KEY, "<t>.<raw body>")``. The
receiver recomputes it over the raw bytes it received, compares in constant
time, and refuses a timestamp further than ``tolerance_seconds`` from its
clock, so a captured notification cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass

SIGNATURE_HEADER = "Siyu-Sandbox-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300
_HEX = re.compile(r"[0-9a-f]{64}")


class SignatureError(ValueError):
    """Why a signature was refused (for the log; never sent back to the caller)."""


def compute(key: str | bytes, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed with ``key``."""
    secret = key.encode("utf-8") if isinstance(key, str) else key
    message = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def sign(body: bytes, key: str | bytes, timestamp: int) -> str:
    """The header value: ``t=<timestamp>,v1=<hex>``."""
    return f"t={int(timestamp)},{SCHEME}={compute(key, timestamp, body)}"


@dataclass(frozen=True)
class ParsedSignature:
    timestamp: int
    signatures: tuple[str, ...]


def parse(header: str) -> ParsedSignature:
    """Split a header into its timestamp and ``v1`` values; SignatureError when malformed."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        value = value.strip()
        if key == "t":
            if not value.isdigit() or timestamp is not None or len(value) > 12:
                raise SignatureError("the timestamp is malformed or repeated")
            timestamp = int(value)
        elif key == SCHEME and _HEX.fullmatch(value.lower()):
            signatures.append(value.lower())
    if timestamp is None:
        raise SignatureError("no timestamp")
    if not signatures:
        raise SignatureError("no v1 signature")
    return ParsedSignature(timestamp, tuple(signatures))


def verify(
    header: str | None,
    body: bytes,
    key: str | bytes,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Return when one ``v1`` of ``header`` signs ``body`` and ``t`` is fresh; else SignatureError."""
    if not header:
        raise SignatureError("no signature header")
    parsed = parse(header)
    current = time.time() if now is None else now
    if abs(current - parsed.timestamp) > tolerance_seconds:
        raise SignatureError(
            f"the timestamp is {int(current - parsed.timestamp)} s away from now "
            f"(tolerance {tolerance_seconds} s)"
        )
    expected = compute(key, parsed.timestamp, body)
    matched = False
    for candidate in parsed.signatures:
        matched |= hmac.compare_digest(expected, candidate)  # no early exit: constant time
    if not matched:
        raise SignatureError("the signature does not match the body")
