"""The bargain price as a pricing adjuster: pure (no database), integer fen, explained.

:class:`BargainPrice` runs at :attr:`Stage.PRICE` and sets the unit price of the bargain's
SKU to the bargain's current price: it takes ``unit price − bargain price`` off each unit of
that line (nothing when the catalog price is already lower). It is strict: a cart without the
SKU is :class:`~siyu.promotions.offers.NotApplicable`, so a bargain price never lands on
another product.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext_noop

from siyu.orders.pricing import Adjustment, Note, PricingState, Stage
from siyu.promotions.offers import NotApplicable

PRICE_NOTE = gettext_noop("Bargain price %(unit_price)s: −%(amount)s")
NOT_IN_CART = gettext_noop("The bargain's product is not in this order")


@dataclass(frozen=True)
class BargainPrice:
    code: str  # "bargain:<id>"
    sku_id: int
    unit_price: int  # the bargain's current price, fen
    stage: int = Stage.PRICE

    def adjustments(self, state: PricingState) -> Sequence[Adjustment]:
        lines = [line for line in state.lines if line.sku_id == self.sku_id]
        if not lines:
            raise NotApplicable(Note(NOT_IN_CART), self.code)
        asks = []
        for line in lines:
            off = max(line.unit_price - self.unit_price, 0) * line.quantity
            asks.append(
                Adjustment(
                    off,
                    Note(PRICE_NOTE, {"unit_price": self.unit_price, "amount": off}),
                    line=line.index,
                )
            )
        return asks
