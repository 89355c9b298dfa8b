"""Property: the segment query selects exactly the customers the pure evaluator selects.

Hypothesis draws a handful of customers (statistics, profile, tags, group memberships —
some left —, consent answers, paid and unpaid orders with lines in a category tree, partly
refunded) and random rules nested with all/any/not over every field of the language. For
each rule, ``set(matching_customers(rule))`` must equal the customers for whom
``evaluate(rule, facts)`` holds — with the kept order windows built (window clauses read
them) and without (they group the orders). Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from siyu.catalog.models import Product
from siyu.catalog.testing import first_sku, make_category, make_product
from siyu.community.models import CommunityGroup, GroupMember
from siyu.core import clock
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_staff, next_id
from siyu.customers import segments, windows
from siyu.customers.models import Consent, Customer, CustomerTag
from siyu.customers.rules import (
    FIELDS,
    MAX_DEPTH,
    RFM_CELLS,
    VALUE_SEGMENTS,
    evaluate,
    window_value,
)
from siyu.customers.testing import make_tag, make_tag_group
from siyu.inventory.services import location_for_store
from siyu.orders.models import Order, OrderLine
from siyu.stores.testing import make_store

pytestmark = pytest.mark.django_db

# SIYU_HYPOTHESIS_SHRINK=0 skips shrinking while debugging a failure
PHASES = (
    tuple(Phase)
    if os.environ.get("SIYU_HYPOTHESIS_SHRINK", "1") != "0"
    else (Phase.explicit, Phase.reuse, Phase.generate)
)

CITIES = ["上海市", "北京市", ""]
CHANNELS = ["storefront", "guide", "store_qr", ""]
CONSENT_CHANNELS = ["inbox", "group", "sms", "wechat"]


@dataclass
class World:
    merchant: Merchant
    tags: list[int]
    groups: list[int]
    stores: list[int]
    guides: list[int]
    categories: list[int]
    products: list[Product]
    location: Any


def build_world(merchant: Merchant) -> World:
    with merchant_context(merchant):
        group = make_tag_group(merchant, name="taste")
        tags = [make_tag(merchant, name=f"t{i}", group=group).pk for i in range(4)]
        stores = [make_store(merchant) for _ in range(2)]
        guides = [make_staff(merchant, Role.SHOPPING_GUIDE).pk for _ in range(2)]
        groups = [
            CommunityGroup.objects.create(merchant=merchant, name=f"g{i}", store=stores[0]).pk
            for i in range(3)
        ]
        coffee = make_category(merchant, "Coffee")
        beans = make_category(merchant, "Beans", parent=coffee)
        arabica = make_category(merchant, "Arabica", parent=beans)
        tea = make_category(merchant, "Tea")
        products = [
            make_product(merchant, category_id=c.pk if c else None)
            for c in (coffee, beans, arabica, tea, None)
        ]
        location = location_for_store(stores[0])
    return World(
        merchant,
        tags,
        groups,
        [s.pk for s in stores],
        guides,
        [c.pk for c in (coffee, beans, arabica, tea)],
        products,
        location,
    )


# --- customers -------------------------------------------------------------------------

hours_ago = st.integers(0, 24 * 150)
maybe_hours = st.none() | hours_ago


@st.composite
def customer_spec(draw: Any) -> dict[str, Any]:
    orders = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "hours_ago": st.integers(0, 24 * 120),
                    "paid": st.booleans(),
                    "total": st.integers(0, 30000),
                    "refund": st.sampled_from(["none", "partial", "full"]),
                    "lines": st.lists(
                        st.tuples(st.integers(0, 4), st.integers(1, 3), st.booleans()),
                        min_size=1,
                        max_size=2,
                    ),
                }
            ),
            max_size=3,
        )
    )
    return {
        "created": draw(hours_ago),
        "status": draw(st.sampled_from(["active", "blocked"])),
        "order_count": draw(st.integers(0, 5)),
        "total_spent": draw(st.integers(0, 50000)),
        "aov": draw(st.integers(0, 20000)),
        "first": draw(maybe_hours),
        "last": draw(maybe_hours),
        "rfm": draw(st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 5))),
        "rfm_cell": draw(st.sampled_from(["", *RFM_CELLS[:3]])),
        "clv": draw(st.tuples(st.integers(0, 100), st.integers(0, 90000))),
        "clv_segment": draw(st.sampled_from(["", *VALUE_SEGMENTS])),
        "birth_month": draw(st.none() | st.integers(1, 12)),
        "city": draw(st.sampled_from(CITIES)),
        "gender": draw(st.sampled_from(["", "female", "male"])),
        "channel": draw(st.sampled_from(CHANNELS)),
        "store": draw(st.none() | st.integers(0, 1)),
        "guide": draw(st.none() | st.integers(0, 1)),
        "tags": draw(st.sets(st.integers(0, 3))),
        "groups": draw(st.lists(st.tuples(st.integers(0, 2), st.booleans()), max_size=3)),
        "consents": draw(
            st.dictionaries(
                st.sampled_from(CONSENT_CHANNELS), st.sampled_from(["refused", "granted"])
            )
        ),
        "orders": orders,
    }


def make_customers(world: World, specs: list[dict[str, Any]], now: Any) -> list[int]:
    m = world.merchant
    Order.objects.all().delete()
    Customer.objects.all().delete()

    def at(hours: int | None) -> Any:
        return None if hours is None else now - timedelta(hours=hours, minutes=7)

    made = Customer.objects.bulk_create(
        [
            Customer(
                merchant=m,
                phone=f"+86137{next_id():08d}",
                status=s["status"],
                order_count=s["order_count"],
                total_spent=s["total_spent"],
                average_order_value=s["aov"],
                first_order_at=at(s["first"]),
                last_order_at=at(s["last"]),
                rfm_recency=s["rfm"][0],
                rfm_frequency=s["rfm"][1],
                rfm_monetary=s["rfm"][2],
                rfm_cell=s["rfm_cell"],
                clv_alive=s["clv"][0],
                clv_value=s["clv"][1],
                clv_segment=s["clv_segment"],
                birth_month=s["birth_month"],
                city=s["city"],
                gender=s["gender"],
                join_channel=s["channel"],
                home_store_id=None if s["store"] is None else world.stores[s["store"]],
                owner_guide_id=None if s["guide"] is None else world.guides[s["guide"]],
            )
            for s in specs
        ]
    )
    ids = [c.pk for c in made]
    tags, members, consents, orders, lines = [], [], [], [], []
    for cid, s in zip(ids, specs, strict=True):
        Customer.objects.filter(pk=cid).update(created_at=at(s["created"]))
        tags += [
            CustomerTag(
                merchant=m, customer_id=cid, tag_id=world.tags[t], source="manual", added_at=now
            )
            for t in s["tags"]
        ]
        seen: set[int] = set()
        for g, active in s["groups"]:
            if active and g in seen:
                continue
            if active:
                seen.add(g)
            members.append(
                GroupMember(
                    merchant=m,
                    customer_id=cid,
                    group_id=world.groups[g],
                    joined_at=now - timedelta(days=3),
                    left_at=None if active else now - timedelta(days=1),
                )
            )
        consents += [
            Consent(merchant=m, customer_id=cid, channel=ch, status=st_, updated_at=now)
            for ch, st_ in s["consents"].items()
        ]
        for o in s["orders"]:
            refunded = {"none": 0, "partial": o["total"] // 2, "full": o["total"]}[o["refund"]]
            order = Order(
                merchant=m,
                number=f"T{next_id()}",
                customer_id=cid,
                status="paid" if o["paid"] else "pending_payment",
                refund_state=o["refund"] if o["paid"] else "none",
                fulfilment="pickup",
                location=world.location,
                subtotal=o["total"],
                total=o["total"],
                refunded_total=refunded if o["paid"] else 0,
                placed_at=now - timedelta(hours=o["hours_ago"], minutes=3),
                paid_at=now - timedelta(hours=o["hours_ago"]) if o["paid"] else None,
            )
            orders.append(order)
            lines.append((order, o["lines"]))
    CustomerTag.objects.bulk_create(tags)
    GroupMember.objects.bulk_create(members)
    Consent.objects.bulk_create(consents)
    Order.objects.bulk_create(orders)
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                merchant=m,
                order=order,
                sku=first_sku(world.products[p]),
                product_id_snapshot=world.products[p].pk,
                product_name="x",
                sku_code="x",
                unit_price=100,
                quantity=q,
                line_total=100 * q,
                refunded_quantity=q if refunded else 0,
                refunded_amount=100 * q if refunded else 0,
            )
            for order, specs_ in lines
            for p, q, refunded in specs_
        ]
    )
    return ids


# --- rules -----------------------------------------------------------------------------


def numeric_value(lo: int, hi: int) -> st.SearchStrategy[dict[str, Any]]:
    single = st.tuples(st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]), st.integers(lo, hi))
    between = st.tuples(st.just("between"), st.tuples(st.integers(lo, hi), st.integers(lo, hi)))
    return st.one_of(single, between).map(
        lambda t: {"op": t[0], "value": sorted(t[1]) if t[0] == "between" else t[1]}
    )


# any number of days, and the windows kept per customer (read from OrderWindow when built)
window_days = st.integers(1, 130) | st.sampled_from(windows.KEPT_DAYS)


def leaf(world: World) -> st.SearchStrategy[dict[str, Any]]:
    def field(name: str, values: st.SearchStrategy[dict[str, Any]], **params: Any) -> Any:
        extra = st.fixed_dictionaries(params) if params else st.just({})
        return st.tuples(values, extra).map(lambda t: {"field": name, **t[0], **t[1]})

    ids = lambda pool: st.lists(st.sampled_from(pool), min_size=1, max_size=3)  # noqa: E731
    op_list = lambda ops, values: st.tuples(st.sampled_from(ops), values).map(  # noqa: E731
        lambda t: {"op": t[0], "value": t[1]}
    )
    boolean = st.booleans()
    return st.one_of(
        field("order_count", numeric_value(0, 6)),
        field("total_spent", numeric_value(0, 50000)),
        field("average_order_value", numeric_value(0, 20000)),
        field("rfm_recency", numeric_value(0, 5)),
        field("rfm_frequency", numeric_value(0, 5)),
        field("rfm_monetary", numeric_value(0, 5)),
        field("days_since_last_order", numeric_value(0, 160)),
        field("first_order_days_ago", numeric_value(0, 160)),
        field("customer_days", numeric_value(0, 160)),
        field("spent_in_days", numeric_value(0, 40000), days=window_days),
        field("orders_in_days", numeric_value(0, 3), days=window_days),
        field(
            "category_orders",
            numeric_value(0, 3),
            category=st.sampled_from(world.categories),
        ),
        field(
            "category_orders",
            numeric_value(0, 3),
            category=st.sampled_from(world.categories),
            days=window_days,
        ),
        field("has_ordered", op_list(["is"], boolean)),
        field("tag", op_list(["has_any", "has_all", "has_none"], ids(world.tags))),
        field(
            "group",
            op_list(["member_of_any", "member_of_all", "member_of_none"], ids(world.groups)),
        ),
        field("group", op_list(["in_any_group"], boolean)),
        field("home_store", op_list(["in", "not_in"], ids(world.stores))),
        field("home_store", op_list(["is_empty"], boolean)),
        field("owner_guide", op_list(["in", "not_in"], ids(world.guides))),
        field("owner_guide", op_list(["is_empty"], boolean)),
        field("join_channel", op_list(["in", "not_in"], ids(CHANNELS))),
        field("city", op_list(["in", "not_in"], ids(CITIES))),
        field("city", op_list(["is_empty"], boolean)),
        field("gender", op_list(["in"], ids(["", "female", "male"]))),
        field("birthday_month", op_list(["in"], ids(list(range(1, 13))))),
        st.just({"field": "birthday_month", "op": "this_month"}),
        field("consent", op_list(["refused"], boolean), channel=st.sampled_from(CONSENT_CHANNELS)),
        field("status", op_list(["in"], ids(["active", "blocked"]))),
        field("status", op_list(["eq"], st.sampled_from(["active", "blocked"]))),
        field("rfm_cell", op_list(["in"], ids(["", *RFM_CELLS[:3]]))),
        field("clv_alive", numeric_value(0, 100)),
        field("clv_value", numeric_value(0, 90000)),
        field("clv_segment", op_list(["in"], ids(["", *VALUE_SEGMENTS]))),
    )


def rules(world: World) -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(
        leaf(world),
        lambda children: st.one_of(
            st.lists(children, max_size=4).map(lambda cs: {"all": cs}),
            st.lists(children, max_size=4).map(lambda cs: {"any": cs}),
            children.map(lambda c: {"not": c}),
        ),
        max_leaves=8,
    )


def depth(rule: dict[str, Any]) -> int:
    if "all" in rule or "any" in rule:
        return 1 + max((depth(c) for c in rule.get("all", rule.get("any"))), default=0)
    if "not" in rule:
        return 1 + depth(rule["not"])
    return 1


def test_every_field_is_generated() -> None:
    generated = {
        "order_count", "total_spent", "average_order_value", "rfm_recency", "rfm_frequency",
        "rfm_monetary", "days_since_last_order", "first_order_days_ago", "customer_days",
        "spent_in_days", "orders_in_days", "category_orders", "has_ordered", "tag", "group",
        "home_store", "owner_guide", "join_channel", "city", "gender", "birthday_month",
        "consent", "status", "rfm_cell", "clv_alive", "clv_value", "clv_segment",
    }  # fmt: skip
    assert generated == set(FIELDS)


@pytest.fixture
def world(merchant: Merchant) -> World:
    return build_world(merchant)


def assert_windows_hold_what_the_evaluator_computes(
    world: World, ids: list[int], facts: dict[int, Any]
) -> None:
    for cid in ids:
        for days in (None, *windows.KEPT_DAYS):
            kept = windows.window_of(cid, days or windows.ALL_TIME)
            spent = window_value({"field": "spent_in_days", "days": days}, facts[cid])
            orders = window_value({"field": "orders_in_days", "days": days}, facts[cid])
            assert kept == (orders, spent), (cid, days)
            for category in world.categories:
                clause = {"field": "category_orders", "days": days, "category": category}
                stored = windows.window_of(cid, days or windows.ALL_TIME, category)
                assert stored == (window_value(clause, facts[cid]), 0), (cid, days, category)


@settings(
    max_examples=40,
    phases=PHASES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), specs=st.lists(customer_spec(), min_size=1, max_size=7))
def test_the_query_selects_what_the_evaluator_selects(world: World, data: Any, specs: Any) -> None:
    now = clock.now()
    with merchant_context(world.merchant):
        ids = make_customers(world, specs, now)
        built = data.draw(st.booleans(), label="order windows built")
        if built:
            windows.rebuild(world.merchant, now=now)
        else:
            windows.invalidate(world.merchant)
        facts = segments.customer_facts(ids, now=now)
        if built:
            assert_windows_hold_what_the_evaluator_computes(world, ids, facts)
        for _ in range(4):
            rule = data.draw(rules(world))
            assume(depth(rule) <= MAX_DEPTH)
            expected = {cid for cid in ids if evaluate(rule, facts[cid])}
            got = set(segments.matching_customers(rule, now=now).values_list("pk", flat=True))
            assert got == expected, (rule, got, expected)
