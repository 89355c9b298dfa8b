"""The storefront's coupon pages and coupon cards in chat."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import translation

from siyu.community import cards
from siyu.community import services as community_services
from siyu.community.testing import make_group
from siyu.core.errors import InvalidInput
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer, storefront_client
from siyu.promotions import selectors
from siyu.promotions.models import Coupon, CouponTemplate
from siyu.promotions.testing import make_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(merchant: Merchant) -> Customer:
    return make_customer(merchant)


def claim_url(merchant: Merchant, template: CouponTemplate) -> str:
    return f"/s/{merchant.slug}/coupons/{template.pk}/"


def client_key(body: str) -> str:
    found = re.search(r'name="client_key" value="([^"]+)"', body)
    assert found is not None, body
    return found.group(1)


def test_claim_page_claims_once_per_key_and_lists_the_coupon(
    merchant: Merchant, customer: Customer
) -> None:
    template = make_template(
        merchant, kind="threshold", amount=1000, threshold=5000, name="Friday", per_customer_limit=2
    )
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")
    page = client.get(claim_url(merchant, template))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Friday" in body
    assert "¥10.00 off on ¥50.00 or more" in body
    assert "Valid for 7 days after claiming." in body
    key = client_key(body)
    for _n in range(2):  # a double tap
        answer = client.post(claim_url(merchant, template), {"client_key": key})
        assert answer.status_code == 302
        assert answer["Location"] == f"/s/{merchant.slug}/coupons/"
    with merchant_context(merchant):
        assert Coupon.objects.filter(customer=customer).count() == 1
    mine = client.get(f"/s/{merchant.slug}/coupons/").content.decode()
    assert "Friday" in mine
    assert "Use by" in mine


def test_claim_page_says_why_it_cannot_be_claimed(merchant: Merchant, customer: Customer) -> None:
    template = make_template(merchant, quantity=1, name="Last one")
    other = make_customer(merchant)
    with merchant_context(merchant):
        from siyu.promotions import services

        services.claim(template.pk, other)
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")
    body = client.get(claim_url(merchant, template)).content.decode()
    assert "All of these coupons have been claimed." in body
    assert 'name="client_key"' not in body
    answer = client.post(claim_url(merchant, template), {"client_key": "k"}, follow=True)
    assert "All of these coupons have been claimed." in answer.content.decode()


def test_visitors_see_the_coupon_and_log_in_to_claim(merchant: Merchant) -> None:
    template = make_template(merchant, name="Welcome")
    visitor = Client(HTTP_ACCEPT_LANGUAGE="en")
    body = visitor.get(claim_url(merchant, template)).content.decode()
    assert "Log in to claim" in body
    answer = visitor.post(claim_url(merchant, template), {"client_key": "k"})
    assert answer.status_code == 302
    assert answer["Location"].startswith(f"/s/{merchant.slug}/login/?next=")


def test_draft_and_other_merchants_templates_are_404(
    merchant: Merchant, other_merchant: Merchant, customer: Customer
) -> None:
    draft = make_template(merchant, status=CouponTemplate.Status.DRAFT)
    theirs = make_template(other_merchant)
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")
    assert client.get(claim_url(merchant, draft)).status_code == 404
    assert client.get(claim_url(merchant, theirs)).status_code == 404


def test_pages_in_chinese(merchant: Merchant, customer: Customer) -> None:
    template = make_template(merchant, kind="percent", amount=0, percent_bp=1500, cap=800)
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="zh-hans")
    with translation.override("zh-hans"):
        body = client.get(claim_url(merchant, template)).content.decode()
    assert "领取" in body
    assert "领取后 7 天内有效" in body
    with translation.override("zh-hans"):
        assert selectors.summary(template) == "减 15%，最多 ¥8.00"
    assert "我的优惠券" in client.get(f"/s/{merchant.slug}/coupons/").content.decode()


def test_a_coupon_card_in_a_group_opens_the_claim_page(merchant: Merchant) -> None:
    owner = actor_for(merchant, Role.OWNER)
    template = make_template(merchant, name="Group gift", amount=300)
    draft = make_template(merchant, status=CouponTemplate.Status.DRAFT)
    group = make_group(owner)
    with merchant_context(merchant):
        chat = community_services.group_conversation(group)
        message = community_services.post_message(
            chat, card={"type": "coupon", "id": template.pk}, sender_staff=owner.membership
        )
        with pytest.raises(InvalidInput) as refused:
            community_services.post_message(
                chat, card={"type": "coupon", "id": draft.pk}, sender_staff=owner.membership
            )
        assert refused.value.fields == {"card": "This coupon is not active: start it first."}
    card = message.card
    assert card is not None
    assert card["title"] == "Group gift"
    assert card["subtitle"] == "¥3.00 off"
    assert card["url"].startswith(f"/s/{merchant.slug}/coupons/{template.pk}/?via=")
    via = cards.read_via(card["url"].split("via=")[1])
    assert via == cards.Via("group", group_id=group.pk, message_id=message.pk)
