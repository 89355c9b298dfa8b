"""Points and tier arithmetic: pure (no database), integers only.

* :func:`earned_on` — points an order earns: amount paid × points per ¥1 × tier multiplier,
  rounded down.
* :func:`kept_share` — what part of a figure an order keeps after refunds, rounded down
  (so what is taken back or returned is rounded up, and never more than the figure).
* :func:`expiry_of` — when a lot earned at a moment expires under the merchant's rule.
* :func:`tier_for` / :func:`next_tier` — which tier figures qualify for, and how far the next is.
* :func:`fifo` — which lots a debit consumes (earliest-expiring first, never-expiring last).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

BASIS_POINTS = 10_000
FEN_PER_YUAN = 100

NEVER = "never"
END_OF_NEXT_YEAR = "next_year_end"
DAYS = "days"


def earned_on(paid: int, earn_per_yuan: int, multiplier_bp: int = BASIS_POINTS) -> int:
    """Points earned on ``paid`` fen (floor; never negative)."""
    if paid <= 0 or earn_per_yuan <= 0 or multiplier_bp <= 0:
        return 0
    return paid * earn_per_yuan * multiplier_bp // (FEN_PER_YUAN * BASIS_POINTS)


def kept_share(figure: int, net: int, total: int) -> int:
    """The part of ``figure`` an order keeps when ``net`` of its ``total`` is still paid."""
    if figure <= 0:
        return 0
    if total <= 0:
        return figure if net >= 0 and total == 0 else 0
    net = max(0, min(net, total))
    return figure * net // total


def expiry_of(earned_at: datetime, rule: str, days: int, time_zone: str) -> datetime | None:
    """When points earned at ``earned_at`` expire: never, at the end of the following year in
    the merchant's time zone (midnight starting 1 January of year + 2), or after ``days``."""
    if rule == END_OF_NEXT_YEAR:
        zone = ZoneInfo(time_zone)
        local = earned_at.astimezone(zone)
        return datetime(local.year + 2, 1, 1, tzinfo=zone)
    if rule == DAYS:
        return earned_at + timedelta(days=max(1, days))
    return None


@dataclass(frozen=True)
class Lot:
    """A positive entry with points still left."""

    entry_id: int
    left: int
    expires_at: datetime | None


def fifo(lots: Sequence[Lot], points: int) -> list[tuple[int, int]]:
    """``(lot id, points)`` a debit of ``points`` takes, earliest-expiring lots first (lots that
    never expire last, then by id). Takes at most what the lots hold."""
    order = sorted(
        (lot for lot in lots if lot.left > 0),
        key=lambda lot: (
            lot.expires_at is None,
            lot.expires_at.timestamp() if lot.expires_at else 0.0,
            lot.entry_id,
        ),
    )
    taken: list[tuple[int, int]] = []
    want = points
    for lot in order:
        if want <= 0:
            break
        take = min(lot.left, want)
        taken.append((lot.entry_id, take))
        want -= take
    return taken


@dataclass(frozen=True)
class TierRule:
    id: int
    rank: int
    name: str
    basis: str  # "spend" (fen) or "points"
    threshold: int


def _figure(rule: TierRule, spend: int, points: int) -> int:
    return spend if rule.basis == "spend" else points


def tier_for(tiers: Sequence[TierRule], spend: int, points: int) -> TierRule | None:
    """The highest-ranked tier whose threshold the figures reach (None: no tier)."""
    best: TierRule | None = None
    for rule in sorted(tiers, key=lambda t: (t.rank, t.id)):
        if _figure(rule, spend, points) >= rule.threshold:
            best = rule
    return best


@dataclass(frozen=True)
class Progress:
    tier: TierRule
    basis: str
    have: int
    need: int  # what is still missing

    @property
    def percent(self) -> int:
        if self.tier.threshold <= 0:
            return 100
        return min(100, self.have * 100 // self.tier.threshold)


def next_tier(
    tiers: Sequence[TierRule], current: TierRule | None, spend: int, points: int
) -> Progress | None:
    """The next tier above ``current`` and what is missing to reach it (None: at the top)."""
    ranked = sorted(tiers, key=lambda t: (t.rank, t.id))
    above = ranked if current is None else ranked[ranked.index(current) + 1 :]
    for rule in above:
        have = _figure(rule, spend, points)
        if have < rule.threshold:
            return Progress(rule, rule.basis, have, rule.threshold - have)
    return None
