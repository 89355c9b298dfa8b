"""Coupon writes: claiming and issuing, using at checkout, giving back, expiring.

Concurrency (the rulebook): a claim takes one coupon off the template with one conditional
UPDATE (``remaining > 0``), which also row-locks the template until the transaction ends, so
claims of one template queue there; only then does it count what the customer holds and
insert the coupon in the next *slot*, unique per (template, customer) and at most the
per-customer limit. A claim that loses a race on the slot hits the unique constraint, rolls
back its savepoint (the decrement with it) and tries again. Using a coupon is a conditional
UPDATE (``status = available``), so one coupon pays for one order.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from siyu.core import clock, events
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.tenancy import current_merchant
from siyu.customers.models import Customer
from siyu.promotions import events as promotion_events
from siyu.promotions.models import Coupon, CouponTemplate
from siyu.promotions.offers import CouponOffer, category_subtrees

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 12
MAX_CLIENT_KEY = 64
Source = Coupon.Source


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _n in range(CODE_LENGTH))


# --- claiming ----------------------------------------------------------------------------------


def audience_problem(template: CouponTemplate, customer: Customer) -> str | None:
    """Why ``customer`` may not claim ``template``, or None."""
    from siyu.customers.models import CustomerTag
    from siyu.customers.segments import segment_customers
    from siyu.orders.models import Order

    Audience = CouponTemplate.Audience
    if template.audience == Audience.NEW:
        if Order.objects.filter(customer=customer, paid_at__isnull=False).exists():
            return _("This coupon is for new customers only.")
    elif template.audience == Audience.TAG:
        tag_id = template.audience_tag_id
        if (
            tag_id is None
            or not CustomerTag.objects.filter(customer=customer, tag_id=tag_id).exists()
        ):
            return _("This coupon is not offered to you.")
    elif template.audience == Audience.SEGMENT:
        segment = template.audience_segment
        if segment is None or not segment_customers(segment).filter(pk=customer.pk).exists():
            return _("This coupon is not offered to you.")
    return None


def claim_problem(template: CouponTemplate, now: datetime) -> str | None:
    """Why nobody can claim ``template`` now, or None (quantity is checked by the claim)."""
    if template.status == CouponTemplate.Status.SCHEDULED and template.starts_at is not None:
        return _("Claims open on %(when)s.") % {
            "when": formats.date_format(timezone.localtime(template.starts_at), "Y-m-d H:i")
        }
    if template.status != CouponTemplate.Status.ACTIVE:
        return _("This coupon is not available.")
    ended = template.valid_until is not None and template.valid_until <= now
    if template.validity == CouponTemplate.Validity.DATES and ended:
        return _("This coupon has ended.")
    return None


def validity_of(template: CouponTemplate, now: datetime) -> tuple[datetime, datetime]:
    if template.validity == CouponTemplate.Validity.DAYS:
        return now, now + timedelta(days=template.valid_days or 0)
    assert template.valid_until is not None
    return template.valid_from or now, template.valid_until


def _by_key(customer: Customer, client_key: str) -> Coupon | None:
    if not client_key:
        return None
    return Coupon.objects.filter(customer=customer, client_key=client_key).first()


def claim(
    template_id: int,
    customer: Customer,
    *,
    source: str = Source.CLAIM_PAGE,
    client_key: str = "",
    check_audience: bool = True,
) -> Coupon:
    """Issue one coupon of ``template_id`` to ``customer``; a repeated ``client_key`` answers
    the coupon its first claim issued. Raises ``NotFound`` for an unknown template,
    ``InvalidInput`` naming ``template_id`` when the customer may not claim it (not offered to
    them, their limit reached, ended) and ``Conflict`` (``sold_out``) when none are left."""
    if not isinstance(client_key, str) or len(client_key) > MAX_CLIENT_KEY:
        reason = _("At most %(n)d characters.") % {"n": MAX_CLIENT_KEY}
        raise InvalidInput(reason, fields={"client_key": reason})
    if source not in Source.values:
        raise InvalidInput(_("Unknown source."), fields={"source": _("Unknown source.")})
    previous = _by_key(customer, client_key)
    if previous is not None:
        if previous.template_id != template_id:
            reason = _("This key was used for another coupon.")
            raise InvalidInput(reason, fields={"client_key": reason})
        return previous
    template = CouponTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise NotFound(_("Not found."))
    if customer.status != Customer.Status.ACTIVE:
        reason = _("This account cannot claim coupons.")
        raise InvalidInput(reason, fields={"customer_id": reason})
    now = clock.now()
    problem = claim_problem(template, now) or (
        audience_problem(template, customer) if check_audience else None
    )
    if problem:
        raise InvalidInput(problem, fields={"template_id": problem})
    for _attempt in range(template.per_customer_limit + 2):
        try:
            with transaction.atomic():
                return _issue(template, customer, source, client_key, now)
        except IntegrityError:
            # another claim by this customer took the slot (or the key): look again
            previous = _by_key(customer, client_key)
            if previous is not None:
                return previous
    raise Conflict(_("Too many claims at once: try again."), code="busy")


def _issue(
    template: CouponTemplate, customer: Customer, source: str, client_key: str, now: datetime
) -> Coupon:
    taken = CouponTemplate.objects.filter(
        pk=template.pk, remaining__gt=0, status=CouponTemplate.Status.ACTIVE
    ).update(remaining=F("remaining") - 1, issued_count=F("issued_count") + 1)
    if not taken:
        raise Conflict(_("All of these coupons have been claimed."), code="sold_out")
    # the template row is locked by this transaction now: the count sees every earlier claim
    held = Coupon.objects.filter(template=template, customer=customer).count()
    if held >= template.per_customer_limit:
        reason = _("You already hold as many of this coupon as allowed (%(n)d).") % {
            "n": template.per_customer_limit
        }
        raise InvalidInput(reason, fields={"template_id": reason})
    valid_from, valid_until = validity_of(template, now)
    coupon = Coupon.objects.create(
        template=template,
        customer=customer,
        code=new_code(),
        slot=held + 1,
        client_key=client_key,
        source=source,
        claimed_at=now,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    events.emit(
        current_merchant(),
        promotion_events.COUPON_CLAIMED,
        {
            "coupon_id": coupon.pk,
            "template_id": template.pk,
            "customer_id": customer.pk,
            "source": source,
            "valid_until": valid_until.isoformat(),
        },
        aggregate=coupon,
    )
    return coupon


# --- checkout ----------------------------------------------------------------------------------

FIELD = "coupon_id"


def _refuse(reason: str) -> InvalidInput:
    return InvalidInput(reason, fields={FIELD: reason})


def usable_coupon(customer: Customer, coupon_id: object, *, now: datetime | None = None) -> Coupon:
    """The customer's coupon ``coupon_id`` if it can pay for an order now; else ``InvalidInput``
    naming ``coupon_id`` and saying why (not theirs, used, expired, not yet valid, paused)."""
    now = now or clock.now()
    if isinstance(coupon_id, bool) or not isinstance(coupon_id, int) or coupon_id <= 0:
        raise _refuse(_("Unknown coupon."))
    coupon = (
        Coupon.objects.select_related("template").filter(pk=coupon_id, customer=customer).first()
    )
    if coupon is None:
        raise _refuse(_("Unknown coupon."))
    if coupon.status == Coupon.Status.USED:
        raise _refuse(_("This coupon has been used."))
    if coupon.status != Coupon.Status.AVAILABLE or coupon.valid_until <= now:
        raise _refuse(_("This coupon has expired."))
    if coupon.valid_from > now:
        raise _refuse(_("This coupon cannot be used yet."))
    if coupon.template.status not in (CouponTemplate.Status.ACTIVE, CouponTemplate.Status.ENDED):
        raise _refuse(_("This coupon cannot be used at the moment."))
    return coupon


def eligible_products(template: CouponTemplate) -> frozenset[int] | None:
    """The product ids the template's scope covers (``None``: every product); categories count
    with their whole subtrees."""
    from siyu.catalog.models import Category, Product

    ids = [i for i in template.scope_ids if isinstance(i, int)]
    if template.scope == CouponTemplate.Scope.ALL:
        return None
    if template.scope == CouponTemplate.Scope.PRODUCTS:
        return frozenset(ids)
    parents = dict(Category.objects.values_list("id", "parent_id"))
    categories = category_subtrees(parents, ids)
    return frozenset(
        Product.objects.filter(category_id__in=categories).values_list("pk", flat=True)
    )


def offer_of(coupon: Coupon, *, strict: bool = True) -> CouponOffer:
    """The pricing adjuster of ``coupon`` (strict: it refuses a cart it does not apply to)."""
    t = coupon.template
    return CouponOffer(
        code=f"coupon:{coupon.pk}",
        name=t.name,
        kind=t.kind,  # type: ignore[arg-type]
        amount=t.amount,
        percent_bp=t.percent_bp,
        cap=t.cap,
        threshold=t.threshold,
        eligible_products=eligible_products(t),
        stackable=t.stackable,
        strict=strict,
    )


@dataclass(frozen=True)
class Applied:
    coupon: Coupon
    offer: CouponOffer


def apply(customer: Customer, coupon_id: object) -> Applied:
    """Check ``coupon_id`` for ``customer`` and build its (strict) adjuster."""
    coupon = usable_coupon(customer, coupon_id)
    return Applied(coupon, offer_of(coupon))


def cart_view(
    customer: Customer, *, coupon_id: int | None, fulfilment: str, store_id: int | None
) -> Any:
    """The customer's cart priced with the coupon (``InvalidInput`` on ``coupon_id`` when it
    does not apply: not theirs, used, expired, threshold not met, nothing eligible)."""
    from siyu.promotions import checkout as offers_checkout

    return offers_checkout.cart_view(
        customer,
        choices=offers_checkout.Choices(coupon_id=coupon_id),
        fulfilment=fulfilment,
        store_id=store_id,
    )


def checkout(customer: Customer, *, coupon_id: int | None, **placing: Any) -> Any:
    """Place an order with the coupon ``coupon_id`` (see :mod:`siyu.promotions.checkout`,
    which also takes points and activity prices)."""
    from siyu.promotions import checkout as offers_checkout

    return offers_checkout.checkout(
        customer, choices=offers_checkout.Choices(coupon_id=coupon_id), **placing
    )


def mark_used(applied: Applied, order: Any, discount: int) -> None:
    """Mark the coupon used on ``order`` in the caller's (the order's) transaction."""
    now = clock.now()
    changed = Coupon.objects.filter(pk=applied.coupon.pk, status=Coupon.Status.AVAILABLE).update(
        status=Coupon.Status.USED, order=order, used_at=now, discount=discount
    )
    if not changed:
        raise _refuse(_("This coupon has been used."))
    CouponTemplate.objects.filter(pk=applied.coupon.template_id).update(
        used_count=F("used_count") + 1
    )
    events.emit(
        current_merchant(),
        promotion_events.COUPON_USED,
        {
            "coupon_id": applied.coupon.pk,
            "template_id": applied.coupon.template_id,
            "order_id": order.pk,
            "discount": discount,
        },
        aggregate=applied.coupon,
    )


@transaction.atomic
def give_back(order_id: int) -> list[Coupon]:
    """The order was cancelled or refunded in full: its coupons are available again while
    valid, expired otherwise. Idempotent: a coupon already given back is left alone."""
    now = clock.now()
    coupons = list(
        Coupon.objects.select_for_update().filter(order_id=order_id, status=Coupon.Status.USED)
    )
    for coupon in coupons:
        valid = coupon.valid_until > now
        coupon.status = Coupon.Status.AVAILABLE if valid else Coupon.Status.EXPIRED
        coupon.order = None
        coupon.used_at = None
        coupon.discount = 0
        coupon.save(update_fields=["status", "order", "used_at", "discount"])
        CouponTemplate.objects.filter(pk=coupon.template_id).update(used_count=F("used_count") - 1)
        events.emit(
            current_merchant(),
            promotion_events.COUPON_RETURNED,
            {"coupon_id": coupon.pk, "order_id": order_id, "status": coupon.status},
            aggregate=coupon,
        )
    return coupons


@transaction.atomic
def expire_due(now: datetime | None = None) -> int:
    """Mark the bound merchant's unused coupons past their validity expired."""
    now = now or clock.now()
    due = list(
        Coupon.objects.select_for_update()
        .filter(status=Coupon.Status.AVAILABLE, valid_until__lte=now)
        .order_by("pk")
        .values_list("pk", "template_id")
    )
    counts: dict[int, int] = {}
    for _pk, template_id in due:
        counts[template_id] = counts.get(template_id, 0) + 1
    changed = Coupon.objects.filter(pk__in=[pk for pk, _t in due]).update(
        status=Coupon.Status.EXPIRED
    )
    for template_id, count in sorted(counts.items()):
        events.emit(
            current_merchant(),
            promotion_events.COUPON_EXPIRED,
            {"template_id": template_id, "count": count},
        )
    return changed
