"""Partitioned sends on PostgreSQL: threads with their own connections, the cap locks.

Two partitions write exactly the delivery log one does; broadcasts sending to the same
customers at the same time (with two partitions or one) never exceed a customer's cap; a
partition that fails marks the broadcast failed and the resumed send completes it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections

from siyu.community.models import Message
from siyu.core.models import Merchant
from siyu.core.testing import make_merchant
from siyu.customers.models import Customer
from siyu.marketing import engine
from siyu.marketing.models import Broadcast, Delivery, MessagingPolicy
from siyu.marketing.testing import (
    make_broadcast,
    make_customers,
    make_group_with,
    past_deliveries,
    refuse,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="partitions in threads with their own connections need PostgreSQL "
        "(SQLite sends in one partition)",
    ),
    pytest.mark.django_db(transaction=True),
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 3, 11, 12, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def at_noon(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr("siyu.core.clock.now", lambda: NOON.astimezone(ZoneInfo("UTC")))
    return NOON


def scenario(merchant: Merchant, n: int) -> tuple[list[int], list[int]]:
    """``n`` customers: some blocked, refused, capped today, sent to yesterday; in two groups
    that overlap. Their ids and the groups' ids."""
    ids = make_customers(merchant, n)
    Customer.unscoped.filter(pk__in=ids[::11]).update(status=Customer.Status.BLOCKED)
    refuse(merchant, ids[1::7])
    past_deliveries(merchant, ids[2::5], at=NOON - timedelta(hours=2))  # capped today
    past_deliveries(merchant, ids[3::6], at=NOON - timedelta(days=1))  # yesterday: fine
    first = make_group_with(merchant, ids[: n * 2 // 3])
    second = make_group_with(merchant, ids[n // 2 :])
    return ids, [first.pk, second.pk]


def log(broadcast: Broadcast) -> dict[int, str]:
    return {
        d.customer_id: d.skip_reason or d.status
        for d in Delivery.unscoped.filter(broadcast=broadcast)
    }


def messages(broadcast: Broadcast) -> Counter[int]:
    return Counter(
        Message.unscoped.filter(broadcast_id=broadcast.pk).values_list(
            "conversation__customer_id", flat=True
        )
    )


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls), timeout=20)
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # reported by the assertions
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def sender(broadcast: Broadcast, partitions: int) -> Callable[[], Broadcast]:
    return lambda: engine.send_broadcast(broadcast.pk, partitions=partitions)


def test_two_partitions_write_exactly_the_log_of_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "BATCH_SIZE", 7)
    threads: set[str] = set()
    real_part = engine._send_part

    def spy(*args: Any) -> None:
        threads.add(threading.current_thread().name)
        real_part(*args)

    monkeypatch.setattr(engine, "_send_part", spy)
    results: list[dict[str, Any]] = []
    for partitions in (1, 2):
        merchant = make_merchant()
        ids, groups = scenario(merchant, 90)
        broadcast = make_broadcast(merchant, audience="groups", group_ids=groups)
        threads.clear()
        sent = engine.send_broadcast(broadcast, partitions=partitions)
        ran_in = set(threads)
        by_position = log(broadcast)
        received = messages(broadcast)
        results.append(
            {
                "status": sent.status,
                "counts": (sent.targeted_count, sent.sent_count, sent.skipped_count),
                "progress": sent.progress,
                "log": [by_position.get(c) for c in ids],
                "messages": [received.get(c, 0) for c in ids],
                "threads": ran_in,
            }
        )
    one, two = results
    assert one["threads"] == {threading.current_thread().name}  # one partition: the caller's
    assert len(two["threads"]) == 2
    assert threading.current_thread().name not in two["threads"]
    for key in ("status", "counts", "progress", "log", "messages"):
        assert one[key] == two[key], key
    assert one["status"] == Broadcast.Status.SENT
    assert set(one["log"]) == {"sent", "blocked", "opted_out", "capped"}
    assert one["messages"] == [1 if r == "sent" else 0 for r in one["log"]]


def test_broadcasts_sending_at_once_never_exceed_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    merchant = make_merchant()
    MessagingPolicy.unscoped.update_or_create(merchant=merchant, defaults={"cap_count": 1})
    ids, groups = scenario(merchant, 150)
    monkeypatch.setattr(engine, "BATCH_SIZE", 5)
    real_write = engine.write_deliveries

    def slow_write(*args: Any) -> Any:  # widens the window between the cap check and commit
        rows = real_write(*args)
        time.sleep(0.005)
        return rows

    monkeypatch.setattr(engine, "write_deliveries", slow_write)
    sends = [
        (make_broadcast(merchant, audience="groups", group_ids=groups), partitions)
        for partitions in (2, 2, 1)
    ]
    outcomes = run_together([sender(b, p) for b, p in sends])

    assert [getattr(o, "status", o) for o in outcomes] == [Broadcast.Status.SENT] * 3
    per_customer = Counter(
        Delivery.unscoped.filter(
            merchant=merchant,
            broadcast__in=[b for b, _ in sends],
            status=Delivery.Status.SENT,
        ).values_list("customer_id", flat=True)
    )
    blocked = set(ids[::11])
    refused = set(ids[1::7])
    capped = set(ids[2::5])
    audience = set(ids)
    for customer in audience:
        expected = 0 if customer in blocked | refused | capped else 1
        assert per_customer.get(customer, 0) == expected, customer  # never 2, never 0 wrongly
    received: Counter[int] = Counter()
    for broadcast, _ in sends:
        received.update(messages(broadcast))
    assert received == per_customer


def test_a_failing_partition_marks_the_send_failed_and_the_resumed_send_completes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    merchant = make_merchant()
    ids, groups = scenario(merchant, 60)
    broadcast = make_broadcast(merchant, audience="groups", group_ids=groups)
    monkeypatch.setattr(engine, "BATCH_SIZE", 4)
    real = engine._send_batch
    calls = Counter[int]()

    def crash_in_partition_1(plan: Any, parts: Any, ids: Any, slots: Any) -> bool:
        part = slots[0]
        calls[part] += 1
        if part == 1 and calls[part] == 2:
            raise RuntimeError("worker died")
        return real(plan, parts, ids, slots)

    monkeypatch.setattr(engine, "_send_batch", crash_in_partition_1)
    with pytest.raises(RuntimeError, match="worker died"):
        engine.send_broadcast(broadcast, partitions=2)
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.FAILED
    assert broadcast.finished_at is not None
    halfway = Delivery.unscoped.filter(broadcast=broadcast).count()
    assert 4 <= halfway < len(ids)

    monkeypatch.setattr(engine, "_send_batch", real)
    done = engine.send_broadcast(broadcast, partitions=2)

    assert done.status == Broadcast.Status.SENT
    assert len(log(broadcast)) == len(ids)
    received = messages(broadcast)
    assert set(received.values()) == {1}
    assert sum(received.values()) == done.sent_count
    assert done.targeted_count == len(ids)
