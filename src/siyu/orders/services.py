"""State changes of carts and orders: validate → lock → change → timeline, audit, event.

* **Who.** Customer-facing functions take the ``Customer``; staff-facing ones an
  :class:`~siyu.core.actors.Actor` (checked for ``Perm.ORDERS_FULFIL``; store
  managers and shopping guides reach only the orders of the stores they are
  assigned to, others' orders are 404). ``cancel`` and ``complete`` take either,
  or ``None`` for the system (scheduled jobs). ``mark_paid`` and ``apply_refund``
  are called by the payments app after the gateway confirmed money moved.
* **Moves** follow the table in :mod:`siyu.orders.states`; each writes an
  ``OrderEvent`` (the timeline, with who did it), an audit entry when staff did
  it, and a domain event (``orders.order.*``), in the same transaction.
* **Locks.** A transition locks the order row (``SELECT … FOR UPDATE``; SQLite
  transactions are IMMEDIATE, so writers queue) and then calls the inventory,
  which locks reservation rows, then stock levels in id order. Nothing locks an
  order while holding stock locks, so the order is always order → stock.
* **Idempotency.** ``mark_paid`` with the same payment reference, ``cancel`` of a
  cancelled order and ``apply_refund`` with a known refund reference change
  nothing and answer the order. A retried checkout is made idempotent by the
  API's ``Idempotency-Key`` (the middleware).
* Everything here needs the order's (customer's) merchant bound.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from siyu.core import audit, clock, events
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.models import Merchant
from siyu.core.permissions import Perm, Role
from siyu.core.tenancy import current_merchant, merchant_context
from siyu.inventory import services as inventory
from siyu.orders import checkout as checkout_context
from siyu.orders import events as order_events
from siyu.orders import numbers, pricing, refunds, states
from siyu.orders.errors import OrderAlreadyPaid, OrderCancelled, OrderSoldOut
from siyu.orders.models import Cart, CartLine, Order, OrderEvent, OrderLine, OrderRefund
from siyu.orders.states import ActorKind, Transition
from siyu.stores.models import Store, StoreStaff

if TYPE_CHECKING:
    from siyu.customers.models import Customer

MAX_CART_LINES = checkout_context.MAX_LINES
MAX_QUANTITY = checkout_context.MAX_QUANTITY
MAX_REASON = 200
MAX_CARRIER = 40
MAX_TRACKING = 60
TRACKING_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-]{2,59}$")
# Reservations outlive the payment deadline a little, so the overdue job (which
# cancels the order and releases its stock) runs before inventory expires them.
RESERVATION_GRACE = timedelta(minutes=10)
OVERDUE_BATCH = 200
NUMBER_ATTEMPTS = 6
STORE_SCOPED_ROLES = frozenset({Role.STORE_MANAGER, Role.SHOPPING_GUIDE})

# The payments app confirming money moved (``mark_paid``, ``apply_refund``).
PAYMENTS = "payments"


def reservation_reference(order: Order) -> str:
    return f"order:{order.pk}"


# --- who is acting ------------------------------------------------------------------------


def _kind(who: Any) -> ActorKind:
    if who is None:
        return ActorKind.SYSTEM
    if who == PAYMENTS:
        return ActorKind.PAYMENTS
    if isinstance(who, Actor):
        return ActorKind.STAFF
    return ActorKind.CUSTOMER


def _label(who: Any) -> str:
    if who is None:
        return "system"
    if who == PAYMENTS:
        return PAYMENTS
    if isinstance(who, Actor):
        return who.label[:150]
    return f"customer {who.pk}"


def is_store_scoped(actor: Actor) -> bool:
    return actor.role in STORE_SCOPED_ROLES


def assigned_store_ids(actor: Actor) -> set[int]:
    """The stores a store manager or shopping guide works at (none for an API key)."""
    if actor.membership is None:
        return set()
    return set(
        StoreStaff.objects.filter(membership=actor.membership).values_list("store_id", flat=True)
    )


def can_reach(actor: Actor, order: Order) -> bool:
    """Whether the staff member sees ``order`` (store-scoped roles: only their stores')."""
    if order.merchant_id != actor.merchant.pk:
        return False
    if not is_store_scoped(actor):
        return True
    return order.store_id is not None and order.store_id in assigned_store_ids(actor)


def _check_who(who: Any, order: Order, permission: str | None = Perm.ORDERS_FULFIL) -> None:
    if isinstance(who, Actor):
        if permission is not None:
            who.require(permission)
        if not can_reach(who, order):
            raise NotFound(_("Not found."))
    elif (
        who is not None
        and who != PAYMENTS
        and (who.merchant_id != order.merchant_id or who.pk != order.customer_id)
    ):
        raise NotFound(_("Not found."))


# --- helpers ----------------------------------------------------------------------------------


def _lock(order: Order | int) -> Order:
    """The order row, locked for the rest of the transaction (404 for another merchant's)."""
    pk = order.pk if isinstance(order, Order) else order
    locked = Order.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise NotFound(_("Not found."))
    return locked


def event_payload(order: Order, **extra: Any) -> dict[str, Any]:
    """What consumers (commission, points, journeys, analytics, webhooks) get of an order."""
    payload: dict[str, Any] = {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "fulfilment": order.fulfilment,
        "customer_id": order.customer_id,
        "store_id": order.store_id,
        "currency": order.currency,
        "subtotal": order.subtotal,
        "discount_total": order.discount_total,
        "shipping_fee": order.shipping_fee,
        "total": order.total,
        "refunded_total": order.refunded_total,
        "channel": order.channel,
        "placed_at": order.placed_at,
    }
    for name in checkout_context.ATTRIBUTION_IDS:
        value = getattr(order, name)
        if value is not None:
            payload[name] = value
    payload.update(extra)
    return payload


def _record(
    order: Order,
    who: Any,
    kind: str,
    *,
    from_status: str = "",
    note: str = "",
    data: Mapping[str, Any] | None = None,
) -> OrderEvent:
    return OrderEvent.objects.create(
        merchant_id=order.merchant_id,
        order=order,
        kind=kind,
        from_status=from_status,
        to_status=order.status,
        actor_label=_label(who),
        note=note[:300],
        data=audit.json_safe(dict(data or {})),
    )


AUDIT_FIELDS = ["status", "refund_state", "carrier", "tracking_number", "cancel_reason"]


def _move(
    order: Order,
    who: Any,
    transition: Transition,
    *,
    event_type: str,
    kind: str,
    changes: Mapping[str, Any] | None = None,
    note: str = "",
    data: Mapping[str, Any] | None = None,
) -> Order:
    """Apply ``transition`` to the locked ``order``: status, fields, timeline, audit, event."""
    if order.fulfilment_hold and transition in HELD_TRANSITIONS:
        reason = _("This order is on hold: %(reason)s") % {"reason": hold_label(order)}
        raise Conflict(reason, fields={"order": reason}, code="fulfilment_held")
    rule = states.require(transition, order, _kind(who))
    before = audit.snapshot(order, AUDIT_FIELDS)
    from_status = order.status
    order.status = rule.target
    fields = {"status", "updated_at"}
    for name, value in (changes or {}).items():
        setattr(order, name, value)
        fields.add(name)
    order.save(update_fields=sorted(fields))
    _record(order, who, kind, from_status=from_status, note=note, data=data)
    if isinstance(who, Actor):
        audit.record(
            who,
            f"orders.order.{kind}",
            order,
            before=before,
            after=audit.snapshot(order, AUDIT_FIELDS),
        )
    events.emit(
        current_merchant(),
        event_type,
        event_payload(order, from_status=from_status, **(data or {})),
        aggregate=order,
    )
    return order


# --- fulfilment holds ------------------------------------------------------------------------------

# Moves a held order may not make (preparing, shipping, pickup, completion).
HELD_TRANSITIONS = frozenset(
    {
        Transition.START_PREPARING,
        Transition.SHIP,
        Transition.MARK_READY,
        Transition.COLLECT,
        Transition.COMPLETE,
    }
)
MAX_HOLD = 40
HOLD_REASONS: dict[str, Any] = {}  # code → label (lazy text), registered by other apps
HOLD_LINKS: dict[str, Any] = {}  # code → the customer's page about the hold, given the order


def register_hold(code: str, label: Any, link: Any = None) -> None:
    """Name a reason other apps may hold orders for (``AppConfig.ready``); ``link(order)``
    answers the customer's page that says more (e.g. the group-buy team), or ""."""
    HOLD_REASONS[code] = label
    if link is not None:
        HOLD_LINKS[code] = link


def hold_link(order: Order) -> str:
    """The customer's page about ``order``'s hold ("" when none)."""
    link = HOLD_LINKS.get(order.fulfilment_hold) if order.fulfilment_hold else None
    return str(link(order)) if link is not None else ""


def hold_label(order: Order) -> str:
    """Why ``order`` is held, in the active language ("" when it is not)."""
    if not order.fulfilment_hold:
        return ""
    return str(HOLD_REASONS.get(order.fulfilment_hold, _("waiting for another step")))


@transaction.atomic
def hold_fulfilment(order: Order | int, code: str) -> Order:
    """Keep ``order`` from being prepared, shipped or collected until ``release_fulfilment``
    (409 ``fulfilment_held`` on those moves meanwhile). Idempotent for the same ``code``."""
    if code not in HOLD_REASONS or len(code) > MAX_HOLD:
        raise ValueError(f"unregistered fulfilment hold {code!r}")
    order = _lock(order)
    if order.fulfilment_hold == code:
        return order
    order.fulfilment_hold = code
    order.save(update_fields=["fulfilment_hold", "updated_at"])
    _record(order, None, "fulfilment_held", data={"hold": code})
    return order


@transaction.atomic
def release_fulfilment(order: Order | int, code: str) -> Order:
    """Lift the hold ``code`` from ``order`` (nothing when it holds for another or none)."""
    order = _lock(order)
    if order.fulfilment_hold != code:
        return order
    order.fulfilment_hold = ""
    order.save(update_fields=["fulfilment_hold", "updated_at"])
    _record(order, None, "fulfilment_released", data={"hold": code})
    return order


# --- cart -----------------------------------------------------------------------------------------


def _cart(customer: Customer) -> Cart:
    """The customer's cart, created on first use and locked for the transaction."""
    merchant = current_merchant()
    if customer.merchant_id != merchant.pk:
        raise NotFound(_("Not found."))
    cart, _created = Cart.objects.get_or_create(customer=customer, defaults={"merchant": merchant})
    return Cart.objects.select_for_update().get(pk=cart.pk)


def _sellable(sku_id: object, store_id: int | None, field: str = "sku_id") -> None:
    errors: dict[str, str] = {}
    skus = checkout_context.load_skus([sku_id]) if isinstance(sku_id, int) else {}
    sku = skus.get(sku_id) if isinstance(sku_id, int) else None
    store: Store | None = None
    if store_id is not None:
        store = Store.objects.filter(pk=store_id).first() if isinstance(store_id, int) else None
        if store is None:
            errors["store_id"] = _("Unknown store.")
    sold = (
        checkout_context.products_sold_at(store, [sku.product])
        if store is not None and sku is not None
        else None
    )
    problem = checkout_context.sellable_problem(sku, store, sold)
    if problem:
        errors[field] = problem
    if errors:
        raise InvalidInput(_("This cannot go in the cart."), fields=errors)


@transaction.atomic
def add_to_cart(
    customer: Customer, sku_id: int, quantity: int = 1, *, store_id: int | None = None
) -> CartLine:
    """Add ``quantity`` of a SKU (added to what the cart already holds, at most 99).

    The SKU must be the merchant's, active, its product on sale and, when the customer
    chose a ``store_id``, sold at that store. A cart holds at most 50 different SKUs.
    """
    problem = checkout_context.quantity_problem(quantity)
    if problem:
        raise InvalidInput(problem, fields={"quantity": problem})
    _sellable(sku_id, store_id)
    cart = _cart(customer)
    line = CartLine.objects.filter(cart=cart, sku_id=sku_id).first()
    if line is None:
        if CartLine.objects.filter(cart=cart).count() >= MAX_CART_LINES:
            reason = _("The cart holds at most %(n)d different items.") % {"n": MAX_CART_LINES}
            raise InvalidInput(reason, fields={"sku_id": reason}, code="cart_full")
        line = CartLine.objects.create(
            merchant_id=cart.merchant_id, cart=cart, sku_id=sku_id, quantity=quantity
        )
    else:
        wanted = line.quantity + quantity
        if wanted > MAX_QUANTITY:
            reason = _("At most %(n)d of one item.") % {"n": MAX_QUANTITY}
            raise InvalidInput(reason, fields={"quantity": reason})
        line.quantity = wanted
        line.save(update_fields=["quantity"])
    cart.save(update_fields=["updated_at"])
    return line


@transaction.atomic
def set_cart_quantity(
    customer: Customer, sku_id: int, quantity: int, *, store_id: int | None = None
) -> CartLine:
    """Set how many of a SKU the cart holds (1–99; remove the line with ``remove_from_cart``)."""
    problem = checkout_context.quantity_problem(quantity)
    if problem:
        raise InvalidInput(problem, fields={"quantity": problem})
    cart = _cart(customer)
    line = CartLine.objects.filter(cart=cart, sku_id=sku_id).first()
    if line is None:
        return add_to_cart(customer, sku_id, quantity, store_id=store_id)
    if quantity > line.quantity:  # more of it: it must still be sellable
        _sellable(sku_id, store_id)
    line.quantity = quantity
    line.save(update_fields=["quantity"])
    cart.save(update_fields=["updated_at"])
    return line


@transaction.atomic
def remove_from_cart(customer: Customer, sku_id: int) -> bool:
    """Take a SKU out of the cart; answers whether it was there."""
    cart = _cart(customer)
    deleted, _rows = CartLine.objects.filter(cart=cart, sku_id=sku_id).delete()
    if deleted:
        cart.save(update_fields=["updated_at"])
    return bool(deleted)


@transaction.atomic
def clear_cart(customer: Customer) -> int:
    """Empty the cart; answers how many lines were removed."""
    cart = _cart(customer)
    deleted, _rows = CartLine.objects.filter(cart=cart).delete()
    return deleted


# --- checkout ---------------------------------------------------------------------------------------


def checkout(
    customer: Customer,
    *,
    fulfilment: str,
    store_id: int | None = None,
    address_id: int | None = None,
    items: Sequence[tuple[int, int]] | None = None,
    note: str = "",
    attribution: Mapping[str, Any] | None = None,
    adjusters: Sequence[pricing.Adjuster] = (),
) -> Order:
    """Place an order: validate everything, price it, write it, reserve its stock, in one go.

    ``items=None`` takes the cart and empties it on success. Bad input raises one
    ``InvalidInput`` naming every field; not enough stock raises the inventory's
    ``OutOfStock`` (409, ``items.N.quantity``); either way nothing is written.

    Queries (one SKU, pickup): 9 and a savepoint on SQLite, one fewer on PostgreSQL —
    SKUs with their products, the store with its stock location, the order INSERT, the
    lines in one INSERT, the reservation (3 on SQLite for one SKU; one more UPDATE per
    further SKU), the timeline row and the outbox row.
    """
    ctx = checkout_context.load(
        customer,
        fulfilment=fulfilment,
        store_id=store_id,
        address_id=address_id,
        items=items,
        note=note,
        attribution=attribution,
        adjusters=adjusters,
    )
    priced = ctx.price()
    # The order number and pickup code are random; the database keeps them unique. The
    # rare collision rolls this attempt back (a savepoint, or the whole transaction) and
    # tries again with fresh ones.
    for attempt in range(NUMBER_ATTEMPTS):
        try:
            with transaction.atomic():
                return _place(ctx, priced)
        except IntegrityError:
            if attempt == NUMBER_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _place(ctx: checkout_context.CheckoutContext, priced: pricing.PricedCart) -> Order:
    customer = ctx.customer
    now = clock.now()
    deadline = now + timedelta(minutes=settings.ORDER_PAYMENT_MINUTES)
    attribution_values = dict(ctx.attribution)
    order = Order(
        merchant=ctx.merchant,
        customer=customer,
        number=numbers.order_number(clock.local(now, ctx.merchant.time_zone).date()),
        pickup_code=numbers.pickup_code() if ctx.fulfilment == Order.Fulfilment.PICKUP else "",
        status=Order.Status.PENDING_PAYMENT,
        fulfilment=ctx.fulfilment,
        store=ctx.store,
        location=ctx.location,
        shipping_address=ctx.address_snapshot(),
        currency=ctx.merchant.currency,
        subtotal=priced.subtotal,
        discount_total=priced.discount_total,
        shipping_fee=priced.shipping_fee,
        total=priced.total,
        pricing=priced.explanation(),
        note=ctx.note,
        payment_deadline=deadline,
        placed_at=now,
        attribution=attribution_values.pop("attribution", {}),
        **attribution_values,
    )
    order.save(force_insert=True)
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                merchant_id=order.merchant_id,
                order=order,
                sku=ctx.skus[line.sku_id],
                product_id_snapshot=ctx.skus[line.sku_id].product_id,
                product_name=ctx.skus[line.sku_id].product.name[:120],
                sku_code=ctx.skus[line.sku_id].code,
                options=ctx.skus[line.sku_id].options,
                unit_price=line.unit_price,
                list_price=line.list_price,
                quantity=line.quantity,
                discount=line.discount,
                line_total=line.total,
            )
            for line in priced.lines
        ]
    )
    try:
        inventory.reserve(
            location=ctx.location,
            items=ctx.items,
            reference=reservation_reference(order),
            expires_at=deadline + RESERVATION_GRACE,
        )
    except inventory.OutOfStock as exc:
        index = {sku_id: n for n, (sku_id, _q) in enumerate(ctx.items)}
        exc.fields = {
            f"items.{index[sku_id]}.quantity": inventory.left_text(left)
            for sku_id, left in exc.shortages.items()
            if sku_id in index
        }
        raise
    if ctx.from_cart:
        CartLine.objects.filter(cart__customer=customer, sku_id__in=list(ctx.skus)).delete()
    _record(
        order,
        customer,
        "placed",
        data={"items": len(ctx.items), "total": order.total},
    )
    events.emit(
        ctx.merchant,
        order_events.ORDER_PLACED,
        event_payload(
            order,
            lines=[
                {"sku_id": line.sku_id, "quantity": line.quantity, "line_total": line.total}
                for line in priced.lines
            ],
        ),
        aggregate=order,
    )
    return order


# --- payment and cancellation ---------------------------------------------------------------------


@transaction.atomic
def mark_paid(order: Order | int, *, payment_reference: str, paid_at: datetime) -> Order:
    """The payment arrived: the order (or order id) is paid and its reserved stock sold.
    Idempotent.

    The same ``payment_reference`` again answers the paid order unchanged. Nothing changes
    and the payments app refunds when this raises: :class:`OrderCancelled` (the order was
    cancelled meanwhile), :class:`OrderAlreadyPaid` (another payment paid it) or
    :class:`OrderSoldOut` (its reservation expired and the stock was sold to others).

    Queries: about 8 for one SKU (lock, commit 3, update, timeline, outbox).
    """
    errors: dict[str, str] = {}
    if not isinstance(payment_reference, str) or not 0 < len(payment_reference.strip()) <= 80:
        errors["payment_reference"] = _("1–80 characters.")
    if not isinstance(paid_at, datetime) or paid_at.tzinfo is None:
        errors["paid_at"] = _("Expected a date and time with a time zone.")
    if errors:
        raise InvalidInput(_("The payment could not be recorded."), fields=errors)
    payment_reference = payment_reference.strip()
    order = _lock(order)
    if order.status == Order.Status.CANCELLED:
        raise OrderCancelled(
            _("Order %(number)s was cancelled before the payment arrived.")
            % {"number": order.number}
        )
    if order.paid_at is not None:
        if order.payment_reference == payment_reference:
            return order
        raise OrderAlreadyPaid(
            _("Order %(number)s is already paid by another payment.") % {"number": order.number}
        )
    states.require(Transition.PAY, order, ActorKind.PAYMENTS)
    try:
        inventory.commit(reservation_reference(order))
    except inventory.OutOfStock as exc:
        raise OrderSoldOut(
            _("Order %(number)s was paid after its stock was sold to others.")
            % {"number": order.number}
        ) from exc
    return _move(
        order,
        PAYMENTS,
        Transition.PAY,
        event_type=order_events.ORDER_PAID,
        kind="paid",
        changes={"paid_at": paid_at, "payment_reference": payment_reference},
        data={"payment_reference": payment_reference},
    )


def _reason(reason: object) -> str:
    if not isinstance(reason, str):
        raise InvalidInput(_("Give a reason."), fields={"reason": _("Give a reason.")})
    reason = " ".join(reason.split())
    if len(reason) > MAX_REASON:
        problem = _("At most %(n)d characters.") % {"n": MAX_REASON}
        raise InvalidInput(problem, fields={"reason": problem})
    return reason


def _cancel_locked(order: Order, who: Any, reason: str) -> Order:
    released = inventory.release(reservation_reference(order), reason=reason or "cancelled")
    return _move(
        order,
        who,
        Transition.CANCEL,
        event_type=order_events.ORDER_CANCELLED,
        kind="cancelled",
        changes={"cancelled_at": clock.now(), "cancel_reason": reason},
        note=reason,
        data={"released_units": released, "by": _kind(who).value},
    )


@transaction.atomic
def cancel(order: Order, *, actor: Actor | Customer | None = None, reason: str) -> Order:
    """Cancel an unpaid order and release its stock. Idempotent: a cancelled order stays so.

    ``actor`` is a staff ``Actor`` (``ORDERS_FULFIL``, their stores' orders), the order's
    ``Customer``, or ``None`` for the system. A paid order is cancelled by refunding it in
    full (the payments app), never here.
    """
    reason = _reason(reason)
    if isinstance(actor, Actor) and not reason:
        raise InvalidInput(_("Give a reason."), fields={"reason": _("Give a reason.")})
    _check_who(actor, order)
    order = _lock(order)
    _check_who(actor, order)
    if order.status == Order.Status.CANCELLED:
        return order
    states.require(Transition.CANCEL, order, _kind(actor))
    return _cancel_locked(order, actor, reason)


def cancel_overdue(now: datetime | None = None) -> int:
    """Cancel every unpaid order past its payment deadline (all merchants); answer how many.

    Batches of ids are read without locks; each order is then cancelled in its own short
    transaction. On PostgreSQL the row is taken with ``SKIP LOCKED``: an order that a
    payment is marking paid right now is left to the payment (and is no longer overdue
    once it commits).
    """
    now = now or clock.now()
    skip_locked = connection.features.has_select_for_update_skip_locked
    cancelled = 0
    last_pk = 0
    while True:
        batch = list(
            Order.unscoped.filter(
                status=Order.Status.PENDING_PAYMENT, payment_deadline__lt=now, pk__gt=last_pk
            )
            .order_by("pk")
            .values_list("pk", "merchant_id")[:OVERDUE_BATCH]
        )
        if not batch:
            return cancelled
        merchants = Merchant.objects.in_bulk({merchant_id for _pk, merchant_id in batch})
        for pk, merchant_id in batch:
            last_pk = pk
            with merchant_context(merchants[merchant_id]), transaction.atomic():
                order = (
                    Order.objects.select_for_update(skip_locked=skip_locked)
                    .filter(pk=pk, status=Order.Status.PENDING_PAYMENT, payment_deadline__lt=now)
                    .first()
                )
                if order is None:
                    continue
                order.merchant = merchants[merchant_id]
                _cancel_locked(order, None, _("Not paid in time"))
                cancelled += 1


# --- fulfilment ---------------------------------------------------------------------------------------


@transaction.atomic
def start_preparing(actor: Actor, order: Order) -> Order:
    _check_who(actor, order)
    order = _lock(order)
    return _move(
        order,
        actor,
        Transition.START_PREPARING,
        event_type=order_events.ORDER_PREPARING,
        kind="preparing",
    )


@transaction.atomic
def mark_shipped(actor: Actor, order: Order, carrier: str, tracking_number: str) -> Order:
    """A delivery order left with ``carrier`` under ``tracking_number``."""
    errors: dict[str, str] = {}
    carrier = " ".join(str(carrier or "").split())
    tracking_number = str(tracking_number or "").strip().replace(" ", "")
    if not carrier:
        errors["carrier"] = _("Name the carrier.")
    elif len(carrier) > MAX_CARRIER:
        errors["carrier"] = _("At most %(n)d characters.") % {"n": MAX_CARRIER}
    if not TRACKING_RE.match(tracking_number):
        errors["tracking_number"] = _("3–60 letters, digits or dashes.")
    if errors:
        raise InvalidInput(_("The order could not be marked shipped."), fields=errors)
    _check_who(actor, order)
    order = _lock(order)
    return _move(
        order,
        actor,
        Transition.SHIP,
        event_type=order_events.ORDER_SHIPPED,
        kind="shipped",
        changes={"carrier": carrier, "tracking_number": tracking_number},
        data={"carrier": carrier, "tracking_number": tracking_number},
    )


@transaction.atomic
def mark_ready_for_pickup(actor: Actor, order: Order) -> Order:
    _check_who(actor, order)
    order = _lock(order)
    return _move(
        order,
        actor,
        Transition.MARK_READY,
        event_type=order_events.ORDER_READY_FOR_PICKUP,
        kind="ready_for_pickup",
    )


def _code_problem(code: object) -> tuple[str, str | None]:
    cleaned = numbers.clean_code(code) if isinstance(code, str) else ""
    if not numbers.is_pickup_code(cleaned):
        return cleaned, _("A pickup code is 6 digits.")
    return cleaned, None


def find_pickup(actor: Actor, store: Store, code: str) -> Order:
    """The open pickup order of ``store`` with ``code`` (422 ``code`` when none matches)."""
    actor.require(Perm.ORDERS_FULFIL)
    cleaned, problem = _code_problem(code)
    if problem:
        raise InvalidInput(problem, fields={"code": problem})
    if store.merchant_id != actor.merchant.pk or (
        is_store_scoped(actor) and store.pk not in assigned_store_ids(actor)
    ):
        raise NotFound(_("Not found."))
    order = (
        Order.objects.select_related("customer")
        .filter(
            store=store,
            fulfilment=Order.Fulfilment.PICKUP,
            pickup_code=cleaned,
            status__in=sorted(states.OPEN_PICKUP),
        )
        .first()
    )
    if order is None:
        reason = _("No open order at %(store)s has this code.") % {"store": store.name}
        raise InvalidInput(reason, fields={"code": reason}, code="wrong_pickup_code")
    return order


@transaction.atomic
def verify_pickup(actor: Actor, order_or_store: Order | Store, code: str) -> Order:
    """The customer showed ``code`` at the counter: the order is collected (completed).

    Given a store, finds the open pickup order with this code there; given an order,
    checks the code is its own. A wrong code changes nothing (422 ``code``); an order
    not yet paid cannot be collected (409).
    """
    actor.require(Perm.ORDERS_FULFIL)
    if isinstance(order_or_store, Order):
        order = order_or_store
        _check_who(actor, order)
        cleaned, problem = _code_problem(code)
        if problem:
            raise InvalidInput(problem, fields={"code": problem})
        order = _lock(order)
        if order.fulfilment != Order.Fulfilment.PICKUP or order.pickup_code != cleaned:
            reason = _("This is not the order's pickup code.")
            raise InvalidInput(reason, fields={"code": reason}, code="wrong_pickup_code")
    else:
        found = find_pickup(actor, order_or_store, code)
        order = _lock(found)
    if order.status == Order.Status.PENDING_PAYMENT:
        reason = _("This order is not paid yet.")
        raise Conflict(reason, fields={"code": reason}, code="not_paid")
    return _move(
        order,
        actor,
        Transition.COLLECT,
        event_type=order_events.ORDER_COMPLETED,
        kind="collected",
        changes={"completed_at": clock.now()},
        data={"store_id": order.store_id},
    )


@transaction.atomic
def complete(actor: Actor | Customer | None, order: Order) -> Order:
    """A shipped order arrived: staff, the customer (confirming receipt) or the system."""
    _check_who(actor, order)
    order = _lock(order)
    return _move(
        order,
        actor,
        Transition.COMPLETE,
        event_type=order_events.ORDER_COMPLETED,
        kind="completed",
        changes={"completed_at": clock.now()},
    )


# --- refunds --------------------------------------------------------------------------------------------


@transaction.atomic
def apply_refund(
    order: Order,
    *,
    lines: Sequence[tuple[int, int, int]],
    amount: int,
    restock: bool,
    reference: str,
) -> Order:
    """Record a refund the payments app completed: per line (id, quantity, amount), in total.

    Idempotent per ``reference``. With ``restock`` the refunded quantities go back on hand
    at the order's location. A fully refunded order that was not yet handed over (paid,
    preparing, ready for pickup) becomes cancelled.
    """
    if not isinstance(reference, str) or not 0 < len(reference.strip()) <= 80:
        raise InvalidInput(
            _("The refund could not be recorded."), fields={"reference": _("1–80 characters.")}
        )
    reference = reference.strip()
    order = _lock(order)
    if OrderRefund.objects.filter(reference=reference).exists():
        return order
    if order.paid_at is None:
        raise Conflict(
            _("Order %(number)s was never paid.") % {"number": order.number},
            code="order_not_paid",
        )
    order_lines = list(OrderLine.objects.filter(order=order).order_by("pk"))
    plan = refunds.plan_refund(
        order_total=order.total,
        refunded_total=order.refunded_total,
        lines=[
            refunds.RefundableLine(
                ln.pk, ln.quantity, ln.line_total, ln.refunded_quantity, ln.refunded_amount
            )
            for ln in order_lines
        ],
        requested=[tuple(item) for item in lines],  # type: ignore[misc]
        amount=amount,
    )
    by_id = {ln.pk: ln for ln in order_lines}
    changed: list[OrderLine] = []
    back: list[tuple[int, int]] = []
    for item in plan.lines:
        line = by_id[item.line_id]
        if not item.quantity and not item.amount:
            continue
        line.refunded_quantity += item.quantity
        line.refunded_amount += item.amount
        changed.append(line)
        if item.quantity:
            back.append((line.sku_id, item.quantity))
    if changed:
        OrderLine.objects.bulk_update(changed, ["refunded_quantity", "refunded_amount"])
    restocked = bool(restock and back)
    if restocked:
        inventory.restock(
            location=order.location,
            items=back,
            reference=f"refund:{reference}"[:64],
            reason="refund",
        )
    OrderRefund.objects.create(
        merchant_id=order.merchant_id,
        order=order,
        reference=reference,
        amount=plan.amount,
        lines=[[c.line_id, c.quantity, c.amount] for c in plan.lines],
        restocked=restocked,
    )
    order.refunded_total = plan.refunded_total
    order.refund_state = plan.state
    order.save(update_fields=["refunded_total", "refund_state", "updated_at"])
    data = {
        "reference": reference,
        "amount": plan.amount,
        "refunded_total": plan.refunded_total,
        "refund_state": plan.state,
        "restocked": restocked,
        "lines": [[c.line_id, c.quantity, c.amount] for c in plan.lines],
    }
    _record(order, PAYMENTS, "refunded", data=data)
    events.emit(
        current_merchant(),
        order_events.ORDER_REFUNDED,
        event_payload(order, refund=data),
        aggregate=order,
    )
    if plan.state == refunds.FULL and states.can(
        Transition.CANCEL_REFUNDED, order, ActorKind.PAYMENTS
    ):
        _move(
            order,
            PAYMENTS,
            Transition.CANCEL_REFUNDED,
            event_type=order_events.ORDER_CANCELLED,
            kind="cancelled",
            changes={"cancelled_at": clock.now(), "cancel_reason": _("Refunded in full")},
            note=_("Refunded in full"),
            data={"by": ActorKind.PAYMENTS.value},
        )
    return order


# --- shipping settings ----------------------------------------------------------------------------------


@transaction.atomic
def set_shipping_rule(
    actor: Actor, *, flat_fee: int, free_over: int | None
) -> pricing.ShippingRule:
    """The merchant's delivery fee: ``flat_fee`` fen, free from ``free_over`` (None: never)."""
    from siyu.orders.models import ShippingSettings

    actor.require(Perm.MERCHANT_MANAGE)
    errors: dict[str, str] = {}
    for name, value, optional in (("flat_fee", flat_fee, False), ("free_over", free_over, True)):
        if value is None and optional:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**9:
            errors[name] = _("Give a whole number of fen from 0.")
    if errors:
        raise InvalidInput(_("The shipping rule could not be saved."), fields=errors)
    row = ShippingSettings.objects.select_for_update().filter().first()
    before = {"flat_fee": row.flat_fee, "free_over": row.free_over} if row else None
    if row is None:
        row = ShippingSettings(merchant=actor.merchant)
    row.flat_fee = flat_fee
    row.free_over = free_over
    row.save()
    after = {"flat_fee": flat_fee, "free_over": free_over}
    if audit.changed(before, after):
        audit.record(actor, "orders.shipping.update", row, before=before, after=after)
    return pricing.ShippingRule(flat_fee=flat_fee, free_over=free_over)
