"""Group-buy rules that need no database: the group price as a pricing adjuster, an activity's
phase at a moment, a team's deadline, and the results' ratios.

Pure: integer fen, no queries, tested in isolation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext_noop

from siyu.orders.pricing import Adjustment, Note, PricingState, Stage

DRAFT = "draft"
SCHEDULED = "scheduled"
RUNNING = "running"
PAUSED = "paused"
ENDED = "ended"

GROUP_PRICE_NOTE = gettext_noop("Group-buy price %(unit_price)s each: −%(amount)s")


@dataclass(frozen=True)
class GroupPrice:
    """The group price of one SKU, as a ``Stage.PRICE`` adjuster: each line of ``sku_id``
    costs ``group_price`` per unit instead of its price (never more than the line)."""

    activity_id: int
    sku_id: int
    group_price: int
    stage: int = Stage.PRICE

    @property
    def code(self) -> str:
        return f"groupbuy:{self.activity_id}"

    def adjustments(self, state: PricingState) -> Sequence[Adjustment]:
        asks = []
        for line in state.lines:
            if line.sku_id != self.sku_id or line.unit_price <= self.group_price:
                continue
            amount = (line.unit_price - self.group_price) * line.quantity
            asks.append(
                Adjustment(
                    amount,
                    Note(GROUP_PRICE_NOTE, {"unit_price": self.group_price, "amount": amount}),
                    line=line.index,
                )
            )
        return asks


def phase(status: str, starts_at: datetime, ends_at: datetime, now: datetime) -> str:
    """What an activity is at ``now``: a scheduled one runs from its start, and anything not
    yet ended has ended at its end (the minute job writes these moves down)."""
    if status in (DRAFT, ENDED):
        return status
    if now >= ends_at:
        return ENDED
    if status == SCHEDULED:
        return RUNNING if now >= starts_at else SCHEDULED
    return status


def team_deadline(opened_at: datetime, fill_hours: int, ends_at: datetime) -> datetime:
    """A team must fill within ``fill_hours`` of opening, and before the activity ends."""
    return min(opened_at + timedelta(hours=fill_hours), ends_at)


def success_rate(succeeded: int, failed: int) -> float | None:
    """Share of closed teams that filled (None before any closed)."""
    closed = succeeded + failed
    return succeeded / closed if closed else None


def k_factor(new_customers: int, participants: int) -> float | None:
    """New customers brought per participating customer (None with no participant)."""
    return new_customers / participants if participants else None


def initials(name: str, phone: str) -> str:
    """What a member's avatar shows: the first character of the name, else the last 2 digits
    of the phone (a customer's name is optional)."""
    name = name.strip()
    if name:
        return name[0].upper()
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[-2:] if digits else "?"


def masked_name(name: str, phone: str) -> str:
    """How other customers see a member: the name's first character and a star, or the phone
    with its middle hidden (138****0000)."""
    name = name.strip()
    if name:
        return name[0] + "*" * min(2, max(1, len(name) - 1))
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) >= 7:
        local = digits[-11:]
        return f"{local[:3]}****{local[-4:]}"
    return "***"
