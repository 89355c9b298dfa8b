"""Reads of carts and orders that the console, the staff API and the storefront share.

Staff reads go through :func:`visible_orders`: store managers and shopping guides
see the orders of the stores they are assigned to, everyone else with
``Perm.ORDERS_VIEW`` sees the merchant's orders. Customer reads take the
``Customer`` and see only their own orders.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.catalog.models import Sku
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.money import to_decimal
from siyu.core.permissions import Perm
from siyu.core.tenancy import current_merchant
from siyu.inventory import services as inventory
from siyu.orders import checkout as checkout_context
from siyu.orders import pricing, states
from siyu.orders.models import CartLine, Order, OrderEvent, OrderLine
from siyu.orders.pricing import PricedCart, PricingLine
from siyu.orders.services import assigned_store_ids, is_store_scoped
from siyu.stores.models import Store

if TYPE_CHECKING:
    from siyu.customers.models import Customer
    from siyu.inventory.models import Location

SEARCH_MAX = 40


# --- staff -----------------------------------------------------------------------------------------


def visible_orders(actor: Actor) -> QuerySet[Order]:
    """The orders ``actor`` may see (none without ``ORDERS_VIEW``)."""
    orders = Order.objects.all()
    if not actor.can(Perm.ORDERS_VIEW):
        return orders.none()
    if is_store_scoped(actor):
        return orders.filter(store_id__in=sorted(assigned_store_ids(actor)))
    return orders


def visible_stores(actor: Actor) -> QuerySet[Store]:
    """The stores whose orders ``actor`` sees (for filters and the pickup counter)."""
    stores = Store.objects.order_by("code")
    if is_store_scoped(actor):
        return stores.filter(pk__in=sorted(assigned_store_ids(actor)))
    return stores


@dataclass
class OrderFilters:
    status: str = ""
    store_id: int | None = None
    fulfilment: str = ""
    channel: str = ""
    refund_state: str = ""
    date_from: date | None = None  # the merchant's local days, both ends included
    date_to: date | None = None
    q: str = ""  # an order number, a customer's phone (or its last digits) or name

    @property
    def active(self) -> bool:
        return any(
            (
                self.status,
                self.store_id,
                self.fulfilment,
                self.channel,
                self.refund_state,
                self.date_from,
                self.date_to,
                self.q,
            )
        )


def _local_start(day: date, time_zone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=clock.zone(time_zone))


def search_filter(q: str) -> Q | None:
    """Order number (exact), phone (E.164, 11 digits or the last 4+ digits), or name."""
    text = "".join(q.split())[:SEARCH_MAX]
    if not text:
        return None
    digits = text.lstrip("+")
    if digits.isdigit():
        condition = Q(number=digits)
        if text.startswith("+"):
            condition |= Q(customer__phone=text)
        elif len(digits) == 11:
            condition |= Q(customer__phone=f"+86{digits}")
        elif len(digits) >= 4:
            condition |= Q(customer__phone__endswith=digits)
        return condition
    return Q(number__iexact=text) | Q(customer__name__icontains=q.strip()[:SEARCH_MAX])


def orders(actor: Actor, filters: OrderFilters | None = None) -> QuerySet[Order]:
    """The visible orders matching ``filters``, newest first, with customer and store."""
    filters = filters or OrderFilters()
    found = visible_orders(actor).select_related("customer", "store")
    if filters.status:
        found = found.filter(status=filters.status)
    if filters.store_id:
        found = found.filter(store_id=filters.store_id)
    if filters.fulfilment:
        found = found.filter(fulfilment=filters.fulfilment)
    if filters.channel:
        found = found.filter(channel=filters.channel)
    if filters.refund_state:
        found = found.filter(refund_state=filters.refund_state)
    zone = actor.merchant.time_zone
    if filters.date_from:
        found = found.filter(placed_at__gte=_local_start(filters.date_from, zone))
    if filters.date_to:
        found = found.filter(placed_at__lt=_local_start(filters.date_to + timedelta(days=1), zone))
    if filters.q:
        condition = search_filter(filters.q)
        if condition is not None:
            found = found.filter(condition)
    return found.order_by("-placed_at", "-id")


def channels(actor: Actor) -> list[str]:
    return sorted(set(visible_orders(actor).values_list("channel", flat=True).distinct()))


def order_for(actor: Actor, pk: int) -> Order | None:
    """One visible order with its lines, timeline and payments, or None (→ 404)."""
    from siyu.payments.models import Payment

    return (
        visible_orders(actor)
        .select_related("customer", "store", "location")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
            Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
            Prefetch("payments", queryset=Payment.objects.order_by("-created_at", "-id")),
        )
        .filter(pk=pk)
        .first()
    )


def staff_actions(actor: Actor, order: Order) -> list[str]:
    """The moves this staff member may make on ``order`` now (``states.Transition`` values)."""
    if not actor.can(Perm.ORDERS_FULFIL):
        return []
    from siyu.orders.services import HELD_TRANSITIONS

    return [
        str(rule.transition)
        for rule in states.available(order, states.ActorKind.STAFF)
        if not (order.fulfilment_hold and rule.transition in HELD_TRANSITIONS)
    ]


# --- explanations and the timeline (pages and API) -----------------------------------------------


@dataclass(frozen=True)
class Figure:
    name: str
    amount: int
    text: str


def explain(order: Order) -> list[Figure]:
    """The order's stored pricing explanation, translated, figure by figure."""
    data: Mapping[str, Any] = order.pricing or {}
    currency = order.currency
    figures: list[Figure] = []
    for n, line in enumerate(data.get("lines", [])):
        figures.append(
            Figure(
                f"line.{n}", line.get("gross", 0), pricing.describe(line.get("note", {}), currency)
            )
        )
    for discount in data.get("discounts", []):
        figures.append(
            Figure(
                f"discount.{discount.get('code', '')}",
                -discount.get("amount", 0),
                pricing.describe(discount.get("note", {}), currency),
            )
        )
    for name in ("subtotal", "shipping", "total"):
        entry = data.get(name)
        if entry:
            figures.append(
                Figure(
                    name, entry.get("amount", 0), pricing.describe(entry.get("note", {}), currency)
                )
            )
    return figures


EVENT_LABELS: dict[str, Any] = {
    "placed": gettext_lazy("Order placed"),
    "paid": gettext_lazy("Paid"),
    "preparing": gettext_lazy("Preparing started"),
    "shipped": gettext_lazy("Shipped"),
    "ready_for_pickup": gettext_lazy("Ready for pickup"),
    "collected": gettext_lazy("Collected with the pickup code"),
    "completed": gettext_lazy("Completed"),
    "cancelled": gettext_lazy("Cancelled"),
    "refunded": gettext_lazy("Refunded"),
    "fulfilment_held": gettext_lazy("Fulfilment on hold"),
    "fulfilment_released": gettext_lazy("Fulfilment hold lifted"),
}


def event_label(kind: str) -> str:
    return str(EVENT_LABELS.get(kind, kind))


# --- customers (the storefront) --------------------------------------------------------------------


def customer_orders(customer: Customer, status: str = "") -> QuerySet[Order]:
    """The customer's own orders, newest first, with their lines."""
    found = Order.objects.filter(customer=customer).select_related("store")
    if status:
        found = found.filter(status=status)
    return found.prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    ).order_by("-placed_at", "-id")


def customer_order(customer: Customer, pk: int, *, timeline: bool = True) -> Order | None:
    """One of the customer's orders with its lines (and its timeline unless ``timeline`` is
    false), or None (another's: None too)."""
    prefetch: list[Prefetch[Any, Any, str]] = [
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    ]
    if timeline:
        prefetch.append(
            Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id"))
        )
    return (
        Order.objects.filter(customer=customer, pk=pk)
        .select_related("store")
        .prefetch_related(*prefetch)
        .first()
    )


def customer_order_row(customer: Customer, pk: int) -> Order | None:
    """One of the customer's orders, its row alone (one query), or None."""
    return Order.objects.filter(customer=customer, pk=pk).first()


@dataclass
class CartItem:
    line: CartLine
    sku: Sku
    quantity: int
    unit_price: int
    gross: int
    available: int | None  # at the chosen location; None when no location applies
    problem: str | None  # why it cannot be bought now (not on sale, not here, not enough)

    @property
    def buyable(self) -> bool:
        return self.problem is None


@dataclass
class CartView:
    items: list[CartItem]
    priced: PricedCart | None  # the buyable items, priced; None when there are none
    location: Location | None
    fulfilment: str
    store: Store | None = None
    problems: dict[str, str] = field(default_factory=dict)  # store_id / fulfilment problems

    @property
    def count(self) -> int:
        return sum(item.quantity for item in self.items)

    @property
    def can_check_out(self) -> bool:
        return bool(self.items) and all(i.buyable for i in self.items) and not self.problems


def cart_view(
    customer: Customer,
    *,
    fulfilment: str = pricing.PICKUP,
    store_id: int | None = None,
    adjusters: Sequence[pricing.Adjuster] = (),
) -> CartView:
    """The customer's cart priced for ``fulfilment`` (at ``store_id``), with stock per line."""
    merchant = current_merchant()
    lines = list(
        CartLine.objects.filter(cart__customer=customer)
        .select_related("sku__product")
        .order_by("added_at", "id")
    )
    problems: dict[str, str] = {}
    if fulfilment not in pricing.FULFILMENTS:
        problems["fulfilment"] = _("Choose delivery or pickup.")
        fulfilment = pricing.PICKUP
    store: Store | None = None
    location: Location | None = None
    if store_id is not None:
        store = Store.objects.select_related("stock_location").filter(pk=store_id).first()
    if fulfilment == pricing.PICKUP:
        problem = checkout_context.pickup_store_problem(store) if store_id is not None else None
        if problem:
            problems["store_id"] = problem
        elif store is not None:
            location = checkout_context.store_location(store)
    else:
        location = inventory.delivery_location(merchant)
        if location is None:
            problems["fulfilment"] = _("This shop does not deliver yet: choose pickup.")
    pickup_store = store if fulfilment == pricing.PICKUP and location is not None else None
    products = list({ln.sku.product_id: ln.sku.product for ln in lines}.values())
    sold = checkout_context.products_sold_at(pickup_store, products) if pickup_store else None
    stock = inventory.available(location, [ln.sku_id for ln in lines]) if location else {}
    items: list[CartItem] = []
    for ln in lines:
        available = stock.get(ln.sku_id) if location is not None else None
        problem = checkout_context.sellable_problem(ln.sku, pickup_store, sold)
        if problem is None and available is not None and available < ln.quantity:
            problem = inventory.left_text(available)
        items.append(
            CartItem(
                line=ln,
                sku=ln.sku,
                quantity=ln.quantity,
                unit_price=ln.sku.price,
                gross=ln.sku.price * ln.quantity,
                available=available,
                problem=problem,
            )
        )
    buyable = [i for i in items if i.buyable]
    priced = (
        pricing.price_cart(
            [
                PricingLine(i.sku.pk, i.quantity, i.sku.price, i.sku.product_id, i.sku.list_price)
                for i in buyable
            ],
            fulfilment=fulfilment,
            shipping=checkout_context.shipping_rule(merchant)
            if fulfilment == pricing.DELIVERY
            else pricing.ShippingRule(),
            adjustments=adjusters,
            currency=merchant.currency,
        )
        if buyable
        else None
    )
    return CartView(items, priced, location, fulfilment, store, problems)


@dataclass
class CheckoutPreview:
    """What checkout would charge, without placing anything."""

    context: checkout_context.CheckoutContext
    priced: PricedCart
    shortages: dict[str, str]  # items.N.quantity → "Only 2 left."

    @property
    def can_place(self) -> bool:
        return not self.shortages


def checkout_preview(
    customer: Customer,
    *,
    fulfilment: str,
    store_id: int | None = None,
    address_id: int | None = None,
    items: Sequence[tuple[int, int]] | None = None,
    note: str = "",
    attribution: Mapping[str, Any] | None = None,
    adjusters: Sequence[pricing.Adjuster] = (),
) -> CheckoutPreview:
    """The same checks and figures as ``services.checkout``; bad input raises the same way."""
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
    have = inventory.available(ctx.location, [sku_id for sku_id, _q in ctx.items])
    shortages = {
        f"items.{n}.quantity": inventory.left_text(have.get(sku_id, 0))
        for n, (sku_id, quantity) in enumerate(ctx.items)
        if have.get(sku_id, 0) < quantity
    }
    return CheckoutPreview(ctx, ctx.price(), shortages)


# --- CSV export -----------------------------------------------------------------------------------------


def yuan(amount: int, currency: str = "CNY") -> str:
    """Fen as yuan with two decimals for spreadsheets: ``1230`` → ``12.30``."""
    return f"{to_decimal(amount, currency):f}"


EXPORT_CHUNK = 500


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_header() -> list[str]:
    return [
        _("Order number"),
        _("Placed at"),
        _("Status"),
        _("Refunds"),
        _("Fulfilment"),
        _("Store"),
        _("Customer phone"),
        _("Customer name"),
        _("Items"),
        _("Units"),
        _("Subtotal (yuan)"),
        _("Discounts (yuan)"),
        _("Shipping (yuan)"),
        _("Total (yuan)"),
        _("Refunded (yuan)"),
        _("Paid at"),
        _("Channel"),
        _("Pickup code"),
        _("Carrier"),
        _("Tracking number"),
        _("Delivery address"),
        _("Customer note"),
    ]


def _address_text(address: Mapping[str, Any] | None) -> str:
    if not address:
        return ""
    place = "".join(str(address.get(k) or "") for k in ("province", "city", "district", "street"))
    return f"{address.get('recipient', '')} {address.get('phone', '')} {place}".strip()


def _local_text(moment: datetime | None, time_zone: str) -> str:
    return clock.local(moment, time_zone).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def export_row(order: Order, time_zone: str) -> list[str]:
    lines = list(order.lines.all())
    items = "; ".join(
        f"{ln.product_name}{f' ({opts})' if (opts := ' / '.join(map(str, ln.options.values()))) else ''} × {ln.quantity}"
        for ln in lines
    )
    return [
        order.number,
        _local_text(order.placed_at, time_zone),
        str(order.get_status_display()),
        str(order.get_refund_state_display()),
        str(order.get_fulfilment_display()),
        order.store.name if order.store else "",
        order.customer.phone,
        order.customer.name,
        items,
        str(sum(ln.quantity for ln in lines)),
        yuan(order.subtotal, order.currency),
        yuan(order.discount_total, order.currency),
        yuan(order.shipping_fee, order.currency),
        yuan(order.total, order.currency),
        yuan(order.refunded_total, order.currency),
        _local_text(order.paid_at, time_zone),
        order.channel,
        order.pickup_code,
        order.carrier,
        order.tracking_number,
        _address_text(order.shipping_address),
        order.note,
    ]


def export_csv(actor: Actor, filters: OrderFilters) -> Iterator[str]:
    """The filtered orders as CSV text, one row per order, UTF-8 BOM first (Excel in China).

    Lazy: rows are read ``EXPORT_CHUNK`` orders at a time, so a year of orders streams in
    constant memory. The caller binds the merchant while iterating.
    """
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow(export_header())
    zone = actor.merchant.time_zone
    found = orders(actor, filters).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    )
    for order in found.iterator(chunk_size=EXPORT_CHUNK):
        yield writer.writerow(export_row(order, zone))
