"""State changes of customers: login codes, customer accounts, delivery addresses.

Login (``request_login_code`` → ``verify_login_code``):

* A code is six digits, stored only as a keyed hash (:mod:`siyu.customers.codes`),
  valid for ``OTP_TTL_SECONDS``; a newer code for the phone replaces it.
* Sending is limited per merchant, per phone and per IP address: one code per
  ``OTP_RESEND_SECONDS`` and ``OTP_MAX_SENDS_PER_HOUR`` in any hour; a refused
  request raises :class:`Throttled` with the seconds to wait. Requests for the
  same phone or address queue on their :class:`SendLock` rows, so two at once
  cannot both pass.
* The answer is the same whether the phone belongs to a customer or not (no
  account enumeration); a blocked customer gets a code but cannot log in with it.
* Every try is counted before the code is compared (one conditional UPDATE,
  at most ``OTP_MAX_ATTEMPTS``); the right code is used once (one conditional
  UPDATE from pending to used), so two verifications at once log in once.
* The first successful login creates the customer (audit entry and
  ``customers.customer.created``).

Customers act on their own account and addresses (the audit log names them
as ``customer …``); staff act through an :class:`Actor` with
``Perm.CUSTOMERS_MANAGE``. Every function validates first, then locks, then
changes, writing the audit entry and the domain event in the same transaction.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from siyu.core import audit, clock, events
from siyu.core.actors import Actor
from siyu.core.errors import DomainError, InvalidInput, NotFound
from siyu.core.models import Merchant
from siyu.core.permissions import Perm
from siyu.core.tenancy import merchant_context
from siyu.customers import attempts, codes, phones, sms
from siyu.customers.events import (
    ADDRESS_DELETED,
    ADDRESS_SAVED,
    CUSTOMER_BLOCKED,
    CUSTOMER_CREATED,
    CUSTOMER_LOGGED_IN,
    CUSTOMER_UNBLOCKED,
    CUSTOMER_UPDATED,
)
from siyu.customers.models import (
    Customer,
    CustomerAddress,
    LoginCode,
    SendLock,
    SmsMessage,
)

CUSTOMER_ROLE = "customer"  # an Actor role with no staff permissions
SELF_SERVICE_CHANNEL = "storefront"  # join channel of customers created by their first login
MAX_ADDRESSES = 20
PRUNE_AFTER = timedelta(days=1)
HOUR = timedelta(hours=1)

CUSTOMER_AUDIT_FIELDS = ("phone", "name", "status", "join_channel")
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


class Throttled(DomainError):
    """Too many requests: ``retry_after`` seconds must pass first (HTTP 429)."""

    code = "throttled"
    status = 429

    def __init__(self, message: str, *, retry_after: int, fields: Mapping[str, str]) -> None:
        super().__init__(message, fields=fields)
        self.retry_after = retry_after


class CustomerBlocked(DomainError):
    """The merchant blocked this customer: no login (HTTP 403)."""

    code = "customer_blocked"
    status = 403


class SmsUnavailable(DomainError):
    """The SMS backend refused the message (HTTP 503); nothing was saved."""

    code = "sms_unavailable"
    status = 503


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


def _clean_ip(ip: str | None) -> str | None:
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
        ip_address=_clean_ip(ip),
        label=f"customer {phones.display(customer.phone)} (#{customer.pk})",
    )


# --- login codes -----------------------------------------------------------------------


def _login_text(merchant: Merchant, code: str) -> str:
    minutes = max(1, math.ceil(settings.OTP_TTL_SECONDS / 60))
    return ngettext(
        "[%(shop)s] Your login code is %(code)s. It expires in %(minutes)d minute. "
        "Do not share it with anyone.",
        "[%(shop)s] Your login code is %(code)s. It expires in %(minutes)d minutes. "
        "Do not share it with anyone.",
        minutes,
    ) % {"shop": merchant.name, "code": code, "minutes": minutes}


def _lock_senders(merchant: Merchant, keys: list[str]) -> None:
    """Queue behind other code requests for the same phone or address (rows locked in key order)."""
    for key in keys:
        SendLock.objects.get_or_create(merchant=merchant, key=key)
    list(SendLock.objects.select_for_update().filter(key__in=keys).order_by("key"))


def _recent_sends(field: str, value: str, now: datetime) -> list[datetime]:
    window = max(HOUR, timedelta(seconds=settings.OTP_RESEND_SECONDS))
    limit = max(1, settings.OTP_MAX_SENDS_PER_HOUR)
    return list(
        LoginCode.objects.filter(**{field: value}, created_at__gt=now - window)
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)[:limit]
    )


def seconds_until_next_code(merchant: Merchant, phone: str, *, ip: str | None = None) -> int:
    """How long ``phone`` (E.164) must wait for another code; 0 when it may ask now."""
    now = clock.now()
    address = _clean_ip(ip)
    sources = [("phone", phone)] + ([("ip_address", address)] if address else [])
    with merchant_context(merchant):
        return max(
            codes.wait_seconds(
                _recent_sends(field, value, now),
                now,
                resend_seconds=settings.OTP_RESEND_SECONDS,
                max_per_hour=settings.OTP_MAX_SENDS_PER_HOUR,
            )
            for field, value in sources
        )


def _throttled(wait: int) -> Throttled:
    message = ngettext(
        "Please wait %(seconds)d second before asking for another code.",
        "Please wait %(seconds)d seconds before asking for another code.",
        wait,
    ) % {"seconds": wait}
    return Throttled(message, retry_after=wait, fields={"phone": message})


def request_login_code(merchant: Merchant, phone: str, *, ip: str | None) -> None:
    """Send a new login code to ``phone`` through the SMS backend.

    Answers the same (nothing) for every valid mobile number, whether it
    belongs to a customer or not. Raises ``InvalidInput`` (phone), ``Throttled``
    (with ``retry_after``) or ``SmsUnavailable``.
    """
    e164 = normalise_phone(phone, mobile=True)
    address = _clean_ip(ip)
    keys = sorted([f"phone:{e164}"] + ([f"ip:{address}"] if address else []))
    with merchant_context(merchant), transaction.atomic():
        _lock_senders(merchant, keys)
        wait = seconds_until_next_code(merchant, e164, ip=address)
        if wait:
            raise _throttled(wait)
        now = clock.now()
        LoginCode.objects.filter(phone=e164, status=LoginCode.Status.PENDING).update(
            status=LoginCode.Status.REPLACED
        )
        code = codes.new_code()
        LoginCode.objects.create(
            merchant=merchant,
            phone=e164,
            code_hash=codes.code_hash(merchant.pk, e164, code),
            ip_address=address,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.OTP_TTL_SECONDS),
        )
        result = sms.send(
            sms.OutgoingSms(
                merchant=merchant,
                to=e164,
                text=_login_text(merchant, code),
                purpose=SmsMessage.Purpose.LOGIN,
            )
        )
        if not result.ok:
            raise SmsUnavailable(
                _("The text message could not be sent. Please try again in a minute."),
                fields={"phone": result.error or _("The SMS gateway refused the message.")},
            )


def _code_error(reason: str) -> InvalidInput:
    return InvalidInput(reason, fields={"code": reason})


def _count_try(code_id: int, now: datetime) -> bool:
    """Count one try of a pending, unexpired code that has tries left; False when none are left."""
    with transaction.atomic():
        counted = LoginCode.objects.filter(
            pk=code_id,
            status=LoginCode.Status.PENDING,
            attempts__lt=settings.OTP_MAX_ATTEMPTS,
            expires_at__gt=now,
        ).update(attempts=F("attempts") + 1)
    if counted:
        attempts.note(code_id)
    return bool(counted)


def verify_login_code(merchant: Merchant, phone: str, code: str, *, ip: str | None) -> Customer:
    """Log in with the code sent to ``phone``: the customer (created on the first login).

    Raises ``InvalidInput`` (``phone`` or ``code``: wrong, expired, used, no
    tries left) or ``CustomerBlocked``.
    """
    e164 = normalise_phone(phone, mobile=True)
    digits = codes.clean_code(code if isinstance(code, str) else "")
    if digits is None:
        raise _code_error(_("Enter the 6-digit code from the text message."))
    now = clock.now()
    with merchant_context(merchant):
        pending = (
            LoginCode.objects.filter(phone=e164, status=LoginCode.Status.PENDING)
            .order_by("-created_at", "-id")
            .first()
        )
        if pending is None:
            raise _code_error(_("No code is waiting for this number: ask for a new one."))
        if pending.expires_at <= now:
            raise _code_error(_("The code has expired: ask for a new one."))
        if not _count_try(pending.pk, now):
            raise _code_error(_("Too many wrong codes: ask for a new one."))
        if not codes.matches(pending.code_hash, merchant.pk, e164, digits):
            left = max(0, settings.OTP_MAX_ATTEMPTS - pending.attempts - 1)
            if left == 0:
                raise _code_error(_("Wrong code, and no tries are left: ask for a new one."))
            raise _code_error(
                ngettext("Wrong code: %(left)d try left.", "Wrong code: %(left)d tries left.", left)
                % {"left": left}
            )
        return _log_in(merchant, pending, e164, ip=ip, now=now)


def _log_in(
    merchant: Merchant, pending: LoginCode, phone: str, *, ip: str | None, now: datetime
) -> Customer:
    with transaction.atomic():
        customer = Customer.objects.select_for_update().filter(phone=phone).first()
        if customer is not None and customer.is_blocked:
            reason = _("This account is blocked. Please contact the shop.")
            raise CustomerBlocked(reason, fields={"phone": reason})
        used = LoginCode.objects.filter(pk=pending.pk, status=LoginCode.Status.PENDING).update(
            status=LoginCode.Status.USED, used_at=now
        )
        if not used:
            raise _code_error(_("This code has already been used: ask for a new one."))
        first_login = customer is None
        if customer is None:
            customer = _create_customer(
                merchant, phone, values={"join_channel": SELF_SERVICE_CHANNEL}, actor=None, ip=ip
            )
        Customer.objects.filter(pk=customer.pk).update(last_login_at=now)
        customer.last_login_at = now
        customer.merchant = merchant
        events.emit(
            merchant,
            CUSTOMER_LOGGED_IN,
            {"id": customer.pk, "phone": customer.phone, "first_login": first_login},
            aggregate=customer,
        )
        return customer


def prune_login_codes(now: datetime | None = None) -> int:
    """Delete login codes and send locks older than a day (all merchants); the codes deleted."""
    cutoff = (now or clock.now()) - PRUNE_AFTER
    deleted, _by_model = LoginCode.unscoped.filter(created_at__lt=cutoff).delete()
    SendLock.unscoped.filter(created_at__lt=cutoff).delete()
    return deleted


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


def _create_customer(
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
        return _create_customer(merchant, e164, values=cleaned, actor=actor)


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
