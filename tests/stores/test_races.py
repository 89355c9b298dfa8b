"""Concurrency rules of staff, proven with two real database connections (PostgreSQL)."""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.db import connection, connections

from siyu.core.actors import Actor
from siyu.core.errors import Conflict
from siyu.core.models import Membership
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant, make_staff
from siyu.stores import staff


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="a real race between two database connections needs PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_two_owners_deactivating_each_other_at_once_leave_one_active(monkeypatch):
    merchant = make_merchant()
    a = make_staff(merchant, Role.OWNER)
    b = make_staff(merchant, Role.OWNER)
    # Both requests count the other owners, then wait for each other before writing:
    # without the owner-row locks both would see "one other owner" and both would win.
    barrier = threading.Barrier(2, timeout=1.0)
    real_count = staff._other_active_owners

    def count_then_wait(actor, membership):
        result = real_count(actor, membership)
        # the other request is blocked on the lock, as it should be: the wait times out
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return result

    monkeypatch.setattr(staff, "_other_active_owners", count_then_wait)
    outcomes: list[str] = []

    def deactivate(target: Membership) -> None:
        actor = Actor(merchant=merchant, role=Role.OWNER, label="owner key")
        try:
            with merchant_context(merchant):
                staff.deactivate_staff(actor, target)
            outcomes.append("deactivated")
        except Conflict:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deactivate, args=(m,)) for m in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["deactivated", "refused"]
    assert (
        Membership.objects.filter(merchant=merchant, role=Role.OWNER, is_active=True).count() == 1
    )
