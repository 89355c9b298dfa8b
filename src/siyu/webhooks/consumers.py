"""The outbox consumer that turns domain events into webhook deliveries."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from siyu.core.events import consumer, envelope
from siyu.core.models import DomainEvent
from siyu.webhooks.delivery import new_delivery, send_after_commit, serialise
from siyu.webhooks.events import PING
from siyu.webhooks.models import WebhookDelivery, WebhookEndpoint


@consumer("webhooks")
def deliver_event(event: DomainEvent) -> None:
    """One delivery per active endpoint of the event's merchant that subscribes to its type.

    Idempotent: when the dispatcher hands the same event over again, endpoints
    that already have a delivery for it are skipped (and the unique constraint
    on endpoint + event stops a concurrent duplicate). Test events are not
    fanned out: ``send_test_event`` makes the one delivery itself.
    """
    if event.event_type == PING:
        return
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.unscoped.filter(
            merchant_id=event.merchant_id, is_active=True
        ).order_by("id")
        if endpoint.subscribes_to(event.event_type)
    ]
    if not endpoints:
        return
    already = set(
        WebhookDelivery.unscoped.filter(event=event, replay_of__isnull=True).values_list(
            "endpoint_id", flat=True
        )
    )
    body = serialise(envelope(event, event.merchant.slug))
    created: list[int] = []
    for endpoint in endpoints:
        if endpoint.pk in already:
            continue
        try:
            with transaction.atomic():
                delivery = new_delivery(
                    endpoint,
                    event=event,
                    event_type=event.event_type,
                    body=body,
                    max_attempts=settings.WEBHOOK_MAX_ATTEMPTS,
                )
        except IntegrityError:  # another dispatcher made it a moment ago
            continue
        created.append(delivery.pk)
    send_after_commit(created)
