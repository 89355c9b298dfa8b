"""Factories for customer tests and benchmarks: small functions, explicit merchant, real services."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.core.testing import next_id
from siyu.customers import services
from siyu.customers.models import Customer, CustomerAddress, SmsMessage
from siyu.customers.session import CUSTOMERS_KEY

CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def phone_number(n: int | None = None) -> str:
    """A valid Chinese mobile number in E.164, unique per call unless ``n`` is given."""
    return f"+86139{(n if n is not None else next_id()) % 100_000_000:08d}"


def make_customer(merchant: Merchant, phone: str | None = None, **fields: Any) -> Customer:
    """A customer made by ``get_or_create_customer`` (audit entry and event included)."""
    with merchant_context(merchant):
        customer = services.get_or_create_customer(merchant, phone or phone_number(), **fields)
    customer.merchant = merchant
    return customer


def address_fields(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "recipient": "王小明",
        "phone": "138 1234 5678",
        "province": "上海市",
        "city": "上海市",
        "district": "静安区",
        "street": f"南京西路{next_id()}号",
        "postal_code": "200040",
    }
    values.update(changes)
    return values


def make_address(customer: Customer, **changes: Any) -> CustomerAddress:
    with merchant_context(customer.merchant):
        return services.add_address(customer, **address_fields(**changes))


def last_code(merchant: Merchant, phone: str) -> str:
    """The code in the newest login text sent to ``phone`` (read from the SMS outbox)."""
    e164 = services.normalise_phone(phone)
    message = (
        SmsMessage.unscoped.filter(merchant=merchant, to=e164, purpose=SmsMessage.Purpose.LOGIN)
        .order_by("-created_at", "-id")
        .first()
    )
    assert message is not None, f"no login code was sent to {e164}"
    found = CODE_RE.search(message.text)
    assert found is not None, message.text
    return found.group(1)


def log_in(client: Client, customer: Customer) -> Client:
    """Put ``customer`` in ``client``'s session at their merchant's storefront."""
    session = client.session
    logged_in = dict(session.get(CUSTOMERS_KEY) or {})
    logged_in[str(customer.merchant_id)] = customer.pk
    session[CUSTOMERS_KEY] = logged_in
    session.save()
    return client


def storefront_client(customer: Customer, **defaults: Any) -> Client:
    """A test client logged in as ``customer`` at their merchant's storefront."""
    return log_in(Client(**defaults), customer)


# --- tags and segments (siyu.customers.tags) ---------------------------------------------


def make_tag_group(merchant: Merchant, name: str | None = None, **fields: Any) -> Any:
    from siyu.core.actors import Actor
    from siyu.customers import tags

    return tags.create_tag_group(
        Actor.system(merchant), name=name or f"Tag group {next_id()}", **fields
    )


def make_tag(merchant: Merchant, name: str | None = None, group: Any = None, **fields: Any) -> Any:
    """A tag (in ``group``, or in a new tag group) made by the tag services."""
    from siyu.core.actors import Actor
    from siyu.customers import tags

    group = group or make_tag_group(merchant)
    return tags.create_tag(
        Actor.system(merchant), group=group, name=name or f"Tag {next_id()}", **fields
    )
