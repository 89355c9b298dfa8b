"""Pure rules of referrals (no database): which guard blocks a referral, normalised addresses,
codes people type, the month of a cap and the K-factor.

The services gather the facts (:class:`Facts`) under the inviter's lock and ask
:func:`block_reason`; the order of the checks is the order of the reasons an operator reads:
self-invite, same phone, same device, caps.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
# what people type for the letters the alphabet leaves out
LOOKALIKES = str.maketrans({"0": "O", "1": "I"})

SELF_INVITE = "self_invite"
SAME_PHONE = "same_phone"
SAME_DEVICE = "same_device"
SAME_ADDRESS = "same_address"
CAP_MONTH = "cap_month"
CAP_TOTAL = "cap_total"


def clean_code(raw: object) -> str | None:
    """An invite code as typed (spaces, dashes, lower case) → its stored form, or None when it
    cannot be one (empty, too long, characters outside the alphabet)."""
    if not isinstance(raw, str):
        return None
    text = unicodedata.normalize("NFKC", raw).upper()
    text = re.sub(r"[\s\-_.]", "", text)
    if not 4 <= len(text) <= 12 or any(ch not in CODE_ALPHABET for ch in text):
        return None
    return text


@dataclass(frozen=True)
class Guards:
    phone: bool = True
    device: bool = True
    address: bool = True


@dataclass(frozen=True)
class Facts:
    """What the guards look at when a new customer arrives through an inviter's code."""

    inviter_id: int
    invitee_id: int
    invitee_phone: str
    invitee_devices: frozenset[str]  # the device of this visit and those they logged in from
    inviter_phones: frozenset[str]  # the inviter's own number and their addresses' numbers
    other_invitee_phones: frozenset[str]  # this inviter's earlier friends
    inviter_devices: frozenset[str]
    other_invitee_devices: frozenset[str]
    month_count: int  # this inviter's referrals (not blocked) this month
    total_count: int  # and in all
    cap_per_month: int | None = None
    cap_total: int | None = None
    guards: Guards = field(default_factory=Guards)


def block_reason(facts: Facts) -> tuple[str, str] | None:
    """``(reason, what matched)`` of the first guard that blocks, or None: the referral counts."""
    if facts.inviter_id == facts.invitee_id:
        return SELF_INVITE, "customer"
    if facts.invitee_phone and facts.invitee_phone in facts.inviter_phones:
        # an inviter's own number on a second account is inviting themselves
        return SELF_INVITE, "phone"
    if facts.guards.device and facts.invitee_devices & facts.inviter_devices:
        return SAME_DEVICE, "inviter"
    if facts.guards.phone and facts.invitee_phone in facts.other_invitee_phones:
        return SAME_PHONE, "another invitee"
    if facts.guards.device and facts.invitee_devices & facts.other_invitee_devices:
        return SAME_DEVICE, "another invitee"
    if facts.cap_total is not None and facts.total_count >= facts.cap_total:
        return CAP_TOTAL, f"{facts.total_count}/{facts.cap_total}"
    if facts.cap_per_month is not None and facts.month_count >= facts.cap_per_month:
        return CAP_MONTH, f"{facts.month_count}/{facts.cap_per_month}"
    return None


_SPACE_AND_PUNCT = re.compile(r"[\s,，.。·\-—_#/\\()（）]+")
ADDRESS_PARTS = ("province", "city", "district", "street")


def normalise_address(address: Mapping[str, object] | None) -> str:
    """One comparable string of a delivery address: full-width folded (NFKC), lower case, no
    spaces or punctuation, a city repeated as its province (上海市上海市) once. Empty when the
    address has no street."""
    if not address:
        return ""
    parts = [str(address.get(name) or "") for name in ADDRESS_PARTS]
    parts = [_SPACE_AND_PUNCT.sub("", unicodedata.normalize("NFKC", p).lower()) for p in parts]
    if not parts[3]:
        return ""
    if parts[0] == parts[1]:
        parts[1] = ""
    return "".join(parts)


def same_address(order_address: Mapping[str, object] | None, known: Iterable[str]) -> bool:
    """Whether the order's address is one of ``known`` (normalised) addresses."""
    mine = normalise_address(order_address)
    return bool(mine) and mine in set(known)


def month_start(moment: datetime, time_zone: str) -> datetime:
    """The start of ``moment``'s calendar month in the merchant's time zone (aware)."""
    local = moment.astimezone(ZoneInfo(time_zone))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def within_schedule(now: datetime, starts_at: datetime | None, ends_at: datetime | None) -> bool:
    return (starts_at is None or starts_at <= now) and (ends_at is None or now < ends_at)


def may_type_code(joined_at: datetime, now: datetime, days: int, *, has_paid_order: bool) -> bool:
    """A customer may type a friend's code within ``days`` of joining, before paying anything."""
    return not has_paid_order and now - joined_at <= timedelta(days=days)


def k_factor(new_customers: int, participants: int) -> float | None:
    """New customers brought per participating customer (None when nobody took part)."""
    if participants <= 0:
        return None
    return round(new_customers / participants, 2)
