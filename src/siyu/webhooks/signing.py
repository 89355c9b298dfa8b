"""Webhook signatures (pure: no database, no clock unless given one).

Every delivery carries ``Siyu-Signature: t=<unix seconds>,v1=<hex>`` where the
hex is ``HMAC-SHA256(secret, "<t>.<raw body>")``. While a rotated secret is in
its grace period the header carries one ``v1`` per secret, so a receiver that
still knows only the old secret, or already only the new one, accepts it.

A receiver verifies with :func:`verify`: it recomputes the HMAC over the raw
bytes it received, compares in constant time with every ``v1`` given, and
refuses a timestamp further than ``tolerance_seconds`` from now (replays of an
old, captured request).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

SIGNATURE_HEADER = "Siyu-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300
_HEX = re.compile(r"[0-9a-f]{64}")


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def compute(secret: str | bytes, timestamp: int, body: str | bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed with ``secret``."""
    message = str(int(timestamp)).encode("ascii") + b"." + _as_bytes(body)
    return hmac.new(_as_bytes(secret), message, hashlib.sha256).hexdigest()


def sign(body: str | bytes, secrets: str | Sequence[str], timestamp: int) -> str:
    """The ``Siyu-Signature`` header value: ``t=…`` and one ``v1=…`` per secret."""
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    if not keys:
        raise ValueError("at least one secret is needed to sign")
    parts = [f"t={int(timestamp)}"]
    parts += [f"{SCHEME}={compute(key, timestamp, body)}" for key in keys]
    return ",".join(parts)


@dataclass(frozen=True)
class ParsedSignature:
    timestamp: int
    signatures: tuple[str, ...]


def parse(header: str) -> ParsedSignature | None:
    """Split a header into its timestamp and its ``v1`` values; None when malformed."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            if not value.isdigit() or timestamp is not None:
                return None
            timestamp = int(value)
        elif key == SCHEME and _HEX.fullmatch(value.strip().lower()):
            signatures.append(value.strip().lower())
    if timestamp is None or not signatures:
        return None
    return ParsedSignature(timestamp, tuple(signatures))


def verify(
    header: str,
    body: str | bytes,
    secret: str | bytes,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when one ``v1`` of ``header`` is the HMAC of ``body`` and the time is fresh.

    ``body`` must be the raw bytes received, before any JSON parsing.
    """
    parsed = parse(header or "")
    if parsed is None:
        return False
    current = time.time() if now is None else now
    if abs(current - parsed.timestamp) > tolerance_seconds:
        return False
    expected = compute(secret, parsed.timestamp, body)
    matched = False
    for candidate in parsed.signatures:
        # compare every value (no early exit) so the time taken says nothing
        matched |= hmac.compare_digest(expected, candidate)
    return matched
