"""Reads of the CRM shared by the console pages and the staff API (bound merchant).

A shopping guide sees only the customers they own (``Customer.owner_guide`` is
their membership): :func:`visible_customers` narrows every list, and
:func:`customer_for` answers ``NotFound`` (404) for anyone else's customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from siyu.core.actors import Actor
from siyu.core.errors import NotFound
from siyu.core.models import Membership
from siyu.core.permissions import Role
from siyu.customers import consent, phones, timeline
from siyu.customers.models import (
    Consent,
    Customer,
    CustomerIdentity,
    CustomerImport,
    CustomerNote,
    CustomerTag,
    TimelineEntry,
)

HAS_ORDERED = {"yes": True, "no": False}


def visible_customers(actor: Actor) -> QuerySet[Customer]:
    """Every customer, or for a shopping guide the ones they own."""
    rows = Customer.objects.all()
    if actor.role == Role.SHOPPING_GUIDE:
        if actor.membership is None:
            return rows.none()
        rows = rows.filter(owner_guide_id=actor.membership.pk)
    return rows


def customers_for(
    actor: Actor,
    *,
    q: str = "",
    status: str = "",
    join_channel: str = "",
    home_store: int | None = None,
    owner_guide: int | None = None,
    has_ordered: bool | None = None,
    refused: str = "",
) -> QuerySet[Customer]:
    """The customers ``actor`` may see, newest first, filtered.

    ``refused``: a consent channel, or ``any`` — customers who refused it (any channel)."""
    rows = visible_customers(actor)
    text = q.strip()
    if text:
        digits = phones.digits_for_search(text)
        rows = rows.filter(phone__contains=digits) if digits else rows.filter(name__icontains=text)
    if status:
        rows = rows.filter(status=status)
    if join_channel:
        rows = rows.filter(join_channel=join_channel)
    if home_store is not None:
        rows = rows.filter(home_store_id=home_store)
    if owner_guide is not None:
        rows = rows.filter(owner_guide_id=owner_guide)
    if has_ordered is True:
        rows = rows.filter(order_count__gt=0)
    elif has_ordered is False:
        rows = rows.filter(order_count=0)
    if refused == "any":
        rows = rows.filter(
            pk__in=Consent.objects.filter(status=Consent.Status.REFUSED).values("customer_id")
        )
    elif refused:
        rows = rows.filter(pk__in=consent.refused_customer_ids(refused))
    return rows.select_related("home_store", "owner_guide__user").order_by("-created_at", "-id")


def customer_for(actor: Actor, pk: int) -> Customer:
    row = visible_customers(actor).filter(pk=pk).select_related("home_store").first()
    if row is None:
        raise NotFound(_("No such customer."))
    return row


def store_choices() -> list[tuple[int, str]]:
    from siyu.stores.models import Store

    return [
        (pk, f"{name} ({code})")
        for pk, name, code in Store.objects.order_by("name", "pk").values_list("pk", "name", "code")
    ]


def guide_choices(merchant_id: int) -> list[tuple[int, str]]:
    """Staff who own customers or hold the shopping-guide role, by name."""
    rows = (
        Membership.objects.filter(merchant_id=merchant_id, is_active=True)
        .filter(Q(role=Role.SHOPPING_GUIDE) | Q(owned_customers__isnull=False))
        .select_related("user")
        .distinct()
    )
    return sorted(((m.pk, guide_label(m)) for m in rows), key=lambda pair: pair[1])


def guide_label(membership: Membership | None) -> str:
    if membership is None:
        return ""
    user = membership.user
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()


# --- detail page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineLine:
    kind: str
    label: str
    text: str
    actor: str
    occurred_at: datetime


def timeline_entries(customer: Customer) -> QuerySet[TimelineEntry]:
    return TimelineEntry.objects.filter(customer_id=customer.pk).order_by("-occurred_at", "-id")


def timeline_lines(entries: Any) -> list[TimelineLine]:
    """Entries as translated one-line descriptions (active language)."""
    labels = dict(TimelineEntry.Kind.choices)
    return [
        TimelineLine(
            kind=e.kind,
            label=str(labels.get(e.kind, e.kind)),
            text=timeline.describe(e.kind, e.data),
            actor=e.actor,
            occurred_at=e.occurred_at,
        )
        for e in entries
    ]


def identities(customer: Customer) -> QuerySet[CustomerIdentity]:
    return CustomerIdentity.objects.filter(customer_id=customer.pk).order_by("kind", "id")


def notes(customer: Customer) -> QuerySet[CustomerNote]:
    return CustomerNote.objects.filter(customer_id=customer.pk).order_by("-created_at", "-id")


def consent_rows(customer: Customer) -> list[dict[str, Any]]:
    """Every channel with its answer: ``{"channel", "label", "refused", "updated_at", "source"}``."""
    stored = {c.channel: c for c in Consent.objects.filter(customer_id=customer.pk)}
    result = []
    for channel, label in Consent.Channel.choices:
        row = stored.get(channel)
        result.append(
            {
                "channel": channel,
                "label": str(label),
                "refused": row is not None and row.status == Consent.Status.REFUSED,
                "updated_at": row.updated_at if row else None,
                "source": row.source if row else "",
            }
        )
    return result


def customer_tags(customer: Customer) -> QuerySet[CustomerTag]:
    return (
        CustomerTag.objects.filter(customer_id=customer.pk)
        .select_related("tag", "tag__group")
        .order_by("tag__group__position", "tag__group_id", "tag__name")
    )


def groups_of(customer: Customer) -> list[Any]:
    """The customer's group memberships (current first), from the community app's rows."""
    from siyu.community.models import GroupMember

    return list(
        GroupMember.objects.filter(customer_id=customer.pk)
        .select_related("group")
        .order_by("left_at", "-joined_at")[:50]
    )


def ownership_history(customer: Customer) -> list[Any]:
    """Changes of the customer's guide, newest first (the guides app's rows)."""
    from siyu.guides.models import OwnershipChange

    return list(
        OwnershipChange.objects.filter(customer_id=customer.pk)
        .select_related("from_guide__user", "to_guide__user")
        .order_by("-changed_at", "-id")[:50]
    )


def imports() -> QuerySet[CustomerImport]:
    return CustomerImport.objects.defer("content").order_by("-created_at", "-id")
