"""Claiming coupons: quantity, per-customer limit, audience, idempotency, validity."""

from __future__ import annotations

from datetime import timedelta

import pytest

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.models import DomainEvent, Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer, Segment
from siyu.customers.tags import tag_customer
from siyu.customers.testing import make_customer, make_tag
from siyu.orders.testing import make_order
from siyu.promotions import events as promotion_events
from siyu.promotions import services
from siyu.promotions.models import Coupon, CouponTemplate
from siyu.promotions.testing import make_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(merchant: Merchant) -> Customer:
    return make_customer(merchant)


def test_a_claim_issues_a_coupon_takes_one_off_and_emits_an_event(
    merchant: Merchant, customer: Customer
) -> None:
    template = make_template(merchant, quantity=3, valid_days=7)
    with merchant_context(merchant):
        coupon = services.claim(template.pk, customer)
        template.refresh_from_db()
        assert (template.remaining, template.issued_count) == (2, 1)
        assert coupon.status == Coupon.Status.AVAILABLE
        assert coupon.valid_until - coupon.claimed_at == timedelta(days=7)
        assert len(coupon.code) == services.CODE_LENGTH
        event = DomainEvent.objects.get(event_type=promotion_events.COUPON_CLAIMED)
        assert event.payload["coupon_id"] == coupon.pk
        assert event.payload["source"] == "claim_page"


def test_per_customer_limit_and_sold_out(merchant: Merchant, customer: Customer) -> None:
    template = make_template(merchant, quantity=3, per_customer_limit=2)
    other = make_customer(merchant)
    with merchant_context(merchant):
        services.claim(template.pk, customer)
        services.claim(template.pk, customer)
        with pytest.raises(InvalidInput) as refused:
            services.claim(template.pk, customer)
        assert "template_id" in refused.value.fields
        services.claim(template.pk, other)
        with pytest.raises(Conflict) as sold_out:
            services.claim(template.pk, other)
        assert sold_out.value.code == "sold_out"
        template.refresh_from_db()
        assert template.remaining == 0
        assert Coupon.objects.filter(template=template).count() == 3


def test_a_refused_claim_gives_the_quantity_back(merchant: Merchant, customer: Customer) -> None:
    template = make_template(merchant, quantity=5, per_customer_limit=1)
    with merchant_context(merchant):
        services.claim(template.pk, customer)
        with pytest.raises(InvalidInput):
            services.claim(template.pk, customer)
        template.refresh_from_db()
        assert template.remaining == 4


def test_the_same_client_key_claims_once(merchant: Merchant, customer: Customer) -> None:
    template = make_template(merchant, per_customer_limit=5)
    with merchant_context(merchant):
        first = services.claim(template.pk, customer, client_key="tap-1")
        again = services.claim(template.pk, customer, client_key="tap-1")
        assert again.pk == first.pk
        assert Coupon.objects.count() == 1
        other_template = make_template(merchant)
        with pytest.raises(InvalidInput) as refused:
            services.claim(other_template.pk, customer, client_key="tap-1")
        assert "client_key" in refused.value.fields


def test_templates_not_active_or_ended_cannot_be_claimed(
    merchant: Merchant, customer: Customer
) -> None:
    draft = make_template(merchant, status=CouponTemplate.Status.DRAFT)
    ended = make_template(
        merchant,
        validity=CouponTemplate.Validity.DATES,
        valid_from=clock.now() - timedelta(days=9),
        valid_until=clock.now() - timedelta(days=1),
    )
    with merchant_context(merchant):
        for template in (draft, ended):
            with pytest.raises(InvalidInput) as refused:
                services.claim(template.pk, customer)
            assert "template_id" in refused.value.fields
        with pytest.raises(NotFound):
            services.claim(10**9, customer)


def test_fixed_dates_validity_is_copied(merchant: Merchant, customer: Customer) -> None:
    start, end = clock.now() + timedelta(days=1), clock.now() + timedelta(days=5)
    template = make_template(
        merchant, validity=CouponTemplate.Validity.DATES, valid_from=start, valid_until=end
    )
    with merchant_context(merchant):
        coupon = services.claim(template.pk, customer)
        assert (coupon.valid_from, coupon.valid_until) == (start, end)


def test_another_merchants_template_is_not_found(
    merchant: Merchant, other_merchant: Merchant, customer: Customer
) -> None:
    theirs = make_template(other_merchant)
    with merchant_context(merchant), pytest.raises(NotFound):
        services.claim(theirs.pk, customer)


def test_new_customer_audience(merchant: Merchant) -> None:
    template = make_template(merchant, audience=CouponTemplate.Audience.NEW)
    newcomer = make_customer(merchant)
    buyer = make_customer(merchant)
    make_order(merchant, status="paid", customer=buyer)
    with merchant_context(merchant):
        services.claim(template.pk, newcomer)
        with pytest.raises(InvalidInput, match="new customers"):
            services.claim(template.pk, buyer)
        # staff may issue it anyway
        services.claim(template.pk, buyer, source="staff", check_audience=False)


def test_tag_and_segment_audiences(merchant: Merchant) -> None:
    tagged, untagged = make_customer(merchant), make_customer(merchant, name="Li")
    tag = make_tag(merchant, "VIP")
    with merchant_context(merchant):
        tag_customer(Actor.system(merchant), tagged, tag)
        segment = Segment.objects.create(
            name="Tagged VIP", rule={"field": "tag", "op": "has_any", "value": [tag.pk]}
        )
    by_tag = make_template(merchant, audience=CouponTemplate.Audience.TAG, audience_tag=tag)
    by_segment = make_template(
        merchant, audience=CouponTemplate.Audience.SEGMENT, audience_segment=segment
    )
    with merchant_context(merchant):
        for template in (by_tag, by_segment):
            services.claim(template.pk, tagged)
            with pytest.raises(InvalidInput, match="not offered to you"):
                services.claim(template.pk, untagged)


def test_expiry_marks_unused_coupons_past_their_validity(
    merchant: Merchant, customer: Customer
) -> None:
    template = make_template(merchant, per_customer_limit=2, valid_days=1)
    with merchant_context(merchant):
        old = services.claim(template.pk, customer)
        fresh = services.claim(template.pk, customer)
        Coupon.objects.filter(pk=old.pk).update(valid_until=clock.now() - timedelta(minutes=1))
        assert services.expire_due() == 1
        old.refresh_from_db()
        fresh.refresh_from_db()
        assert (old.status, fresh.status) == ("expired", "available")
        assert services.expire_due() == 0


def test_the_expiry_job_covers_every_merchant(
    merchant: Merchant, other_merchant: Merchant, customer: Customer
) -> None:
    from siyu.promotions.tasks import expire_coupons

    theirs = make_customer(other_merchant)
    coupons = []
    for owner, holder in ((merchant, customer), (other_merchant, theirs)):
        template = make_template(owner)
        with merchant_context(owner):
            coupons.append(services.claim(template.pk, holder))
    Coupon.unscoped.filter(pk__in=[c.pk for c in coupons]).update(
        valid_until=clock.now() - timedelta(seconds=1)
    )
    assert expire_coupons.call() == 2
    assert set(
        Coupon.unscoped.filter(pk__in=[c.pk for c in coupons]).values_list("status", flat=True)
    ) == {"expired"}
    assert expire_coupons.call() == 0
