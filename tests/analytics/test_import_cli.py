"""``siyu import`` end to end (call_command): summary, report beside the file, exit status,
dry run, the ImportRun; and an imported customer without a phone in the console."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from siyu.analytics.importer.testing import csv_bytes, write
from siyu.analytics.models import ImportRun, Sale
from siyu.core.tenancy import merchant_context
from siyu.core.testing import staff_client
from siyu.customers.models import Customer

pytestmark = pytest.mark.django_db

HEADER = ["order_id", "customer_id", "placed_at", "amount"]
ROWS = [
    ["A1", "C1", "2025-03-01 09:30:00", "10.00"],
    ["A2", "C2", "2025-03-02 09:30:00", "ten"],
    ["A3", "C2", "2025-03-03 09:30:00", "7"],
]


def run(*args, **options):
    out = io.StringIO()
    call_command("import", *args, stdout=out, no_progress=True, **options)
    return out.getvalue()


def test_orders_file_imported_with_report_beside_it(merchant, tmp_path):
    path = write(tmp_path / "orders.csv", csv_bytes(HEADER, ROWS))
    out = run("orders", str(path), merchant=merchant.slug, batch_size=2)
    assert "3" in out
    report = tmp_path / "orders.csv.report.csv"
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "row,field,reason"
    assert lines[1].startswith("3,amount,")
    with merchant_context(merchant):
        assert set(Sale.objects.values_list("external_id", flat=True)) == {"A1", "A3"}
        run_row = ImportRun.objects.get()
    assert (run_row.status, run_row.kind, run_row.file_format) == ("done", "orders", "csv")
    assert (run_row.rows_read, run_row.rows_written, run_row.rows_rejected) == (3, 2, 1)
    assert run_row.bytes_read == run_row.bytes_total == path.stat().st_size
    assert [(r["row"], r["field"]) for r in run_row.report] == [(3, "amount")]
    # the same file again: nothing changes
    run("orders", str(path), merchant=merchant.slug)
    with merchant_context(merchant):
        assert ImportRun.objects.order_by("-id").first().rows_written == 0
        assert Sale.objects.count() == 2


def test_dry_run_writes_nothing_and_report_path(merchant, tmp_path):
    path = write(tmp_path / "orders.txt", csv_bytes(HEADER, ROWS))
    report = tmp_path / "out" / "r.csv"
    run("orders", str(path), merchant=merchant.slug, dry_run=True, report=str(report), format="csv")
    assert report.exists()
    with merchant_context(merchant):
        assert not Sale.objects.exists()
        assert not Customer.objects.exists()
        assert not ImportRun.objects.exists()


def test_exit_status(merchant, tmp_path):
    unreadable = write(tmp_path / "bad.csv", b"amount\n1\n")
    with pytest.raises(CommandError) as failed:
        run("orders", str(unreadable), merchant=merchant.slug)
    assert failed.value.returncode == 2
    with merchant_context(merchant):
        assert ImportRun.objects.get().status == "failed"
    nothing = write(tmp_path / "none.csv", csv_bytes(HEADER, [["A", "C", "when", "1"]]))
    with pytest.raises(CommandError) as empty:
        run("orders", str(nothing), merchant=merchant.slug)
    assert empty.value.returncode == 1
    with pytest.raises(CommandError) as missing:
        run("orders", str(tmp_path / "missing.csv"), merchant=merchant.slug)
    assert missing.value.returncode == 2
    with pytest.raises(CommandError):
        run("orders", str(nothing), merchant="no-such-merchant")
    with pytest.raises(CommandError) as currency:
        run("orders", str(nothing), merchant=merchant.slug, currency="JPY")
    assert currency.value.returncode == 2


def test_customers_jsonl_and_the_console_shows_one_without_phone(merchant, tmp_path):
    path = write(
        tmp_path / "customers.jsonl",
        b'{"external_id": "V1", "name": "\xe7\x8e\x8b\xe8\x8a\xb3"}\n{"external_id": "V2"}\n',
    )
    run("customers", str(path), merchant=merchant.slug)
    with merchant_context(merchant):
        named, bare = Customer.objects.order_by("id")
    assert (named.phone, bare.phone) == ("", "")
    client = staff_client(merchant)
    page = client.get(reverse("customers:customer_list")).content.decode()
    assert "王芳" in page
    assert f"#{bare.pk}</a>" in page
    detail = client.get(reverse("customers:customer_detail", args=[bare.pk])).content.decode()
    assert f"#{bare.pk}" in detail
    assert str(bare) == f"#{bare.pk}"
