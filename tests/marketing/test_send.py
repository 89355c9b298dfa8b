"""The send engine: audiences, skip reasons, inbox messages, group posts, idempotency."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from siyu.community import chat, selectors
from siyu.community.models import Conversation, Message
from siyu.core.actors import Actor
from siyu.core.models import DomainEvent, Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.marketing import engine, services
from siyu.marketing.models import Broadcast, Delivery, MessagingPolicy
from siyu.marketing.testing import (
    make_broadcast,
    make_customers,
    make_group_with,
    past_deliveries,
    refuse,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 3, 11, 12, 0, tzinfo=SHANGHAI)  # a Wednesday


@pytest.fixture
def at_noon(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr("siyu.core.clock.now", lambda: NOON.astimezone(ZoneInfo("UTC")))
    return NOON


def log(broadcast: Broadcast) -> dict[int, str]:
    """customer id → "sent" or the skip reason."""
    return {
        d.customer_id: d.skip_reason or d.status
        for d in Delivery.unscoped.filter(broadcast=broadcast)
    }


def set_policy(merchant: Merchant, **fields: Any) -> None:
    MessagingPolicy.unscoped.update_or_create(merchant=merchant, defaults=fields)


@pytest.mark.django_db
def test_inbox_send_skips_exactly_the_blocked_opted_out_and_capped(
    merchant: Merchant, at_noon: datetime
) -> None:
    ids = make_customers(merchant, 10)
    Customer.unscoped.filter(pk=ids[0]).update(status=Customer.Status.BLOCKED)
    refuse(merchant, [ids[0], ids[1]])  # blocked outranks opted out
    refuse(merchant, [ids[2]], channel="sms")  # another channel: still reachable
    past_deliveries(merchant, [ids[3]], at=NOON - timedelta(hours=2))  # today: capped
    past_deliveries(merchant, [ids[4]], at=NOON - timedelta(days=1))  # yesterday: fine
    past_deliveries(merchant, [ids[5]], at=NOON - timedelta(hours=1), is_marketing=False)
    group = make_group_with(merchant, ids)
    broadcast = make_broadcast(merchant, audience="groups", group_ids=[group.pk])

    sent = engine.send_broadcast(broadcast)

    assert sent.status == Broadcast.Status.SENT
    assert log(broadcast) == {
        ids[0]: "blocked",
        ids[1]: "opted_out",
        ids[3]: "capped",
        **dict.fromkeys((ids[2], ids[4], ids[5], *ids[6:]), "sent"),
    }
    assert (sent.targeted_count, sent.sent_count, sent.skipped_count) == (10, 7, 3)
    assert sent.progress == 10
    assert sent.finished_at is not None
    inbox = Message.unscoped.filter(broadcast_id=broadcast.pk)
    assert sorted(inbox.values_list("conversation__customer_id", flat=True)) == sorted(
        c for c, r in log(broadcast).items() if r == "sent"
    )
    assert set(inbox.values_list("conversation__kind", flat=True)) == {"inbox"}
    conversation = Conversation.unscoped.get(customer_id=ids[2], kind="inbox")
    message = inbox.get(conversation=conversation)
    # the inbox's last message is read from Message (the fan-out leaves the row alone)
    assert chat.latest_message_id(conversation.pk) == message.pk
    customer = Customer.unscoped.get(pk=ids[2])
    [row] = [
        r for r in selectors.customer_conversations(customer) if r.conversation.kind == "inbox"
    ]
    assert row.last_message == message
    assert row.conversation.last_message_at == message.created_at
    assert row.unread == 1
    assert message.sender_kind == "system"
    assert message.text == broadcast.text
    event = DomainEvent.unscoped.get(event_type="marketing.broadcast.sent")
    assert event.payload["sent"] == 7
    assert event.payload["reasons"] == {"blocked": 1, "opted_out": 1, "capped": 1}


@pytest.mark.django_db
def test_quiet_hours_across_midnight_skip_every_marketing_recipient(
    merchant: Merchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    late = datetime(2026, 3, 11, 23, 30, tzinfo=SHANGHAI)
    monkeypatch.setattr("siyu.core.clock.now", lambda: late)
    set_policy(merchant, quiet_start=time(21), quiet_end=time(9))
    ids = make_customers(merchant, 4)
    refuse(merchant, [ids[0]])
    group = make_group_with(merchant, ids)
    marketing = make_broadcast(merchant, audience="groups", group_ids=[group.pk])
    service = make_broadcast(merchant, audience="groups", group_ids=[group.pk], is_marketing=False)

    engine.send_broadcast(marketing)
    engine.send_broadcast(service)

    assert log(marketing) == {ids[0]: "opted_out", **dict.fromkeys(ids[1:], "quiet_hours")}
    assert log(service) == dict.fromkeys(ids, "sent")  # service messages ignore all three
    assert not Message.unscoped.filter(broadcast_id=marketing.pk).exists()


@pytest.mark.django_db
def test_weekly_cap_counts_from_monday_in_the_merchant_time_zone(
    merchant: Merchant, at_noon: datetime
) -> None:
    set_policy(merchant, cap_count=2, cap_period="week")
    ids = make_customers(merchant, 3)
    monday = datetime(2026, 3, 9, 0, 30, tzinfo=SHANGHAI)  # Sunday 16:30 UTC
    past_deliveries(merchant, [ids[0], ids[1]], at=monday)
    past_deliveries(merchant, [ids[0]], at=monday + timedelta(days=1))
    past_deliveries(merchant, [ids[2]] * 1, at=monday - timedelta(hours=1))  # last week
    past_deliveries(merchant, [ids[2]], at=monday - timedelta(hours=2))
    group = make_group_with(merchant, ids)
    broadcast = make_broadcast(merchant, audience="groups", group_ids=[group.pk])

    engine.send_broadcast(broadcast)

    assert log(broadcast) == {ids[0]: "capped", ids[1]: "sent", ids[2]: "sent"}


@pytest.mark.django_db
def test_sending_twice_delivers_once(merchant: Merchant, at_noon: datetime) -> None:
    ids = make_customers(merchant, 7)
    group = make_group_with(merchant, ids)
    broadcast = make_broadcast(merchant, audience="groups", group_ids=[group.pk])

    first = engine.send_broadcast(broadcast)
    again = engine.send_broadcast(broadcast)

    assert first.status == again.status == Broadcast.Status.SENT
    assert Delivery.unscoped.filter(broadcast=broadcast).count() == 7
    assert Message.unscoped.filter(broadcast_id=broadcast.pk).count() == 7
    assert again.sent_count == 7


@pytest.mark.django_db
def test_a_failed_send_resumes_without_messaging_anyone_twice(
    merchant: Merchant, at_noon: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = make_customers(merchant, 12)
    group = make_group_with(merchant, ids)
    broadcast = make_broadcast(merchant, audience="groups", group_ids=[group.pk])
    monkeypatch.setattr(engine, "BATCH_SIZE", 5)
    real = engine._send_batch
    calls = {"n": 0}

    def crash_on_second(*args: Any) -> bool:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker died")
        return real(*args)

    monkeypatch.setattr(engine, "_send_batch", crash_on_second)
    with pytest.raises(RuntimeError):
        engine.send_broadcast(broadcast)
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.FAILED
    assert Delivery.unscoped.filter(broadcast=broadcast).count() == 5

    monkeypatch.setattr(engine, "_send_batch", real)
    done = engine.send_broadcast(broadcast)

    assert done.status == Broadcast.Status.SENT
    assert Delivery.unscoped.filter(broadcast=broadcast).count() == 12
    assert Message.unscoped.filter(broadcast_id=broadcast.pk).count() == 12
    assert done.targeted_count == 12  # the counters continued, not restarted


@pytest.mark.django_db
def test_tag_and_segment_audiences(merchant: Merchant, at_noon: datetime) -> None:
    from siyu.customers.models import CustomerTag, Segment
    from siyu.customers.testing import make_tag

    ids = make_customers(merchant, 5)
    tag = make_tag(merchant)
    CustomerTag.unscoped.bulk_create(
        [
            CustomerTag(merchant=merchant, customer_id=c, tag=tag, source="manual", added_at=NOON)
            for c in ids[:2]
        ]
    )
    Customer.unscoped.filter(pk__in=ids[3:]).update(city="Hangzhou")
    segment = Segment.unscoped.create(
        merchant=merchant,
        name="Hangzhou",
        rule={"all": [{"field": "city", "op": "in", "value": ["Hangzhou"]}]},
    )
    by_tag = make_broadcast(merchant, audience="tag", tag_id=tag.pk)
    by_segment = make_broadcast(merchant, audience="segment", segment_id=segment.pk)

    engine.send_broadcast(by_tag)
    set_policy(merchant, cap_count=5)
    engine.send_broadcast(by_segment)

    assert set(log(by_tag)) == set(ids[:2])
    assert set(log(by_segment)) == set(ids[3:])


@pytest.mark.django_db
def test_group_post_posts_once_per_group_and_logs_every_member(
    merchant: Merchant, at_noon: datetime
) -> None:
    ids = make_customers(merchant, 6)
    Customer.unscoped.filter(pk=ids[0]).update(status=Customer.Status.BLOCKED)
    refuse(merchant, [ids[1]], channel="group")
    past_deliveries(merchant, [ids[2]], at=NOON - timedelta(hours=1))
    first = make_group_with(merchant, ids[:4])
    second = make_group_with(merchant, ids[3:])  # ids[3] is in both
    broadcast = make_broadcast(
        merchant,
        audience="groups",
        group_ids=[first.pk, second.pk],
        delivery="group_post",
    )

    engine.send_broadcast(broadcast)
    engine.send_broadcast(broadcast)

    posts = Message.unscoped.filter(broadcast_id=broadcast.pk)
    assert sorted(posts.values_list("conversation__group_id", flat=True)) == sorted(
        [first.pk, second.pk]
    )
    # a post in the group reaches every member: caps and opt-outs cannot hold it back
    assert log(broadcast) == {ids[0]: "blocked", **dict.fromkeys(ids[1:], "sent")}


@pytest.mark.django_db
def test_cards_are_built_at_send_time_with_the_broadcast_attribution(
    merchant: Merchant, at_noon: datetime
) -> None:
    from siyu.community.cards import read_via
    from siyu.orders.testing import make_shop

    shop = make_shop(merchant)
    ids = make_customers(merchant, 2)
    group = make_group_with(merchant, ids)
    broadcast = make_broadcast(
        merchant,
        audience="groups",
        group_ids=[group.pk],
        cards=[{"type": "product", "id": shop.product.pk}, {"type": "store", "id": shop.store.pk}],
    )

    engine.send_broadcast(broadcast)

    rows = Message.unscoped.filter(conversation__customer_id=ids[0]).order_by("id")
    assert [(m.text, m.card["type"]) for m in rows] == [
        (broadcast.text, "product"),
        ("", "store"),
    ]
    token = rows[0].card["url"].split("via=")[1]
    via = read_via(token)
    assert via is not None
    assert via.broadcast_id == broadcast.pk
    assert via.source == "broadcast"


@pytest.mark.django_db
def test_cancel_while_sending_stops_after_the_batch(
    merchant: Merchant, at_noon: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = make_customers(merchant, 9)
    group = make_group_with(merchant, ids)
    broadcast = make_broadcast(merchant, audience="groups", group_ids=[group.pk])
    monkeypatch.setattr(engine, "BATCH_SIZE", 4)
    real = engine._send_batch

    def cancel_after_first(*args: Any) -> bool:
        done = real(*args)
        if done:
            with merchant_context(merchant):
                services.cancel_broadcast(Actor.system(merchant), broadcast)
        return done

    monkeypatch.setattr(engine, "_send_batch", cancel_after_first)
    engine.send_broadcast(broadcast)

    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.CANCELLED
    assert Delivery.unscoped.filter(broadcast=broadcast).count() == 4
    assert not DomainEvent.unscoped.filter(event_type="marketing.broadcast.sent").exists()
