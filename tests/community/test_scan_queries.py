"""The statements of a scan, pinned: a first scan that joins and a re-scan (docs/benchmarks.md).

On PostgreSQL one statement settles the common case (membership check, seat, membership,
scan row); then the outbox events, the timeline entries (one INSERT) and the code's
counters. The savepoint pair is the test's own transaction around the scan's."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from siyu.community import services
from siyu.community.models import CommunityGroup, GroupMember, JoinCode, JoinCodeScan
from siyu.community.testing import make_code, make_group
from siyu.core.actors import Actor
from siyu.core.models import DomainEvent, Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer, TimelineEntry
from siyu.customers.testing import make_customer

pytestmark = pytest.mark.django_db

POSTGRES = connection.vendor == "postgresql"
# PostgreSQL: savepoint, the seat statement, member.joined, the timeline (2 rows),
# code.scanned, the counters, release. SQLite (the ORM path): the membership check, the
# routes with room and the seat, the membership and the scan row apart.
FIRST_SCAN = 7 if POSTGRES else 11
# PostgreSQL: savepoint, the seat statement (finds the membership), the timeline,
# code.scanned, the counters, release.
RESCAN = 6 if POSTGRES else 7


def scan(code: JoinCode, customer: Customer) -> services.ScanResult:
    with merchant_context(code.merchant):
        return services.scan(code, customer)


def test_a_first_scan_and_a_rescan_take_few_statements(
    owner: Actor, merchant: Merchant, django_assert_max_num_queries: Any
) -> None:
    group = make_group(owner, capacity=5)
    code = make_code(owner, [group], state="table_card")
    customer = make_customer(merchant, join_channel="storefront")
    Customer.unscoped.filter(pk=customer.pk).update(order_count=1)  # not brought by the scan
    customer.refresh_from_db()
    customer.merchant = merchant
    scan(code, make_customer(merchant))  # the first of the code's scans warms nothing up

    with django_assert_max_num_queries(FIRST_SCAN):
        first = scan(code, customer)
    with django_assert_max_num_queries(RESCAN):
        again = scan(code, customer)

    assert (first.outcome, again.outcome) == ("joined", "member")
    assert first.group.pk == again.group.pk == group.pk
    assert first.group.member_count == 2
    assert again.member.pk == first.member.pk
    assert first.conversation is not None
    assert first.conversation.group_id == group.pk
    assert (first.scan.outcome, again.scan.outcome) == ("joined", "member")
    assert JoinCodeScan.unscoped.get(pk=first.scan.pk).group_id == group.pk
    group.refresh_from_db()
    code.refresh_from_db()
    assert group.member_count == 2
    assert (code.scan_count, code.join_count) == (3, 2)
    member = GroupMember.unscoped.get(pk=first.member.pk)
    assert (member.state, member.source_code_id, member.welcomed_at) == (
        "table_card",
        code.pk,
        None,
    )
    kinds = list(
        TimelineEntry.unscoped.filter(customer=customer).order_by("id").values_list("kind", "data")
    )
    assert [k for k, _ in kinds] == ["joined", "scanned", "scanned"]
    assert kinds[0][1] == {"group_id": group.pk, "group_name": group.name, "state": "table_card"}
    events = list(
        DomainEvent.unscoped.filter(payload__customer_id=customer.pk)
        .exclude(event_type__startswith="customer.")
        .order_by("id")
        .values_list("event_type", "aggregate_type", "aggregate_id")
    )
    assert events == [
        ("community.member.joined", "community.groupmember", str(first.member.pk)),
        ("community.code.scanned", "community.joincodescan", str(first.scan.pk)),
        ("community.code.scanned", "community.joincodescan", str(again.scan.pk)),
    ]
    customer.refresh_from_db()
    assert customer.join_channel == "storefront"


def test_a_rescan_finds_the_membership_in_a_full_group(owner: Actor, merchant: Merchant) -> None:
    first, second = make_group(owner, capacity=1), make_group(owner, capacity=3)
    code = make_code(owner, [first, second])
    customer = make_customer(merchant)
    assert scan(code, customer).group.pk == first.pk
    again = scan(code, customer)  # the first group is full now: still a member there
    assert (again.outcome, again.group.pk) == ("member", first.pk)
    assert CommunityGroup.unscoped.get(pk=second.pk).member_count == 0
    customer.refresh_from_db()
    assert customer.join_channel == "store_door"  # a new customer: the code brought them


def test_a_new_customer_takes_the_codes_channel_and_a_welcome(
    owner: Actor, merchant: Merchant
) -> None:
    group = make_group(owner, welcome={"text": "Hello."})
    code = make_code(owner, [group], state="table_card")
    customer = make_customer(merchant, name="Ada")
    result = scan(code, customer)
    assert result.welcome_message is not None
    assert result.welcome_message.text == "Welcome @Ada! Hello."
    assert result.welcome_message.conversation_id == result.conversation.pk
    assert GroupMember.unscoped.get(pk=result.member.pk).welcomed_at is not None
    customer.refresh_from_db()
    assert customer.join_channel == "table_card"
