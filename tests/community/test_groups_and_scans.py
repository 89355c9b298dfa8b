"""Groups, join codes and scans: routing, capacity, auto-create, store finder, guide codes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from siyu.community import services
from siyu.community.models import (
    CommunityGroup,
    GroupMember,
    JoinCode,
    JoinCodeGroup,
    JoinCodeScan,
    Message,
)
from siyu.community.testing import make_code, make_group
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, Forbidden, InvalidInput
from siyu.core.models import DomainEvent, Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for, make_staff
from siyu.customers.models import Customer, TimelineEntry
from siyu.customers.testing import make_customer
from siyu.stores.models import Store
from siyu.stores.testing import make_store

pytestmark = pytest.mark.django_db


def scan(code: JoinCode, customer: Customer, **kw: object) -> services.ScanResult:
    with merchant_context(code.merchant):
        return services.scan(code, customer, **kw)


def test_group_capacity_is_checked(owner: Actor) -> None:
    for bad in (0, 501, "200", None):
        with pytest.raises(InvalidInput) as err, merchant_context(owner.merchant):
            services.create_group(owner, name="G", capacity=bad)
        assert "capacity" in err.value.fields
    assert make_group(owner, capacity=500).capacity == 500


def test_group_of_another_merchants_store_is_refused(
    owner: Actor, other_merchant: Merchant
) -> None:
    foreign = make_store(other_merchant)
    with pytest.raises(InvalidInput) as err, merchant_context(owner.merchant):
        services.create_group(owner, name="G", store=foreign.pk)
    assert err.value.fields == {"store": "There is no such store."}


def test_a_guide_cannot_manage_groups(merchant: Merchant) -> None:
    guide = actor_for(merchant, Role.SHOPPING_GUIDE)
    with pytest.raises(Forbidden), merchant_context(merchant):
        services.create_group(guide, name="G")


def test_scans_fill_groups_in_order_then_report_full(owner: Actor, merchant: Merchant) -> None:
    first, second = make_group(owner, capacity=2), make_group(owner, capacity=1)
    code = make_code(owner, [first, second], state="table_card")
    customers = [make_customer(merchant) for _ in range(4)]
    outcomes = [scan(code, c) for c in customers]
    assert [o.outcome for o in outcomes] == ["joined", "joined", "joined", "full"]
    assert [o.group.pk if o.group else None for o in outcomes] == [
        first.pk,
        first.pk,
        second.pk,
        None,
    ]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.member_count, second.member_count) == (2, 1)
    code.refresh_from_db()
    assert (code.scan_count, code.join_count) == (4, 3)
    member = GroupMember.unscoped.get(customer=customers[0])
    assert (member.state, member.source_code_id) == ("table_card", code.pk)
    customers[0].refresh_from_db()
    assert customers[0].join_channel == "table_card"
    assert JoinCodeScan.unscoped.filter(code=code, outcome="full").count() == 1
    assert DomainEvent.unscoped.filter(event_type="community.member.joined").count() == 3
    assert DomainEvent.unscoped.filter(event_type="community.code.scanned").count() == 4
    kinds = set(TimelineEntry.unscoped.filter(customer=customers[0]).values_list("kind", flat=True))
    assert {"scanned", "joined"} <= kinds


def test_join_channel_is_kept_when_already_set(owner: Actor, merchant: Merchant) -> None:
    customer = make_customer(merchant)
    Customer.unscoped.filter(pk=customer.pk).update(
        join_channel="storefront", created_at=clock.now() - timedelta(days=3)
    )
    customer.refresh_from_db()
    scan(make_code(owner, [make_group(owner)]), customer)
    customer.refresh_from_db()
    assert customer.join_channel == "storefront"


def test_rescan_is_idempotent_and_welcomes_once(owner: Actor, merchant: Merchant) -> None:
    group = make_group(owner, welcome={"text": "Coupons every Friday."})
    code = make_code(owner, [group])
    customer = make_customer(merchant, name="Ada")
    first = scan(code, customer)
    again = scan(code, customer)
    assert (first.outcome, again.outcome) == ("joined", "member")
    assert again.member.pk == first.member.pk
    assert first.welcome_message is not None
    assert first.welcome_message.text == "Welcome @Ada! Coupons every Friday."
    assert Message.unscoped.filter(sender_kind="system").count() == 1
    group.refresh_from_db()
    assert group.member_count == 1
    code.refresh_from_db()
    assert (code.scan_count, code.join_count) == (2, 1)


def test_code_welcome_overrides_the_groups(owner: Actor, merchant: Merchant, store: Store) -> None:
    group = make_group(owner, welcome={"text": "group hello"})
    code = make_code(
        owner, [group], welcome={"text": "door hello", "card": {"type": "store", "id": store.pk}}
    )
    result = scan(code, make_customer(merchant, name="Bo"))
    message = result.welcome_message
    assert message.text == "Welcome @Bo! door hello"
    assert message.card["type"] == "store"
    assert "?store=" in message.card["url"]
    assert "via=" in message.card["url"]


def test_auto_create_opens_numbered_groups_in_the_codes_store(
    owner: Actor, merchant: Merchant, store: Store
) -> None:
    code = make_code(
        owner, [], auto_create=True, base_name="Jing'an fans", new_group_capacity=2, store=store.pk
    )
    results = [scan(code, make_customer(merchant)) for _ in range(5)]
    names = [r.group.name for r in results]
    assert names == [
        "Jing'an fans",
        "Jing'an fans",
        "Jing'an fans 2",
        "Jing'an fans 2",
        "Jing'an fans 3",
    ]
    groups = CommunityGroup.unscoped.filter(opened_by_code=code).order_by("pk")
    assert [(g.store_id, g.member_count, g.capacity) for g in groups] == [
        (store.pk, 2, 2),
        (store.pk, 2, 2),
        (store.pk, 1, 2),
    ]
    routes = JoinCodeGroup.unscoped.filter(code=code).order_by("position")
    assert list(routes.values_list("group__name", flat=True)) == [
        "Jing'an fans",
        "Jing'an fans 2",
        "Jing'an fans 3",
    ]


def test_auto_create_needs_a_base_name(owner: Actor) -> None:
    with pytest.raises(InvalidInput) as err, merchant_context(owner.merchant):
        services.create_code(owner, kind="groups", name="x", state="door", auto_create=True)
    assert "base_name" in err.value.fields


@pytest.mark.parametrize("state", ["", "Store Door", "门店", "x" * 61])
def test_state_must_be_slug_like(owner: Actor, state: str) -> None:
    group = make_group(owner)
    with pytest.raises(InvalidInput) as err, merchant_context(owner.merchant):
        services.create_code(owner, kind="groups", name="x", state=state, groups=[group.pk])
    assert "state" in err.value.fields


def test_tokens_are_unique_and_short(owner: Actor) -> None:
    group = make_group(owner)
    tokens = {make_code(owner, [group]).token for _ in range(20)}
    assert len(tokens) == 20
    assert all(6 <= len(t) <= 16 for t in tokens)


def test_inactive_code_joins_nobody(owner: Actor, merchant: Merchant) -> None:
    code = make_code(owner, [make_group(owner)], is_active=False)
    result = scan(code, make_customer(merchant))
    assert result.outcome == "inactive"
    assert GroupMember.unscoped.count() == 0


def test_store_finder_routes_to_the_nearest_stores_group(owner: Actor, merchant: Merchant) -> None:
    near = make_store(merchant, latitude=Decimal("31.230000"), longitude=Decimal("121.470000"))
    far = make_store(merchant, latitude=Decimal("39.900000"), longitude=Decimal("116.400000"))
    make_store(merchant, latitude=Decimal("31.231000"), longitude=Decimal("121.471000"))  # no group
    near_group = make_group(owner, store=near.pk, capacity=1)
    far_group = make_group(owner, store=far.pk)
    code = make_code(owner, kind="store_finder", state="finder")
    first = scan(code, make_customer(merchant), latitude="31.2301", longitude="121.4701")
    assert first.group.pk == near_group.pk
    second = scan(code, make_customer(merchant), latitude=31.2301, longitude=121.4701)
    assert second.group.pk == far_group.pk  # the nearest is full: the next store with a group
    beijing = scan(code, make_customer(merchant), latitude=39.9, longitude=116.4)
    assert beijing.group.pk == far_group.pk


def test_store_finder_without_position_asks_for_a_store(owner: Actor, merchant: Merchant) -> None:
    store = make_store(merchant)
    group = make_group(owner, store=store.pk)
    code = make_code(owner, kind="store_finder", state="finder")
    customer = make_customer(merchant)
    assert scan(code, customer).outcome == services.CHOOSE_STORE
    assert JoinCodeScan.unscoped.count() == 0
    assert scan(code, customer, store=store.pk).group.pk == group.pk
    with pytest.raises(InvalidInput) as err:
        scan(code, customer, latitude=95, longitude=10)
    assert "latitude" in err.value.fields


def test_guide_code_binds_the_customer(owner: Actor, merchant: Merchant) -> None:
    guide = make_staff(merchant, Role.SHOPPING_GUIDE)
    code = make_code(owner, kind="guide", guide=guide.pk, state="guide_card")
    customer = make_customer(merchant)
    result = scan(code, customer)
    assert result.outcome == "bound"
    customer.refresh_from_db()
    assert customer.owner_guide_id == guide.pk
    assert result.conversation.kind == "direct"
    assert result.conversation.staff_id == guide.pk


def test_guide_code_needs_a_guide(owner: Actor) -> None:
    with pytest.raises(InvalidInput) as err, merchant_context(owner.merchant):
        services.create_code(owner, kind="guide", name="mine", state="guide")
    assert "guide" in err.value.fields


def test_join_is_idempotent_and_leave_then_rejoin_opens_a_new_row(
    owner: Actor, customer: Customer
) -> None:
    group = make_group(owner)
    with merchant_context(owner.merchant):
        member = services.join_group(customer, group)
        assert services.join_group(customer, group).pk == member.pk
        left = services.leave_group(customer, group)
        assert left.left_at is not None
        assert left.leave_reason == "left"
        again = services.join_group(customer, group, state="again")
    assert again.pk != member.pk
    group.refresh_from_db()
    assert group.member_count == 1
    assert GroupMember.unscoped.filter(customer=customer).count() == 2
    assert DomainEvent.unscoped.filter(event_type="community.member.left").count() == 1


def test_full_group_refuses_a_direct_join(owner: Actor, merchant: Merchant) -> None:
    group = make_group(owner, capacity=1)
    with merchant_context(merchant):
        services.join_group(make_customer(merchant), group)
        with pytest.raises(Conflict) as err:
            services.join_group(make_customer(merchant), group)
    assert err.value.code == "full"


def test_remove_and_mute(owner: Actor, merchant: Merchant, customer: Customer) -> None:
    group = make_group(owner)
    with merchant_context(merchant):
        member = services.join_group(customer, group)
        services.mute_member(owner, member, clock.now() + timedelta(hours=1))
        conversation = services.group_conversation(group)
        with pytest.raises(Forbidden) as err:
            services.post_message(conversation, text="hi", sender_customer=customer)
        assert err.value.code == "muted"
        assert "text" in err.value.fields
        services.unmute_member(owner, member)
        services.post_message(conversation, text="hi", sender_customer=customer)
        with pytest.raises(InvalidInput):
            services.mute_member(owner, member, clock.now() - timedelta(minutes=1))
        removed = services.remove_member(owner, member)
        assert removed.leave_reason == "removed"
        with pytest.raises(Forbidden):
            services.post_message(conversation, text="still here?", sender_customer=customer)
    group.refresh_from_db()
    assert group.member_count == 0


def test_capacity_cannot_drop_below_members(owner: Actor, merchant: Merchant) -> None:
    group = make_group(owner, capacity=3)
    with merchant_context(merchant):
        for _ in range(2):
            services.join_group(make_customer(merchant), group)
        with pytest.raises(InvalidInput) as err:
            services.update_group(owner, group, capacity=1)
        assert "capacity" in err.value.fields
        updated = services.update_group(owner, group, capacity=2, announcement="Hi all")
    assert (updated.capacity, updated.announcement) == (2, "Hi all")


def test_joining_a_group_makes_a_guideless_customer_the_owners(
    owner: Actor, merchant: Merchant, store: Store
) -> None:
    guide = make_staff(merchant, Role.SHOPPING_GUIDE)
    other_guide = make_staff(merchant, Role.SHOPPING_GUIDE)
    group = make_group(owner, store=store.pk, owner=guide.pk)
    code = make_code(owner, groups=[group], state="store_door")
    newcomer = make_customer(merchant)
    kept = make_customer(merchant)
    Customer.unscoped.filter(pk=kept.pk).update(owner_guide=other_guide)
    kept.refresh_from_db()

    assert scan(code, newcomer).outcome == "joined"
    assert scan(code, kept).outcome == "joined"

    newcomer.refresh_from_db()
    kept.refresh_from_db()
    assert newcomer.owner_guide_id == guide.pk  # the group's owner runs the group
    assert kept.owner_guide_id == other_guide.pk  # a scan never takes a customer away


def test_a_customer_who_logs_in_on_the_spot_takes_the_codes_channel(
    owner: Actor, merchant: Merchant, store: Store
) -> None:
    group = make_group(owner, store=store.pk)
    code = make_code(owner, groups=[group], state="table_card")
    fresh = make_customer(merchant, join_channel="storefront")
    regular = make_customer(merchant, join_channel="storefront")
    Customer.unscoped.filter(pk=regular.pk).update(
        created_at=clock.now() - timedelta(days=40), order_count=3
    )
    regular.refresh_from_db()

    scan(code, fresh)
    scan(code, regular)

    fresh.refresh_from_db()
    regular.refresh_from_db()
    assert fresh.join_channel == "table_card"  # the account was made by this scan's login
    assert regular.join_channel == "storefront"  # an old customer keeps how they came
