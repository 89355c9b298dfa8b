"""Coupons as pricing adjusters: pure (no database), integer fen, every figure explained.

A :class:`CouponOffer` is what one issued coupon takes off a cart: a fixed amount, a
percentage with a cap, an amount once the eligible goods reach a threshold (满减), or the
delivery fee. Its *scope* says which lines are eligible: every product, the products of some
categories (their whole subtrees: :func:`category_subtrees` expands them), or some products.
The caller resolves the scope to the eligible product ids once; the offer only compares ids.

A goods coupon runs at :attr:`Stage.COUPON` and spreads its discount over the eligible lines
in proportion to what each still costs, as line adjustments: the discount never touches an
ineligible line and never exceeds the eligible goods. A free-shipping coupon runs at
:attr:`Stage.SHIPPING` and asks for the delivery fee (capped by the pricing module at the
fee). When the eligible goods fall short of the threshold the coupon gives nothing and its
note says how much is missing (``THRESHOLD_UNMET``); a *strict* offer (checkout's) raises
:class:`NotApplicable` with that note instead, before anything is written, so the customer is
told which coupon does not apply and why.

Stacking (:func:`stacking_problem`): at most one goods coupon per order unless every goods
coupon chosen is stackable; at most one free-shipping coupon, which combines with a goods
coupon. Earlier stages (special prices, member discounts, spend-and-save) apply first and a
coupon sees what they left.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from django.utils.translation import gettext_noop

from siyu.core.money import MAX_AMOUNT
from siyu.orders.pricing import Adjustment, LineView, Note, PricingState, Stage, allocate

Kind = Literal["fixed", "percent", "threshold", "free_shipping"]
KINDS: tuple[Kind, ...] = ("fixed", "percent", "threshold", "free_shipping")
BASIS_POINTS = 10_000  # 100 %

THRESHOLD_UNMET = gettext_noop(
    "Coupon %(name)s needs %(threshold)s of eligible goods: %(missing)s more"
)
NOTHING_ELIGIBLE = gettext_noop("Coupon %(name)s: no item in this order is eligible")
FIXED_NOTE = gettext_noop("Coupon %(name)s: −%(amount)s")
THRESHOLD_NOTE = gettext_noop("Coupon %(name)s: −%(amount)s on %(threshold)s or more")
PERCENT_NOTE = gettext_noop("Coupon %(name)s: %(percent)s%% off eligible goods")
PERCENT_CAPPED_NOTE = gettext_noop(
    "Coupon %(name)s: %(percent)s%% off eligible goods, at most %(cap)s"
)
SHIPPING_NOTE = gettext_noop("Coupon %(name)s: free delivery")


class OfferError(ValueError):
    """An offer that cannot exist (a caller's bug: services validate templates first)."""


class NotApplicable(ValueError):
    """A *strict* coupon the cart does not qualify for: its note says why."""

    def __init__(self, note: Note, code: str = "") -> None:
        self.note = note
        self.code = code  # the refusing adjuster's code, when it says
        super().__init__(note.key)


def _whole(value: object, name: str, *, low: int = 0, high: int = MAX_AMOUNT) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise OfferError(f"{name} must be a whole number from {low} to {high}")


@dataclass(frozen=True)
class CouponOffer:
    """One coupon applied to a cart. ``code`` names it in explanations (``coupon:12``).

    ``eligible_products``: the product ids the coupon applies to, ``None`` for every product.
    ``percent_bp`` is the share taken off in basis points (1500 = 15 % off); ``cap`` the most
    a percentage coupon gives (``None``: no cap); ``threshold`` the eligible goods needed.
    """

    code: str
    name: str
    kind: Kind
    amount: int = 0
    percent_bp: int = 0
    cap: int | None = None
    threshold: int = 0
    eligible_products: frozenset[int] | None = None
    stackable: bool = False
    strict: bool = False  # refuse (NotApplicable) instead of giving nothing

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise OfferError(f"kind must be one of {KINDS}")
        _whole(self.amount, "amount")
        _whole(self.threshold, "threshold")
        _whole(self.percent_bp, "percent_bp", high=BASIS_POINTS)
        if self.cap is not None:
            _whole(self.cap, "cap")
        if self.kind in ("fixed", "threshold") and self.amount <= 0:
            raise OfferError("a fixed or threshold coupon takes a positive amount off")
        if self.kind == "percent" and self.percent_bp <= 0:
            raise OfferError("a percentage coupon takes a positive share off")

    @property
    def stage(self) -> int:
        return Stage.SHIPPING if self.kind == "free_shipping" else Stage.COUPON

    def eligible(self, line: LineView) -> bool:
        if self.eligible_products is None:
            return True
        return line.product_id is not None and line.product_id in self.eligible_products

    def eligible_amount(self, state: PricingState) -> int:
        """What the eligible lines still cost, less their share of earlier order discounts."""
        remaining = [line.remaining for line in state.lines]
        shares = allocate(state.order_discounts, remaining)
        return sum(
            line.remaining - shares[line.index] for line in state.lines if self.eligible(line)
        )

    def adjustments(self, state: PricingState) -> Sequence[Adjustment]:
        eligible = [line for line in state.lines if self.eligible(line)]
        base = self.eligible_amount(state)
        refusal: Note | None = None
        if not eligible:
            refusal = Note(NOTHING_ELIGIBLE, {"name": self.name})
        elif base < self.threshold:
            refusal = Note(
                THRESHOLD_UNMET,
                {"name": self.name, "threshold": self.threshold, "missing": self.threshold - base},
            )
        if refusal is not None:
            if self.strict:
                raise NotApplicable(refusal, self.code)
            return [Adjustment(0, refusal)]
        if self.kind == "free_shipping":
            return [
                Adjustment(
                    self.amount or MAX_AMOUNT,
                    Note(SHIPPING_NOTE, {"name": self.name}),
                    target="shipping",
                )
            ]
        want, note = self._goods_discount(base)
        return self._spread(min(want, base), note, eligible, state)

    def _goods_discount(self, base: int) -> tuple[int, Note]:
        if self.kind == "percent":
            want = base * self.percent_bp // BASIS_POINTS
            percent = f"{self.percent_bp / 100:g}"
            if self.cap is not None:
                return min(want, self.cap), Note(
                    PERCENT_CAPPED_NOTE, {"name": self.name, "percent": percent, "cap": self.cap}
                )
            return want, Note(PERCENT_NOTE, {"name": self.name, "percent": percent})
        if self.kind == "threshold":
            return self.amount, Note(
                THRESHOLD_NOTE,
                {"name": self.name, "amount": self.amount, "threshold": self.threshold},
            )
        return self.amount, Note(FIXED_NOTE, {"name": self.name, "amount": self.amount})

    def _spread(
        self, amount: int, note: Note, eligible: list[LineView], state: PricingState
    ) -> list[Adjustment]:
        """``amount`` over the eligible lines by what each still costs (never above it)."""
        if amount <= 0:
            return [Adjustment(0, note)]
        shares = allocate(amount, [line.remaining for line in eligible])
        return [
            Adjustment(share, note, line=line.index)
            for line, share in zip(eligible, shares, strict=True)
            if share > 0
        ]


def category_subtrees(parents: Mapping[int, int | None], roots: Iterable[int]) -> set[int]:
    """The ``roots`` and every category below them, given each category's parent."""
    children: dict[int, list[int]] = {}
    for category, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(category)
    found: set[int] = set()
    todo = [r for r in roots if r in parents]
    while todo:
        category = todo.pop()
        if category in found:
            continue
        found.add(category)
        todo.extend(children.get(category, ()))
    return found


def stacking_problem(offers: Sequence[CouponOffer]) -> str | None:
    """Why these coupons cannot be used together on one order, or None."""
    goods = [o for o in offers if o.kind != "free_shipping"]
    shipping = [o for o in offers if o.kind == "free_shipping"]
    if len(shipping) > 1:
        return gettext_noop("Use at most one free-delivery coupon per order.")
    if len(goods) > 1 and not all(o.stackable for o in goods):
        return gettext_noop("Only stackable coupons can be combined in one order.")
    if len({o.code for o in offers}) != len(offers):
        return gettext_noop("The same coupon is listed twice.")
    return None


def threshold_unmet(notes: Iterable[Note]) -> Note | None:
    """The note of a coupon that gave nothing because its threshold was not met."""
    return next((n for n in notes if n.key in (THRESHOLD_UNMET, NOTHING_ELIGIBLE)), None)
