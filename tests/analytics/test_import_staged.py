"""The staged path on PostgreSQL (raw text COPYed in, converted and validated by the database)
against the Python path: the same file gives the same sales, customers and report lines,
whichever way each row goes (the database's own checks, or back to Python)."""

from __future__ import annotations

import pytest
from django.db import connection

from siyu.analytics.importer.testing import csv_bytes, run_bytes
from siyu.analytics.models import ActiveDay, Sale
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant, make_staff
from siyu.customers.models import CustomerIdentity
from siyu.stores.testing import make_store

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the staged path (COPY, conversion in the database) needs PostgreSQL",
    ),
    pytest.mark.django_db,
]

HEADER = ["order_id", "customer_id", "placed_at", "amount", "refunded", "store", "guide"]
HEADER += ["channel", "campaign", "lines"]

# (placed_at, amount, refunded, store, guide, channel, campaign, lines); "{store}" and
# "{guide}" are replaced by the ids of the merchant's store and guide, "{username}" by the
# guide's username in other letter case
CASES = [
    ("2025-03-01 09:30:00", "128.50", "", "", "", "", "", ""),
    ("2025-03-01T09:30:00+08:00", "12", "1.5", "sh01", "", "group", "7", "3"),
    ("2025-03-01T01:30:00Z", "0012.50", "", "SH01", "{username}", "", "", ""),
    ("2025-03-01 09:30:00z", "12.500", "", "{store}", "{guide}", "", "", ""),
    ("2025/03/01 09:30", "12.", "", "", "", "", "", ""),
    ("2025-03-01", "1,280.05", "", "", "", "", "", ""),  # commas: back to Python, accepted
    ("2025-03-01T09:30:00.123456+0530", "¥99.90", "", "", "", "", "", ""),
    ("2025-03-01T09:30:00-03", "0", "", "", "", "", "", ""),
    ("2025-02-29 10:00:00", "10", "", "", "", "", "", ""),  # no such day
    ("2024-02-29 10:00:00", "10", "", "", "", "", "", ""),  # a leap day
    ("2025-04-31", "10", "", "", "", "", "", ""),
    ("2025-03-01 24:00:00", "10", "", "", "", "", "", ""),
    ("2025-03-01 23:59:60", "10", "", "", "", "", "", ""),
    ("2025-03-01T09:30:00+25:00", "10", "", "", "", "", "", ""),
    ("2025-03-01T09:30:00+20:00", "10", "", "", "", "", "", ""),  # valid, beyond PostgreSQL
    ("1989-12-31 23:00:00", "10", "", "", "", "", "", ""),  # before 1990
    ("0000-01-01", "10", "", "", "", "", "", ""),
    ("2099-01-01", "10", "", "", "", "", "", ""),  # future
    ("yesterday", "10", "", "", "", "", "", ""),
    ("2025-03-01", "10.001", "", "", "", "", "", ""),
    ("2025-03-01", "-3", "", "", "", "", "", ""),
    ("2025-03-01", "1e3", "", "", "", "", "", ""),
    ("2025-03-01", "99999999999999", "", "", "", "", "", ""),  # too large
    ("2025-03-01", "10", "11", "", "", "", "", ""),  # refund above the amount
    ("2025-03-01", "10", "x", "", "", "", "", ""),
    ("2025-03-01", "10", "", "NOPE", "", "", "", ""),
    ("2025-03-01", "10", "", "0{store}", "", "", "", ""),  # an id with a leading zero
    ("2025-03-01", "10", "", "", "nobody", "", "", ""),
    ("2025-03-01", "10", "", "", "", "c" * 25, "", ""),
    ("2025-03-01", "10", "", "", "", "", "0", ""),
    ("2025-03-01", "10", "", "", "", "", "12a", ""),
    ("2025-03-01", "10", "", "", "", "", "", "two"),
    ("", "10", "", "", "", "", "", ""),
    ("2025-03-01", "", "", "", "", "", "", ""),
]


def _file(merchant: Merchant, store_id: int, guide_id: int) -> bytes:
    rows = []
    for n, case in enumerate(CASES):
        names = {"store": store_id, "guide": guide_id, "username": f"XiaoLi{merchant.pk}"}
        cells = [c.format(**names) for c in case]
        rows.append([f"A{n}", f"C{n % 5}", *cells[:3], cells[3], cells[4], *cells[5:]])
    rows.append(["A0", "C9", "2025-03-02 10:00:00", "5", "", "", "", "", "", ""])  # wins
    rows.append(["x" * 65, "C1", "2025-03-01", "1", "", "", "", "", "", ""])
    rows.append(["A99", "y" * 65, "2025-03-01", "1", "", "", "", "", "", ""])
    rows.append(["A98", "", "2025-03-01", "1", "", "", "", "", "", ""])
    return csv_bytes(HEADER, rows)


def _facts(merchant: Merchant) -> tuple[list[tuple], list[tuple]]:
    with merchant_context(merchant):
        keys = dict(
            CustomerIdentity.objects.filter(kind="external").values_list("customer_id", "value")
        )
        sales = sorted(
            (
                s.external_id,
                keys[s.customer_id],
                s.placed_at,
                s.day,
                s.amount,
                s.refunded,
                s.store_id is not None,
                s.guide_id is not None,
                s.channel,
                s.campaign_id,
            )
            for s in Sale.objects.all()
        )
        days = sorted((keys[a.customer_id], a.day, a.kinds) for a in ActiveDay.objects.all())
    return sales, days


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
def test_the_staged_path_equals_the_python_path(zone):
    outcomes = {}
    facts = {}
    for staged in (True, False):
        merchant = make_merchant(time_zone=zone)
        store = make_store(merchant, code="SH01")
        guide = make_staff(merchant, username=f"xiaoli{merchant.pk}")
        content = _file(merchant, store.pk, guide.pk)
        outcomes[staged] = run_bytes(merchant, "orders", content, staged=staged)
        facts[staged] = _facts(merchant)
    staged, python = outcomes[True], outcomes[False]
    assert staged.report == python.report
    assert (staged.rows_read, staged.rows_written, staged.rows_rejected) == (
        python.rows_read,
        python.rows_written,
        python.rows_rejected,
    )
    assert staged.customers_created == python.customers_created
    assert facts[True] == facts[False]
    fields = {(r["row"], r["field"]) for r in staged.report}
    assert (2, "order_id") in fields  # A0 again at the end: the earlier row is reported
    assert (10, "placed_at") in fields  # 29 February 2025
    valid = {"A0", "A1", "A2", "A3", "A4", "A5", "A6", "A7", "A9", "A14", "A26"}
    if zone == "America/New_York":
        valid.add("A15")  # 23:00 on 31 December 1989 there is already 1990 in UTC
    assert {sale[0] for sale in facts[True][0]} == valid


def test_a_repeated_hour_reads_as_python_reads_it():
    """01:30 on 2 November 2025 happens twice in New York: the first one (EDT), as
    ``parsing.timestamp`` reads it, on both paths."""
    for staged in (True, False):
        merchant = make_merchant(time_zone="America/New_York")
        content = csv_bytes(HEADER[:4], [["N1", "C", "2025-11-02 01:30:00", "1"]])
        out = run_bytes(merchant, "orders", content, staged=staged)
        assert out.rows_written == 1
        with merchant_context(merchant):
            placed = Sale.objects.get().placed_at
        assert placed.isoformat() == "2025-11-02T05:30:00+00:00", staged


def test_a_row_with_a_nul_character_is_reported_not_fatal(merchant):
    line = '{"order_id": "%s", "customer_id": "%s", "placed_at": "2025-03-01", "amount": "1"}\n'
    content = "".join(
        line % ids for ids in [("J1", "C1"), ("J\\u00002", "C1"), ("J3", "\\ud800")]
    ).encode()
    out = run_bytes(merchant, "orders", content, name="orders.jsonl", staged=True)
    assert out.rows_written == 1
    assert [(r["row"], r["field"]) for r in out.report] == [(2, "line"), (3, "line")]


def test_dry_run_validates_in_the_database_and_writes_nothing(merchant):
    content = csv_bytes(
        HEADER[:4], [["D1", "C1", "2025-03-01", "1"], ["D2", "C1", "2025-02-30", "1"]]
    )
    out = run_bytes(merchant, "orders", content, staged=True, dry_run=True)
    assert (out.rows_valid, out.rows_rejected, out.rows_written) == (1, 1, 0)
    assert out.report[0]["row"] == 3
    with merchant_context(merchant):
        assert not Sale.objects.exists()
        assert not CustomerIdentity.objects.exists()
