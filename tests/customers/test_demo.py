"""The demo's named customers: known phones, addresses, a login to print, and a working login."""

from __future__ import annotations

import random

from django.test import Client

from siyu.core.actors import Actor
from siyu.core.demo import DemoContext
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.testing import make_staff
from siyu.customers import demo
from siyu.customers.models import Customer, CustomerAddress
from siyu.customers.testing import last_code


def run_seed(merchant: Merchant) -> tuple[DemoContext, list[int]]:
    steps: list[int] = []
    ctx = DemoContext(
        merchant=merchant,
        owner=Actor.for_membership(make_staff(merchant, Role.OWNER)),
        rng=random.Random(1),
        advance=steps.append,
    )
    demo.seed(ctx)
    return ctx, steps


def test_seed_adds_named_customers_with_addresses(merchant):
    ctx, steps = run_seed(merchant)
    assert sum(steps) == demo.STEPS == len(demo.CUSTOMERS)
    customers = ctx.shared["customers"]
    assert [c.phone for c in customers] == [spec.phone for spec in demo.CUSTOMERS]
    assert Customer.unscoped.filter(merchant=merchant).count() == len(demo.CUSTOMERS)
    first = customers[0]
    assert first.phone == "+8613800000001"
    assert first.name == "林小雨"
    addresses = CustomerAddress.unscoped.filter(customer=first)
    assert addresses.count() == 2
    assert addresses.filter(is_default=True).count() == 1
    [login] = ctx.logins
    assert login.role == "customer"
    assert login.username == "138 0000 0001"
    assert login.note.startswith("storefront login: phone + code from the SMS outbox")


def test_seeding_a_second_demo_merchant_works_too(merchant, other_merchant):
    run_seed(merchant)
    run_seed(other_merchant)
    assert Customer.unscoped.filter(phone="+8613800000001").count() == 2


def test_a_visitor_logs_in_with_the_demo_phone_and_the_outbox(merchant, settings):
    settings.DEBUG = True
    run_seed(merchant)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.post("/s/lucky-coffee/login/", {"action": "send", "phone": "138 0000 0001"})
    shown = client.get("/s/lucky-coffee/login/sms/").content.decode()
    code = last_code(merchant, "13800000001")
    assert code in shown
    client.post("/s/lucky-coffee/login/", {"action": "verify", "code": code})
    account = client.get("/s/lucky-coffee/account/").content.decode()
    assert "林小雨" in account
