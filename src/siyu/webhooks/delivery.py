"""Sending deliveries: claim, POST, record, retry with backoff, give up, recover.

The life of a delivery::

    pending ──claim──▶ sending ──2xx──▶ succeeded
       ▲                  │
       └──not 2xx, time───┤ (attempts < max_attempts: next_attempt_at = now + backoff)
                          └──────────────▶ failed (attempts == max_attempts)

* **Claim** is one conditional UPDATE (``pending`` and due → ``sending`` with a
  lease token and expiry, ``attempts + 1``). Two workers racing for the same
  delivery: one UPDATE matches a row, the other matches none and sends nothing.
* **Send** runs with no transaction open: the HTTP call never holds a lock.
  The result is then recorded in one short transaction, and the delivery is
  moved on only if the lease is still ours.
* **Recover**: a worker that dies while sending leaves a ``sending`` row whose
  lease expires; the sweep records the attempt as interrupted and makes the
  delivery due again (or failed, when it was the last attempt).

Retries of a delivery send the very bytes stored at its creation, with a fresh
timestamp and signature. Integrators tell repeats apart by the event ``id`` in
the body (a replay of an event carries the same ``id``).
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F

from siyu.core import clock, ids
from siyu.core.actors import Actor
from siyu.core.backoff import backoff_seconds
from siyu.core.models import DomainEvent
from siyu.core.tenancy import merchant_context
from siyu.webhooks import signing
from siyu.webhooks.events import PING
from siyu.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from siyu.webhooks.targets import BlockedTarget, Target, resolve_target

logger = logging.getLogger(__name__)

USER_AGENT = "Siyu-Webhooks/1"
RESPONSE_BODY_LIMIT = 4096  # bytes of the answer kept in the attempt log
RESPONSE_HEADERS_LIMIT = 4096  # characters of answer headers kept
ERROR_TEXT_LIMIT = 1000
DISABLE_AFTER_FAILED_DELIVERIES = 20  # consecutive deliveries that failed for good
SWEEP_BATCH = 200
LOG_RETENTION_DAYS = 30  # finished deliveries (and their attempts) are kept this long
PRUNE_BATCH = 1000

Status = WebhookDelivery.Status
Error = WebhookAttempt.Error


def lease_duration() -> timedelta:
    """How long a claim holds: queue wait plus the request, with room to spare."""
    return timedelta(seconds=max(60.0, 6 * float(settings.WEBHOOK_TIMEOUT_SECONDS)))


def serialise(document: Mapping[str, Any]) -> str:
    """The body as sent: compact JSON, UTF-8, serialised once and stored."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def is_manual(delivery: WebhookDelivery) -> bool:
    """Replays and test events: sent once, even to a disabled endpoint."""
    return delivery.replay_of_id is not None or delivery.event_type == PING


def new_delivery(
    endpoint: WebhookEndpoint,
    *,
    event: DomainEvent | None,
    event_type: str,
    body: str,
    max_attempts: int,
    replay_of: WebhookDelivery | None = None,
) -> WebhookDelivery:
    return WebhookDelivery.unscoped.create(
        merchant_id=endpoint.merchant_id,
        endpoint=endpoint,
        event=event,
        event_type=event_type,
        body=body,
        status=Status.PENDING,
        max_attempts=max_attempts,
        next_attempt_at=clock.now(),
        replay_of=replay_of,
    )


def send_after_commit(delivery_ids: Iterable[int]) -> None:
    """Enqueue the first attempt of each delivery once the creating transaction commits."""
    ids_ = list(delivery_ids)
    if not ids_:
        return

    def enqueue() -> None:
        from siyu.webhooks.tasks import deliver

        for delivery_id in ids_:
            try:
                deliver.enqueue(delivery_id)
            except Exception:  # the sweep sends it anyway
                logger.exception("could not enqueue webhook delivery %s", delivery_id)

    transaction.on_commit(enqueue)


# --- claiming -----------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    token: str


def claim(delivery_id: int, *, now: datetime | None = None) -> Claim | None:
    """Take a due pending delivery for one attempt; None when someone else has it or it is not due."""
    now = now or clock.now()
    token = ids.token(32)
    taken = WebhookDelivery.unscoped.filter(
        pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now
    ).update(
        status=Status.SENDING,
        lease_token=token,
        lease_expires_at=now + lease_duration(),
        attempts=F("attempts") + 1,
    )
    return Claim(delivery_id, token) if taken else None


def claim_due(*, limit: int = SWEEP_BATCH, now: datetime | None = None) -> list[Claim]:
    """Claim up to ``limit`` deliveries whose next attempt is due, oldest first."""
    now = now or clock.now()
    due = list(
        WebhookDelivery.unscoped.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    claims = []
    for delivery_id in due:
        taken = claim(delivery_id, now=now)
        if taken is not None:
            claims.append(taken)
    return claims


# --- the HTTP request ---------------------------------------------------------------


@dataclass
class HttpResult:
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    duration_ms: int = 0
    error_code: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _truncate_headers(headers: httpx.Headers) -> dict[str, str]:
    kept: dict[str, str] = {}
    size = 0
    for raw_name, raw_value in headers.raw:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        size += len(name) + len(value)
        if size > RESPONSE_HEADERS_LIMIT:
            break
        kept[name] = value
    return kept


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: building one loads the CA bundle (~80 ms)."""
    return httpx.create_ssl_context(trust_env=False)


def post(target: Target, body: bytes, headers: Mapping[str, str], timeout: float) -> HttpResult:
    """POST ``body`` once; never follows redirects; keeps at most a few KB of the answer."""
    result = HttpResult()
    request_headers = dict(headers)
    extensions: dict[str, Any] = {}
    if target.address is not None:
        request_headers["Host"] = target.host_header()
        extensions["sni_hostname"] = target.host
    started = time.monotonic()
    try:
        with (
            httpx.Client(
                follow_redirects=False, timeout=timeout, trust_env=False, verify=tls_context()
            ) as client,
            client.stream(
                "POST",
                target.connect_url(),
                content=body,
                headers=request_headers,
                extensions=extensions,
            ) as response,
        ):
            result.status = response.status_code
            result.headers = _truncate_headers(response.headers)
            kept = bytearray()
            for chunk in response.iter_bytes():
                kept += chunk
                if len(kept) >= RESPONSE_BODY_LIMIT:
                    break
                if time.monotonic() - started > timeout:
                    raise httpx.ReadTimeout("the answer took longer than the timeout")
            text = bytes(kept[:RESPONSE_BODY_LIMIT]).decode("utf-8", errors="replace")
            result.body = text.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL
    except httpx.TimeoutException as exc:
        result.status = None
        result.error_code = Error.TIMEOUT
        result.error = f"timed out after {timeout:g} s ({type(exc).__name__})"
    except httpx.HTTPError as exc:
        result.status = None
        result.error_code = Error.CONNECTION
        result.error = f"{type(exc).__name__}: {exc}"[:ERROR_TEXT_LIMIT]
    result.duration_ms = max(0, round((time.monotonic() - started) * 1000))
    if result.status is not None and not result.ok:
        result.error_code = Error.HTTP_STATUS
    return result


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, plus the previous one while its grace period lasts."""
    secrets = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_expires_at is not None
        and endpoint.previous_secret_expires_at > now
    ):
        secrets.append(endpoint.previous_secret)
    return secrets


def request_headers(
    delivery: WebhookDelivery, endpoint: WebhookEndpoint, number: int, now: datetime
) -> dict[str, str]:
    timestamp = int(now.timestamp())
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Siyu-Event": delivery.event_type,
        "Siyu-Delivery": str(delivery.pk),
        "Siyu-Attempt": str(number),
        signing.SIGNATURE_HEADER: signing.sign(
            delivery.body.encode("utf-8"), signing_secrets(endpoint, now), timestamp
        ),
    }


# --- one attempt ----------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptOutcome:
    delivery_id: int
    number: int
    status: str  # the delivery's status after this attempt
    response_status: int | None
    error_code: str


def send_claimed(claimed: Claim) -> AttemptOutcome | None:
    """Send one attempt of a delivery this worker has claimed; record what happened."""
    delivery = (
        WebhookDelivery.unscoped.select_related("endpoint", "merchant")
        .filter(pk=claimed.delivery_id, status=Status.SENDING, lease_token=claimed.token)
        .first()
    )
    if delivery is None:  # the lease expired and was recovered: not ours any more
        return None
    endpoint = delivery.endpoint
    number = delivery.attempts
    now = clock.now()
    with merchant_context(delivery.merchant):
        headers = request_headers(delivery, endpoint, number, now)
        if not endpoint.is_active and not is_manual(delivery):
            result = HttpResult(
                error_code=Error.ENDPOINT_DISABLED, error="the endpoint is disabled"
            )
        else:
            try:
                target = resolve_target(
                    endpoint.url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_TARGETS
                )
            except BlockedTarget as exc:
                result = HttpResult(error_code=Error.BLOCKED, error=str(exc))
            else:
                # no transaction is open here: the request holds no database lock
                result = post(
                    target,
                    delivery.body.encode("utf-8"),
                    headers,
                    float(settings.WEBHOOK_TIMEOUT_SECONDS),
                )
        return _record(delivery, claimed, number, now, headers, result)


def _record(
    delivery: WebhookDelivery,
    claimed: Claim,
    number: int,
    attempted_at: datetime,
    headers: dict[str, str],
    result: HttpResult,
) -> AttemptOutcome:
    now = clock.now()
    endpoint = delivery.endpoint
    retry_in: int | None = None
    if result.ok:
        status = Status.SUCCEEDED
    elif result.error_code == Error.ENDPOINT_DISABLED or number >= delivery.max_attempts:
        status = Status.FAILED
    else:
        status = Status.PENDING
        retry_in = round(backoff_seconds(number))
    with transaction.atomic():
        WebhookAttempt.unscoped.create(
            merchant_id=delivery.merchant_id,
            delivery=delivery,
            number=number,
            attempted_at=attempted_at,
            url=endpoint.url,
            request_headers=headers,
            response_status=result.status,
            response_headers=result.headers,
            response_body=result.body,
            duration_ms=result.duration_ms,
            error_code=result.error_code,
            error=result.error[:ERROR_TEXT_LIMIT],
            retry_in_seconds=retry_in,
        )
        changes: dict[str, Any] = {
            "status": status,
            "lease_token": "",
            "lease_expires_at": None,
            "last_response_status": result.status,
        }
        if status == Status.PENDING:
            changes["next_attempt_at"] = now + timedelta(seconds=retry_in or 0)
        else:
            changes["next_attempt_at"] = None
            changes["finished_at"] = now
        still_ours = WebhookDelivery.unscoped.filter(
            pk=delivery.pk, status=Status.SENDING, lease_token=claimed.token
        ).update(**changes)
        if still_ours:
            _count_on_endpoint(delivery, status, result)
    return AttemptOutcome(delivery.pk, number, status, result.status, result.error_code)


def _count_on_endpoint(delivery: WebhookDelivery, status: str, result: HttpResult) -> None:
    """Success resets the endpoint's failure streak; an original delivery failing for good extends it."""
    endpoints = WebhookEndpoint.unscoped.filter(pk=delivery.endpoint_id)
    if status == Status.SUCCEEDED:
        endpoints.filter(consecutive_failures__gt=0).update(consecutive_failures=0)
        return
    if status != Status.FAILED or is_manual(delivery):
        return
    if result.error_code == Error.ENDPOINT_DISABLED:
        return
    endpoints.update(consecutive_failures=F("consecutive_failures") + 1)
    failures = endpoints.values_list("consecutive_failures", flat=True).first() or 0
    if failures >= DISABLE_AFTER_FAILED_DELIVERIES:
        from siyu.webhooks.services import disable_failing_endpoint

        system = Actor.system(delivery.merchant, label="Siyu webhooks")
        disable_failing_endpoint(system, delivery.endpoint_id, failures=failures)


def attempt(delivery_id: int) -> AttemptOutcome | None:
    """Claim and send one attempt now; None when the delivery is not ours to send."""
    claimed = claim(delivery_id)
    if claimed is None:
        return None
    return send_claimed(claimed)


# --- recovery and the sweep ---------------------------------------------------------------


def recover_expired_leases(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Deliveries left ``sending`` by a worker that died: log it, make them due again (or failed)."""
    now = now or clock.now()
    stuck = list(
        WebhookDelivery.unscoped.filter(status=Status.SENDING, lease_expires_at__lt=now)
        .select_related("endpoint")
        .order_by("lease_expires_at")[:limit]
    )
    recovered = 0
    for delivery in stuck:
        final = delivery.attempts >= delivery.max_attempts
        with transaction.atomic():
            moved = WebhookDelivery.unscoped.filter(
                pk=delivery.pk, status=Status.SENDING, lease_token=delivery.lease_token
            ).update(
                status=Status.FAILED if final else Status.PENDING,
                lease_token="",
                lease_expires_at=None,
                next_attempt_at=None if final else now,
                finished_at=now if final else None,
            )
            if not moved:
                continue
            WebhookAttempt.unscoped.create(
                merchant_id=delivery.merchant_id,
                delivery=delivery,
                number=delivery.attempts,
                attempted_at=delivery.lease_expires_at or now,
                url=delivery.endpoint.url,
                error_code=Error.INTERRUPTED,
                error="the lease expired before the attempt was recorded",
            )
        recovered += 1
    return recovered


def prune_delivery_log(*, now: datetime | None = None, max_batches: int = 50) -> int:
    """Delete finished deliveries older than the retention period, in small batches."""
    cutoff = (now or clock.now()) - timedelta(days=LOG_RETENTION_DAYS)
    deleted = 0
    for _ in range(max_batches):
        old = list(
            WebhookDelivery.unscoped.filter(
                status__in=[Status.SUCCEEDED, Status.FAILED], finished_at__lt=cutoff
            )
            .order_by("id")
            .values_list("pk", flat=True)[:PRUNE_BATCH]
        )
        if not old:
            break
        # replays point at their original with SET_NULL: a replay outlives it fine
        with transaction.atomic():
            WebhookAttempt.unscoped.filter(delivery_id__in=old).delete()
            WebhookDelivery.unscoped.filter(pk__in=old).delete()
        deleted += len(old)
    return deleted
