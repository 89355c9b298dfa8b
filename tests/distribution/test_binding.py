"""Binding customers to distributors by share links, by the merchant's policy; checkout
attribution from the binding."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.models import DomainEvent
from siyu.core.tenancy import merchant_context
from siyu.customers.testing import log_in, storefront_client
from siyu.distribution import services
from siyu.distribution.models import Binding, BindingChange, Distributor
from siyu.distribution.testing import make_distributor, set_default_rate
from siyu.marketing.attribution import checkout_attribution
from siyu.orders.models import Order
from siyu.orders.testing import make_customer, make_shop

pytestmark = pytest.mark.django_db


def bound_to(customer):
    return (
        Binding.unscoped.filter(customer=customer).values_list("distributor_id", flat=True).first()
    )


def policy(merchant, **changes):
    with merchant_context(merchant):
        services.update_settings(Actor.system(merchant), changes)


def test_first_link_wins_for_the_protection_period(bound):
    a, b = make_distributor(bound), make_distributor(bound)
    customer = make_customer(bound)
    assert services.bind(customer, a.share_code.lower()) is True
    assert services.bind(customer, a.share_code) is True  # again: nothing new
    assert services.bind(customer, b.share_code) is False
    assert bound_to(customer) == a.pk
    later = clock.now() + timedelta(days=31)
    assert services.bind(customer, b.share_code, at=later) is True
    assert bound_to(customer) == b.pk
    history = list(BindingChange.objects.values_list("from_distributor_id", "to_distributor_id"))
    assert history == [(None, a.pk), (a.pk, b.pk)]
    assert DomainEvent.unscoped.filter(event_type="distribution.customer.bound").count() == 2


def test_last_link_and_permanent_policies(bound):
    a, b = make_distributor(bound), make_distributor(bound)
    customer = make_customer(bound)
    policy(bound, binding_policy="last_link")
    services.bind(customer, a.share_code)
    assert services.bind(customer, b.share_code) is True
    assert bound_to(customer) == b.pk
    policy(bound, binding_policy="permanent")
    assert services.bind(customer, a.share_code, at=clock.now() + timedelta(days=3650)) is False
    assert bound_to(customer) == b.pk


def test_own_link_unknown_code_and_unapproved_distributors_bind_nothing(bound):
    a = make_distributor(bound)
    assert services.bind(a.customer, a.share_code) is False  # no self-binding
    customer = make_customer(bound)
    assert services.bind(customer, "NOPE1234") is False
    with merchant_context(bound):
        applicant = services.apply(make_customer(bound))  # waits for approval
    assert applicant.status == Distributor.Status.APPLIED
    assert services.bind(customer, applicant.share_code) is False
    assert not Binding.objects.exists()


def test_a_share_link_binds_the_logged_in_customer_and_checkout_attributes_the_order(merchant):
    set_default_rate(merchant, 500)
    distributor = make_distributor(merchant)
    shop = make_shop(merchant)
    customer = make_customer(merchant)
    client = storefront_client(customer)
    client.get(f"/s/{merchant.slug}/products/{shop.product.pk}/?d={distributor.share_code}")
    assert bound_to(customer) == distributor.pk
    assert checkout_attribution(customer, at=clock.now())["distributor_id"] == distributor.pk
    response = client.post(
        f"/api/v1/storefront/{merchant.slug}/orders",
        {
            "fulfilment": "pickup",
            "store_id": shop.store.pk,
            "items": [{"sku_id": shop.sku.pk, "quantity": 1}],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert Order.unscoped.get(pk=response.json()["id"]).distributor_id == distributor.pk


def test_a_tap_before_login_binds_after_it(merchant):
    distributor = make_distributor(merchant)
    customer = make_customer(merchant)
    client = Client()
    client.get(f"/s/{merchant.slug}/?d={distributor.share_code}")
    assert bound_to(customer) is None
    log_in(client, customer)
    client.get(f"/s/{merchant.slug}/")
    assert bound_to(customer) == distributor.pk


def test_own_purchases_are_attributed_only_with_self_purchase_on(merchant):
    distributor = make_distributor(merchant)
    assert checkout_attribution(distributor.customer, at=clock.now()).get("distributor_id") is None
    policy(merchant, self_purchase=True)
    assert checkout_attribution(distributor.customer, at=clock.now())["distributor_id"] == (
        distributor.pk
    )
    policy(merchant, enabled=False)
    assert "distributor_id" not in checkout_attribution(distributor.customer, at=clock.now())
