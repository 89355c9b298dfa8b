"""The customer refuses and allows again marketing messages from their account page."""

from __future__ import annotations

from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers import consent
from siyu.customers.models import Customer, TimelineEntry
from siyu.customers.testing import storefront_client


def test_customer_refuses_and_allows_again(merchant: Merchant, customer: Customer) -> None:
    client = storefront_client(customer)
    url = f"/s/{merchant.slug}/account/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Marketing messages" in page
    assert page.count('name="allow"') == 3
    assert page.count(" checked") == 3
    # untick SMS and group posts
    response = client.post(url, {"form": "marketing", "allow": ["inbox"]})
    assert response.status_code == 302
    with merchant_context(merchant):
        assert consent.refuses(customer, "sms")
        assert consent.refuses(customer, "group")
        assert not consent.refuses(customer, "inbox")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count(" checked") == 1
    # tick them again: honoured at once; saving the same choice writes nothing more
    client.post(url, {"form": "marketing", "allow": ["inbox", "sms", "group"]})
    client.post(url, {"form": "marketing", "allow": ["inbox", "sms", "group"]})
    with merchant_context(merchant):
        assert not consent.refused_customer_ids("sms").exists()
    entries = TimelineEntry.unscoped.filter(customer=customer, kind="consent")
    assert entries.count() == 4
    assert {e.actor.split(" ")[0] for e in entries} == {"customer"}
