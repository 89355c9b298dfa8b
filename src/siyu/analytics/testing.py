"""Factories of analytics facts for tests and benchmarks: explicit merchant, small defaults.

Times may be given naive: they are then the merchant's local wall-clock time (what a test
about "just before midnight in Shanghai" means); the local ``day`` is derived the way the
fact writers derive it, from ``placed_at`` in the merchant's time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from siyu.analytics import rollups
from siyu.analytics.models import ActiveDay, GroupSpan, ReferralLink, Sale, Source
from siyu.analytics.reference import SaleRow
from siyu.core.models import Merchant
from siyu.core.testing import next_id


def local_time(merchant: Merchant, at: datetime) -> datetime:
    """``at`` as an aware time: a naive one is the merchant's local time."""
    if at.tzinfo is None:
        return at.replace(tzinfo=ZoneInfo(merchant.time_zone))
    return at


def make_sale(
    merchant: Merchant,
    customer_id: int,
    at: datetime,
    amount: int,
    refunded: int = 0,
    *,
    imported: bool = False,
    **attribution: Any,
) -> Sale:
    """A paid sale of ``amount`` fen (``refunded`` of it refunded), Siyu's unless
    ``imported`` (then keyed by an external id, as ``siyu import`` writes it)."""
    placed_at = local_time(merchant, at)
    key: dict[str, Any] = (
        {"source": Source.IMPORT, "external_id": f"ext-{next_id()}"}
        if imported
        else {"source": Source.SIYU, "order_id": next_id()}
    )
    with rollups.maintained(merchant, [customer_id]):
        return Sale.unscoped.create(
            merchant=merchant,
            customer_id=customer_id,
            placed_at=placed_at,
            day=placed_at.astimezone(ZoneInfo(merchant.time_zone)).date(),
            amount=amount,
            refunded=refunded,
            **key,
            **attribution,
        )


def refund_sale(sale: Sale, refunded: int) -> Sale:
    """Set what is refunded of ``sale`` (as a refund event rewrites it), rollups kept."""
    with rollups.maintained(sale.merchant, [sale.customer_id]):
        sale.refunded = refunded
        sale.save(update_fields=["refunded"])
    return sale


def make_active_day(
    merchant: Merchant, customer_id: int, day: date, kinds: int = ActiveDay.VISITED
) -> ActiveDay:
    with rollups.maintained(merchant, [customer_id], sales=False, activity=True):
        return ActiveDay.unscoped.create(
            merchant=merchant, customer_id=customer_id, day=day, kinds=kinds
        )


def make_span(
    merchant: Merchant,
    customer_id: int,
    group_id: int,
    joined_at: datetime,
    left_at: datetime | None = None,
    **fields: Any,
) -> GroupSpan:
    return GroupSpan.unscoped.create(
        merchant=merchant,
        customer_id=customer_id,
        group_id=group_id,
        joined_at=local_time(merchant, joined_at),
        left_at=local_time(merchant, left_at) if left_at else None,
        **fields,
    )


def make_link(
    merchant: Merchant,
    inviter_id: int,
    invitee_id: int,
    at: datetime,
    kind: str = "referral",
    activity_id: int | None = None,
) -> ReferralLink:
    return ReferralLink.unscoped.create(
        merchant=merchant,
        inviter_id=inviter_id,
        invitee_id=invitee_id,
        invited_at=local_time(merchant, at),
        kind=kind,
        activity_id=activity_id,
    )


def sale_rows(merchant: Merchant) -> list[SaleRow]:
    """Every sale of ``merchant`` as the reference calculators take them."""
    return [
        SaleRow(
            id=s.pk,
            customer_id=s.customer_id,
            placed_at=s.placed_at,
            day=s.day,
            amount=s.amount,
            refunded=s.refunded,
            store_id=s.store_id,
            group_id=s.group_id,
            guide_id=s.guide_id,
            distributor_id=s.distributor_id,
            campaign_id=s.campaign_id,
            live_room_id=s.live_room_id,
        )
        for s in Sale.unscoped.filter(merchant=merchant).order_by("id")
    ]
