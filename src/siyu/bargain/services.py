"""Bargain writes of customers: start a bargain, help cut it, buy at its price; and what
follows from outside: an unpaid order cancelled reopens it, time makes it expire.

Concurrency (the rulebook):

* **Start**: a customer's bargains on an activity are numbered by ``slot`` (unique per
  activity and customer, at most the per-customer limit), so two starts at once can never
  pass the limit; a running bargain of the customer is answered again instead of starting a
  second (a retried start is idempotent).
* **Cut**: the bargain row is locked (``SELECT … FOR UPDATE``) before anything is read, so
  helpers of one bargain queue there: each sees the cuts before it, never cuts more than is
  left, and the one whose shares reach the count cuts exactly the rest. ``(bargain, helper)``
  is unique behind the check, so a helper cuts once even if two requests of theirs race.
* **Buy**: the bargain row is locked, then one conditional UPDATE takes a unit of the
  activity's stock (``stock_left >= 1``); the order is placed through
  :func:`siyu.promotions.checkout.checkout` in the same transaction, and its ``placed`` hook
  marks the bargain bought. A refusal anywhere rolls all of it back.
* Locks are taken bargain first, then the activity (by a conditional UPDATE), everywhere.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from siyu.bargain import cuts
from siyu.bargain import events as bargain_events
from siyu.bargain.models import Bargain, BargainActivity, BargainCut
from siyu.bargain.price import BargainPrice
from siyu.core import clock, events
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.tenancy import current_merchant
from siyu.customers.models import Customer

if TYPE_CHECKING:
    from siyu.orders.models import Order

A = BargainActivity
B = Bargain
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 10
LIVE = (B.Status.OPEN, B.Status.REACHED)
EXPIRE_BATCH = 1000  # bargains expired per transaction


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _n in range(CODE_LENGTH))


def sold_out_reason() -> str:
    return _("This bargain is sold out.")


def _field(name: str, reason: str) -> InvalidInput:
    return InvalidInput(reason, fields={name: reason})


def activity_problem(activity: BargainActivity, now: datetime) -> tuple[str, str] | None:
    """``(code, reason)`` when nobody can start, cut or buy on ``activity`` now, else None."""
    if activity.status == A.Status.PAUSED:
        return "paused", _("This bargain activity is paused.")
    if activity.status == A.Status.DRAFT:
        return "not_started", _("This bargain activity has not started.")
    if activity.status == A.Status.ENDED or activity.ends_at <= now:
        return "ended", _("This bargain activity has ended.")
    if activity.starts_at > now:
        return "not_started", _("This bargain activity has not started.")
    return None


def is_new_customer(customer: Customer, bargain: Bargain) -> bool:
    """A new customer to this bargain: signed up after it started (through its share link,
    in practice) and has no paid order."""
    from siyu.orders.models import Order

    if customer.created_at < bargain.started_at:
        return False
    return not Order.objects.filter(customer=customer, paid_at__isnull=False).exists()


# --- start ---------------------------------------------------------------------------------


def start(customer: Customer, activity_id: object) -> Bargain:
    """Start a bargain on ``activity_id`` for ``customer``; their running bargain on it is
    answered again. Unknown activity: ``NotFound``; not running now: ``Conflict`` (``paused``,
    ``ended``, ``not_started``); no stock left: ``Conflict`` (``sold_out``); the per-customer
    limit reached: ``InvalidInput`` on ``activity_id``."""
    if isinstance(activity_id, bool) or not isinstance(activity_id, int):
        raise NotFound(_("Not found."))
    activity = A.objects.select_related("sku").filter(pk=activity_id).first()
    if activity is None or activity.status == A.Status.DRAFT:
        raise NotFound(_("Not found."))
    if customer.status != Customer.Status.ACTIVE:
        raise _field("customer_id", _("This account cannot start a bargain."))
    now = clock.now()
    running = B.objects.filter(
        activity=activity, customer=customer, status__in=LIVE, expires_at__gt=now
    ).first()
    if running is not None:
        return running
    problem = activity_problem(activity, now)
    if problem:
        raise Conflict(problem[1], code=problem[0])
    if activity.stock_left <= 0:
        raise Conflict(sold_out_reason(), code="sold_out")
    original = activity.sku.price
    if original - activity.floor_price < activity.helpers_needed:
        raise Conflict(
            _("The product's price changed: this bargain cannot start."), code="price_changed"
        )
    for _attempt in range(activity.per_customer_limit + 2):
        held = B.objects.filter(activity=activity, customer=customer).count()
        if held >= activity.per_customer_limit:
            raise _field(
                "activity_id",
                _("You have started as many bargains on this as allowed (%(n)d).")
                % {"n": activity.per_customer_limit},
            )
        try:
            with transaction.atomic():
                return _create(activity, customer, held + 1, original, now)
        except IntegrityError:
            running = B.objects.filter(
                activity=activity, customer=customer, status__in=LIVE, expires_at__gt=now
            ).first()
            if running is not None:
                return running
    raise Conflict(_("Too many requests at once: try again."), code="busy")


def _create(
    activity: BargainActivity, customer: Customer, slot: int, original: int, now: datetime
) -> Bargain:
    expires = min(now + timedelta(hours=activity.time_limit_hours), activity.ends_at)
    bargain = B.objects.create(
        activity=activity,
        customer=customer,
        code=new_code(),
        slot=slot,
        status=B.Status.OPEN,
        original_price=original,
        floor_price=activity.floor_price,
        current_price=original,
        helpers_needed=activity.helpers_needed,
        new_customer_weight=activity.new_customer_weight,
        seed=secrets.randbits(63),
        started_at=now,
        expires_at=expires,
    )
    events.emit(
        current_merchant(),
        bargain_events.BARGAIN_STARTED,
        {
            "bargain_id": bargain.pk,
            "activity_id": activity.pk,
            "customer_id": customer.pk,
            "original_price": original,
            "floor_price": bargain.floor_price,
            "helpers_needed": bargain.helpers_needed,
            "expires_at": expires.isoformat(),
        },
        aggregate=bargain,
    )
    return bargain


# --- help cut ------------------------------------------------------------------------------


def _locked(bargain_id: int) -> Bargain:
    bargain = (
        B.objects.select_for_update(of=("self",))
        .select_related("activity")
        .filter(pk=bargain_id)
        .first()
    )
    if bargain is None:
        raise NotFound(_("Not found."))
    return bargain


def cut_problem(bargain: Bargain, now: datetime) -> tuple[str, str] | None:
    """``(code, reason)`` when nobody can cut ``bargain`` now, else None."""
    if bargain.status == B.Status.BOUGHT:
        return "closed", _("This bargain has been bought: no more cuts.")
    if bargain.status == B.Status.EXPIRED or bargain.expires_at <= now:
        return "expired", _("This bargain has expired.")
    if bargain.status == B.Status.REACHED:
        return "complete", _("This bargain has reached its floor price: no more cuts needed.")
    return activity_problem(bargain.activity, now)


@transaction.atomic
def help_cut(helper: Customer, bargain_id: object) -> BargainCut:
    """``helper`` cuts ``bargain_id`` once. Their second cut is ``Conflict``
    (``already_helped``); the starter's own cut, or a helper who is not new when only new
    customers may help, is ``InvalidInput`` on ``bargain``; a bargain bought, expired,
    complete or of a paused or ended activity is ``Conflict`` with that code."""
    if isinstance(bargain_id, bool) or not isinstance(bargain_id, int):
        raise NotFound(_("Not found."))
    bargain = _locked(bargain_id)
    if helper.pk == bargain.customer_id:
        raise _field("bargain", _("You cannot help cut your own bargain: share it with friends."))
    if helper.status != Customer.Status.ACTIVE:
        raise _field("bargain", _("This account cannot help cut."))
    if BargainCut.objects.filter(bargain=bargain, helper=helper).exists():
        raise Conflict(_("You have already helped cut this bargain."), code="already_helped")
    now = clock.now()
    problem = cut_problem(bargain, now)
    if problem:
        raise Conflict(problem[1], code=problem[0])
    new = is_new_customer(helper, bargain)
    if bargain.activity.helpers_must_be_new and not new:
        raise _field("bargain", _("Only new customers can help cut this bargain."))
    weight = bargain.new_customer_weight if new else 1
    shares_left = bargain.helpers_needed - bargain.shares_cut
    sequence = bargain.helper_count + 1
    amount = cuts.draw_cut(
        remaining=bargain.current_price - bargain.floor_price,
        shares_left=shares_left,
        weight=weight,
        seed=bargain.seed,
        sequence=sequence,
    )
    shares = cuts.shares_of(weight, shares_left)
    try:
        with transaction.atomic():
            cut = BargainCut.objects.create(
                bargain=bargain,
                helper=helper,
                sequence=sequence,
                amount=amount,
                shares=shares,
                new_customer=new,
                created_at=now,
            )
    except IntegrityError:
        raise Conflict(
            _("You have already helped cut this bargain."), code="already_helped"
        ) from None
    bargain.current_price -= amount
    bargain.shares_cut += shares
    bargain.helper_count = sequence
    fields = ["current_price", "shares_cut", "helper_count"]
    reached = bargain.shares_cut >= bargain.helpers_needed
    if reached:
        bargain.status = B.Status.REACHED
        bargain.reached_at = now
        fields += ["status", "reached_at"]
    bargain.save(update_fields=fields)
    events.emit(
        current_merchant(),
        bargain_events.BARGAIN_CUT,
        {
            "bargain_id": bargain.pk,
            "helper_id": helper.pk,
            "amount": amount,
            "shares": shares,
            "new_customer": new,
            "current_price": bargain.current_price,
            "reached": reached,
        },
        aggregate=bargain,
    )
    return cut


# --- buy -----------------------------------------------------------------------------------


def buy_problem(bargain: Bargain, customer: Customer, now: datetime) -> tuple[str, str] | None:
    """``(code, reason)`` when ``customer`` cannot buy ``bargain`` now, else None."""
    if bargain.customer_id != customer.pk:
        return "not_yours", _("Only the customer who started this bargain can buy it.")
    if bargain.status == B.Status.BOUGHT:
        return "closed", _("This bargain has been bought.")
    if bargain.status == B.Status.EXPIRED or bargain.expires_at <= now:
        return "expired", _("This bargain has expired.")
    problem = activity_problem(bargain.activity, now)
    if problem:
        return problem
    if bargain.status != B.Status.REACHED and not bargain.activity.buy_before_floor:
        return "floor_not_reached", _("Buy once friends have cut the price to the floor.")
    return None


def price_offer(bargain: Bargain, placed: Any = None) -> Any:
    """The checkout offer of ``bargain``: its SKU at its current price."""
    from siyu.promotions.checkout import Offer

    adjuster = BargainPrice(f"bargain:{bargain.pk}", bargain.activity.sku_id, bargain.current_price)
    return Offer(adjuster, "activity", placed=placed)


def _placing(bargain: Bargain, placing: dict[str, Any]) -> dict[str, Any]:
    allowed = {"fulfilment", "store_id", "address_id", "note", "attribution"}
    unknown = sorted(set(placing) - allowed)
    if unknown:
        raise TypeError(f"unexpected arguments {unknown}")
    return {**placing, "items": [(bargain.activity.sku_id, 1)]}


def preview(customer: Customer, bargain_id: int, **placing: Any) -> Any:
    """What :func:`buy` with the same arguments would charge (``CheckoutPreview``)."""
    from siyu.promotions import checkout as offers

    bargain = B.objects.select_related("activity").filter(pk=bargain_id).first()
    if bargain is None:
        raise NotFound(_("Not found."))
    problem = buy_problem(bargain, customer, clock.now())
    if problem:
        raise Conflict(problem[1], code=problem[0])
    return offers.preview(
        customer,
        choices=offers.Choices(),
        activity=price_offer(bargain),
        rules=offers.Rules(coupons=False),
        **_placing(bargain, placing),
    )


@transaction.atomic
def buy(customer: Customer, bargain_id: object, **placing: Any) -> Order:
    """Place the order of one unit at the bargain's current price (``placing``: fulfilment,
    store_id, address_id, note, attribution as ``orders.services.checkout`` takes them).
    Refusals are ``Conflict`` (``not_yours``, ``closed``, ``expired``, ``paused``, ``ended``,
    ``floor_not_reached``, ``sold_out``) or the checkout's own ``InvalidInput``."""
    from siyu.promotions import checkout as offers

    if isinstance(bargain_id, bool) or not isinstance(bargain_id, int):
        raise NotFound(_("Not found."))
    bargain = _locked(bargain_id)
    if bargain.customer_id != customer.pk:
        raise NotFound(_("Not found."))
    problem = buy_problem(bargain, customer, clock.now())
    if problem:
        raise Conflict(problem[1], code=problem[0])
    taken = A.objects.filter(pk=bargain.activity_id, stock_left__gte=1).update(
        stock_left=F("stock_left") - 1
    )
    if not taken:
        raise Conflict(sold_out_reason(), code="sold_out")

    def placed(order: Order, discount: int) -> None:
        _mark_bought(bargain, order)

    return offers.checkout(
        customer,
        choices=offers.Choices(),
        activity=price_offer(bargain, placed),
        rules=offers.Rules(coupons=False),
        **_placing(bargain, placing),
    )


def _mark_bought(bargain: Bargain, order: Order) -> None:
    """In the order's transaction, with the bargain row locked by :func:`buy`."""
    bargain.status = B.Status.BOUGHT
    bargain.order = order
    bargain.bought_at = clock.now()
    bargain.save(update_fields=["status", "order", "bought_at"])
    events.emit(
        current_merchant(),
        bargain_events.BARGAIN_BOUGHT,
        {
            "bargain_id": bargain.pk,
            "order_id": order.pk,
            "price": bargain.current_price,
            "cut_total": bargain.cut_total,
        },
        aggregate=bargain,
    )


# --- after the order, and time -------------------------------------------------------------


def _live_status(bargain: Bargain) -> str:
    return B.Status.REACHED if bargain.shares_cut >= bargain.helpers_needed else B.Status.OPEN


def _expired(bargain: Bargain) -> None:
    events.emit(
        current_merchant(),
        bargain_events.BARGAIN_EXPIRED,
        {"bargain_id": bargain.pk, "current_price": bargain.current_price},
        aggregate=bargain,
    )


@transaction.atomic
def reopen(order_id: int) -> Bargain | None:
    """The bargain's order was cancelled before it was paid: the unit goes back to the
    activity's stock and the bargain is open to cuts and buying again until it expires
    (expired at once if its time has passed). Idempotent: only a bargain still marked bought
    on that order changes. A paid order (refunded later) leaves its bargain bought."""
    from siyu.orders.models import Order

    found = B.objects.filter(order_id=order_id, status=B.Status.BOUGHT).values_list("pk", flat=True)
    bargain_id = found.first()
    if bargain_id is None:
        return None
    order = Order.objects.filter(pk=order_id).only("status", "paid_at").first()
    if order is None or order.paid_at is not None or order.status != Order.Status.CANCELLED:
        return None
    bargain = _locked(bargain_id)
    if bargain.status != B.Status.BOUGHT or bargain.order_id != order_id:
        return None
    A.objects.filter(pk=bargain.activity_id, stock_left__lt=F("stock_total")).update(
        stock_left=F("stock_left") + 1
    )
    bargain.order = None
    bargain.bought_at = None
    if bargain.expires_at > clock.now():
        bargain.status = _live_status(bargain)
    else:
        bargain.status = B.Status.EXPIRED
        _expired(bargain)
    bargain.save(update_fields=["status", "order", "bought_at"])
    return bargain


@transaction.atomic
def expire_due(now: datetime | None = None) -> int:
    """The bound merchant's bargains past their time, not bought, become expired (one event
    each), at most ``EXPIRE_BATCH`` of them; activities past their end become ended."""
    now = now or clock.now()
    due = list(
        B.objects.select_for_update()
        .filter(status__in=LIVE, expires_at__lte=now)
        .order_by("pk")[:EXPIRE_BATCH]
    )
    for bargain in due:
        bargain.status = B.Status.EXPIRED
        _expired(bargain)
    B.objects.filter(pk__in=[b.pk for b in due]).update(status=B.Status.EXPIRED)
    A.objects.filter(status__in=(A.Status.ACTIVE, A.Status.PAUSED), ends_at__lte=now).update(
        status=A.Status.ENDED, updated_at=now
    )
    return len(due)
