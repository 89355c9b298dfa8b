"""Factories for marketing tests and benchmarks: audiences made in bulk, broadcasts made by the
services."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.core.testing import next_id
from siyu.marketing import services
from siyu.marketing.models import Broadcast, Delivery


def make_customers(merchant: Merchant, n: int, **fields: Any) -> list[int]:
    """``n`` customers written in bulk (no events): their ids, ascending."""
    from siyu.customers.models import Customer

    start = next_id() * 1_000_000
    rows = [
        Customer(merchant=merchant, phone=f"+86{start + i:011d}"[:15], **fields) for i in range(n)
    ]
    Customer.unscoped.bulk_create(rows, batch_size=5000)
    return list(
        Customer.unscoped.filter(merchant=merchant, phone__in=[r.phone for r in rows])
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def make_group_with(merchant: Merchant, customer_ids: Sequence[int], **fields: Any) -> Any:
    """An active community group whose members are ``customer_ids`` (rows written in bulk)."""
    from siyu.community.models import CommunityGroup, GroupMember

    group = CommunityGroup.unscoped.create(
        merchant=merchant,
        name=fields.pop("name", f"Group {next_id()}"),
        capacity=500,
        member_count=min(len(customer_ids), 500),
        **fields,
    )
    now = clock.now()
    GroupMember.unscoped.bulk_create(
        [
            GroupMember(merchant=merchant, group=group, customer_id=c, joined_at=now)
            for c in customer_ids
        ],
        batch_size=5000,
    )
    return group


def refuse(merchant: Merchant, customer_ids: Sequence[int], channel: str = "inbox") -> None:
    from siyu.customers.models import Consent

    Consent.unscoped.bulk_create(
        [
            Consent(
                merchant=merchant,
                customer_id=c,
                channel=channel,
                status=Consent.Status.REFUSED,
                updated_at=clock.now(),
            )
            for c in customer_ids
        ]
    )


def past_deliveries(
    merchant: Merchant, customer_ids: Sequence[int], *, at: datetime, is_marketing: bool = True
) -> Broadcast:
    """A sent broadcast whose delivery log says each customer received it ``at``."""
    broadcast = Broadcast.unscoped.create(
        merchant=merchant,
        name=f"Earlier {next_id()}",
        text="earlier",
        audience=Broadcast.Audience.TAG,
        delivery=Broadcast.Delivery.INBOX,
        status=Broadcast.Status.SENT,
        is_marketing=is_marketing,
    )
    Delivery.unscoped.bulk_create(
        [
            Delivery(
                merchant=merchant,
                broadcast=broadcast,
                customer_id=c,
                status=Delivery.Status.SENT,
                is_marketing=is_marketing,
                sent_at=at,
            )
            for c in customer_ids
        ]
    )
    return broadcast


def make_broadcast(merchant: Merchant, **values: Any) -> Broadcast:
    """A draft (or scheduled) broadcast made by :func:`services.create_broadcast`."""
    data: dict[str, Any] = {
        "name": f"Message {next_id()}",
        "text": "New autumn latte, 20% off today",
        "delivery": Broadcast.Delivery.INBOX,
    }
    data.update(values)
    with merchant_context(merchant):
        return services.create_broadcast(Actor.system(merchant), data)
