"""Concurrent scans on PostgreSQL: groups fill exactly to capacity and the next one opens."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from siyu.community import services
from siyu.community.models import CommunityGroup, GroupMember, JoinCode, JoinCodeScan
from siyu.community.testing import make_code, make_group
from siyu.core.actors import Actor
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for, make_merchant
from siyu.customers.testing import make_customer

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a real race between database connections needs PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]


def run_together(calls: list[Callable[[], object]]) -> list[object]:
    barrier = threading.Barrier(len(calls), timeout=20)
    outcomes: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # reported by the assertions below
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def _scan_call(code: JoinCode, customer: object) -> Callable[[], object]:
    def call() -> object:
        with merchant_context(code.merchant):
            return services.scan(code, customer)  # type: ignore[arg-type]

    return call


def test_concurrent_scans_fill_each_group_to_capacity_and_open_the_next() -> None:
    merchant = make_merchant()
    owner: Actor = actor_for(merchant, Role.OWNER)
    first, second = make_group(owner, capacity=5), make_group(owner, capacity=5)
    code = make_code(
        owner, [first, second], auto_create=True, base_name="Fans", new_group_capacity=5
    )
    customers = [make_customer(merchant) for _ in range(23)]
    outcomes = run_together([_scan_call(code, c) for c in customers])
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert errors == []
    assert all(o.outcome == "joined" for o in outcomes)  # type: ignore[union-attr]
    groups = list(CommunityGroup.unscoped.filter(merchant=merchant).order_by("pk"))
    counts = [(g.name, g.member_count) for g in groups]
    assert counts[:2] == [(first.name, 5), (second.name, 5)]
    assert counts[2:] == [("Fans 3", 5), ("Fans 4", 5), ("Fans 5", 3)]
    for g in groups:
        assert GroupMember.unscoped.filter(group=g, left_at__isnull=True).count() == g.member_count
    code.refresh_from_db()
    assert (code.scan_count, code.join_count) == (23, 23)
    assert JoinCodeScan.unscoped.filter(code=code).count() == 23


def test_concurrent_scans_without_auto_create_never_overfill() -> None:
    merchant = make_merchant()
    owner = actor_for(merchant, Role.OWNER)
    group = make_group(owner, capacity=4)
    code = make_code(owner, [group])
    outcomes = run_together([_scan_call(code, make_customer(merchant)) for _ in range(12)])
    assert sorted(o.outcome for o in outcomes) == ["full"] * 8 + ["joined"] * 4  # type: ignore[union-attr]
    group.refresh_from_db()
    assert group.member_count == 4


def test_one_customer_scanning_twice_at_once_joins_once() -> None:
    merchant = make_merchant()
    owner = actor_for(merchant, Role.OWNER)
    group = make_group(owner)
    code = make_code(owner, [group])
    customer = make_customer(merchant)
    outcomes = run_together([_scan_call(code, customer) for _ in range(4)])
    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert sorted(o.outcome for o in outcomes) == ["joined", "member", "member", "member"]  # type: ignore[union-attr]
    group.refresh_from_db()
    assert group.member_count == 1  # the losers' seats were given back
    assert GroupMember.unscoped.filter(customer=customer).count() == 1
    code.refresh_from_db()
    assert (code.scan_count, code.join_count) == (4, 1)
    assert JoinCodeScan.unscoped.filter(code=code).count() == 4
