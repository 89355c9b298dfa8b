"""From a domain event to a signed POST on a real local HTTP server, and what happens on failure."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from siyu.core import events
from siyu.core.models import AuditEntry, DomainEvent
from siyu.core.outbox import dispatch_pending
from siyu.core.tenancy import merchant_context
from siyu.webhooks import delivery as sending
from siyu.webhooks import signing, targets
from siyu.webhooks.consumers import deliver_event
from siyu.webhooks.events import ENDPOINT_DISABLED
from siyu.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from siyu.webhooks.tasks import sweep
from siyu.webhooks.testing import Reply, endpoint_for, make_endpoint

from .conftest import ORDER_PAID, ORDER_REFUNDED, make_due

pytestmark = pytest.mark.usefixtures("test_events")

Status = WebhookDelivery.Status
Error = WebhookAttempt.Error


def emit_and_dispatch(merchant, capture, event_type=ORDER_PAID, payload=None):
    """Emit an event, commit, and let the dispatcher and the first attempts run."""
    with capture(execute=True):
        event = events.emit(merchant, event_type, payload or {"order": "SO-1", "total": 9900})
    # the wake-up is rate-limited to about once a second: dispatch what is left explicitly
    with capture(execute=True):
        dispatch_pending()
    return event


def deliveries_of(endpoint):
    return list(WebhookDelivery.unscoped.filter(endpoint=endpoint).order_by("id"))


def attempts_of(delivery):
    return list(WebhookAttempt.unscoped.filter(delivery=delivery).order_by("number", "id"))


def test_event_is_delivered_signed_with_the_envelope_as_body(
    merchant, receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver, merchant, event_types=[ORDER_PAID])
    event = emit_and_dispatch(merchant, django_capture_on_commit_callbacks)

    assert len(receiver.received) == 1
    request = receiver.received[0]
    assert request.path == "/hook"
    assert receiver.verified(request)
    assert not receiver.verified(request, secret="whsec_wrong")
    assert request.header("Content-Type") == "application/json"
    assert request.header("User-Agent") == "Siyu-Webhooks/1"
    assert request.header("Siyu-Event") == ORDER_PAID
    body = json.loads(request.body)
    assert body == {
        "id": event.pk,
        "type": ORDER_PAID,
        "merchant": "lucky-coffee",
        "occurred_at": event.occurred_at.isoformat(),
        "aggregate": None,
        "data": {"order": "SO-1", "total": 9900},
    }
    [delivery] = deliveries_of(endpoint)
    assert request.header("Siyu-Delivery") == str(delivery.pk)
    assert request.body == delivery.body.encode()  # the stored bytes are what was sent
    assert (delivery.status, delivery.attempts, delivery.last_response_status) == (
        Status.SUCCEEDED,
        1,
        200,
    )
    assert delivery.finished_at is not None
    [attempt] = attempts_of(delivery)
    assert attempt.response_status == 200
    assert attempt.response_body == "ok"
    assert attempt.request_headers["Siyu-Signature"] == request.header("Siyu-Signature")
    assert attempt.error_code == ""


def test_only_active_subscribed_endpoints_of_the_merchant_receive_the_event(
    merchant, other_merchant, receiver_factory, django_capture_on_commit_callbacks
):
    everything = receiver_factory()
    paid_only = receiver_factory()
    refunds_only = receiver_factory()
    inactive = receiver_factory()
    theirs = receiver_factory()
    endpoint_for(everything, merchant, event_types=["*"])
    endpoint_for(paid_only, merchant, event_types=[ORDER_PAID])
    endpoint_for(refunds_only, merchant, event_types=[ORDER_REFUNDED])
    endpoint_for(inactive, merchant, event_types=["*"], is_active=False)
    endpoint_for(theirs, other_merchant, event_types=["*"])

    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)

    assert [len(r.received) for r in (everything, paid_only, refunds_only, inactive, theirs)] == [
        1,
        1,
        0,
        0,
        0,
    ]


def test_the_consumer_is_idempotent(merchant, receiver, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(receiver, merchant)
    event = emit_and_dispatch(merchant, django_capture_on_commit_callbacks)
    assert len(deliveries_of(endpoint)) == 1

    # the outbox hands the same event over again (a retry after a crash)
    with django_capture_on_commit_callbacks(execute=True), merchant_context(merchant):
        deliver_event(event)
    DomainEvent.unscoped.filter(pk=event.pk).update(dispatched_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_pending()

    assert len(deliveries_of(endpoint)) == 1
    assert len(receiver.received) == 1


def test_500_twice_then_200_retries_with_growing_backoff(
    merchant, receiver_factory, django_capture_on_commit_callbacks
):
    receiver = receiver_factory([Reply(500, b"oops"), Reply(503, b"busy"), Reply(200, b"ok")])
    endpoint = endpoint_for(receiver, merchant)
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)

    [delivery] = deliveries_of(endpoint)
    assert (delivery.status, delivery.attempts, delivery.last_response_status) == (
        Status.PENDING,
        1,
        500,
    )
    assert sweep.call() == {"recovered": 0, "claimed": 0}  # not due yet: backoff
    first_wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=20) < first_wait <= timedelta(seconds=36)

    make_due(delivery)
    sweep.call()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_status) == (
        Status.PENDING,
        2,
        503,
    )
    make_due(delivery)
    sweep.call()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_status) == (
        Status.SUCCEEDED,
        3,
        200,
    )

    first, second, third = attempts_of(delivery)
    assert [a.response_status for a in (first, second, third)] == [500, 503, 200]
    assert [a.error_code for a in (first, second, third)] == [Error.HTTP_STATUS] * 2 + [""]
    assert first.response_body == "oops"
    assert first.retry_in_seconds < second.retry_in_seconds  # 30 s ±20 %, then 60 s ±20 %
    assert third.retry_in_seconds is None
    # three requests, identical bytes, each with its own valid signature
    assert len(receiver.received) == 3
    assert len({r.body for r in receiver.received}) == 1
    assert all(receiver.verified(r) for r in receiver.received)
    assert [r.header("Siyu-Attempt") for r in receiver.received] == ["1", "2", "3"]
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_a_receiver_that_always_fails_gets_max_attempts_then_the_delivery_fails(
    merchant, receiver_factory, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 5
    receiver = receiver_factory([Reply(500)])
    endpoint = endpoint_for(receiver, merchant)
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)
    [delivery] = deliveries_of(endpoint)

    for _ in range(10):
        make_due(delivery)
        sweep.call()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 5)
    assert delivery.next_attempt_at is None
    assert len(receiver.received) == 5
    delays = [a.retry_in_seconds for a in attempts_of(delivery)]
    assert delays[:-1] == sorted(delays[:-1])
    assert delays[-1] is None
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1
    assert endpoint.is_active


def test_timeout_is_recorded_and_retried(
    merchant, receiver_factory, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver = receiver_factory([Reply(200, delay=5)])
    endpoint = endpoint_for(receiver, merchant)
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)

    [delivery] = deliveries_of(endpoint)
    [attempt] = attempts_of(delivery)
    assert attempt.error_code == Error.TIMEOUT
    assert attempt.response_status is None
    assert "timed out" in attempt.error
    assert (delivery.status, delivery.last_response_status) == (Status.PENDING, None)
    assert len(receiver.received) == 1


def test_connection_refused_is_recorded_and_retried(
    merchant, receiver, django_capture_on_commit_callbacks
):
    port = receiver.port
    receiver.stop()  # nobody listens there any more
    endpoint = make_endpoint(merchant, url=f"http://127.0.0.1:{port}/hook").endpoint
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)

    [delivery] = deliveries_of(endpoint)
    [attempt] = attempts_of(delivery)
    assert attempt.error_code == Error.CONNECTION
    assert attempt.error
    assert delivery.status == Status.PENDING


def test_redirects_are_not_followed(merchant, receiver, django_capture_on_commit_callbacks):
    receiver.replies = [Reply(302, b"", headers={"Location": receiver.url("/elsewhere")})]
    endpoint = endpoint_for(receiver, merchant)
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)

    assert [r.path for r in receiver.received] == ["/hook"]
    [delivery] = deliveries_of(endpoint)
    [attempt] = attempts_of(delivery)
    assert attempt.response_status == 302
    assert attempt.error_code == Error.HTTP_STATUS
    assert attempt.response_headers["Location"].endswith("/elsewhere")
    assert delivery.status == Status.PENDING


def test_a_long_answer_is_kept_truncated(merchant, receiver, django_capture_on_commit_callbacks):
    receiver.replies = [Reply(200, "字".encode() * 10_000)]
    endpoint = endpoint_for(receiver, merchant)
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)
    [attempt] = attempts_of(deliveries_of(endpoint)[0])
    assert 0 < len(attempt.response_body.encode()) <= sending.RESPONSE_BODY_LIMIT + 3
    assert attempt.response_body.startswith("字字字")


def test_a_binary_answer_is_kept_readable(merchant, receiver, django_capture_on_commit_callbacks):
    receiver.replies = [Reply(200, b"\x00\x01\xffok")]
    endpoint = endpoint_for(receiver, merchant)
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)
    [attempt] = attempts_of(deliveries_of(endpoint)[0])
    assert attempt.response_body == "\ufffd\x01\ufffdok"
    assert deliveries_of(endpoint)[0].status == Status.SUCCEEDED


def test_two_claims_of_the_same_delivery_only_one_sends(
    merchant, receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver, merchant)
    with django_capture_on_commit_callbacks(execute=False):  # create, but do not send yet
        events.emit(merchant, ORDER_PAID, {"n": 1})
        dispatch_pending()
    [delivery] = deliveries_of(endpoint)

    first = sending.claim(delivery.pk)
    second = sending.claim(delivery.pk)
    assert first is not None
    assert second is None
    assert sending.attempt(delivery.pk) is None  # a worker arriving now sends nothing
    outcome = sending.send_claimed(first)
    assert outcome is not None
    assert outcome.status == Status.SUCCEEDED
    assert sending.send_claimed(first) is None  # the same claim cannot send twice
    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_an_expired_lease_is_recovered_and_its_late_sender_does_nothing(
    merchant, receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver, merchant)
    with django_capture_on_commit_callbacks(execute=False):
        events.emit(merchant, ORDER_PAID, {"n": 1})
        dispatch_pending()
    [delivery] = deliveries_of(endpoint)
    lost = sending.claim(delivery.pk)  # a worker claims it, then dies
    assert lost is not None
    WebhookDelivery.unscoped.filter(pk=delivery.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert sweep.call() == {"recovered": 1, "claimed": 1}  # recovered, due, sent again
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SUCCEEDED, 2)
    interrupted, sent = attempts_of(delivery)
    assert interrupted.error_code == Error.INTERRUPTED
    assert sent.response_status == 200
    assert sending.send_claimed(lost) is None  # the dead worker's claim is worthless now
    assert len(receiver.received) == 1


def test_endpoint_is_disabled_after_many_consecutive_failed_deliveries(
    merchant, receiver_factory, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver = receiver_factory([Reply(500)])
    endpoint = endpoint_for(receiver, merchant)
    WebhookEndpoint.unscoped.filter(pk=endpoint.pk).update(
        consecutive_failures=sending.DISABLE_AFTER_FAILED_DELIVERIES - 1
    )
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)

    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_reason == WebhookEndpoint.DisabledReason.FAILING
    assert endpoint.consecutive_failures == sending.DISABLE_AFTER_FAILED_DELIVERIES
    assert AuditEntry.unscoped.filter(
        action="webhooks.endpoint.auto_disable", object_id=str(endpoint.pk)
    ).exists()
    assert DomainEvent.unscoped.filter(
        event_type=ENDPOINT_DISABLED, aggregate_id=str(endpoint.pk)
    ).exists()

    # nothing more goes out to it
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)
    assert len(receiver.received) == 1


def test_a_queued_retry_is_not_sent_once_the_endpoint_is_disabled(
    merchant, receiver_factory, django_capture_on_commit_callbacks
):
    receiver = receiver_factory([Reply(500)])
    endpoint = endpoint_for(receiver, merchant)
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)
    WebhookEndpoint.unscoped.filter(pk=endpoint.pk).update(is_active=False)
    make_due()
    sweep.call()

    [delivery] = deliveries_of(endpoint)
    assert delivery.status == Status.FAILED
    assert attempts_of(delivery)[-1].error_code == Error.ENDPOINT_DISABLED
    assert len(receiver.received) == 1
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0  # not sent: not the endpoint's failure


def test_success_resets_the_failure_streak(merchant, receiver, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(receiver, merchant)
    WebhookEndpoint.unscoped.filter(pk=endpoint.pk).update(consecutive_failures=7)
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_ssrf_guard_blocks_private_targets_when_not_allowed(
    merchant, receiver, settings, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver, merchant)  # created while private targets were allowed
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)

    assert receiver.received == []
    [delivery] = deliveries_of(endpoint)
    [attempt] = attempts_of(delivery)
    assert attempt.error_code == Error.BLOCKED
    assert "127.0.0.1" in attempt.error
    assert delivery.status == Status.PENDING


def test_with_the_guard_on_the_request_goes_to_the_checked_address_with_the_host_name(
    merchant, receiver, settings, monkeypatch, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver, merchant, url=f"http://hooks.example.test:{receiver.port}/in")
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    lookups = []

    def resolver(host, port):
        lookups.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(targets, "system_resolver", resolver)
    # pretend loopback is public so the pinned connection can reach the local receiver
    monkeypatch.setattr(targets, "is_public_address", lambda ip: True)
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)

    assert lookups == ["hooks.example.test"]
    [request] = receiver.received
    assert request.path == "/in"
    assert request.header("Host") == f"hooks.example.test:{receiver.port}"
    assert receiver.verified(request)
    assert deliveries_of(endpoint)[0].status == Status.SUCCEEDED


def test_rotation_with_grace_signs_with_both_secrets(
    merchant, receiver, django_capture_on_commit_callbacks
):
    from siyu.core.actors import Actor
    from siyu.webhooks import services

    endpoint = endpoint_for(receiver, merchant)
    old = receiver.secret
    new = services.rotate_secret(Actor.system(merchant), endpoint.pk, grace_hours=24).secret
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)

    [request] = receiver.received
    assert request.header("Siyu-Signature").count("v1=") == 2
    assert receiver.verified(request, secret=old)
    assert receiver.verified(request, secret=new)


def test_signature_timestamp_is_fresh_per_attempt(
    merchant, receiver_factory, monkeypatch, django_capture_on_commit_callbacks
):
    receiver = receiver_factory([Reply(500), Reply(200)])
    endpoint = endpoint_for(receiver, merchant)
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)
    later = timezone.now() + timedelta(minutes=10)
    monkeypatch.setattr("siyu.core.clock.now", lambda: later)
    [delivery] = deliveries_of(endpoint)
    WebhookDelivery.unscoped.filter(pk=delivery.pk).update(next_attempt_at=later)
    sweep.call()

    first, second = receiver.received
    t1 = signing.parse(first.header("Siyu-Signature")).timestamp
    t2 = signing.parse(second.header("Siyu-Signature")).timestamp
    assert t2 - t1 >= 599
    assert receiver.verified(second, now=later.timestamp())
    assert not receiver.verified(first, now=later.timestamp())  # too old to be replayed now
    assert first.body == second.body


def test_the_http_call_runs_outside_any_transaction(
    merchant, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    """The sender opens no transaction or savepoint around the request."""
    endpoint_for(receiver, merchant)
    baseline = len(connection.savepoint_ids)  # the test's own wrapping transaction
    depth_at_call: list[int] = []
    real_post = sending.post

    def spy(*args, **kwargs):
        depth_at_call.append(len(connection.savepoint_ids))
        return real_post(*args, **kwargs)

    monkeypatch.setattr(sending, "post", spy)
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)
    assert depth_at_call == [baseline]


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="a real race between two database connections needs PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_delivery_send_it_once(receiver, test_events):
    import threading

    from django.db import connections

    from siyu.core.testing import make_merchant

    merchant = make_merchant()
    receiver.replies = [Reply(200, delay=0.2)]
    endpoint = endpoint_for(receiver, merchant)
    with merchant_context(merchant):
        delivery = sending.new_delivery(
            endpoint, event=None, event_type=ORDER_PAID, body='{"n":1}', max_attempts=3
        )
    barrier = threading.Barrier(2)
    outcomes = []

    def worker():
        try:
            barrier.wait()
            outcomes.append(sending.attempt(delivery.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(receiver.received) == 1
    assert sorted(o is None for o in outcomes) == [False, True]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SUCCEEDED, 1)


def test_old_finished_deliveries_are_pruned(merchant, receiver, django_capture_on_commit_callbacks):
    from siyu.webhooks.tasks import prune_delivery_log

    endpoint = endpoint_for(receiver, merchant)
    for n in range(3):
        emit_and_dispatch(merchant, django_capture_on_commit_callbacks, payload={"n": n})
    old, recent, unfinished = deliveries_of(endpoint)
    long_ago = timezone.now() - timedelta(days=sending.LOG_RETENTION_DAYS + 1)
    WebhookDelivery.unscoped.filter(pk__in=[old.pk, unfinished.pk]).update(finished_at=long_ago)
    WebhookDelivery.unscoped.filter(pk=unfinished.pk).update(status=Status.PENDING)

    assert prune_delivery_log.call() == 1
    assert [d.pk for d in deliveries_of(endpoint)] == [recent.pk, unfinished.pk]
    assert not WebhookAttempt.unscoped.filter(delivery_id=old.pk).exists()
    assert prune_delivery_log.call() == 0
