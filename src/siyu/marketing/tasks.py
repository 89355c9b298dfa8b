"""Background work of marketing (django.tasks): sending a broadcast, and the due ones."""

from __future__ import annotations

from django.tasks import task

from siyu.core import clock
from siyu.marketing.models import Broadcast


@task()
def send_broadcast_task(merchant_id: int, broadcast_id: int) -> str:
    """Send one broadcast (a no-op when another worker already did)."""
    from siyu.marketing.engine import send_broadcast

    row = Broadcast.unscoped.filter(pk=broadcast_id, merchant_id=merchant_id).first()
    if row is None:
        return "missing"
    return str(send_broadcast(row).status)


def due_broadcast_ids() -> list[int]:
    return list(
        Broadcast.unscoped.filter(status=Broadcast.Status.SCHEDULED, scheduled_at__lte=clock.now())
        .order_by("scheduled_at", "pk")
        .values_list("pk", flat=True)[:100]
    )


@task()
def send_due() -> int:
    """Every minute: send the scheduled broadcasts whose time has come (each exactly once)."""
    from siyu.marketing.engine import send_broadcast

    sent = 0
    for pk in due_broadcast_ids():
        if send_broadcast(pk).status == Broadcast.Status.SENT:
            sent += 1
    return sent
