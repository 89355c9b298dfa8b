"""Customer accounts: the phone that names a customer, the customer as an actor, and changes.

* :func:`normalise_phone` turns what a person typed into E.164 (``InvalidInput``
  naming the field otherwise); :func:`customer_actor` is the customer as the
  audit log's "who" (``customer …``, no staff permissions).
* :func:`get_or_create_customer` finds or creates the merchant's customer with a
  phone (the first login creates one too: :mod:`siyu.customers.services_login`).
* Staff change a customer's name or status (:func:`update_customer`,
  :func:`block_customer`, :func:`unblock_customer`) through an :class:`Actor`
  with ``Perm.CUSTOMERS_MANAGE``; the customer changes their own name
  (:func:`update_profile`). A change locks the customer row, writes the audit
  entry and ``customers.customer.updated`` (and ``.blocked``/``.unblocked``) in
  one transaction.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from siyu.core import audit, events
from siyu.core.actors import Actor
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.models import Merchant
from siyu.core.permissions import Perm
from siyu.core.tenancy import merchant_context
from siyu.customers import phones
from siyu.customers.events import (
    CUSTOMER_BLOCKED,
    CUSTOMER_CREATED,
    CUSTOMER_UNBLOCKED,
    CUSTOMER_UPDATED,
)
from siyu.customers.models import Customer

CUSTOMER_ROLE = "customer"  # an Actor role with no staff permissions
CUSTOMER_AUDIT_FIELDS = ("phone", "name", "status", "join_channel")


# --- phones ----------------------------------------------------------------------------


def normalise_phone(
    raw: str, region: str = phones.DEFAULT_REGION, *, mobile: bool = False, field: str = "phone"
) -> str:
    """The E.164 form of ``raw``, or ``InvalidInput`` naming ``field`` (``mobile``: SMS-able)."""
    result = phones.parse(raw if isinstance(raw, str) else "", region, mobile=mobile)
    if isinstance(result, phones.PhoneProblem):
        reason = {
            phones.PhoneProblem.EMPTY: _("Enter a phone number."),
            phones.PhoneProblem.INVALID: _("Enter a valid phone number, e.g. 138 1234 5678."),
            phones.PhoneProblem.NOT_MOBILE: _(
                "Enter a mobile number: the code is sent by text message."
            ),
        }[result]
        raise InvalidInput(reason, fields={field: reason})
    return result


def clean_ip(ip: str | None) -> str | None:
    """``ip`` as a canonical address, or None when it is missing or not an address."""
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        return None


def customer_actor(customer: Customer, *, ip: str | None = None) -> Actor:
    """The customer as the audit log's "who" (no staff permissions)."""
    return Actor(
        merchant=customer.merchant,
        role=CUSTOMER_ROLE,
        ip_address=clean_ip(ip),
        label=f"customer {phones.display(customer.phone)} (#{customer.pk})",
    )


# --- customers -------------------------------------------------------------------------


def _customer_payload(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "phone": customer.phone,
        "name": customer.name,
        "status": customer.status,
        "join_channel": customer.join_channel,
    }


def _clean_customer_fields(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    limits = {"name": 80, "join_channel": 60}
    for name, value in values.items():
        if name in limits:
            if not isinstance(value, str):
                errors[name] = _("Expected text.")
            elif len(value.strip()) > limits[name]:
                errors[name] = _("At most %(n)d characters.") % {"n": limits[name]}
            else:
                cleaned[name] = value.strip()
        elif name == "status":
            if value not in Customer.Status.values:
                errors[name] = _("Choose active or blocked.")
            else:
                cleaned[name] = value
        else:
            errors[name] = _("Unknown field.")
    return cleaned, errors


def insert_customer(
    merchant: Merchant,
    phone: str,
    *,
    values: Mapping[str, Any],
    actor: Actor | None,
    ip: str | None = None,
) -> Customer:
    """Insert the customer (or find the one a concurrent request inserted first)."""
    try:
        with transaction.atomic():
            customer = Customer.objects.create(merchant=merchant, phone=phone, **values)
    except IntegrityError:
        return Customer.objects.get(phone=phone)
    audit.record(
        actor or customer_actor(customer, ip=ip),
        "customer.create",
        customer,
        after=audit.snapshot(customer, CUSTOMER_AUDIT_FIELDS),
    )
    events.emit(merchant, CUSTOMER_CREATED, _customer_payload(customer), aggregate=customer)
    return customer


def get_or_create_customer(
    merchant: Merchant, phone: str, *, actor: Actor | None = None, **fields: Any
) -> Customer:
    """The merchant's customer with ``phone``, created with ``fields`` (name, join_channel) if new.

    An existing customer is returned unchanged. ``actor`` is who the audit log
    names (the customer themself when None).
    """
    e164 = normalise_phone(phone)
    cleaned, errors = _clean_customer_fields(fields)
    for name in fields:
        if name not in ("name", "join_channel"):
            errors[name] = _("Unknown field.")
    if errors:
        raise InvalidInput(_("The customer could not be saved."), fields=errors)
    with merchant_context(merchant), transaction.atomic():
        existing = Customer.objects.filter(phone=e164).first()
        if existing is not None:
            return existing
        return insert_customer(merchant, e164, values=cleaned, actor=actor)


def _change_customer(actor: Actor, customer: Customer, changes: Mapping[str, Any]) -> Customer:
    cleaned, errors = _clean_customer_fields(changes)
    if errors:
        raise InvalidInput(_("The customer could not be saved."), fields=errors)
    with merchant_context(actor.merchant), transaction.atomic():
        row = Customer.objects.select_for_update().filter(pk=customer.pk).first()
        if row is None:
            raise NotFound(_("No such customer."))
        before = audit.snapshot(row, CUSTOMER_AUDIT_FIELDS)
        changed = [name for name, value in cleaned.items() if getattr(row, name) != value]
        if not changed:
            return row
        for name in changed:
            setattr(row, name, cleaned[name])
        row.save(update_fields=changed)
        after = audit.snapshot(row, CUSTOMER_AUDIT_FIELDS)
        action = "customer.update"
        if "status" in changed:
            action = "customer.block" if row.is_blocked else "customer.unblock"
        audit.record(actor, action, row, before=before, after=after)
        events.emit(
            actor.merchant,
            CUSTOMER_UPDATED,
            {**_customer_payload(row), "changed": changed},
            aggregate=row,
        )
        if "status" in changed:
            events.emit(
                actor.merchant,
                CUSTOMER_BLOCKED if row.is_blocked else CUSTOMER_UNBLOCKED,
                _customer_payload(row),
                aggregate=row,
            )
        return row


def update_customer(
    actor: Actor, customer: Customer, *, name: str | None = None, status: str | None = None
) -> Customer:
    """Staff change a customer's name or status (``Perm.CUSTOMERS_MANAGE``)."""
    actor.require(Perm.CUSTOMERS_MANAGE)
    changes = {k: v for k, v in (("name", name), ("status", status)) if v is not None}
    return _change_customer(actor, customer, changes)


def block_customer(actor: Actor, customer: Customer) -> Customer:
    """The customer can no longer log in, and their open sessions stop working."""
    return update_customer(actor, customer, status=Customer.Status.BLOCKED)


def unblock_customer(actor: Actor, customer: Customer) -> Customer:
    return update_customer(actor, customer, status=Customer.Status.ACTIVE)


def update_profile(customer: Customer, *, name: str, ip: str | None = None) -> Customer:
    """The customer changes their own name."""
    return _change_customer(customer_actor(customer, ip=ip), customer, {"name": name})
