"""Tag services: exclusive groups, idempotent tagging, bulk counts, guides' limits, auto-tag
rules (run and on a paid order), unique names."""

from __future__ import annotations

from typing import Any

import pytest

from siyu.core.actors import Actor
from siyu.core.errors import Forbidden, InvalidInput
from siyu.core.models import DomainEvent
from siyu.core.outbox import dispatch_pending
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_staff
from siyu.customers import autotag, segments, tags
from siyu.customers.models import Customer, CustomerTag, Tag
from siyu.customers.rules import RuleError
from siyu.customers.testing import make_customer, make_tag, make_tag_group
from siyu.orders.testing import make_order

pytestmark = pytest.mark.django_db


def count_of(tag: Tag) -> int:
    tag.refresh_from_db()
    return tag.customer_count


def held(customer: Customer) -> set[str]:
    with merchant_context(customer.merchant):
        return set(
            CustomerTag.objects.filter(customer=customer).values_list("tag__name", flat=True)
        )


def test_names_are_unique(merchant: Any, owner: Actor) -> None:
    group = tags.create_tag_group(owner, name="口味偏好")
    with pytest.raises(InvalidInput) as caught:
        tags.create_tag_group(owner, name="口味偏好")
    assert "name" in caught.value.fields
    tags.create_tag(owner, group=group, name="拿铁控")
    with pytest.raises(InvalidInput):
        tags.create_tag(owner, group=group, name="拿铁控")
    with pytest.raises(InvalidInput) as caught:
        tags.create_tag(owner, group=group, name="x", color="red")
    assert "color" in caught.value.fields


def test_tagging_is_idempotent_and_exclusive_groups_hold_one(
    merchant: Any, owner: Actor, customer: Customer
) -> None:
    stage = make_tag_group(merchant, name="生命周期", exclusive=True)
    new, repeat = (make_tag(merchant, n, group=stage) for n in ("新客", "复购"))
    taste = make_tag(merchant, "拿铁控")
    assert tags.tag_customer(owner, customer, new) is True
    assert tags.tag_customer(owner, customer, new) is False
    assert tags.tag_customer(owner, customer, taste) is True
    assert tags.tag_customer(owner, customer, repeat) is True
    assert held(customer) == {"复购", "拿铁控"}
    assert (count_of(new), count_of(repeat), count_of(taste)) == (0, 1, 1)
    assert tags.untag_customer(owner, customer, taste) is True
    assert tags.untag_customer(owner, customer, taste) is False
    assert count_of(taste) == 0
    with merchant_context(merchant):
        types = list(DomainEvent.objects.values_list("event_type", flat=True).order_by("id"))
    assert types.count("customers.tag.added") == 3
    assert types.count("customers.tag.removed") == 2  # exclusive + by hand


def test_bulk_tag_is_idempotent_and_counts(merchant: Any, owner: Actor) -> None:
    stage = make_tag_group(merchant, exclusive=True)
    old, new = make_tag(merchant, group=stage), make_tag(merchant, group=stage)
    people = [make_customer(merchant) for _ in range(5)]
    tags.tag_customer(owner, people[0], new)
    tags.tag_customer(owner, people[1], old)
    with merchant_context(merchant):
        everyone = Customer.objects.all()
        assert tags.bulk_tag(owner, new, everyone) == 4
        assert tags.bulk_tag(owner, new, everyone) == 0
    assert (count_of(new), count_of(old)) == (5, 0)
    with merchant_context(merchant):
        assert tags.bulk_untag(owner, new, Customer.objects.filter(pk__in=[people[2].pk])) == 1
        assert CustomerTag.objects.filter(tag=new).count() == count_of(new) == 4
        assert tags.recount(new) == 4


def test_a_guide_tags_only_their_own_customers(merchant: Any) -> None:
    guide = Actor.for_membership(make_staff(merchant, Role.SHOPPING_GUIDE))
    tag = make_tag(merchant)
    mine = make_customer(merchant)
    theirs = make_customer(merchant)
    with merchant_context(merchant):
        Customer.objects.filter(pk=mine.pk).update(owner_guide=guide.membership)
    mine.refresh_from_db()
    assert tags.tag_customer(guide, mine, tag) is True
    with pytest.raises(Forbidden):
        tags.tag_customer(guide, theirs, tag)
    with merchant_context(merchant):
        assert tags.bulk_tag(guide, tag, Customer.objects.all()) == 0  # only their own


def test_run_rule_adds_and_removes_exactly(merchant: Any, owner: Actor) -> None:
    vip = make_tag(merchant, "高消费")
    rich, poor, hand = (make_customer(merchant) for _ in range(3))
    with merchant_context(merchant):
        Customer.objects.filter(pk__in=[rich.pk, hand.pk]).update(total_spent=60000)
    tags.tag_customer(owner, poor, vip)  # by hand: the rule never removes it
    rule = autotag.create_rule(
        owner, name="高消费", tag=vip, rule={"field": "total_spent", "op": "gte", "value": 50000}
    )
    assert autotag.run_rule(rule) == autotag.RunResult(added=2, removed=0)
    assert autotag.run_rule(rule) == autotag.RunResult(added=0, removed=0)
    with merchant_context(merchant):
        Customer.objects.filter(pk=rich.pk).update(total_spent=100)
    assert autotag.run_rule(rule) == autotag.RunResult(added=0, removed=1)
    assert held(rich) == set()
    assert held(poor) == held(hand) == {"高消费"}
    assert count_of(vip) == 2
    rule.refresh_from_db()
    assert (rule.last_run_added, rule.last_run_removed) == (0, 1)


def test_a_rule_may_not_ask_for_its_own_tag(merchant: Any, owner: Actor) -> None:
    tag = make_tag(merchant)
    with pytest.raises(RuleError) as caught:
        autotag.create_rule(
            owner, name="loop", tag=tag, rule={"field": "tag", "op": "has_none", "value": [tag.pk]}
        )
    assert caught.value.fields["path"] == "value[0]"


def test_a_paid_order_runs_the_rules_for_its_customer(merchant: Any, owner: Actor) -> None:
    buyer = make_tag(merchant, "复购")
    autotag.create_rule(
        owner,
        name="买过",
        tag=buyer,
        rule={"field": "orders_in_days", "days": 30, "op": "gte", "value": 1},
    )
    customer = make_customer(merchant)
    dispatch_pending()
    assert held(customer) == set()
    make_order(merchant, status="paid", customer=customer)
    dispatch_pending()
    assert held(customer) == {"复购"}
    with merchant_context(merchant):
        link = CustomerTag.objects.get(customer=customer)
        assert link.source == "rule"
        assert segments.count_matching({"field": "tag", "op": "has_any", "value": [buyer.pk]}) == 1
