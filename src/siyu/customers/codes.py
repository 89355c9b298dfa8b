"""One-time login codes: making, hashing and comparing them. Pure: no database access.

A code is six digits drawn from :mod:`secrets`. Only a keyed hash is stored:
HMAC-SHA256 with a key derived from ``SECRET_KEY``, over the merchant, the
phone number and the code, so a copied table reveals nothing without the key,
and a code for one phone or merchant never matches another's. Comparison is
in constant time.
"""

from __future__ import annotations

import hmac
import math
import re
import secrets
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.utils.crypto import salted_hmac

CODE_LENGTH = 6
CODE_RE = re.compile(r"^[0-9]{6}$")
HASH_SALT = "siyu.customers.login-code"
HOUR = timedelta(hours=1)


def new_code() -> str:
    """Six random digits, leading zeros kept (``"004217"``)."""
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"


def code_hash(merchant_id: int, phone: str, code: str) -> str:
    """The stored form of ``code``: a hex HMAC keyed with the secret key."""
    return salted_hmac(HASH_SALT, f"{merchant_id}:{phone}:{code}", algorithm="sha256").hexdigest()


def matches(stored_hash: str, merchant_id: int, phone: str, code: str) -> bool:
    """Whether ``code`` is the one hashed in ``stored_hash`` (constant-time comparison)."""
    return hmac.compare_digest(stored_hash, code_hash(merchant_id, phone, code))


def clean_code(raw: str) -> str | None:
    """The six digits a person typed (spaces and full-width digits allowed), or None."""
    text = "".join(unicodedata.normalize("NFKC", raw or "").split())
    return text if CODE_RE.match(text) else None


def wait_seconds(
    recent_sends: Sequence[datetime],
    now: datetime,
    *,
    resend_seconds: int,
    max_per_hour: int,
) -> int:
    """Seconds to wait before one more code may be sent; 0 when it may be sent now.

    ``recent_sends`` are the times of earlier sends (to one phone, or from one
    address), newest first, at least ``max_per_hour`` of them when there are
    that many. One send per ``resend_seconds``, ``max_per_hour`` in any hour.
    """
    wait = 0.0
    if recent_sends:
        wait = max(
            wait, (recent_sends[0] + timedelta(seconds=resend_seconds) - now).total_seconds()
        )
    window = [sent for sent in recent_sends if sent > now - HOUR]
    if max_per_hour > 0 and len(window) >= max_per_hour:
        oldest_counted = window[max_per_hour - 1]
        wait = max(wait, (oldest_counted + HOUR - now).total_seconds())
    return max(0, math.ceil(wait))
