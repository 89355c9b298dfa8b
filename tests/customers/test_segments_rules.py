"""The rule language: each mistake answers a RuleError naming the clause; each field matches
a hand-built case; the compiled rule is one SQL statement."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from siyu.catalog.models import Category
from siyu.catalog.testing import make_category
from siyu.community.models import CommunityGroup, GroupMember
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant, make_staff
from siyu.customers import segments, tags
from siyu.customers.models import Consent, Customer
from siyu.customers.rules import RuleError
from siyu.customers.testing import make_customer, make_tag
from siyu.orders.testing import make_order, make_shop

pytestmark = pytest.mark.django_db


def error_of(rule: Any) -> dict[str, str]:
    with pytest.raises(RuleError) as caught:
        segments.validate_rule(rule)
    return caught.value.fields


@pytest.mark.parametrize(
    ("rule", "path", "reason"),
    [
        ([], "", "must be an object"),
        ({"all": {}}, "", "takes a list"),
        ({"all": [], "any": []}, "", "exactly one key"),
        ({"all": [{"op": "eq"}]}, "all[0]", "needs"),
        (
            {"all": [{"field": "shoe_size", "op": "eq", "value": 1}]},
            "all[0].field",
            "unknown field",
        ),
        ({"field": "order_count", "op": "has_any", "value": 1}, "op", "operators"),
        ({"field": "order_count", "op": "gte", "value": "3"}, "value", "whole number"),
        ({"field": "order_count", "op": "gte", "value": True}, "value", "whole number"),
        ({"field": "order_count", "op": "between", "value": [5, 1]}, "value", "low end"),
        ({"field": "spent_in_days", "op": "gte", "value": 1}, "days", "number of days"),
        ({"field": "spent_in_days", "op": "gte", "value": 1, "days": 0}, "days", "between"),
        ({"field": "tag", "op": "has_any", "value": []}, "value", "non-empty"),
        ({"field": "tag", "op": "has_any", "value": [1], "x": 1}, "x", "not a parameter"),
        ({"field": "gender", "op": "in", "value": ["robot"]}, "value[0]", "one of"),
        (
            {"field": "consent", "op": "refused", "value": True, "channel": "fax"},
            "channel",
            "channel",
        ),
        ({"field": "birthday_month", "op": "in", "value": [13]}, "value[0]", "between"),
        (
            {"not": {"any": [{"field": "city", "op": "in", "value": [3]}]}},
            "not.any[0].value[0]",
            "text",
        ),
    ],
)
def test_each_mistake_names_the_clause(bound: Any, rule: Any, path: str, reason: str) -> None:
    fields = error_of(rule)
    assert fields["path"] == path
    assert reason in fields["rule"]


def test_depth_and_clause_count_are_limited(bound: Any) -> None:
    rule: dict[str, Any] = {"field": "order_count", "op": "gte", "value": 1}
    for _ in range(6):
        rule = {"not": rule}
    assert "nested too deeply" in error_of(rule)["rule"]
    many = {"any": [{"field": "order_count", "op": "eq", "value": i} for i in range(101)]}
    fields = error_of(many)
    assert fields["path"] == "any[100]"
    assert "too many" in fields["rule"]


def test_ids_of_another_merchant_are_unknown(merchant: Any) -> None:
    rival = make_merchant()
    foreign_tag = make_tag(rival)
    with merchant_context(rival):
        foreign_group = CommunityGroup.objects.create(merchant=rival, name="g")
    own_tag = make_tag(merchant)
    with merchant_context(merchant):
        fields = error_of(
            {"all": [
                {"field": "tag", "op": "has_any", "value": [own_tag.pk, foreign_tag.pk]},
            ]}
        )  # fmt: skip
        assert fields == {"rule": f"no tag with id {foreign_tag.pk}.", "path": "all[0].value[1]"}
        fields = error_of({"field": "group", "op": "member_of_any", "value": [foreign_group.pk]})
        assert fields["path"] == "value[0]"
        assert "no community group" in fields["rule"]
        fields = error_of({"field": "owner_guide", "op": "in", "value": [999999]})
        assert "no staff member" in fields["rule"]
        fields = error_of({"field": "category_orders", "op": "gte", "value": 1, "category": 99999})
        assert fields["path"] == "category"


def ids(rule: Any) -> set[int]:
    return set(segments.matching_customers(rule).values_list("pk", flat=True))


def test_every_field_matches_a_hand_built_case(merchant: Any) -> None:
    now = clock.now()
    store = make_shop(merchant, price=30000)
    guide = make_staff(merchant, Role.SHOPPING_GUIDE)
    beans = make_category(merchant, "Coffee Beans")
    arabica = make_category(merchant, "Arabica", parent=beans)
    bean_shop = make_shop(merchant, price=6000, category_id=arabica.pk, store=store.store)
    tag = make_tag(merchant)
    a = make_customer(merchant, name="A")
    b = make_customer(merchant, name="B")
    make_order(merchant, status="paid", customer=a, shop=store)
    make_order(merchant, status="paid", customer=a, shop=bean_shop)
    make_order(merchant, status="paid", customer=a, shop=bean_shop)
    make_order(merchant, status="pending_payment", customer=b, shop=bean_shop)
    with merchant_context(merchant):
        group = CommunityGroup.objects.create(merchant=merchant, name="g", store=store.store)
        GroupMember.objects.create(merchant=merchant, group=group, customer=a, joined_at=now)
        Consent.objects.create(
            merchant=merchant, customer=b, channel="sms", status="refused", updated_at=now
        )
        Customer.objects.filter(pk=a.pk).update(
            order_count=3, total_spent=42000, average_order_value=14000,
            last_order_at=now - timedelta(days=40, hours=1), first_order_at=now - timedelta(days=80),
            rfm_recency=2, rfm_frequency=4, rfm_monetary=5, birth_month=clock.local(now, "Asia/Shanghai").month,
            city="上海市", gender="female", join_channel="guide", home_store=store.store, owner_guide=guide,
        )  # fmt: skip
        Customer.objects.filter(pk=b.pk).update(
            created_at=now - timedelta(days=400), birth_month=clock.local(now, "Asia/Shanghai").month % 12 + 1,
            city="北京市", gender="male", join_channel="storefront", status="blocked",
        )  # fmt: skip
        tags.tag_customer(Actor.system(merchant), a, tag)
        A, B = {a.pk}, {b.pk}
        cases = [
            ({"field": "order_count", "op": "gte", "value": 3}, A),
            ({"field": "total_spent", "op": "between", "value": [40000, 50000]}, A),
            ({"field": "average_order_value", "op": "eq", "value": 14000}, A),
            ({"field": "rfm_frequency", "op": "gt", "value": 3}, A),
            ({"field": "rfm_recency", "op": "lt", "value": 1}, B),
            ({"field": "rfm_monetary", "op": "ne", "value": 5}, B),
            ({"field": "days_since_last_order", "op": "eq", "value": 40}, A),
            ({"field": "days_since_last_order", "op": "lt", "value": 1000}, A),  # B never ordered
            ({"field": "first_order_days_ago", "op": "gte", "value": 80}, A),
            ({"field": "customer_days", "op": "gte", "value": 365}, B),
            ({"field": "has_ordered", "op": "is", "value": False}, B),
            ({"field": "spent_in_days", "days": 90, "op": "gte", "value": 40000}, A),
            ({"field": "spent_in_days", "days": 90, "op": "lt", "value": 100}, B),
            ({"field": "orders_in_days", "days": 7, "op": "eq", "value": 3}, A),
            ({"field": "category_orders", "category": beans.pk, "op": "gte", "value": 2}, A),
            ({"field": "category_orders", "category": arabica.pk, "op": "eq", "value": 0}, B),
            ({"field": "tag", "op": "has_all", "value": [tag.pk]}, A),
            ({"field": "tag", "op": "has_none", "value": [tag.pk]}, B),
            ({"field": "group", "op": "member_of_any", "value": [group.pk]}, A),
            ({"field": "group", "op": "in_any_group", "value": False}, B),
            ({"field": "home_store", "op": "in", "value": [store.store.pk]}, A),
            ({"field": "home_store", "op": "is_empty", "value": True}, B),
            ({"field": "owner_guide", "op": "not_in", "value": [guide.pk]}, B),
            ({"field": "join_channel", "op": "in", "value": ["guide"]}, A),
            ({"field": "birthday_month", "op": "this_month"}, A),
            ({"field": "city", "op": "not_in", "value": ["上海市"]}, B),
            ({"field": "gender", "op": "in", "value": ["male"]}, B),
            ({"field": "consent", "channel": "sms", "op": "refused", "value": True}, B),
            ({"field": "status", "op": "eq", "value": "active"}, A),
            ({"not": {"field": "status", "op": "in", "value": ["active"]}}, B),
            (
                {
                    "any": [
                        {"field": "city", "op": "in", "value": ["北京市"]},
                        {"field": "order_count", "op": "gt", "value": 2},
                    ]
                },
                A | B,
            ),
            ({"all": []}, A | B),
            ({"any": []}, set()),
        ]
        for rule, expected in cases:
            assert ids(rule) == expected, rule
            facts = segments.customer_facts([a.pk, b.pk])
            assert {c for c in (a.pk, b.pk) if segments.evaluate(rule, facts[c])} == expected, rule


def test_a_segment_count_is_one_statement(merchant: Any) -> None:
    tag = make_tag(merchant)
    rule = {"all": [
        {"field": "tag", "op": "has_any", "value": [tag.pk]},
        {"field": "spent_in_days", "days": 30, "op": "gte", "value": 100},
        {"not": {"field": "consent", "channel": "sms", "op": "refused", "value": True}},
        {"field": "group", "op": "in_any_group", "value": True},
        {"field": "days_since_last_order", "op": "lte", "value": 30},
    ]}  # fmt: skip
    with merchant_context(merchant):
        segments.validate_rule(rule)
        queryset = segments.matching_customers(rule)
        with CaptureQueriesContext(connection) as queries:
            assert queryset.count() == 0
    assert len(queries.captured_queries) == 1


def test_unscoped_subqueries_count_the_bound_merchants_customers_only(merchant: Any) -> None:
    """Tags, group members and order lines are read without their merchant column (so an
    index answers alone); the customers stay the bound merchant's."""
    now = clock.now()
    rival = make_merchant()
    for owner in (merchant, rival):
        shop = make_shop(owner, price=6000, category_id=make_category(owner, "Beans").pk)
        customer = make_customer(owner)
        make_order(owner, status="paid", customer=customer, shop=shop, quantity=2)
        with merchant_context(owner):
            group = CommunityGroup.objects.create(merchant=owner, name="g")
            GroupMember.objects.create(
                merchant=owner, group=group, customer=customer, joined_at=now
            )
        tags.tag_customer(Actor.system(owner), customer, make_tag(owner))
    with merchant_context(merchant):
        own = set(Customer.objects.values_list("pk", flat=True))
        category = make_category(merchant, "Other")  # a category with no orders
        assert ids({"field": "group", "op": "in_any_group", "value": True}) == own
        assert ids({"field": "group", "op": "in_any_group", "value": False}) == set()
        beans = Category.objects.get(name="Beans")
        rule = {"field": "category_orders", "category": beans.pk, "op": "eq", "value": 1}
        assert ids(rule) == own  # the rival's order of its own Beans is not counted
        rule = {"field": "category_orders", "category": category.pk, "op": "eq", "value": 0}
        assert ids(rule) == own
        assert segments.count_matching({"all": []}) == 1
