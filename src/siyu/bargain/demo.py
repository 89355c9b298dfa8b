"""The bargain demo generator: a running activity and one that ended today, with bargains in
every state — being cut, at the floor, bought and paid, bought and waiting for payment,
expired — made through the real services, so every cut is drawn by ``siyu.bargain.cuts`` and
every purchase goes through the one checkout.

Helpers are demo customers (not new) and a few people who sign up by phone while a bargain
runs (new customers, counted double on the running activity).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction

from siyu.bargain import activities, services
from siyu.bargain.models import Bargain, BargainActivity
from siyu.core import clock
from siyu.core.demo import DemoContext
from siyu.core.errors import DomainError
from siyu.core.tenancy import merchant_context

STEPS = 3
MIN_PRICE = 1500  # fen: a bargain on something worth asking friends for
NEW_PHONES = "+86170%08d"


def _store_and_skus(ctx: DemoContext) -> tuple[Any, list[Any]] | None:
    """An open store with two SKUs in stock there (the dearest first)."""
    from siyu.catalog.models import Sku
    from siyu.inventory import services as inventory
    from siyu.stores.models import Store

    skus = list(
        Sku.objects.filter(active=True, price__gte=MIN_PRICE, product__status="on_sale")
        .select_related("product")
        .order_by("-price", "pk")[:60]
    )
    for store in Store.objects.filter(status=Store.Status.OPEN).order_by("pk")[:10]:
        location = inventory.location_for_store(store)
        have = inventory.available(location, [s.pk for s in skus])
        stocked = [s for s in skus if have.get(s.pk, 0) >= 5]
        products = {s.product_id: s for s in reversed(stocked)}  # one SKU per product
        if len(products) >= 2:
            return store, sorted(products.values(), key=lambda s: (-s.price, s.pk))[:2]
    return None


def _activity(ctx: DemoContext, sku: Any, name: str, **values: Any) -> BargainActivity:
    now = clock.now()
    helpers = values.pop("helpers_needed")
    floor = max(sku.price // 10, 0)
    floor = min(floor, sku.price - helpers)
    made = activities.create_activity(
        ctx.owner,
        {
            "name": name,
            "sku_id": sku.pk,
            "floor_price": floor,
            "helpers_needed": helpers,
            "stock_total": 30,
            **values,
            "starts_at": values.get("starts_at", now - timedelta(days=2)),
            "ends_at": values.get("ends_at", now + timedelta(days=12)),
        },
    )
    return activities.set_status(ctx.owner, made.pk, BargainActivity.Status.ACTIVE)


def _new_customer(ctx: DemoContext, n: int) -> Any:
    from siyu.customers.services_accounts import get_or_create_customer

    return get_or_create_customer(
        ctx.merchant, NEW_PHONES % (ctx.rng.randrange(10**7) * 10 + n), join_channel="bargain"
    )


def _cut(bargain: Bargain, helpers: list[Any]) -> int:
    done = 0
    for helper in helpers:
        try:
            services.help_cut(helper, bargain.pk)
        except DomainError:
            continue  # the starter, or a helper already counted: the real rules refuse them
        done += 1
    return done


def _buy(ctx: DemoContext, bargain: Bargain, store: Any, *, pay: bool) -> None:
    from siyu.orders import services as order_services

    order = services.buy(bargain.customer, bargain.pk, fulfilment="pickup", store_id=store.pk)
    if pay:
        order_services.mark_paid(
            order, payment_reference=f"demo-bargain-{bargain.code}", paid_at=clock.now()
        )


def _run(
    ctx: DemoContext,
    activity: BargainActivity,
    store: Any,
    starters: list[Any],
    helpers: list[Any],
    newcomers: int,
) -> list[Bargain]:
    """Bargains of ``starters`` in turn: bought and paid, bought unpaid, at the floor, being
    cut (a few), and one left to expire."""
    made: list[Bargain] = []
    pool = list(helpers)
    for n, starter in enumerate(starters):
        bargain = services.start(starter, activity.pk)
        others = [h for h in pool if h.pk != starter.pk]
        ctx.rng.shuffle(others)
        if n < 3:  # three reach the floor: two bought (one paid), one not yet
            wanted = activity.helpers_needed
        else:
            wanted = ctx.rng.randint(1, max(activity.helpers_needed - 1, 1))
        chosen = others[:wanted]
        if n < newcomers:
            chosen = [_new_customer(ctx, n), *chosen]
        _cut(bargain, chosen)
        bargain.refresh_from_db()
        if n == 0:
            _buy(ctx, bargain, store, pay=True)
        elif n == 1:
            _buy(ctx, bargain, store, pay=False)
        elif n == len(starters) - 1 and bargain.status == Bargain.Status.OPEN:
            # bought before the floor (the rules allow it) and paid
            _buy(ctx, bargain, store, pay=True)
        made.append(bargain)
    return made


def seed(ctx: DemoContext) -> None:
    from siyu.customers.models import Customer

    with merchant_context(ctx.merchant), transaction.atomic():
        found = _store_and_skus(ctx)
        customers = list(
            Customer.objects.filter(status=Customer.Status.ACTIVE).order_by("pk")[:300]
        )
        if found is None or len(customers) < 160:
            ctx.advance(STEPS)  # nothing to cut: the catalog or the customers are missing
            return
        store, (dear, second) = found
        ctx.rng.shuffle(customers)
        starters, helpers = customers[:8], customers[8:80]
        running = _activity(
            ctx,
            dear,
            f"{dear.product.name} 好友帮砍",
            helpers_needed=5,
            time_limit_hours=24,
            new_customer_weight=2,
            per_customer_limit=2,
        )
        made = _run(ctx, running, store, starters, helpers, newcomers=3)
        # one more that ran out of time yesterday
        late = services.start(customers[90], running.pk)
        _cut(late, helpers[:2])
        Bargain.objects.filter(pk=late.pk).update(
            started_at=clock.now() - timedelta(hours=30),
            expires_at=clock.now() - timedelta(hours=6),
        )
        services.expire_due()
        ctx.advance(1)

        now = clock.now()
        ended = _activity(
            ctx,
            second,
            f"{second.product.name} 限时砍价",
            helpers_needed=3,
            time_limit_hours=6,
            starts_at=now - timedelta(hours=8),
            ends_at=now + timedelta(hours=1),
        )
        finished = _run(ctx, ended, store, customers[100:106], customers[110:160], newcomers=1)
        ctx.advance(1)
        # the activity's end came: the bargains still running expire with it
        BargainActivity.objects.filter(pk=ended.pk).update(ends_at=clock.now())
        Bargain.objects.filter(pk__in=[b.pk for b in finished], status__in=services.LIVE).update(
            expires_at=clock.now()
        )
        services.expire_due(clock.now() + timedelta(seconds=1))
        ctx.shared["bargain_activities"] = [running.pk, ended.pk, len(made)]
        ctx.advance(1)
