"""The coupon demo generator: coupon templates of every kind — running, scheduled, paused and
ended — with claims spread over the demo's year, and a few orders placed with coupons today.

* Templates are made, scheduled, started, paused and ended through the console's own services
  (``templates_admin``: validated and audited), then their creation times are moved back to
  when their history begins.
* The year of claims is written in bulk (:class:`siyu.core.demo.BulkInsert`): each template's
  coupons go to distinct customers who had joined by then; a coupon issued after a first
  order, on joining a group, from a card or from the claim page, as its template says.
* **Uses in the history are not attached to orders.** The demo's year of orders was priced
  without coupons (their stored pricing has no coupon discount), so a coupon "used" on one of
  them would contradict the order's own figures. Historical uses are therefore coupons marked
  used at a time after their claim, with no order and no discount recorded: they count as
  *used* on a template's page, not in its orders, sales or discount given.
* **Orders with coupons are real.** For the running templates, a dozen customers claim a coupon
  now and buy with it through the one checkout (:func:`siyu.promotions.checkout.checkout`),
  paid in the sandbox: those orders carry the discount in their pricing, and the template's
  results show their sales and the discount given.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Min, Q

from siyu.core import clock
from siyu.core.demo import BulkInsert, DemoContext
from siyu.core.tenancy import merchant_context
from siyu.orders.models import Order
from siyu.promotions import services, templates_admin
from siyu.promotions.models import Coupon, CouponTemplate

STEPS = 4
YEAR = timedelta(days=365)

# name, values, status, days of history (how long ago it was created), share of customers
TEMPLATES: list[tuple[str, dict[str, Any], str, int, float]] = [
    (
        "新人专享 ¥8",
        {"kind": "fixed", "amount": 800, "audience": "new", "valid_days": 7},
        "active",
        330,
        0.10,
    ),
    (
        "满100减20",
        {
            "kind": "threshold",
            "amount": 2000,
            "threshold": 10000,
            "valid_days": 30,
            "issue_on_group_join": True,
        },
        "active",
        300,
        0.14,
    ),
    (
        "全场85折 最高减30",
        {"kind": "percent", "percent_bp": 1500, "cap": 3000, "valid_days": 14},
        "active",
        120,
        0.06,
    ),
    (
        "外卖包邮券",
        {"kind": "free_shipping", "valid_days": 15, "issue_on_first_order": True},
        "paused",
        200,
        0.05,
    ),
    (
        "夏日冰饮 满50减10",
        {"kind": "threshold", "amount": 1000, "threshold": 5000, "validity": "dates"},
        "ended",
        260,
        0.08,
    ),
    (
        "双11 满200减50",
        {"kind": "threshold", "amount": 5000, "threshold": 20000, "valid_days": 10},
        "scheduled",
        0,
        0.0,
    ),
]
USE_SHARE = 0.35  # historical coupons used before they expired
SOURCES = [
    (Coupon.Source.CLAIM_PAGE, 0.55),
    (Coupon.Source.CARD, 0.3),
    (Coupon.Source.STAFF, 0.05),
    (Coupon.Source.REFERRAL, 0.1),
]
REAL_ORDERS = 12


def seed(ctx: DemoContext) -> None:
    with merchant_context(ctx.merchant), transaction.atomic():
        _seed(ctx)


def _template(ctx: DemoContext, name: str, values: dict[str, Any], quantity: int) -> Any:
    now = clock.now()
    data = {"name": name, "total_quantity": quantity, "per_customer_limit": 1, **values}
    if data.get("validity") == "dates":  # a summer campaign of the demo's year
        data["valid_from"] = now - timedelta(days=260)
        data["valid_until"] = now - timedelta(days=170)
    return templates_admin.create_template(ctx.owner, data)


def _source(ctx: DemoContext, template: CouponTemplate) -> str:
    if template.issue_on_group_join and ctx.rng.random() < 0.5:
        return Coupon.Source.GROUP_JOIN
    if template.issue_on_first_order and ctx.rng.random() < 0.5:
        return Coupon.Source.FIRST_ORDER
    roll, total = ctx.rng.random(), 0.0
    for source, share in SOURCES:
        total += share
        if roll < total:
            return source
    return Coupon.Source.CLAIM_PAGE


def _history(
    ctx: DemoContext,
    template: CouponTemplate,
    since: datetime,
    until: datetime,
    customers: list[tuple[int, datetime]],
    share: float,
    first_paid: dict[int, datetime],
) -> list[tuple[Any, ...]]:
    """Coupon rows of ``template`` claimed between ``since`` and ``until`` by customers who had
    joined by then (a new-customer coupon: before their first paid order); used (unattached),
    expired or still available by their validity."""
    new_only = template.audience == CouponTemplate.Audience.NEW
    now = clock.now()
    rows: list[tuple[Any, ...]] = []
    wanted = min(int(len(customers) * share), template.total_quantity)
    for customer_id, joined in ctx.rng.sample(customers, min(wanted, len(customers))):
        start = max(since, joined)
        end = min(until, first_paid.get(customer_id, until)) if new_only else until
        if start >= end:
            continue
        claimed = start + timedelta(
            seconds=ctx.rng.randrange(max(1, int((end - start).total_seconds())))
        )
        valid_from, valid_until = services.validity_of(template, claimed)
        if claimed < valid_from or valid_until <= claimed:
            continue
        used_at = None
        status = Coupon.Status.AVAILABLE
        if ctx.rng.random() < USE_SHARE:
            window = min(valid_until, now) - claimed
            used_at = claimed + window * ctx.rng.uniform(0.05, 0.9)
            status = Coupon.Status.USED
        elif valid_until <= now:
            status = Coupon.Status.EXPIRED
        rows.append(
            (
                ctx.merchant.pk,
                template.pk,
                customer_id,
                services.new_code(),
                "",
                1,
                _source(ctx, template),
                status,
                claimed,
                valid_from,
                valid_until,
                used_at,
            )
        )
    return rows


def _seed(ctx: DemoContext) -> None:
    from siyu.customers.models import Customer

    now = clock.now()
    customers = list(
        Customer.objects.filter(status=Customer.Status.ACTIVE)
        .order_by("pk")
        .values_list("pk", "created_at")
    )
    first_paid = dict(
        Order.objects.filter(paid_at__isnull=False)
        .values("customer_id")
        .annotate(first=Min("paid_at"))
        .order_by()
        .values_list("customer_id", "first")
    )
    made: list[tuple[CouponTemplate, str, int, float]] = []
    for name, values, status, days, share in TEMPLATES:
        quantity = max(200, int(len(customers) * share * 1.4) + REAL_ORDERS * 2)
        template = _template(ctx, name, values, quantity)
        made.append((template, status, days, share))
    ctx.advance(1)

    rows: list[tuple[Any, ...]] = []
    for template, status, days, share in made:
        if status == "scheduled":
            continue
        since = now - timedelta(days=days)
        until = now if status != "ended" else now - timedelta(days=170)
        if template.validity == CouponTemplate.Validity.DATES:
            since = max(since, template.valid_from or since)
            until = min(until, template.valid_until or until)
        if status in ("active", "paused"):
            templates_admin.set_status(ctx.owner, template.pk, CouponTemplate.Status.ACTIVE)
        rows.extend(_history(ctx, template, since, until, customers, share, first_paid))
    BulkInsert(
        Coupon,
        [
            "merchant_id",
            "template_id",
            "customer_id",
            "code",
            "client_key",
            "slot",
            "source",
            "status",
            "claimed_at",
            "valid_from",
            "valid_until",
            "used_at",
        ],
        now,
    ).write(rows)
    # the counters the claims and uses moved
    for template, _status, _days, _share in made:
        counts = Coupon.objects.filter(template=template).aggregate(
            issued=Count("id"), used=Count("id", filter=Q(status=Coupon.Status.USED))
        )
        CouponTemplate.objects.filter(pk=template.pk).update(
            issued_count=counts["issued"],
            used_count=counts["used"],
            remaining=F("total_quantity") - counts["issued"],
        )
    ctx.advance(1)

    _real_orders(ctx, [t for t, status, _d, _s in made if status == "active"])
    ctx.advance(1)

    # their statuses now, and when each began
    for template, status, days, _share in made:
        if status == "scheduled":
            templates_admin.schedule(ctx.owner, template.pk, now + timedelta(days=5))
        elif status in ("paused", "ended"):
            templates_admin.set_status(ctx.owner, template.pk, status)
        created = now - timedelta(days=days, hours=ctx.rng.randint(1, 10))
        CouponTemplate.objects.filter(pk=template.pk).update(created_at=created)
    ctx.shared["coupon_templates"] = [t.pk for t, _s, _d, _sh in made]
    ctx.advance(1)


def _real_orders(ctx: DemoContext, running: list[CouponTemplate]) -> None:
    """A dozen customers claim a running template's coupon now and buy with it, paid in the
    sandbox (real orders: the discount is in their pricing)."""
    from siyu.catalog.models import Sku
    from siyu.customers.models import Customer
    from siyu.inventory import services as inventory
    from siyu.payments.testing import pay
    from siyu.promotions import checkout as offers_checkout
    from siyu.stores.models import Store

    store = (
        Store.objects.filter(status=Store.Status.OPEN, pickup_enabled=True).order_by("pk").first()
    )
    everyone = [t for t in running if t.audience == CouponTemplate.Audience.EVERYONE]
    if store is None or not everyone:
        return
    location = inventory.location_for_store(store)
    skus = list(
        Sku.objects.filter(active=True, product__status="on_sale", price__gte=1500).order_by(
            "-price", "pk"
        )[:60]
    )
    have = inventory.available(location, [s.pk for s in skus])
    stocked = [s for s in skus if have.get(s.pk, 0) >= 30]
    if not stocked:
        return
    holders = set(Coupon.objects.values_list("customer_id", flat=True).distinct())
    buyers = [
        c
        for c in Customer.objects.filter(status=Customer.Status.ACTIVE).order_by("pk")[:600]
        if c.pk not in holders
    ]
    if len(buyers) < 2 * REAL_ORDERS:
        return  # a demo without its customers (--customers 0) gets no orders
    ctx.rng.shuffle(buyers)
    for n, customer in enumerate(buyers[:REAL_ORDERS]):
        template = everyone[n % len(everyone)]
        sku = stocked[n % len(stocked)]
        quantity = max(1, -(-(template.threshold + 500) // sku.price))  # over the threshold
        coupon = services.claim(template.pk, customer, source=_source(ctx, template))
        order = offers_checkout.checkout(
            customer,
            choices=offers_checkout.Choices(coupon_id=coupon.pk),
            fulfilment="pickup",
            store_id=store.pk,
            items=[(sku.pk, quantity)],
        )
        pay(order)
