"""The group-buy demo generator: a running group-buy with teams that succeeded and teams still
filling, and a finished one whose teams succeeded or failed (their members refunded through the
sandbox gateway) — every order placed through the one checkout, paid through the sandbox
provider and seated by the same function the payment consumer calls.

Joiners are demo customers, among them a few who never paid an order (new customers, so the
results show customers brought; people sign up by phone only when the demo has too few). The finished group-buy's teams are spread over the days
it ran (their times moved back after the real services made them), so its chart has a history.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction

from siyu.core import clock
from siyu.core.demo import DemoContext
from siyu.core.tenancy import merchant_context
from siyu.groupbuy import activities, services
from siyu.groupbuy.models import GroupBuy, Member, Team

STEPS = 3
MIN_PRICE = 1200  # fen: worth bringing friends for
NEW_PHONES = "+86171%08d"


def _store_and_skus(ctx: DemoContext) -> tuple[Any, list[Any]] | None:
    """An open store with two products' SKUs in stock there (the dearest first)."""
    from siyu.catalog.models import Sku
    from siyu.inventory import services as inventory
    from siyu.stores.models import Store

    skus = list(
        Sku.objects.filter(active=True, price__gte=MIN_PRICE, product__status="on_sale")
        .select_related("product")
        .order_by("-price", "pk")[:80]
    )
    for store in Store.objects.filter(status=Store.Status.OPEN, pickup_enabled=True).order_by("pk")[
        :10
    ]:
        location = inventory.location_for_store(store)
        have = inventory.available(location, [s.pk for s in skus])
        stocked = [s for s in skus if have.get(s.pk, 0) >= 40]
        products = {s.product_id: s for s in reversed(stocked)}  # one SKU per product
        if len(products) >= 3:
            chosen = sorted(products.values(), key=lambda s: (-s.price, s.pk))
            return store, [chosen[1], chosen[2]]  # not the dearest: bargain may have it
    return None


def _activity(ctx: DemoContext, sku: Any, name: str, **values: Any) -> GroupBuy:
    now = clock.now()
    made = activities.create(
        ctx.owner,
        {
            "name": name,
            "product_id": sku.product_id,
            "fill_hours": 24,
            "per_customer_limit": 2,
            "starts_at": now - timedelta(days=3),
            "ends_at": now + timedelta(days=10),
            "skus": [{"sku_id": sku.pk, "group_price": sku.price * 7 // 10, "stock": 200}],
            **values,
        },
    )
    return activities.set_status(ctx.owner, made.pk, "schedule")


def _new_customer(ctx: DemoContext, n: int) -> Any:
    from siyu.customers.services_accounts import get_or_create_customer

    return get_or_create_customer(
        ctx.merchant, NEW_PHONES % (ctx.rng.randrange(10**7) * 10 + n), join_channel="groupbuy"
    )


def _never_paid(ctx: DemoContext, count: int) -> list[Any]:
    """Customers who never paid an order (community members who have not bought yet): the
    new customers a group-buy brings; people signing up by phone when there are too few."""
    from siyu.customers.models import Customer
    from siyu.orders.models import Order

    paid = Order.objects.filter(paid_at__isnull=False).values("customer_id")
    found = list(
        Customer.objects.filter(status=Customer.Status.ACTIVE)
        .exclude(pk__in=paid)
        .order_by("pk")[:count]
    )
    return found + [_new_customer(ctx, n) for n in range(count - len(found))]


def _join(activity: GroupBuy, customer: Any, store: Any, sku: Any, team: Team | None) -> Member:
    """Buy, pay through the sandbox and seat (as the ``orders.order.paid`` consumer does)."""
    from siyu.payments.testing import pay

    order = services.buy(
        customer,
        activity.pk,
        sku_id=sku.pk,
        team_id=team.pk if team is not None else None,
        fulfilment="pickup",
        store_id=store.pk,
    )
    pay(order)
    member = services.seat_paid(order.pk)
    assert member is not None
    return member


def _teams(
    ctx: DemoContext,
    activity: GroupBuy,
    store: Any,
    sku: Any,
    people: list[Any],
    *,
    full: int,
    partial: int,
) -> list[Team]:
    """``full`` teams filled to the last seat, then ``partial`` teams one short."""
    made: list[Team] = []
    pool = iter(people)
    for n in range(full + partial):
        leader = _join(activity, next(pool), store, sku, None)
        team = leader.team
        assert team is not None
        seats = activity.team_size - (1 if n < full else 2)
        for _seat in range(seats):
            _join(activity, next(pool), store, sku, team)
        made.append(team)
    return made


def _spread(ctx: DemoContext, teams: list[Team | None], days: int) -> None:
    """Move teams back over the last ``days`` days."""
    for team in teams:
        if team is None:
            continue
        team.refresh_from_db()
        back = timedelta(days=ctx.rng.randint(1, days), hours=ctx.rng.randint(0, 12))
        Team.objects.filter(pk=team.pk).update(
            opened_at=team.opened_at - back,
            deadline=team.deadline - back,
            closed_at=team.closed_at - back + timedelta(hours=ctx.rng.randint(1, 20))
            if team.closed_at
            else None,
        )


def seed(ctx: DemoContext) -> None:
    from siyu.customers.models import Customer

    with merchant_context(ctx.merchant), transaction.atomic():
        found = _store_and_skus(ctx)
        customers = list(
            Customer.objects.filter(status=Customer.Status.ACTIVE).order_by("pk")[:400]
        )
        if found is None or len(customers) < 60:
            ctx.advance(STEPS)  # nothing to sell together: the catalog or customers are missing
            return
        store, (first, second) = found
        ctx.rng.shuffle(customers)
        newcomers = _never_paid(ctx, 6)
        customers = [c for c in customers if c.pk not in {n.pk for n in newcomers}]

        running = _activity(ctx, first, f"{first.product.name} 3 人团", team_size=3)
        people = [customers[0], *newcomers[:3], *customers[1:20]]
        _teams(ctx, running, store, first, people, full=3, partial=2)
        ctx.advance(1)

        finished = _activity(
            ctx,
            second,
            f"{second.product.name} 2 人团",
            team_size=2,
            fill_hours=12,
            starts_at=clock.now() - timedelta(days=7),
            ends_at=clock.now() + timedelta(hours=2),
        )
        people = [customers[30], *newcomers[3:], *customers[31:50]]
        teams = _teams(ctx, finished, store, second, people, full=5, partial=0)
        lonely = [_join(finished, c, store, second, None).team for c in customers[50:53]]
        ctx.advance(1)
        # the group-buy ended: its teams still filling fail and their members are refunded
        activities.set_status(ctx.owner, finished.pk, "end")
        services.fail_overdue(clock.now() + timedelta(seconds=1))
        _spread(ctx, [*teams, *lonely], days=6)
        GroupBuy.objects.filter(pk=finished.pk).update(ends_at=clock.now())
        ctx.shared["groupbuy_activities"] = [running.pk, finished.pk]
        ctx.advance(1)
