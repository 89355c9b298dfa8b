"""The outbox dispatcher: hands pending domain events to every consumer.

Each event is handled in the dispatcher's transaction, each consumer in its
own savepoint. A consumer that raises does not stop the others: its failure
is recorded and retried with backoff (:func:`retry_failures`) until it
succeeds, while the event itself is marked dispatched. Several dispatchers may
run at once; on PostgreSQL they split the pending events with
``SELECT … FOR UPDATE SKIP LOCKED``, on SQLite the write lock serialises them.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction

from siyu.core import clock
from siyu.core.backoff import backoff_seconds
from siyu.core.events import CONSUMERS, Consumer
from siyu.core.models import ConsumerFailure, DomainEvent
from siyu.core.tenancy import merchant_context

logger = logging.getLogger(__name__)

MAX_CONSUMER_ATTEMPTS = 12  # about a day and a half of backoff before giving up


@dataclass
class DispatchReport:
    dispatched: int = 0
    failed: int = 0
    retried: int = 0
    recovered: int = 0
    gave_up: int = 0
    errors: list[str] = field(default_factory=list)


def _call(consumer: Consumer, event: DomainEvent) -> str | None:
    """Run one consumer on one event in a savepoint; the error text if it raised."""
    try:
        with transaction.atomic(), merchant_context(event.merchant):
            consumer.handler(event)
    except Exception as exc:
        logger.warning("consumer %s failed on event %s: %s", consumer.name, event.pk, exc)
        return "".join(traceback.format_exception_only(exc)).strip()[:2000]
    return None


def _locked_pending(batch_size: int) -> list[DomainEvent]:
    qs = DomainEvent.unscoped.filter(dispatched_at__isnull=True).order_by("id")
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return list(qs.select_related("merchant")[:batch_size])


def dispatch_pending(*, batch_size: int = 200, max_batches: int = 50) -> DispatchReport:
    """Dispatch pending events in batches until none are left (or ``max_batches``)."""
    report = DispatchReport()
    for _ in range(max_batches):
        with transaction.atomic():
            events = _locked_pending(batch_size)
            if not events:
                break
            now = clock.now()
            for event in events:
                for consumer in CONSUMERS.values():
                    if not consumer.wants(event.event_type):
                        continue
                    error = _call(consumer, event)
                    if error is not None:
                        report.failed += 1
                        report.errors.append(f"{consumer.name}#{event.pk}: {error}")
                        ConsumerFailure.objects.update_or_create(
                            consumer=consumer.name,
                            event=event,
                            defaults={
                                "attempts": 1,
                                "last_error": error,
                                "next_attempt_at": now + timedelta(seconds=backoff_seconds(1)),
                            },
                        )
                report.dispatched += 1
            # one UPDATE per batch: the rows are locked by us until this commit
            DomainEvent.unscoped.filter(pk__in=[e.pk for e in events]).update(dispatched_at=now)
        if len(events) < batch_size:
            break
    report.retried, report.recovered, report.gave_up = _retry_due(report)
    return report


def _retry_due(report: DispatchReport, *, limit: int = 200) -> tuple[int, int, int]:
    retried = recovered = gave_up = 0
    with transaction.atomic():
        now = clock.now()
        qs = ConsumerFailure.objects.filter(
            resolved_at__isnull=True, gave_up_at__isnull=True, next_attempt_at__lte=now
        ).order_by("next_attempt_at")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        for failure in qs.select_related("event", "event__merchant")[:limit]:
            consumer = CONSUMERS.get(failure.consumer)
            retried += 1
            if consumer is None:
                failure.gave_up_at = now
                failure.last_error = "consumer no longer registered"
                failure.save(update_fields=["gave_up_at", "last_error"])
                gave_up += 1
                continue
            error = _call(consumer, failure.event)
            if error is None:
                failure.resolved_at = now
                failure.next_attempt_at = None
                failure.save(update_fields=["resolved_at", "next_attempt_at"])
                recovered += 1
                continue
            failure.attempts += 1
            failure.last_error = error
            if failure.attempts >= MAX_CONSUMER_ATTEMPTS:
                failure.gave_up_at = now
                failure.next_attempt_at = None
                gave_up += 1
                logger.error("consumer %s gave up on event %s", consumer.name, failure.event_id)
            else:
                failure.next_attempt_at = now + timedelta(seconds=backoff_seconds(failure.attempts))
            failure.save(update_fields=["attempts", "last_error", "gave_up_at", "next_attempt_at"])
            report.errors.append(f"{consumer.name}#{failure.event_id}: {error}")
    return retried, recovered, gave_up


def retry_failures() -> DispatchReport:
    report = DispatchReport()
    report.retried, report.recovered, report.gave_up = _retry_due(report)
    return report
