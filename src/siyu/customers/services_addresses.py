"""Delivery addresses, changed by the customer they belong to.

A customer keeps at most ``MAX_ADDRESSES`` addresses and exactly one default
while they have any: the first address is the default, making another the
default unsets the old one, and deleting the default makes the newest other
address the default. Each change validates first, then locks the customer row
(then the address row), then writes the address, the audit entry (naming the
customer) and ``customers.address.saved``/``.deleted`` in one transaction. An
address of another customer is ``NotFound``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from siyu.core import audit, events
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.tenancy import merchant_context
from siyu.customers.events import ADDRESS_DELETED, ADDRESS_SAVED
from siyu.customers.models import Customer, CustomerAddress
from siyu.customers.services_accounts import customer_actor, normalise_phone

MAX_ADDRESSES = 20
ADDRESS_FIELDS = (
    "recipient",
    "phone",
    "province",
    "city",
    "district",
    "street",
    "postal_code",
    "latitude",
    "longitude",
    "is_default",
)
ADDRESS_AUDIT_FIELDS = ADDRESS_FIELDS
_ADDRESS_TEXT: dict[str, tuple[int, bool]] = {  # field → (max length, required)
    "recipient": (40, True),
    "province": (40, True),
    "city": (40, True),
    "district": (40, False),
    "street": (200, True),
}

# --- addresses -------------------------------------------------------------------------


def _coordinate(value: Any, limit: int) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or abs(number) > limit:
        return None
    return number.quantize(Decimal("0.000001"))


def _clean_address(
    values: Mapping[str, Any], *, partial: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate address fields; ``(cleaned values, {field: reason})``."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in values.items():
        if name not in ADDRESS_FIELDS:
            errors[name] = _("Unknown field.")
        elif name in _ADDRESS_TEXT:
            limit, required = _ADDRESS_TEXT[name]
            if not isinstance(value, str):
                errors[name] = _("Expected text.")
            elif required and not value.strip():
                errors[name] = _("This field is required.")
            elif len(value.strip()) > limit:
                errors[name] = _("At most %(n)d characters.") % {"n": limit}
            else:
                cleaned[name] = value.strip()
        elif name == "phone":
            try:
                cleaned[name] = normalise_phone(value if isinstance(value, str) else "")
            except InvalidInput as exc:
                errors[name] = exc.fields["phone"]
        elif name == "postal_code":
            text = value.strip() if isinstance(value, str) else None
            if text is None or (
                text and not (len(text) == 6 and text.isascii() and text.isdigit())
            ):
                errors[name] = _("A postal code has 6 digits, e.g. 200040.")
            else:
                cleaned[name] = text
        elif name in ("latitude", "longitude"):
            if value is None or value == "":
                cleaned[name] = None
                continue
            number = _coordinate(value, 90 if name == "latitude" else 180)
            if number is None:
                errors[name] = (
                    _("Latitude is a number from -90 to 90.")
                    if name == "latitude"
                    else _("Longitude is a number from -180 to 180.")
                )
            else:
                cleaned[name] = number
        elif name == "is_default":
            if not isinstance(value, bool):
                errors[name] = _("Expected true or false.")
            else:
                cleaned[name] = value
    if not partial:
        for name, (_limit, required) in _ADDRESS_TEXT.items():
            if required and name not in values:
                errors.setdefault(name, _("This field is required."))
        if "phone" not in values:
            errors.setdefault("phone", _("Enter a phone number."))
    given = [name for name in ("latitude", "longitude") if name in cleaned]
    lopsided = len(given) == 1 or (
        len(given) == 2 and (cleaned["latitude"] is None) != (cleaned["longitude"] is None)
    )
    if lopsided and "latitude" not in errors and "longitude" not in errors:
        errors["longitude"] = _("Give both latitude and longitude, or neither.")
    return cleaned, errors


def _address_payload(address: CustomerAddress) -> dict[str, Any]:
    return {
        "id": address.pk,
        "customer_id": address.customer_id,
        "province": address.province,
        "city": address.city,
        "district": address.district,
        "is_default": address.is_default,
    }


def _lock_customer(customer: Customer) -> Customer:
    row = Customer.objects.select_for_update().filter(pk=customer.pk).first()
    if row is None:
        raise NotFound(_("No such customer."))
    row.merchant = customer.merchant
    return row


def _locked_address(owner: Customer, address: CustomerAddress | int) -> CustomerAddress:
    address_id = address.pk if isinstance(address, CustomerAddress) else address
    row = None
    if isinstance(address_id, int) and not isinstance(address_id, bool):
        row = (
            CustomerAddress.objects.select_for_update()
            .filter(pk=address_id, customer_id=owner.pk)
            .first()
        )
    if row is None:
        raise NotFound(_("No such address."))
    return row


def _make_default(owner: Customer, row: CustomerAddress) -> None:
    CustomerAddress.objects.filter(customer_id=owner.pk, is_default=True).exclude(pk=row.pk).update(
        is_default=False
    )
    row.is_default = True


def add_address(customer: Customer, *, ip: str | None = None, **fields: Any) -> CustomerAddress:
    """A new delivery address; the first one (or one with ``is_default=True``) is the default."""
    cleaned, errors = _clean_address(fields, partial=False)
    if errors:
        raise InvalidInput(_("The address could not be saved."), fields=errors)
    with merchant_context(customer.merchant), transaction.atomic():
        owner = _lock_customer(customer)
        count = CustomerAddress.objects.filter(customer_id=owner.pk).count()
        if count >= MAX_ADDRESSES:
            reason = _("You can keep at most %(n)d addresses: delete one first.") % {
                "n": MAX_ADDRESSES
            }
            raise InvalidInput(reason, fields={"address": reason})
        make_default = bool(cleaned.pop("is_default", False)) or count == 0
        if make_default:
            CustomerAddress.objects.filter(customer_id=owner.pk, is_default=True).update(
                is_default=False
            )
        address = CustomerAddress.objects.create(
            merchant=owner.merchant, customer=owner, is_default=make_default, **cleaned
        )
        audit.record(
            customer_actor(owner, ip=ip),
            "address.create",
            address,
            after=audit.snapshot(address, ADDRESS_AUDIT_FIELDS),
        )
        events.emit(owner.merchant, ADDRESS_SAVED, _address_payload(address), aggregate=address)
        return address


def update_address(
    customer: Customer, address: CustomerAddress | int, *, ip: str | None = None, **fields: Any
) -> CustomerAddress:
    """Change some fields of one of the customer's addresses (``NotFound`` for anyone else's)."""
    cleaned, errors = _clean_address(fields, partial=True)
    if errors:
        raise InvalidInput(_("The address could not be saved."), fields=errors)
    with merchant_context(customer.merchant), transaction.atomic():
        owner = _lock_customer(customer)
        row = _locked_address(owner, address)
        before = audit.snapshot(row, ADDRESS_AUDIT_FIELDS)
        wants_default = cleaned.pop("is_default", None)
        if wants_default is False and row.is_default:
            reason = _("Choose another address as the default instead: one is always the default.")
            raise InvalidInput(reason, fields={"is_default": reason})
        if wants_default and not row.is_default:
            _make_default(owner, row)
        for name, value in cleaned.items():
            setattr(row, name, value)
        row.save()
        audit.record(
            customer_actor(owner, ip=ip),
            "address.update",
            row,
            before=before,
            after=audit.snapshot(row, ADDRESS_AUDIT_FIELDS),
        )
        events.emit(owner.merchant, ADDRESS_SAVED, _address_payload(row), aggregate=row)
        return row


def set_default_address(
    customer: Customer, address: CustomerAddress | int, *, ip: str | None = None
) -> CustomerAddress:
    """Make one of the customer's addresses the default (the others stop being it)."""
    with merchant_context(customer.merchant), transaction.atomic():
        owner = _lock_customer(customer)
        row = _locked_address(owner, address)
        if row.is_default:
            return row
        _make_default(owner, row)
        row.save(update_fields=["is_default", "updated_at"])
        audit.record(
            customer_actor(owner, ip=ip),
            "address.default",
            row,
            before={"is_default": False},
            after={"is_default": True},
        )
        events.emit(owner.merchant, ADDRESS_SAVED, _address_payload(row), aggregate=row)
        return row


def delete_address(
    customer: Customer, address: CustomerAddress | int, *, ip: str | None = None
) -> None:
    """Delete one of the customer's addresses; when it was the default, the newest other one is."""
    with merchant_context(customer.merchant), transaction.atomic():
        owner = _lock_customer(customer)
        row = _locked_address(owner, address)
        before = audit.snapshot(row, ADDRESS_AUDIT_FIELDS)
        payload = _address_payload(row)
        was_default = row.is_default
        row.delete()
        if was_default:
            successor = (
                CustomerAddress.objects.filter(customer_id=owner.pk)
                .order_by("-updated_at", "-id")
                .first()
            )
            if successor is not None:
                successor.is_default = True
                successor.save(update_fields=["is_default", "updated_at"])
        audit.record(
            customer_actor(owner, ip=ip),
            "address.delete",
            object_type=CustomerAddress._meta.label_lower,
            object_id=payload["id"],
            object_repr=str(before.get("street", "")),
            before=before,
        )
        events.emit(owner.merchant, ADDRESS_DELETED, payload)
