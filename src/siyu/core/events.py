"""Domain events: what happened, written to the outbox in the changing transaction.

A service calls :func:`emit` inside its transaction. The row commits or rolls
back with the change; after commit the dispatcher is woken and hands the
event to every registered consumer (webhooks today; commission, points,
journeys and analytics later). Consumers are idempotent: an event may reach
a consumer again after a crash, never zero times.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import models, transaction
from django.utils.functional import Promise

from siyu.core import inserts
from siyu.core.audit import json_safe
from siyu.core.models import DomainEvent, Merchant

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventType:
    name: str
    label: str | Promise
    description: str | Promise = ""


@dataclass(frozen=True)
class Consumer:
    name: str
    handler: Callable[[DomainEvent], None]
    event_types: frozenset[str] | None  # None: every event

    def wants(self, event_type: str) -> bool:
        return self.event_types is None or event_type in self.event_types


EVENT_TYPES: dict[str, EventType] = {}
CONSUMERS: dict[str, Consumer] = {}


def register_event_type(name: str, label: str | Promise, description: str | Promise = "") -> None:
    EVENT_TYPES[name] = EventType(name, label, description)


def consumer(
    name: str, *, event_types: Iterable[str] | None = None
) -> Callable[[Callable[[DomainEvent], None]], Callable[[DomainEvent], None]]:
    """Register ``handler`` to receive events (all of them, or the listed types)."""

    def decorate(handler: Callable[[DomainEvent], None]) -> Callable[[DomainEvent], None]:
        CONSUMERS[name] = Consumer(
            name, handler, frozenset(event_types) if event_types is not None else None
        )
        return handler

    return decorate


def emit(
    merchant: Merchant,
    event_type: str,
    payload: Mapping[str, Any],
    *,
    aggregate: models.Model | None = None,
) -> DomainEvent:
    """Write an event to the outbox in the current transaction; wake the dispatcher on commit."""
    if event_type not in EVENT_TYPES:
        raise KeyError(f"unregistered event type {event_type!r}")
    event = DomainEvent(
        merchant=merchant,
        event_type=event_type,
        aggregate_type=aggregate._meta.label_lower if aggregate is not None else "",
        aggregate_id=str(aggregate.pk) if aggregate is not None else "",
        payload=json_safe(dict(payload)),
    )
    inserts.insert([event])  # the ORM's create() costs more CPU than the round trip
    if not _wake_pending():
        transaction.on_commit(wake_dispatcher)
    return event


def _wake_pending() -> bool:
    """Whether this transaction already wakes the dispatcher on commit, and that wake can
    only be undone by a rollback that undoes this event too (one wake per transaction)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return False
    active = set(connection.savepoint_ids)
    return any(
        hook is wake_dispatcher and savepoints <= active
        for savepoints, hook, *_ in connection.run_on_commit
    )


WAKE_KEY = "siyu:outbox:wake"


def wake_dispatcher() -> None:
    """Enqueue one dispatch task, at most about once a second per process cache."""
    from siyu.core.tasks import dispatch_events

    if cache.add(WAKE_KEY, 1, timeout=1):
        try:
            dispatch_events.enqueue()
        except Exception:  # the scheduler's sweep picks the event up anyway
            logger.exception("could not enqueue the outbox dispatcher")


def envelope(event: DomainEvent, merchant_slug: str) -> dict[str, Any]:
    """The event as integrators see it (webhook body, API)."""
    return {
        "id": event.pk,
        "type": event.event_type,
        "merchant": merchant_slug,
        "occurred_at": event.occurred_at.isoformat(),
        "aggregate": {"type": event.aggregate_type, "id": event.aggregate_id}
        if event.aggregate_type
        else None,
        "data": event.payload,
    }
