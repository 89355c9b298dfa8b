"""Outbox dispatch throughput: pending domain events handed to two consumers.

Events are written in one transaction (the "emit" figure), then the dispatcher
hands each to both consumers, each call in its own savepoint with the merchant
bound, and marks the event dispatched. The consumers do no work of their own,
so the figure is the dispatcher's cost per event.
"""

from __future__ import annotations

from django.db import transaction

from harness import Result, median_seconds, rate
from siyu.core import events
from siyu.core.models import DomainEvent
from siyu.core.outbox import dispatch_pending
from siyu.core.testing import make_merchant

EVENTS = 2000
ROUNDS = 3
EVENT_TYPE = "bench.thing.happened"


def run() -> list[Result]:
    merchant = make_merchant(slug="bench-outbox", name="Bench Outbox")
    events.register_event_type(EVENT_TYPE, "Bench event")
    seen = {"a": 0, "b": 0}
    saved = dict(events.CONSUMERS)
    events.CONSUMERS.clear()  # only the two bench consumers, not the apps' own
    events.consumer("bench.a", event_types=[EVENT_TYPE])(
        lambda e: seen.__setitem__("a", seen["a"] + 1)
    )
    events.consumer("bench.b")(lambda e: seen.__setitem__("b", seen["b"] + 1))

    def emit() -> None:
        with transaction.atomic():
            for i in range(EVENTS):
                events.emit(merchant, EVENT_TYPE, {"n": i, "note": "bench"})

    def dispatch() -> None:
        report = dispatch_pending(batch_size=200, max_batches=EVENTS)
        assert report.dispatched == EVENTS, report
        assert report.failed == 0, report.errors[:3]

    try:
        emit_seconds = median_seconds(emit, rounds=ROUNDS, setup=_dispatch_leftovers)
        _dispatch_leftovers()
        seen.update(a=0, b=0)
        dispatch_seconds = median_seconds(dispatch, rounds=ROUNDS, setup=emit)
        assert seen == {"a": EVENTS * ROUNDS, "b": EVENTS * ROUNDS}, seen
    finally:
        events.CONSUMERS.clear()
        events.CONSUMERS.update(saved)
        events.EVENT_TYPES.pop(EVENT_TYPE, None)
    return [
        Result(
            "emit (outbox write, one transaction)",
            "events/s",
            rate(EVENTS, emit_seconds),
            EVENTS,
            f"median of {ROUNDS} rounds",
        ),
        Result(
            "dispatch to 2 consumers",
            "events/s",
            rate(EVENTS, dispatch_seconds),
            EVENTS,
            f"batches of 200, a savepoint per consumer call; median of {ROUNDS} rounds",
        ),
    ]


def _dispatch_leftovers() -> None:
    dispatch_pending(batch_size=500, max_batches=10_000)
    assert not DomainEvent.unscoped.filter(dispatched_at__isnull=True).exists()
