"""Reads of customers shared by the console pages, the staff API and the storefront.

All scoped to the bound merchant.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from siyu.core.errors import NotFound
from siyu.customers import phones
from siyu.customers.models import Customer, CustomerAddress, SmsMessage

RECENT_ORDERS = 10

# Join channels Siyu knows by name; later capabilities (join codes, guides, groups) set them.
JOIN_CHANNEL_LABELS: dict[str, str | Promise] = {
    "storefront": _("Shop (first login)"),
    "store_qr": _("Store QR code"),
    "guide": _("Shopping guide"),
    "group": _("Community group"),
    "import": _("Imported"),
}


def join_channel_label(channel: str) -> str:
    if not channel:
        return str(_("Unknown"))
    return str(JOIN_CHANNEL_LABELS.get(channel, channel))


def customers(q: str = "", status: str = "", join_channel: str = "") -> QuerySet[Customer]:
    """Customers newest first, found by phone digits or name, filtered by status and channel."""
    rows = Customer.objects.all()
    text = q.strip()
    if text:
        digits = phones.digits_for_search(text)
        rows = rows.filter(phone__contains=digits) if digits else rows.filter(name__icontains=text)
    if status:
        rows = rows.filter(status=status)
    if join_channel:
        rows = rows.filter(join_channel=join_channel)
    return rows.order_by("-created_at", "-id")


def join_channels() -> list[tuple[str, str]]:
    """``(value, label)`` of the join channels the merchant's customers have (for filters)."""
    used = set(Customer.objects.exclude(join_channel="").values_list("join_channel", flat=True))
    return sorted(((c, join_channel_label(c)) for c in used), key=lambda pair: pair[1])


def customer(pk: int) -> Customer:
    row = Customer.objects.filter(pk=pk).first()
    if row is None:
        raise NotFound(_("No such customer."))
    return row


def addresses(customer: Customer) -> QuerySet[CustomerAddress]:
    """The customer's addresses, the default first, then the most recently changed."""
    return CustomerAddress.objects.filter(customer_id=customer.pk).order_by(
        "-is_default", "-updated_at", "-id"
    )


def address_of(customer: Customer, address_id: int) -> CustomerAddress:
    """One of the customer's addresses (``NotFound`` for anyone else's, or another merchant's)."""
    row = CustomerAddress.objects.filter(pk=address_id, customer_id=customer.pk).first()
    if row is None:
        raise NotFound(_("No such address."))
    return row


def default_address(customer: Customer) -> CustomerAddress | None:
    return addresses(customer).filter(is_default=True).first()


def recent_orders(customer: Customer, limit: int = RECENT_ORDERS) -> list[Any]:
    """The customer's newest orders (the orders app's rows, read through its model)."""
    from siyu.orders.models import Order

    return list(Order.objects.filter(customer_id=customer.pk).order_by("-placed_at", "-id")[:limit])


def order_count(customer: Customer) -> int:
    from siyu.orders.models import Order

    return Order.objects.filter(customer_id=customer.pk).count()


def sms_messages(q: str = "") -> QuerySet[SmsMessage]:
    """The SMS outbox, newest first (``q``: digits of the phone number)."""
    rows = SmsMessage.objects.all()
    digits = phones.digits_for_search(q)
    if digits:
        rows = rows.filter(to__contains=digits)
    return rows.order_by("-created_at", "-id")


def sms_message(pk: int) -> SmsMessage:
    row = SmsMessage.objects.filter(pk=pk).first()
    if row is None:
        raise NotFound(_("No such message."))
    return row


def latest_login_sms(phone: str) -> SmsMessage | None:
    """The newest login code text sent to ``phone`` (E.164), for the demo's "read your code"."""
    if not phone:
        return None
    return (
        SmsMessage.objects.filter(to=phone, purpose=SmsMessage.Purpose.LOGIN)
        .order_by("-created_at", "-id")
        .first()
    )
