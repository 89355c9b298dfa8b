"""Logging in with a phone and a one-time code (``request_login_code`` → ``verify_login_code``).

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
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from siyu.core import clock, events
from siyu.core.errors import DomainError, InvalidInput
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers import attempts, codes, sms
from siyu.customers.events import CUSTOMER_LOGGED_IN
from siyu.customers.models import Customer, LoginCode, SendLock, SmsMessage
from siyu.customers.services_accounts import clean_ip, insert_customer, normalise_phone

SELF_SERVICE_CHANNEL = "storefront"  # join channel of customers created by their first login
PRUNE_AFTER = timedelta(days=1)
HOUR = timedelta(hours=1)


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
    address = clean_ip(ip)
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
    address = clean_ip(ip)
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
            customer = insert_customer(
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
