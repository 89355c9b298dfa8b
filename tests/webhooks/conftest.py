from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.core import events, outbox
from siyu.webhooks.models import WebhookDelivery
from siyu.webhooks.testing import Receiver, Reply

ORDER_PAID = "test.order.paid"
ORDER_REFUNDED = "test.order.refunded"


@pytest.fixture
def receiver_factory() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def make(replies: Sequence[Reply] = (), secret: str = "") -> Receiver:
        receiver = Receiver(replies, secret).start()
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        receiver.stop()


@pytest.fixture
def receiver(receiver_factory: Callable[..., Receiver]) -> Receiver:
    return receiver_factory()


@pytest.fixture
def test_events(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Two event types of a pretend "test" area; only the webhooks consumer listening."""
    only_webhooks = {"webhooks": events.CONSUMERS["webhooks"]}
    monkeypatch.setattr(events, "CONSUMERS", only_webhooks)
    monkeypatch.setattr(outbox, "CONSUMERS", only_webhooks)
    events.register_event_type(ORDER_PAID, "Order paid")
    events.register_event_type(ORDER_REFUNDED, "Order refunded")
    yield
    events.EVENT_TYPES.pop(ORDER_PAID, None)
    events.EVENT_TYPES.pop(ORDER_REFUNDED, None)


def make_due(*deliveries: WebhookDelivery) -> None:
    """Pretend the backoff has passed for waiting deliveries (all of them when none given)."""
    qs = WebhookDelivery.unscoped.filter(status=WebhookDelivery.Status.PENDING)
    if deliveries:
        qs = qs.filter(pk__in=[d.pk for d in deliveries])
    qs.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
