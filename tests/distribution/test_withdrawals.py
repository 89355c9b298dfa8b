"""Withdrawals: the minimum, the settled balance, finance's decisions, payout and export."""

from __future__ import annotations

from datetime import timedelta

import pytest

from siyu.core import clock
from siyu.core.errors import Conflict, Forbidden, InvalidInput
from siyu.core.models import DomainEvent
from siyu.core.permissions import Role
from siyu.core.testing import actor_for
from siyu.distribution import selectors, services
from siyu.distribution.testing import distributed_order, make_distributor, set_default_rate
from siyu.orders.testing import make_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def earner(bound):
    """A distributor with ¥50.00 settled (10 % of a ¥500 order past its return window)."""
    set_default_rate(bound, 1000)
    distributor = make_distributor(bound)
    distributed_order(bound, distributor, status="completed", shop=make_shop(bound, price=50_000))
    services.settle_merchant(bound, now=clock.now() + timedelta(days=8))
    assert selectors.balances(distributor).available == 5000
    return distributor


def test_a_request_is_between_the_minimum_and_the_settled_balance(bound, earner):
    with pytest.raises(InvalidInput) as low:
        services.request_withdrawal(earner.pk, 999)
    assert "amount" in low.value.fields
    with pytest.raises(InvalidInput) as high:
        services.request_withdrawal(earner.pk, 5001)
    assert "5000" in high.value.fields["amount"]
    w = services.request_withdrawal(earner.pk, 3000)
    b = selectors.balances(earner)
    assert (b.settled, b.held, b.available) == (5000, 3000, 2000)
    with pytest.raises(InvalidInput):
        services.request_withdrawal(earner.pk, 2001)  # the request holds its amount
    assert w.status == "requested"


def test_finance_approves_and_pays_with_a_bank_reference(bound, earner):
    w = services.request_withdrawal(earner.pk, 5000)
    operator = actor_for(bound, Role.SHOPPING_GUIDE)
    with pytest.raises(Forbidden):
        services.approve_withdrawal(operator, w.pk)
    finance = actor_for(bound, Role.FINANCE)
    with pytest.raises(Conflict):
        services.pay_withdrawal(finance, w.pk, reference="ICBC-1")  # not approved yet
    services.approve_withdrawal(finance, w.pk)
    with pytest.raises(InvalidInput) as bad:
        services.pay_withdrawal(finance, w.pk, reference="  ")
    assert "reference" in bad.value.fields
    paid = services.pay_withdrawal(finance, w.pk, reference=" ICBC-20261122-001 ")
    assert (paid.status, paid.payout_method, paid.reference) == (
        "paid",
        "manual_bank_transfer",
        "ICBC-20261122-001",
    )
    assert services.pay_withdrawal(finance, w.pk, reference="again").reference == paid.reference
    b = selectors.balances(earner)
    assert (b.settled, b.withdrawn, b.held, b.available) == (5000, 5000, 0, 0)
    assert DomainEvent.unscoped.filter(event_type="distribution.withdrawal.paid").count() == 1
    csv_text = selectors.withdrawals_csv()
    header, row = csv_text.strip().splitlines()
    assert header.startswith("withdrawal_id,distributor_id,share_code")
    assert ",5000,50.00,paid," in row
    assert "ICBC-20261122-001" in row


def test_a_rejected_withdrawal_gives_its_amount_back(bound, earner):
    finance = actor_for(bound, Role.FINANCE)
    w = services.request_withdrawal(earner.pk, 4000)
    with pytest.raises(InvalidInput) as bad:
        services.reject_withdrawal(finance, w.pk, "")
    assert "reason" in bad.value.fields
    services.reject_withdrawal(finance, w.pk, "Bank account name does not match")
    assert selectors.balances(earner).available == 5000
    with pytest.raises(Conflict):
        services.approve_withdrawal(finance, w.pk)


def test_only_an_approved_distributor_withdraws(bound, earner):
    services.decide(actor_for(bound), earner.pk, "suspended", reason="check")
    with pytest.raises(Conflict):
        services.request_withdrawal(earner.pk, 1000)
