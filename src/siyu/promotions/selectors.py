"""Coupon reads shared by pages, cards and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from siyu.core import clock
from siyu.core.money import format_amount
from siyu.customers.models import Customer
from siyu.promotions.models import Coupon, CouponTemplate

Kind = CouponTemplate.Kind


def summary(template: CouponTemplate, currency: str = "CNY") -> str:
    """What the coupon gives, in a few words of the active language (``¥10 off ¥50 or more``)."""
    money = lambda fen: format_amount(fen, currency)  # noqa: E731
    if template.kind == Kind.PERCENT:
        text = _("%(percent)s%% off") % {"percent": f"{template.percent_bp / 100:g}"}
        if template.cap is not None:
            text += _(", at most %(cap)s") % {"cap": money(template.cap)}
    elif template.kind == Kind.FREE_SHIPPING:
        text = _("Free delivery")
    else:
        text = _("%(amount)s off") % {"amount": money(template.amount)}
    if template.threshold:
        text += _(" on %(threshold)s or more") % {"threshold": money(template.threshold)}
    return text


def card_problem(template: CouponTemplate) -> str | None:
    """Why a coupon card of ``template`` cannot be posted (it opens a claim page)."""
    if template.status != CouponTemplate.Status.ACTIVE:
        return _("This coupon is not active: start it first.")
    return None


@dataclass(frozen=True)
class ClaimView:
    """A template as its claim page shows it to one customer (or to a visitor)."""

    template: CouponTemplate
    summary: str
    held: int  # coupons of it the customer holds (0 for a visitor)
    problem: str  # why it cannot be claimed now, "" when it can

    @property
    def can_claim(self) -> bool:
        return not self.problem


def claim_view(template: CouponTemplate, customer: Customer | None, currency: str) -> ClaimView:
    from siyu.promotions.services import audience_problem, claim_problem

    now = clock.now()
    held = (
        Coupon.objects.filter(template=template, customer=customer).count()
        if customer is not None
        else 0
    )
    problem = claim_problem(template, now) or ""
    if not problem and template.remaining <= 0:
        problem = _("All of these coupons have been claimed.")
    if not problem and customer is not None:
        if held >= template.per_customer_limit:
            problem = _("You already hold as many of this coupon as allowed (%(n)d).") % {
                "n": template.per_customer_limit
            }
        else:
            problem = audience_problem(template, customer) or ""
    return ClaimView(template, summary(template, currency), held, problem)


def customer_coupons(customer: Customer, status: str | None = None) -> QuerySet[Coupon]:
    """The customer's coupons, usable ones first by the soonest to expire, then the rest."""
    found = Coupon.objects.filter(customer=customer).select_related("template")
    if status:
        found = found.filter(status=status)
    return found.order_by("status", "valid_until", "id")


def shown_status(coupon: Coupon, now: datetime | None = None) -> str:
    """The status a customer sees: an available coupon past its validity is expired already."""
    now = now or clock.now()
    if coupon.status == Coupon.Status.AVAILABLE and coupon.valid_until <= now:
        return Coupon.Status.EXPIRED
    return coupon.status
