"""The SMS adapter: a small typed interface, the backend chosen by ``settings.SMS_BACKEND``.

A backend takes one :class:`OutgoingSms` and answers an :class:`SmsResult`.
The built-in ``outbox`` backend sends nothing: it keeps every message in the
:class:`~siyu.customers.models.SmsMessage` table, where operators (the console's
SMS outbox) and the demo read the codes. A gateway backend (Aliyun, Tencent
Cloud...) is one more class with the same ``send`` and a name in
:data:`BACKENDS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from siyu.core import clock
from siyu.core.models import Merchant
from siyu.customers.models import SmsMessage


@dataclass(frozen=True)
class OutgoingSms:
    merchant: Merchant
    to: str  # E.164
    text: str
    purpose: str  # SmsMessage.Purpose


@dataclass(frozen=True)
class SmsResult:
    ok: bool
    status: str  # SmsMessage.Status
    reference: str = ""  # the provider's id (the outbox row's id for the outbox)
    error: str = ""


class SmsBackend(Protocol):
    name: str

    def send(self, message: OutgoingSms) -> SmsResult: ...


class OutboxBackend:
    """Keeps the message in the outbox table (in the caller's transaction) and sends nothing."""

    name = "outbox"

    def send(self, message: OutgoingSms) -> SmsResult:
        row = SmsMessage.unscoped.create(
            merchant=message.merchant,
            to=message.to,
            text=message.text[:500],
            purpose=message.purpose,
            status=SmsMessage.Status.OUTBOX,
            backend=self.name,
            created_at=clock.now(),
        )
        return SmsResult(ok=True, status=SmsMessage.Status.OUTBOX, reference=str(row.pk))


BACKENDS: dict[str, type[SmsBackend]] = {"outbox": OutboxBackend}


def backend(name: str | None = None) -> SmsBackend:
    """The backend named by ``settings.SMS_BACKEND`` (or ``name``)."""
    chosen = name or settings.SMS_BACKEND
    try:
        return BACKENDS[chosen]()
    except KeyError:
        raise ImproperlyConfigured(
            f"SMS_BACKEND={chosen!r} is unknown; choose one of {sorted(BACKENDS)}"
        ) from None


def send(message: OutgoingSms) -> SmsResult:
    return backend().send(message)
