"""The points ledger: awards once per reference, staff adjustments, daily sign-in, expiry by
lot (earliest-expiring spent first), and the cached balance equal to the entries' sum."""

from __future__ import annotations

from datetime import timedelta

import pytest

from siyu.core import clock
from siyu.core.errors import Forbidden, InvalidInput, NotFound
from siyu.core.models import AuditEntry, DomainEvent, Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer
from siyu.loyalty import ledger, selectors, services
from siyu.loyalty.models import LoyaltySettings, PointsAccount, PointsAllocation, PointsEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(merchant: Merchant) -> Customer:
    return make_customer(merchant)


def _balance_is_the_sum(customer: Customer) -> int:
    cached = selectors.balance_of(customer)
    assert cached == ledger.derived_balance(customer.pk)
    assert cached >= 0
    return cached


def test_award_is_idempotent_by_reference(bound: Merchant, customer: Customer) -> None:
    first = services.award(customer, 50, reason="referral_inviter", reference="ref:1:inviter")
    again = services.award(customer, 50, reason="referral_inviter", reference="ref:1:inviter")
    assert first is not None
    assert again is not None
    assert again.pk == first.pk
    assert PointsEntry.objects.count() == 1
    assert _balance_is_the_sum(customer) == 50
    assert selectors.entry_label(first) == "Invited a friend"
    assert first.expires_at is not None  # the default rule: end of the following year
    recorded = DomainEvent.objects.filter(event_type="loyalty.points.recorded")
    assert recorded.count() == 1


def test_award_refuses_bad_input_and_another_merchants_customer(
    other_merchant: Merchant, bound: Merchant, customer: Customer
) -> None:
    with pytest.raises(InvalidInput) as caught:
        services.award(customer, 0, reason="x", reference="r")
    assert set(caught.value.fields) == {"points"}
    with pytest.raises(InvalidInput) as caught:
        services.award(customer, 5, reason="", reference="")
    assert set(caught.value.fields) == {"reason", "reference"}
    with merchant_context(other_merchant):
        theirs = make_customer(other_merchant)
    with pytest.raises(NotFound):
        services.award(theirs, 5, reason="x", reference="r")
    assert not PointsEntry.objects.exists()


def test_staff_adjust_needs_a_reason_never_below_zero_and_is_audited(
    bound: Merchant, customer: Customer
) -> None:
    owner = actor_for(bound, Role.OWNER)
    with pytest.raises(InvalidInput) as caught:
        services.adjust(owner, customer, 10, reason="  ")
    assert caught.value.fields == {"reason": "Give a reason."}
    services.adjust(owner, customer, 30, reason="goodwill", client_key="k1")
    services.adjust(owner, customer, 30, reason="goodwill", client_key="k1")  # a retry
    assert _balance_is_the_sum(customer) == 30
    with pytest.raises(InvalidInput) as caught:
        services.adjust(owner, customer, -31, reason="mistake")
    assert caught.value.fields == {"points": "The customer has only 30 points."}
    services.adjust(owner, customer, -30, reason="mistake")
    assert _balance_is_the_sum(customer) == 0
    assert AuditEntry.objects.filter(action="loyalty.points.adjusted").count() == 2
    assert PointsEntry.objects.filter(kind="adjust").first().actor_label == owner.label  # type: ignore[union-attr]
    guide = actor_for(bound, Role.SHOPPING_GUIDE)
    with pytest.raises(Forbidden):
        services.adjust(guide, customer, 5, reason="x")


def test_sign_in_once_a_local_day_with_a_streak(bound: Merchant, customer: Customer) -> None:
    LoyaltySettings.objects.create(sign_in_points=7)
    # 16:30 UTC is 00:30 the next day in Shanghai
    day_one = clock.now().replace(hour=15, minute=0, second=0, microsecond=0)
    first = services.sign_in(customer, now=day_one)
    again = services.sign_in(customer, now=day_one + timedelta(minutes=30))
    assert first.created
    assert not again.created
    assert again.sign_in.pk == first.sign_in.pk
    next_day = services.sign_in(customer, now=day_one + timedelta(hours=1, minutes=30))
    assert next_day.created
    assert next_day.sign_in.streak == 2
    assert _balance_is_the_sum(customer) == 14
    later = services.sign_in(customer, now=day_one + timedelta(days=3))
    assert later.sign_in.streak == 1


def test_expiry_writes_off_what_is_left_of_due_lots_earliest_spent_first(
    bound: Merchant, customer: Customer
) -> None:
    now = clock.now()
    LoyaltySettings.objects.create(expiry=LoyaltySettings.Expiry.DAYS, expiry_days=10)
    old = services.award(customer, 100, reason="a", reference="old")
    account = PointsAccount.objects.get(customer=customer)
    # a later lot that expires later
    PointsEntry.objects.filter(pk=old.pk).update(expires_at=now + timedelta(days=2))  # type: ignore[union-attr]
    services.award(customer, 80, reason="b", reference="new")
    owner = actor_for(bound, Role.OWNER)
    services.adjust(owner, customer, -60, reason="spent")
    taken = PointsAllocation.objects.get()
    assert taken.lot_id == old.pk
    assert taken.points == 60
    assert services.expire_due(now + timedelta(days=3)) == 40
    assert services.expire_due(now + timedelta(days=3)) == 0  # once per lot
    assert _balance_is_the_sum(customer) == 80
    assert services.expire_due(now + timedelta(days=11)) == 80
    assert _balance_is_the_sum(customer) == 0
    account.refresh_from_db()
    assert account.balance == 0


def test_lapsed_points_cannot_be_spent_before_the_job_runs(
    bound: Merchant, customer: Customer
) -> None:
    entry = services.award(customer, 100, reason="a", reference="lapsing")
    PointsEntry.objects.filter(pk=entry.pk).update(  # type: ignore[union-attr]
        expires_at=clock.now() - timedelta(minutes=1)
    )
    assert selectors.balance_of(customer) == 100
    assert selectors.available_of(customer) == 0
    quote = selectors.redeem_quote(customer, 100_000)
    assert (quote.balance, quote.max_points, quote.max_amount) == (0, 0, 0)
    owner = actor_for(bound, Role.OWNER)
    with pytest.raises(InvalidInput):
        services.adjust(owner, customer, -1, reason="x")
    # the refused adjustment rolled back, expiry included: the job writes it off
    assert services.expire_due() == 100
    assert _balance_is_the_sum(customer) == 0
