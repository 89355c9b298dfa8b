"""Referrals at once on PostgreSQL: the per-inviter cap holds under concurrency.

Every registration of one inviter locks the inviter's invite-code row before counting, so
friends arriving together queue there: with one place left, exactly one of them registers and
the others are blocked ``cap_total`` (or ``cap_month``).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, connections

from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant
from siyu.customers.testing import make_customer
from siyu.referrals import services
from siyu.referrals.models import Referral
from siyu.referrals.testing import make_programme

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a real race between database connections needs PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]


def _together(calls: list) -> list[object]:
    barrier = threading.Barrier(len(calls), timeout=30)
    outcomes: list[object] = [None] * len(calls)

    def worker(index: int) -> None:
        try:
            barrier.wait()
            outcomes[index] = calls[index]()
        except Exception as exc:  # counted by the assertions
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.parametrize("cap", ["cap_total", "cap_per_month"])
def test_friends_arriving_together_cannot_pass_a_cap_with_one_place_left(cap: str) -> None:
    merchant = make_merchant()
    make_programme(merchant, **{cap: 2})
    inviter = make_customer(merchant)
    with merchant_context(merchant):
        code = services.code_of(inviter).code
    first = make_customer(merchant)
    with merchant_context(merchant):
        services.register(
            first, code, source="link", tapped_at=first.created_at - timedelta(seconds=1)
        )
    friends = [make_customer(merchant) for _n in range(8)]

    def arrive(friend: object) -> object:
        def call() -> object:
            with merchant_context(merchant):
                return services.register(
                    friend,  # type: ignore[arg-type]
                    code,
                    source="link",
                    tapped_at=friend.created_at - timedelta(seconds=1),  # type: ignore[attr-defined]
                    device=services.Device(f"device-{friend.pk}"),  # type: ignore[attr-defined]
                )

        return call

    outcomes = _together([arrive(f) for f in friends])
    assert not [o for o in outcomes if isinstance(o, Exception)]
    with merchant_context(merchant):
        statuses = Counter(
            Referral.objects.filter(invitee__in=friends).values_list("status", "block_reason")
        )
    reason = "cap_total" if cap == "cap_total" else "cap_month"
    assert statuses == {("registered", ""): 1, ("blocked", reason): 7}
