"""The offers part of the storefront's HTML checkout page: the coupon picker and "use points".

The page (``siyu.storefront.views_cart.checkout``) reads what the customer chose from its form
with :func:`read_wish` and prices the order with :func:`price`, which calls
:func:`siyu.promotions.checkout.preview` — the same composition the order is placed with — so
the total shown is the total charged.

The picker lists the customer's coupons that are still valid. Each is priced against this very
order (its context is loaded once by the preview; each coupon is one more run of the pure
pricing module, no query): what it takes off, or why it cannot be used here (the eligible goods
miss its threshold by ¥x, no item is eligible, free delivery on a pickup order, not valid yet,
paused). On the first view the coupon that takes the most off is chosen (the soonest to expire
on a tie); once the customer chose — a coupon or none — that choice stays.

Points: when the customer has points the order may take (``siyu.loyalty.selectors.
redeem_quote`` on the goods after the coupon), a "use points" switch redeems as many as it
allows; the number shown is posted back with the order, so what was shown is what is spent
(a cart changed meanwhile is refused by name on ``points``, nothing written).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from siyu.core import clock
from siyu.core.errors import InvalidInput
from siyu.core.money import format_amount
from siyu.customers.models import Customer
from siyu.orders.pricing import PricedCart
from siyu.promotions import checkout as offers_checkout
from siyu.promotions import selectors, services
from siyu.promotions.models import Coupon, CouponTemplate
from siyu.promotions.offers import NOTHING_ELIGIBLE, THRESHOLD_UNMET

AUTO = "auto"  # no choice made yet: the best coupon
NONE = "none"  # the customer chose no coupon
MAX_LISTED = 30


@dataclass(frozen=True)
class Wish:
    """What the checkout form asked for: a coupon id, ``None`` (no coupon) or ``AUTO``; points."""

    coupon: int | str | None = AUTO
    use_points: bool = False
    points: int = 0  # the points shown with the switch (what is spent when placing)

    @property
    def auto(self) -> bool:
        return self.coupon == AUTO

    def choices(self) -> offers_checkout.Choices:
        """The choices to place the order with (an unreadable coupon id is refused by name)."""
        coupon = None if self.coupon in (AUTO, None) else self.coupon
        return offers_checkout.Choices(
            coupon_id=coupon,  # type: ignore[arg-type]  # text is refused as "Unknown coupon."
            points=self.points if self.use_points else 0,
        )


def _whole(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text


def read_wish(data: Mapping[str, str], *, first_view: bool) -> Wish:
    """The customer's choice from the form (``coupon_id``: an id or ``none``; ``use_points``
    with ``points``). Without ``coupon_id`` a first view picks the best coupon; a placed
    order without it uses none (never a coupon the customer was not shown)."""
    raw = data.get("coupon_id")
    coupon: int | str | None
    if raw is None:
        coupon = AUTO if first_view else None
    elif raw.strip() in ("", NONE):
        coupon = None
    else:
        coupon = _whole(raw.strip())
    points = _whole((data.get("points") or "0").strip())
    use_points = data.get("use_points") in ("1", "on", "true")
    return Wish(coupon, use_points, points if isinstance(points, int) and points > 0 else 0)


@dataclass
class CouponChoice:
    """One of the customer's coupons as the picker shows it for this order."""

    coupon: Coupon
    summary: str
    discount: int | None  # fen it takes off this order (None: the order is not priced yet)
    problem: str  # why it cannot be used on this order ("" when it can)

    @property
    def usable(self) -> bool:
        return not self.problem and (self.discount is None or self.discount > 0)


@dataclass
class PointsChoice:
    """What "use points" would redeem on this order."""

    balance: int
    points: int  # the most this order takes
    amount: int  # fen those points are worth


@dataclass
class CheckoutOffers:
    """The priced page: the preview (``None`` when the order cannot be priced yet), the coupons
    to choose from, the coupon and points the total includes, and refusals by field."""

    preview: Any
    coupons: list[CouponChoice]
    coupon_id: int | None
    points: PointsChoice | None
    use_points: bool
    errors: dict[str, str] = field(default_factory=dict)
    failure: InvalidInput | None = None  # the order itself cannot be priced (address, items...)

    @property
    def priced(self) -> PricedCart | None:
        return self.preview.priced if self.preview is not None else None

    @property
    def points_spent(self) -> int:
        return self.points.points if self.points is not None and self.use_points else 0


def holdable(customer: Customer, now: datetime) -> list[Coupon]:
    """The customer's coupons that are still valid (usable now or later), soonest first."""
    return list(
        Coupon.objects.filter(
            customer=customer, status=Coupon.Status.AVAILABLE, valid_until__gt=now
        )
        .select_related("template")
        .order_by("valid_until", "id")[:MAX_LISTED]
    )


def _local_date(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATE_FORMAT")


def standing_problem(coupon: Coupon, now: datetime) -> str:
    """Why the coupon cannot be used on any order now ("" when it can)."""
    if coupon.valid_from > now:
        return _("Usable from %(date)s.") % {"date": _local_date(coupon.valid_from)}
    if coupon.template.status in (CouponTemplate.Status.PAUSED, CouponTemplate.Status.DRAFT):
        return _("Cannot be used at the moment.")
    return ""


def coupon_choice(
    coupon: Coupon, context: Any, base: PricedCart, currency: str, now: datetime
) -> CouponChoice:
    """Price the order with ``coupon`` (not strict: it says why instead of refusing)."""
    summary = selectors.summary(coupon.template, currency)
    problem = standing_problem(coupon, now)
    if problem:
        return CouponChoice(coupon, summary, 0, problem)
    offer = services.offer_of(coupon, strict=False)
    priced = replace(context, adjusters=[*context.adjusters, offer]).price()
    discount = priced.discount_total - base.discount_total
    mine = [d for d in priced.discounts if d.code == offer.code]
    for given in mine:
        if given.note.key == THRESHOLD_UNMET:
            missing = int(given.note.params.get("missing", 0))
            problem = _("Spend %(missing)s more on eligible items.") % {
                "missing": format_amount(missing, currency)
            }
        elif given.note.key == NOTHING_ELIGIBLE:
            problem = _("Not for these items.")
    if not problem and discount <= 0:
        if coupon.template.kind == CouponTemplate.Kind.FREE_SHIPPING:
            problem = (
                _("For delivery orders only.")
                if base.fulfilment == "pickup"
                else _("Delivery is free already.")
            )
        else:
            problem = _("Takes nothing off this order.")
    return CouponChoice(coupon, summary, max(discount, 0), problem)


def best(choices: list[CouponChoice]) -> CouponChoice | None:
    """The usable coupon that takes the most off (the soonest to expire on a tie)."""
    usable = [c for c in choices if c.usable and c.discount]
    if not usable:
        return None
    return max(usable, key=lambda c: (c.discount or 0, -c.coupon.valid_until.timestamp()))


def _points_choice(customer: Customer, goods_amount: int) -> PointsChoice | None:
    """What "use points" would redeem on ``goods_amount`` (the goods after the coupon), or
    None when the customer has none usable here (no points, points off, too few goods)."""
    from siyu.loyalty.selectors import redeem_quote

    quote = redeem_quote(customer, goods_amount)
    if quote.max_points <= 0:
        return None
    return PointsChoice(quote.balance, quote.max_points, quote.max_amount)


def price(customer: Customer, wish: Wish, *, currency: str, **placing: Any) -> CheckoutOffers:
    """The checkout page's figures for ``wish`` (``placing``: what ``checkout`` takes)."""
    now = clock.now()
    held = holdable(customer, now)
    try:
        base = offers_checkout.preview(customer, choices=offers_checkout.Choices(), **placing)
    except InvalidInput as failure:
        unpriced = [
            CouponChoice(c, selectors.summary(c.template, currency), None, standing_problem(c, now))
            for c in held
        ]
        wanted = wish.coupon if isinstance(wish.coupon, int) else None
        return CheckoutOffers(None, unpriced, wanted, None, wish.use_points, failure=failure)
    choices = [coupon_choice(c, base.context, base.priced, currency, now) for c in held]
    choices.sort(key=lambda c: (not c.usable, -(c.discount or 0), c.coupon.valid_until))
    errors: dict[str, str] = {}
    coupon_id: int | None
    if wish.auto:
        top = best(choices)
        coupon_id = top.coupon.pk if top is not None else None
    else:
        coupon_id = wish.coupon if isinstance(wish.coupon, int) else None
        if wish.coupon not in (None, coupon_id):
            errors["coupon_id"] = _("Unknown coupon.")
    preview = base
    if coupon_id is not None:
        try:
            preview = offers_checkout.preview(
                customer, choices=offers_checkout.Choices(coupon_id=coupon_id), **placing
            )
        except InvalidInput as refused:
            errors["coupon_id"] = refused.fields.get("coupon_id") or refused.message
            coupon_id, preview = None, base
    points = _points_choice(customer, preview.priced.goods_total)
    use_points = wish.use_points and points is not None and points.points > 0
    if use_points and points is not None:
        try:
            preview = offers_checkout.preview(
                customer,
                choices=offers_checkout.Choices(coupon_id=coupon_id, points=points.points),
                **placing,
            )
        except InvalidInput as refused:
            errors["points"] = refused.fields.get("points") or refused.message
            use_points = False
    return CheckoutOffers(preview, choices, coupon_id, points, use_points, errors)
