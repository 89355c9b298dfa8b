"""Reads of marketing that pages and the API share: broadcasts, their delivery log and funnel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from siyu.core.errors import NotFound
from siyu.marketing.models import Broadcast, Delivery
from siyu.marketing.policy import REASONS


def broadcasts(*, status: str = "") -> QuerySet[Broadcast]:
    rows = Broadcast.objects.select_related("tag", "segment")
    return rows.filter(status=status) if status else rows


def broadcast(pk: int) -> Broadcast:
    row = Broadcast.objects.select_related("tag", "segment").filter(pk=pk).first()
    if row is None:
        raise NotFound(_("There is no such message."))
    return row


def read_exists() -> Exists:
    """Whether the delivery's customer has read the broadcast's message: their read mark in a
    conversation holding it (their inbox, or the group) is at or past the message. Driven from
    the customer's few read marks, then the conversation's messages by id."""
    from siyu.community.models import ReadState

    return Exists(
        ReadState.objects.filter(
            customer_id=OuterRef("customer_id"),
            conversation__messages__broadcast_id=OuterRef("broadcast_id"),
            conversation__messages__id__lte=F("last_read_message_id"),
        )
    )


def deliveries(row: Broadcast, *, status: str = "", reason: str = "") -> QuerySet[Delivery]:
    """The delivery log of ``row`` (customers with it), each with ``was_read``."""
    rows = (
        Delivery.objects.filter(broadcast=row)
        .select_related("customer")
        .annotate(was_read=read_exists())
        .order_by("customer_id")
    )
    if status:
        rows = rows.filter(status=status)
    if reason:
        rows = rows.filter(skip_reason=reason)
    return rows


@dataclass(frozen=True)
class Funnel:
    targeted: int
    sent: int
    skipped: int
    read: int
    clicked: int
    ordered: int
    reasons: dict[str, int]

    def steps(self) -> list[tuple[str, str, int]]:
        return [
            ("targeted", pgettext("funnel", "Targeted"), self.targeted),
            ("sent", pgettext("funnel", "Sent"), self.sent),
            ("read", pgettext("funnel", "Read"), self.read),
            ("clicked", pgettext("funnel", "Clicked"), self.clicked),
            ("ordered", pgettext("funnel", "Ordered"), self.ordered),
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "targeted": self.targeted,
            "sent": self.sent,
            "skipped": self.skipped,
            "read": self.read,
            "clicked": self.clicked,
            "ordered": self.ordered,
            "reasons": self.reasons,
        }


def funnel(row: Broadcast) -> Funnel:
    """Targeted, sent, skipped by reason, read, clicked and ordered: one aggregate query."""
    sent = Q(status=Delivery.Status.SENT)
    counts = Delivery.objects.filter(broadcast=row).aggregate(
        targeted=Count("id"),
        sent=Count("id", filter=sent),
        read=Count("id", filter=sent & Q(read_exists())),
        clicked=Count("id", filter=Q(clicked_at__isnull=False)),
        ordered=Count("id", filter=Q(order_id__isnull=False)),
        **{
            f"r_{reason}": Count("id", filter=Q(status=Delivery.Status.SKIPPED, skip_reason=reason))
            for reason in REASONS
        },
    )
    reasons = {reason: counts[f"r_{reason}"] for reason in REASONS}
    return Funnel(
        targeted=counts["targeted"],
        sent=counts["sent"],
        skipped=sum(reasons.values()),
        read=counts["read"],
        clicked=counts["clicked"],
        ordered=counts["ordered"],
        reasons=reasons,
    )


def reach_label(row: Broadcast) -> str:
    """The audience in words: "3 groups", "Tag: VIP", "Segment: Lapsed"."""
    if row.audience == Broadcast.Audience.GROUPS:
        n = len(row.group_ids)
        return _("%(n)d groups") % {"n": n} if n != 1 else _("1 group")
    if row.audience == Broadcast.Audience.TAG:
        return _("Tag: %(name)s") % {"name": row.tag.name if row.tag else "—"}
    return _("Segment: %(name)s") % {"name": row.segment.name if row.segment else "—"}


def audience_count(values: dict[str, Any]) -> int | None:
    """How many customers an audience choice reaches now (None when the choice is incomplete)."""
    from siyu.marketing.engine import audience

    probe = Broadcast(
        audience=values.get("audience") or "",
        group_ids=values.get("group_ids") or [],
        tag_id=values.get("tag_id"),
        segment_id=values.get("segment_id"),
    )
    if probe.audience == Broadcast.Audience.GROUPS and not probe.group_ids:
        return None
    if probe.audience == Broadcast.Audience.TAG and not probe.tag_id:
        return None
    if probe.audience == Broadcast.Audience.SEGMENT:
        from siyu.customers.models import Segment

        segment = Segment.objects.filter(pk=probe.segment_id).first() if probe.segment_id else None
        if segment is None:
            return None
        probe.segment = segment
    elif probe.audience not in Broadcast.Audience.values:
        return None
    return audience(probe).count()
