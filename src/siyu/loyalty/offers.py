"""Points and member tiers as pricing adjusters: pure (no database), integer fen, explained.

* :class:`PointsOffer` (``Stage.POINTS``) takes ``points × fen_per_point`` off the whole order,
  capped at ``max_redeem_bp`` of the goods still to pay after every earlier stage, in whole
  points only: fewer points are used when the cap is lower, and the note says how many.
* :class:`TierDiscount` (``Stage.MEMBER``) takes the tier's percentage off each line,
  rounded down per line, explained with the tier's name.
* :class:`TierFreeShipping` (``Stage.SHIPPING``) asks for the delivery fee (the pricing module
  caps it at the fee).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext_noop

from siyu.core.money import MAX_AMOUNT
from siyu.orders.pricing import DELIVERY, Adjustment, Note, PricingState, Stage

BASIS_POINTS = 10_000

POINTS_NOTE = gettext_noop("%(points)s points: −%(amount)s")
TIER_NOTE = gettext_noop("Member %(tier)s: %(percent)s%% off")
TIER_SHIPPING_NOTE = gettext_noop("Member %(tier)s: free delivery")

POINTS_CODE = "points"
TIER_CODE = "tier"
TIER_SHIPPING_CODE = "tier:shipping"


def usable_points(points: int, goods: int, fen_per_point: int, max_redeem_bp: int) -> int:
    """How many of ``points`` pay for ``goods`` fen: whole points, at most the share allowed."""
    if points <= 0 or goods <= 0 or fen_per_point <= 0 or max_redeem_bp <= 0:
        return 0
    cap = goods * min(max_redeem_bp, BASIS_POINTS) // BASIS_POINTS
    return min(points, cap // fen_per_point)


@dataclass(frozen=True)
class PointsOffer:
    points: int
    fen_per_point: int
    max_redeem_bp: int
    code: str = POINTS_CODE
    stage: int = Stage.POINTS

    def used(self, state: PricingState) -> int:
        return usable_points(
            self.points, state.goods_remaining, self.fen_per_point, self.max_redeem_bp
        )

    def adjustments(self, state: PricingState) -> Sequence[Adjustment]:
        used = self.used(state)
        amount = used * self.fen_per_point
        return [Adjustment(amount, Note(POINTS_NOTE, {"points": used, "amount": amount}))]


@dataclass(frozen=True)
class TierDiscount:
    tier: str
    discount_bp: int
    code: str = TIER_CODE
    stage: int = Stage.MEMBER

    def adjustments(self, state: PricingState) -> Sequence[Adjustment]:
        share = max(0, min(self.discount_bp, BASIS_POINTS))
        note = Note(TIER_NOTE, {"tier": self.tier, "percent": f"{share / 100:g}"})
        asks = [
            Adjustment(line.remaining * share // BASIS_POINTS, note, line=line.index)
            for line in state.lines
            if line.remaining * share // BASIS_POINTS > 0
        ]
        return asks or [Adjustment(0, note)]


@dataclass(frozen=True)
class TierFreeShipping:
    tier: str
    code: str = TIER_SHIPPING_CODE
    stage: int = Stage.SHIPPING

    def adjustments(self, state: PricingState) -> Sequence[Adjustment]:
        if state.fulfilment != DELIVERY:
            return []  # pickup has no fee to waive: nothing to explain
        return [
            Adjustment(MAX_AMOUNT, Note(TIER_SHIPPING_NOTE, {"tier": self.tier}), target="shipping")
        ]
