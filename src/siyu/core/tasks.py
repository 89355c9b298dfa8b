"""Background tasks of the core (django.tasks)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.tasks import task

from siyu.core import clock
from siyu.core.models import IdempotencyRecord


@task(queue_name="events")
def dispatch_events() -> dict[str, int]:
    """Hand pending outbox events to their consumers and retry failed ones."""
    from siyu.core.outbox import dispatch_pending

    report = dispatch_pending()
    return {
        "dispatched": report.dispatched,
        "failed": report.failed,
        "retried": report.retried,
        "recovered": report.recovered,
    }


@task()
def prune_idempotency_records() -> int:
    """Forget stored answers older than the idempotency window."""
    cutoff = clock.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.unscoped.filter(created_at__lt=cutoff).delete()
    return deleted
