"""The demo's bulk writer (siyu.core.demo.BulkInsert): what it writes is what the ORM would."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction

from siyu.core import clock, demo
from siyu.core.models import Merchant
from siyu.customers.models import Customer, CustomerIdentity, TimelineEntry
from siyu.customers.testing import make_customer


def test_rows_in_several_statements_with_defaults_and_times(
    merchant: Merchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "ROWS_PER_STATEMENT", 4)  # 10 rows: 4 + 4 + 2
    customer = make_customer(merchant)
    start = clock.now().replace(microsecond=250)
    rows = [
        (merchant.pk, customer.pk, "note", f"n{i}", start + timedelta(minutes=i)) for i in range(10)
    ]
    reported: list[int] = []
    writer = demo.BulkInsert(
        TimelineEntry, ("merchant_id", "customer_id", "kind", "actor", "occurred_at")
    )
    assert writer.write(iter(rows), reported.append) == 10
    assert sum(reported) == 10
    written = list(TimelineEntry.unscoped.filter(customer=customer).order_by("occurred_at"))
    assert [(e.actor, e.occurred_at, e.data) for e in written] == [
        (f"n{i}", start + timedelta(minutes=i), {}) for i in range(10)
    ]


def test_auto_now_add_takes_now(merchant: Merchant) -> None:
    customer = make_customer(merchant)
    now = clock.now().replace(microsecond=0) - timedelta(days=3)
    demo.BulkInsert(CustomerIdentity, ("merchant_id", "customer_id", "kind", "value"), now).write(
        [(merchant.pk, customer.pk, "wechat_openid", "o-1")]
    )
    assert CustomerIdentity.unscoped.get(customer=customer).created_at == now
    assert demo.insert_rows(CustomerIdentity, ("merchant_id", "customer_id"), []) == 0


def test_a_unique_field_must_be_given() -> None:
    with pytest.raises(ImproperlyConfigured, match="unique"):
        demo.BulkInsert(Merchant, ("name",))
    with pytest.raises(ImproperlyConfigured, match="no field"):
        demo.BulkInsert(Customer, ("merchant_id", "nope"))


def _foreign_keys(table: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'f' AND conrelid = %s::regclass ORDER BY conname",
            [table],
        )
        return cursor.fetchall()


def test_foreign_keys_checked_once_restores_them_and_checks_every_row(merchant: Merchant) -> None:
    customer = make_customer(merchant)
    columns = ("merchant_id", "customer_id", "kind", "actor", "occurred_at")
    now = clock.now()
    if connection.vendor != "postgresql":  # nothing to do on SQLite: rows are written as usual
        with transaction.atomic(), demo.foreign_keys_checked_once([TimelineEntry]):
            demo.insert_rows(TimelineEntry, columns, [(merchant.pk, customer.pk, "note", "", now)])
        assert TimelineEntry.unscoped.filter(customer=customer, kind="note").exists()
        return
    table = TimelineEntry._meta.db_table
    before = _foreign_keys(table)
    assert before
    with transaction.atomic(), demo.foreign_keys_checked_once([TimelineEntry]):
        assert _foreign_keys(table) == []
        demo.insert_rows(TimelineEntry, columns, [(merchant.pk, customer.pk, "note", "", now)])
    assert _foreign_keys(table) == before
    with (
        pytest.raises(IntegrityError),
        transaction.atomic(),
        demo.foreign_keys_checked_once([TimelineEntry]),
    ):
        demo.insert_rows(TimelineEntry, columns, [(merchant.pk, 10**12, "note", "", now)])
    assert _foreign_keys(table) == before
    assert TimelineEntry.unscoped.filter(customer=customer, kind="note").count() == 1
