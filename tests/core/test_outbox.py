from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from siyu.core import events
from siyu.core.models import ConsumerFailure, DomainEvent
from siyu.core.outbox import MAX_CONSUMER_ATTEMPTS, dispatch_pending, retry_failures
from siyu.core.tenancy import bound_merchant


@pytest.fixture
def registry(monkeypatch):
    """An isolated registry of event types and consumers for one test."""
    monkeypatch.setattr(events, "CONSUMERS", {})
    monkeypatch.setattr("siyu.core.outbox.CONSUMERS", events.CONSUMERS)
    events.register_event_type("test.thing.happened", "Thing happened")
    yield events.CONSUMERS
    events.EVENT_TYPES.pop("test.thing.happened", None)


def _move_failures_due():
    """Pretend the backoff has passed for every failure still waiting for a retry."""
    ConsumerFailure.objects.filter(next_attempt_at__isnull=False).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_emit_requires_a_registered_type(merchant):
    with pytest.raises(KeyError):
        events.emit(merchant, "no.such.event", {})


def test_an_event_rolled_back_with_its_change_is_never_delivered(merchant, registry):
    seen = []
    events.consumer("collector")(lambda e: seen.append(e.pk))
    with pytest.raises(RuntimeError), transaction.atomic():
        events.emit(merchant, "test.thing.happened", {"n": 1})
        raise RuntimeError("the change failed")
    assert DomainEvent.unscoped.count() == 0
    dispatch_pending()
    assert seen == []


def test_every_consumer_sees_each_event_once_with_the_merchant_bound(merchant, registry):
    seen: list[tuple[str, int, int]] = []
    events.consumer("a")(lambda e: seen.append(("a", e.pk, bound_merchant().pk)))
    events.consumer("b", event_types=["other.type"])(lambda e: seen.append(("b", e.pk, 0)))
    first = events.emit(merchant, "test.thing.happened", {"n": 1})
    second = events.emit(merchant, "test.thing.happened", {"n": 2})
    report = dispatch_pending()
    assert report.dispatched == 2
    assert seen == [("a", first.pk, merchant.pk), ("a", second.pk, merchant.pk)]
    assert dispatch_pending().dispatched == 0  # nothing is delivered twice
    assert seen == [("a", first.pk, merchant.pk), ("a", second.pk, merchant.pk)]


def test_a_consumer_that_fails_once_gets_the_event_again_and_others_are_unaffected(
    merchant, registry
):
    calls = {"flaky": 0, "steady": 0}

    def flaky(event):
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            raise ConnectionError("downstream is down")

    def steady(event):
        calls["steady"] += 1

    events.consumer("flaky")(flaky)
    events.consumer("steady")(steady)
    event = events.emit(merchant, "test.thing.happened", {"n": 1})

    report = dispatch_pending()
    assert report.failed == 1
    assert calls == {"flaky": 1, "steady": 1}
    failure = ConsumerFailure.objects.get(consumer="flaky", event=event)
    assert "downstream is down" in failure.last_error
    assert failure.resolved_at is None

    assert retry_failures().retried == 0  # not yet due: backoff
    _move_failures_due()
    report = retry_failures()
    assert (report.retried, report.recovered) == (1, 1)
    assert calls == {"flaky": 2, "steady": 1}
    failure.refresh_from_db()
    assert failure.resolved_at is not None
    _move_failures_due()
    assert retry_failures().retried == 0


def test_a_consumer_that_keeps_failing_is_given_up_after_the_limit(merchant, registry):
    def broken(event):
        raise ValueError("bad data")

    events.consumer("broken")(broken)
    event = events.emit(merchant, "test.thing.happened", {})
    dispatch_pending()
    for _ in range(MAX_CONSUMER_ATTEMPTS + 2):
        _move_failures_due()
        retry_failures()
    failure = ConsumerFailure.objects.get(event=event)
    assert failure.attempts == MAX_CONSUMER_ATTEMPTS
    assert failure.gave_up_at is not None


def test_a_failing_consumer_leaves_no_partial_writes(merchant, registry):
    from siyu.core.models import AuditEntry

    def half_done(event):
        AuditEntry.objects.create(actor_label="consumer", action="half.done")
        raise RuntimeError("after the write")

    events.consumer("half")(half_done)
    events.emit(merchant, "test.thing.happened", {})
    dispatch_pending()
    assert not AuditEntry.unscoped.filter(action="half.done").exists()


@pytest.mark.django_db(transaction=True)
def test_the_dispatcher_is_woken_on_commit(registry):
    from siyu.core.testing import make_merchant

    merchant = make_merchant()
    seen = []
    events.consumer("collector")(lambda e: seen.append(e.payload["n"]))
    with transaction.atomic():
        events.emit(merchant, "test.thing.happened", {"n": 7})
        assert seen == []  # not before commit
    assert seen == [7]  # the immediate task backend ran the dispatcher on commit
