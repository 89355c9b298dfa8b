"""Points writes: awarding, staff adjustments, daily sign-in, points on orders, expiry.

Each function validates, locks the customer's points account (:func:`siyu.loyalty.ledger.lock`),
appends entries and emits events in one transaction. Every entry carries a ``reference``
unique per merchant that names its cause (``earn:<order>``, ``award:<caller's reference>``,
``expire:<lot>``...), so a replayed call writes nothing.

Orders (``sync_order``): points are credited when an order is paid (not held until it is
completed: a refund after completion takes them back the same way) and brought to what the
order keeps after each refund — the earned points times the share still paid, the spent
points times the share still paid — whatever order the events arrive in. A take-back never
exceeds what the order earned and never takes the balance below zero (points already spent
elsewhere stay spent); spent points come back in full when the order is cancelled unpaid.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from siyu.core import audit, clock
from siyu.core.actors import Actor
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.permissions import Perm
from siyu.core.tenancy import current_merchant
from siyu.customers.models import Customer
from siyu.loyalty import ledger, rules, selectors
from siyu.loyalty.models import PointsAllocation, PointsEntry, SignIn

Kind = PointsEntry.Kind
MAX_POINTS = 10**9
MAX_REFERENCE = 100
MAX_REASON = 200


def _refuse(field: str, reason: str) -> InvalidInput:
    return InvalidInput(reason, fields={field: reason})


def _expiry(now: datetime) -> datetime | None:
    conf = selectors.settings_for()
    return rules.expiry_of(now, conf.expiry, conf.expiry_days, current_merchant().time_zone)


def _credit(
    customer_id: int,
    kind: str,
    points: int,
    *,
    reference: str,
    order_id: int | None = None,
    reason: str = "",
    actor_label: str = "",
    now: datetime | None = None,
) -> PointsEntry | None:
    """A positive entry, once per ``reference`` (None when it was written before)."""
    if ledger.by_reference(reference) is not None:
        return None
    now = now or clock.now()
    account = ledger.lock(customer_id)
    if ledger.by_reference(reference) is not None:  # written while we waited for the lock
        return None
    try:
        with transaction.atomic():
            return ledger.write(
                account,
                kind,
                points,
                reference=reference,
                now=now,
                order_id=order_id,
                reason=reason,
                actor_label=actor_label,
                expires_at=_expiry(now),
            )
    except IntegrityError:
        return None


# --- rewards --------------------------------------------------------------------------------


@transaction.atomic
def award(customer: Customer, points: int, *, reason: str, reference: str) -> PointsEntry | None:
    """Give ``customer`` ``points`` for ``reason`` (a short code such as ``referral_inviter``,
    shown translated in the history). Idempotent by ``reference``: a second call with the same
    reference writes nothing and answers the first entry."""
    if customer.merchant_id != current_merchant().pk:
        raise NotFound(_("Not found."))
    errors: dict[str, str] = {}
    if isinstance(points, bool) or not isinstance(points, int) or not 0 < points <= MAX_POINTS:
        errors["points"] = _("A whole number from %(low)d to %(high)d.") % {
            "low": 1,
            "high": MAX_POINTS,
        }
    if not isinstance(reason, str) or not 0 < len(reason.strip()) <= 40:
        errors["reason"] = _("1–40 characters.")
    if not isinstance(reference, str) or not 0 < len(reference.strip()) <= MAX_REFERENCE:
        errors["reference"] = _("1–%(n)d characters.") % {"n": MAX_REFERENCE}
    if errors:
        raise InvalidInput(_("The points could not be awarded."), fields=errors)
    key = f"award:{reference.strip()}"
    written = _credit(customer.pk, Kind.AWARD, points, reference=key, reason=reason.strip())
    return written or ledger.by_reference(key)


@transaction.atomic
def adjust(
    actor: Actor, customer: Customer, points: int, *, reason: str, client_key: str = ""
) -> PointsEntry:
    """Staff add (positive) or take (negative) points with a reason; audited. A retry with the
    same ``client_key`` answers the first entry. Taking more than the balance is refused."""
    actor.require(Perm.PROMOTIONS_MANAGE)
    if customer.merchant_id != current_merchant().pk:
        raise NotFound(_("Not found."))
    errors: dict[str, str] = {}
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        errors["points"] = _("A whole number of points, not zero.")
    elif abs(points) > MAX_POINTS:
        errors["points"] = _("At most %(n)d points at a time.") % {"n": MAX_POINTS}
    reason = " ".join(str(reason or "").split())
    if not reason:
        errors["reason"] = _("Give a reason.")
    elif len(reason) > MAX_REASON:
        errors["reason"] = _("At most %(n)d characters.") % {"n": MAX_REASON}
    if not isinstance(client_key, str) or len(client_key) > 64:
        errors["client_key"] = _("At most %(n)d characters.") % {"n": 64}
    if errors:
        raise InvalidInput(_("The points could not be adjusted."), fields=errors)
    reference = f"adjust:{client_key}" if client_key else f"adjust:{secrets.token_hex(12)}"
    previous = ledger.by_reference(reference)
    if previous is not None:
        return previous
    now = clock.now()
    account = ledger.lock(customer)
    if points < 0:
        ledger.expire_due_lots(account, now)
        if account.balance + points < 0:
            raise _refuse(
                "points",
                _("The customer has only %(n)d points.") % {"n": account.balance},
            )
    entry = ledger.write(
        account,
        Kind.ADJUST,
        points,
        reference=reference,
        now=now,
        reason=reason,
        actor_label=actor.label,
        expires_at=_expiry(now) if points > 0 else None,
    )
    audit.record(
        actor,
        "loyalty.points.adjusted",
        entry,
        after={"customer_id": customer.pk, "points": points, "reason": reason},
    )
    return entry


# --- daily sign-in ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedIn:
    sign_in: SignIn
    created: bool  # False: already signed in today (nothing written)


@transaction.atomic
def sign_in(customer: Customer, *, now: datetime | None = None) -> SignedIn:
    """Sign in for today (the merchant's day): once a day, ``sign_in_points`` each time; the
    streak counts days in a row. Signing in again the same day answers the first sign-in."""
    if customer.merchant_id != current_merchant().pk:
        raise NotFound(_("Not found."))
    conf = selectors.settings_for()
    if not conf.enabled:
        raise _refuse("sign_in", _("Points are not available in this shop."))
    now = now or clock.now()
    day = clock.local(now, current_merchant().time_zone).date()
    account = ledger.lock(customer)  # sign-ins of one customer queue here
    done = SignIn.objects.filter(customer=customer, day=day).first()
    if done is not None:
        return SignedIn(done, False)
    yesterday = SignIn.objects.filter(customer=customer, day=day - timedelta(days=1)).first()
    streak = yesterday.streak + 1 if yesterday is not None else 1
    row = SignIn.objects.create(
        customer=customer, day=day, streak=streak, points=conf.sign_in_points, created_at=now
    )
    if conf.sign_in_points > 0:
        ledger.write(
            account,
            Kind.SIGN_IN,
            conf.sign_in_points,
            reference=f"sign_in:{customer.pk}:{day.isoformat()}",
            now=now,
            expires_at=_expiry(now),
        )
    return SignedIn(row, True)


# --- orders -----------------------------------------------------------------------------------


def redeem_for_order(customer: Customer, order: Any, points: int) -> PointsEntry | None:
    """Spend ``points`` on ``order`` in the order's transaction (checkout's ``placed``): a short
    balance is ``InvalidInput`` on ``points`` and, the transaction rolling back, nothing is
    written."""
    if points <= 0:
        return None
    now = clock.now()
    account = ledger.lock(customer)
    ledger.expire_due_lots(account, now)
    if account.balance < points:
        raise _refuse("points", selectors.short_text(account.balance))
    return ledger.write(
        account, Kind.REDEEM, -points, reference=f"redeem:{order.pk}", now=now, order_id=order.pk
    )


@transaction.atomic
def sync_order(order_id: int, *, now: datetime | None = None) -> list[PointsEntry]:
    """Bring the order's points to what it deserves now: earned once paid, taken back and
    returned in proportion to what was refunded, spent points back when cancelled unpaid.
    Idempotent and order-insensitive (each call writes only the difference)."""
    from siyu.orders.models import Order

    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return []
    now = now or clock.now()
    account = ledger.lock(order.customer_id)
    figures = ledger.order_figures(order.pk)
    written: list[PointsEntry] = []
    conf = selectors.settings_for()
    paid = order.paid_at is not None
    if paid and figures["earned"] == 0 and conf.enabled:
        multiplier = selectors.multiplier_of(order.customer_id)
        points = rules.earned_on(order.total, conf.earn_per_yuan, multiplier)
        if points > 0:
            written.append(
                ledger.write(
                    account,
                    Kind.EARN_ORDER,
                    points,
                    reference=f"earn:{order.pk}",
                    now=now,
                    order_id=order.pk,
                    expires_at=_expiry(order.paid_at or now),
                )
            )
            figures["earned"] = points
    net = order.total - order.refunded_total
    full = order.refund_state == "full"
    if paid:
        kept_earned = 0 if full else rules.kept_share(figures["earned"], net, order.total)
        kept_spent = 0 if full else rules.kept_share(figures["spent"], net, order.total)
    else:
        cancelled = order.status == Order.Status.CANCELLED
        kept_earned = figures["earned"]
        kept_spent = 0 if cancelled else figures["spent"]
    take = min(figures["earned"] - kept_earned - figures["taken"], account.balance)
    if take > 0:
        own = [lot for lot in ledger.lots(account.customer_id) if _is_earn_lot(lot, order.pk)]
        first = [(lot.entry_id, min(lot.left, take)) for lot in own[:1]]
        written.append(
            ledger.write(
                account,
                Kind.REFUND_EARN,
                -take,
                reference=f"refund_earn:{order.pk}:{figures['taken'] + take}",
                now=now,
                order_id=order.pk,
                from_lots=first,
            )
        )
    give = figures["spent"] - kept_spent - figures["returned"]
    if give > 0:
        written.append(
            ledger.write(
                account,
                Kind.REFUND_REDEEM,
                give,
                reference=f"refund_redeem:{order.pk}:{figures['returned'] + give}",
                now=now,
                order_id=order.pk,
                expires_at=_returned_expiry(order.pk, now),
            )
        )
    return written


def _is_earn_lot(lot: rules.Lot, order_id: int) -> bool:
    return PointsEntry.objects.filter(
        pk=lot.entry_id, order_id=order_id, kind=Kind.EARN_ORDER
    ).exists()


def _returned_expiry(order_id: int, now: datetime) -> datetime | None:
    """Returned points keep the latest expiry of the lots the order spent (a rule without
    expiry, or lots that never expire: none); with no record, the rule from now."""
    spent = PointsAllocation.objects.filter(debit__order_id=order_id, debit__kind=Kind.REDEEM)
    if not spent.exists():
        return _expiry(now)
    if spent.filter(lot__expires_at__isnull=True).exists():
        return None
    latest = spent.aggregate(latest=Max("lot__expires_at"))["latest"]
    return latest if isinstance(latest, datetime) else _expiry(now)


@transaction.atomic
def first_order(order_id: int) -> PointsEntry | None:
    """``first_order_points`` for the customer's first paid order (once per customer)."""
    from siyu.orders.models import Order

    order = Order.objects.filter(pk=order_id, paid_at__isnull=False).first()
    conf = selectors.settings_for()
    if order is None or not conf.enabled or conf.first_order_points <= 0:
        return None
    first = (
        Order.objects.filter(customer_id=order.customer_id, paid_at__isnull=False)
        .order_by("paid_at", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if first != order.pk:
        return None
    return _credit(
        order.customer_id,
        Kind.FIRST_ORDER,
        conf.first_order_points,
        reference=f"first_order:{order.customer_id}",
        order_id=order.pk,
    )


# --- expiry -----------------------------------------------------------------------------------


def expire_due(now: datetime | None = None) -> int:
    """Expire what is left of the bound merchant's lots due by ``now``, customer by customer
    (each in its own transaction, accounts locked one at a time); the points expired."""
    now = now or clock.now()
    customers = ledger.customers_with_due_lots(now)
    expired = 0
    for customer_id in customers:
        with transaction.atomic():
            account = ledger.lock(customer_id)
            expired -= sum(e.points for e in ledger.expire_due_lots(account, now))
    return expired


# --- reviews ----------------------------------------------------------------------------------

MAX_REVIEW = 500


@transaction.atomic
def review(customer: Customer, order_line_id: object, rating: object, text: object = "") -> Any:
    """Review one line of the customer's completed order (rating 1–5, text up to 500
    characters); the line's first review earns ``review_points`` once. Reviewing a line again
    answers the first review unchanged. Another customer's line is 404."""
    from siyu.loyalty.models import ProductReview
    from siyu.orders.models import Order, OrderLine

    if customer.merchant_id != current_merchant().pk:
        raise NotFound(_("Not found."))
    if isinstance(order_line_id, bool) or not isinstance(order_line_id, int):
        raise NotFound(_("Not found."))
    line = (
        OrderLine.objects.select_related("order")
        .filter(pk=order_line_id, order__customer=customer)
        .first()
    )
    if line is None:
        raise NotFound(_("Not found."))
    previous = ProductReview.objects.filter(order_line=line).first()
    if previous is not None:
        return previous
    errors: dict[str, str] = {}
    if line.order.status != Order.Status.COMPLETED:
        errors["order_line_id"] = _("Orders can be reviewed once they are completed.")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        errors["rating"] = _("From 1 to 5 stars.")
    words = " ".join(str(text or "").split()) if isinstance(text, str) or text is None else None
    if words is None or len(words) > MAX_REVIEW:
        errors["text"] = _("At most %(n)d characters.") % {"n": MAX_REVIEW}
    if errors:
        raise InvalidInput(_("The review could not be saved."), fields=errors)
    now = clock.now()
    account = ledger.lock(customer)  # reviews of one customer queue here
    previous = ProductReview.objects.filter(order_line=line).first()
    if previous is not None:
        return previous
    made = ProductReview.objects.create(
        customer=customer,
        order=line.order,
        order_line=line,
        product_id=line.product_id_snapshot or 0,
        rating=rating,
        text=words or "",
        created_at=now,
    )
    conf = selectors.settings_for()
    if conf.enabled and conf.review_points > 0:
        ledger.write(
            account,
            Kind.REVIEW,
            conf.review_points,
            reference=f"review:{line.pk}",
            now=now,
            order_id=line.order_id,
            expires_at=_expiry(now),
        )
    return made


@transaction.atomic
def set_review_hidden(actor: Actor, review_id: int, hidden: bool) -> Any:
    """Hide a review from the product page (or show it again); audited. Its points stay."""
    from siyu.loyalty.models import ProductReview

    actor.require(Perm.PROMOTIONS_MANAGE)
    found = ProductReview.objects.select_for_update().filter(pk=review_id).first()
    if found is None:
        raise NotFound(_("Not found."))
    if found.hidden != hidden:
        found.hidden = hidden
        found.save(update_fields=["hidden"])
        audit.record(
            actor,
            "loyalty.review.hidden" if hidden else "loyalty.review.shown",
            found,
            after={"hidden": hidden},
        )
    return found
