"""Random identifiers and secrets."""

from __future__ import annotations

import hashlib
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed by hand


def token(length: int = 32) -> str:
    """A URL-safe random string of letters and digits."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def short_code(length: int = 8) -> str:
    """A code a person can read and type (pickup codes, short links)."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))


def sha256_hex(value: str | bytes) -> str:
    data = value.encode() if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()
