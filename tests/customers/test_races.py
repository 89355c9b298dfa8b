"""Concurrency rules of customers, proven with real database connections (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from siyu.core.errors import DomainError
from siyu.core.models import DomainEvent
from siyu.core.testing import make_merchant
from siyu.customers import services
from siyu.customers.models import Customer, CustomerAddress, LoginCode, SmsMessage
from siyu.customers.testing import address_fields, last_code, make_customer

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a real race between database connections needs PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]


def run_together(calls: list[Callable[[], object]]) -> list[object]:
    """Run ``calls`` in threads released at the same moment; each outcome, or the error."""
    barrier = threading.Barrier(len(calls), timeout=10)
    outcomes: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            outcomes[index] = call()
        except DomainError as exc:
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_two_verifications_of_one_code_log_in_once():
    merchant = make_merchant()
    services.request_login_code(merchant, "13812345678", ip=None)
    code = last_code(merchant, "13812345678")
    outcomes = run_together(
        [
            lambda: services.verify_login_code(merchant, "13812345678", code, ip="198.51.100.1"),
            lambda: services.verify_login_code(merchant, "13812345678", code, ip="198.51.100.2"),
        ]
    )
    logged_in = [o for o in outcomes if isinstance(o, Customer)]
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(logged_in) == 1
    assert len(refused) == 1
    assert Customer.unscoped.filter(merchant=merchant).count() == 1
    assert DomainEvent.unscoped.filter(event_type="customers.customer.logged_in").count() == 1
    assert LoginCode.unscoped.get().status == LoginCode.Status.USED


def test_eight_code_requests_for_one_phone_at_once_send_one_code():
    merchant = make_merchant()
    outcomes = run_together(
        [
            (lambda n=n: services.request_login_code(merchant, "13812345678", ip=f"198.51.100.{n}"))
            for n in range(8)
        ]
    )
    assert sum(1 for o in outcomes if o is None) == 1
    assert all(getattr(o, "status", None) == 429 for o in outcomes if o is not None)
    assert SmsMessage.unscoped.filter(merchant=merchant).count() == 1
    assert LoginCode.unscoped.filter(merchant=merchant).count() == 1


def test_first_logins_racing_on_get_or_create_make_one_customer():
    merchant = make_merchant()
    outcomes = run_together(
        [lambda: services.get_or_create_customer(merchant, "13812345678") for _ in range(6)]
    )
    assert len({o.pk for o in outcomes}) == 1  # type: ignore[union-attr]
    assert Customer.unscoped.filter(merchant=merchant).count() == 1
    assert DomainEvent.unscoped.filter(event_type="customers.customer.created").count() == 1


def test_concurrent_default_changes_leave_exactly_one_default():
    merchant = make_merchant()
    customer = make_customer(merchant)
    addresses = [services.add_address(customer, **address_fields()) for _ in range(6)]
    outcomes = run_together(
        [(lambda a=a: services.set_default_address(customer, a.pk)) for a in addresses]
        + [lambda: services.add_address(customer, **address_fields(is_default=True))]
    )
    assert not [o for o in outcomes if isinstance(o, DomainError)]
    assert CustomerAddress.unscoped.filter(customer=customer, is_default=True).count() == 1


def test_concurrent_adds_respect_the_limit():
    merchant = make_merchant()
    customer = make_customer(merchant)
    for _ in range(services.MAX_ADDRESSES - 2):
        services.add_address(customer, **address_fields())
    outcomes = run_together(
        [lambda: services.add_address(customer, **address_fields()) for _ in range(5)]
    )
    assert sum(1 for o in outcomes if isinstance(o, CustomerAddress)) == 2
    assert CustomerAddress.unscoped.filter(customer=customer).count() == services.MAX_ADDRESSES
