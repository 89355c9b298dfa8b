"""The pipelined import on PostgreSQL: batches written on a second connection while the next
is parsed (what the CLI and the worker do outside a transaction) give the same facts."""

from __future__ import annotations

import pytest
from django.db import connection

from siyu.analytics.importer.testing import csv_bytes, run_bytes
from siyu.analytics.models import Sale
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant
from siyu.customers.models import Customer

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the second connection must see committed rows: needs PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]

HEADER = ["order_id", "customer_id", "placed_at", "amount"]


def test_pipelined_batches_equal_the_file():
    merchant = make_merchant()
    rows = [[f"P{n}", f"C{n % 13}", "2025-02-01 10:00:00", f"{n}.50"] for n in range(1, 101)]
    rows.insert(40, ["P-bad", "C1", "2025-02-31 10:00:00", "1"])
    content = csv_bytes(HEADER, rows)
    out = run_bytes(merchant, "orders", content, batch_size=7, pipelined=True)
    assert (out.rows_read, out.rows_written, out.rows_rejected) == (101, 100, 1)
    assert out.report[0]["row"] == 42
    assert out.customers_created == 13
    with merchant_context(merchant):
        assert Sale.objects.count() == 100
        assert sum(Sale.objects.values_list("amount", flat=True)) == sum(
            n * 100 + 50 for n in range(1, 101)
        )
        assert Customer.objects.count() == 13
    again = run_bytes(merchant, "orders", content, batch_size=7, pipelined=True)
    assert (again.rows_written, again.customers_created) == (0, 0)


def test_an_error_in_the_writer_reaches_the_caller(monkeypatch):
    from siyu.analytics.importer import writers

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writers, "write_sales", broken)
    merchant = make_merchant()
    rows = [[f"P{n}", "C", "2025-02-01 10:00:00", "1"] for n in range(30)]
    with pytest.raises(RuntimeError, match="disk full"):
        run_bytes(merchant, "orders", csv_bytes(HEADER, rows), batch_size=5, pipelined=True)
