"""The customer API of coupons: look at an offer, claim it (once per key), list mine."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from siyu.core.models import Merchant
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer, storefront_client
from siyu.promotions.models import CouponTemplate
from siyu.promotions.testing import make_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(merchant: Merchant) -> Customer:
    return make_customer(merchant)


def api(merchant: Merchant) -> str:
    return f"/api/v1/storefront/{merchant.slug}/coupons"


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_offer_claim_and_my_coupons(merchant: Merchant, customer: Customer) -> None:
    template = make_template(merchant, name="Spring", amount=500, per_customer_limit=1)
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")
    offer = client.get(f"{api(merchant)}/offers/{template.pk}").json()
    assert (offer["summary"], offer["can_claim"], offer["held"]) == ("¥5.00 off", True, 0)
    first = post(client, f"{api(merchant)}/offers/{template.pk}/claim", {"client_key": "a"})
    assert first.status_code == 201, first.json()
    again = post(client, f"{api(merchant)}/offers/{template.pk}/claim", {"client_key": "a"})
    assert again.json()["id"] == first.json()["id"]
    over = post(client, f"{api(merchant)}/offers/{template.pk}/claim", {"client_key": "b"})
    assert over.status_code == 422
    assert set(over.json()["fields"]) == {"template_id"}
    offer = client.get(f"{api(merchant)}/offers/{template.pk}").json()
    assert (offer["can_claim"], offer["held"]) == (False, 1)
    mine = client.get(api(merchant)).json()
    assert [(c["name"], c["status"]) for c in mine] == [("Spring", "available")]
    assert client.get(f"{api(merchant)}?status=used").json() == []


def test_drafts_other_merchants_and_visitors(
    merchant: Merchant, other_merchant: Merchant, customer: Customer
) -> None:
    draft = make_template(merchant, status=CouponTemplate.Status.DRAFT)
    theirs = make_template(other_merchant)
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")
    assert client.get(f"{api(merchant)}/offers/{draft.pk}").status_code == 404
    assert client.get(f"{api(merchant)}/offers/{theirs.pk}").status_code == 404
    assert post(client, f"{api(merchant)}/offers/{theirs.pk}/claim", {}).status_code == 404
    assert Client().get(api(merchant)).status_code == 401
