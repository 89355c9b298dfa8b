"""Consent to marketing messages, per channel (shop messages, group posts, SMS, WeChat).

No row means the customer has not refused: existing customers may receive
marketing until they say no. A ``refused`` row is honoured everywhere a
marketing message goes out — senders exclude :func:`refused_customer_ids`
(a subquery) or ask :func:`refuses`. Service messages (order updates, login
codes) are not marketing and ignore consent.

:func:`set_consent` is the one writer: it changes the row, writes a timeline
entry, emits ``customers.consent.changed`` and, when staff act, an audit entry —
all in one transaction, and nothing at all when the answer does not change.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from siyu.core import audit, clock, events
from siyu.core.actors import Actor
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.tenancy import merchant_context
from siyu.customers import timeline
from siyu.customers.events import CONSENT_CHANGED
from siyu.customers.models import Consent, Customer, TimelineEntry

CHANNELS = tuple(Consent.Channel.values)
# What a customer switches in the shop ("Marketing messages"); WeChat follows its adapter.
STOREFRONT_CHANNELS = (Consent.Channel.INBOX, Consent.Channel.GROUP, Consent.Channel.SMS)


def _validate(channel: str, status: str, source: str) -> None:
    errors: dict[str, str] = {}
    if channel not in CHANNELS:
        errors["channel"] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(CHANNELS)}
    if status not in Consent.Status.values:
        errors["status"] = _("Choose granted or refused.")
    if not isinstance(source, str) or len(source) > 40:
        errors["source"] = _("At most %(n)d characters.") % {"n": 40}
    if errors:
        raise InvalidInput(_("The consent could not be saved."), fields=errors)


def set_consent(
    customer: Customer,
    channel: str,
    status: str,
    *,
    source: str,
    actor: Actor | str = "",
) -> Consent:
    """Record the customer's answer for ``channel`` (``granted`` or ``refused``).

    ``actor``: an :class:`Actor` when staff change it (audited), or a label
    ("customer", "import") when the customer or a process does. Idempotent: the
    same answer again changes nothing and writes nothing.
    """
    _validate(channel, status, source)
    label = actor.label if isinstance(actor, Actor) else actor
    with merchant_context(customer.merchant), transaction.atomic():
        locked = Customer.objects.select_for_update().filter(pk=customer.pk).first()
        if locked is None:
            raise NotFound(_("No such customer."))
        row = Consent.objects.filter(customer_id=customer.pk, channel=channel).first()
        before = row.status if row is not None else None
        if row is not None and row.status == status:
            return row
        now = clock.now()
        if row is None:
            row = Consent.objects.create(
                merchant_id=customer.merchant_id,
                customer_id=customer.pk,
                channel=channel,
                status=status,
                source=source,
                updated_at=now,
            )
        else:
            row.status, row.source, row.updated_at = status, source, now
            row.save(update_fields=["status", "source", "updated_at"])
        data = {"channel": channel, "status": status, "source": source}
        timeline.record(customer, TimelineEntry.Kind.CONSENT, data, actor=label, at=now)
        if isinstance(actor, Actor):
            audit.record(
                actor,
                "customer.consent",
                customer,
                before={"channel": channel, "status": before},
                after={"channel": channel, "status": status},
            )
        events.emit(
            customer.merchant,
            CONSENT_CHANGED,
            {"customer_id": customer.pk, **data, "previous": before},
            aggregate=customer,
        )
        return row


def refuses(customer: Customer | int, channel: str) -> bool:
    """Whether the customer refused marketing on ``channel`` (bound merchant)."""
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    return Consent.objects.filter(
        customer_id=customer_id, channel=channel, status=Consent.Status.REFUSED
    ).exists()


def refused_customer_ids(channel: str) -> QuerySet[Consent, Any]:
    """``.values("customer_id")`` of the customers refusing ``channel``: use as a subquery,
    e.g. ``customers.exclude(pk__in=refused_customer_ids("inbox"))``."""
    return Consent.objects.filter(channel=channel, status=Consent.Status.REFUSED).values(
        "customer_id"
    )


def consents_of(customer: Customer) -> dict[str, str]:
    """``{channel: status}`` for every channel (``granted`` where no answer was recorded)."""
    answers = dict(Consent.objects.filter(customer_id=customer.pk).values_list("channel", "status"))
    return {channel: answers.get(channel, Consent.Status.GRANTED) for channel in CHANNELS}


def set_marketing(
    customer: Customer, allowed: bool, *, source: str, actor: Actor | str = ""
) -> list[Consent]:
    """Refuse (or allow again) every marketing channel at once (imports, "unsubscribe all")."""
    status = Consent.Status.GRANTED if allowed else Consent.Status.REFUSED
    with transaction.atomic():
        return [
            set_consent(customer, channel, status, source=source, actor=actor)
            for channel in CHANNELS
        ]
