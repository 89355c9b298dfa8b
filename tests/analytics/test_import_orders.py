"""Importing orders: columns, amounts in minor units, times, customers, idempotency, batches."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from siyu.analytics.importer.formats import FileProblem
from siyu.analytics.importer.testing import csv_bytes, jsonl_bytes, run_bytes
from siyu.analytics.models import ActiveDay, Sale
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant, make_staff
from siyu.customers.models import Customer, CustomerIdentity
from siyu.customers.testing import make_customer
from siyu.stores.testing import make_store

pytestmark = pytest.mark.django_db

HEADER = ["order_id", "customer_id", "placed_at", "amount"]


@pytest.fixture(autouse=True, params=["staged", "python"])
def path(request, monkeypatch):
    """Every case through both paths: on PostgreSQL orders are converted and validated by
    the database (staged), on SQLite and when turned off by Python."""
    from django.db import connection

    from siyu.analytics.importer import runner

    if request.param == "staged" and connection.vendor != "postgresql":
        pytest.skip(
            "the staged path (COPY of raw text, converted by the database) needs PostgreSQL"
        )
    monkeypatch.setattr(runner, "STAGED_ON_POSTGRES", request.param == "staged")
    return request.param


def sales(merchant):
    with merchant_context(merchant):
        return {s.external_id: s for s in Sale.objects.all()}


def test_minimal_orders_become_sales_with_new_customers(merchant):
    content = csv_bytes(
        HEADER,
        [
            ["A1", "C1", "2025-03-01 09:30:00", "128.50"],
            ["A2", "C1", "2025-03-02T23:30:00+00:00", "12"],
            ["A3", "C2", "2025-03-03T10:00:00Z", "1,280.05"],
        ],
    )
    outcome = run_bytes(merchant, "orders", content)
    assert (outcome.rows_read, outcome.rows_written, outcome.rows_rejected) == (3, 3, 0)
    assert outcome.customers_created == 2
    found = sales(merchant)
    assert found["A1"].amount == 12850
    assert found["A3"].amount == 128005
    # a naive time is the merchant's (Asia/Shanghai): 09:30 there is 01:30 UTC
    assert found["A1"].placed_at == datetime(2025, 3, 1, 1, 30, tzinfo=UTC)
    # 23:30 UTC on the 2nd is the 3rd in Shanghai
    assert found["A2"].day == date(2025, 3, 3)
    assert found["A1"].customer_id == found["A2"].customer_id != found["A3"].customer_id
    assert {s.source for s in found.values()} == {"import"}
    with merchant_context(merchant):
        customer = Customer.objects.get(pk=found["A1"].customer_id)
        assert customer.phone == ""
        assert customer.join_channel == "import"
        assert customer.created_at == datetime(2025, 3, 1, 1, 30, tzinfo=UTC)
        assert CustomerIdentity.objects.get(customer=customer).value == "C1"
        days = set(ActiveDay.objects.values_list("customer_id", "day", "kinds"))
    assert (customer.pk, date(2025, 3, 1), ActiveDay.ORDERED) in days
    assert len(days) == 3


def test_existing_customer_is_matched_by_external_identity(merchant):
    customer = make_customer(merchant, name="Old friend")
    with merchant_context(merchant):
        CustomerIdentity.objects.create(customer=customer, kind="external", value="M-9")
    outcome = run_bytes(merchant, "orders", csv_bytes(HEADER, [["X", "M-9", "2025-01-01", "5"]]))
    assert outcome.customers_created == 0
    assert sales(merchant)["X"].customer_id == customer.pk


def test_reimport_changes_nothing_and_a_corrected_file_updates(merchant):
    rows = [["A1", "C1", "2025-03-01 09:30:00", "10.00"], ["A2", "C2", "2025-03-01", "20"]]
    run_bytes(merchant, "orders", csv_bytes(HEADER, rows))
    before = {k: (s.pk, s.amount, s.customer_id) for k, s in sales(merchant).items()}
    again = run_bytes(merchant, "orders", csv_bytes(HEADER, rows))
    assert (again.rows_written, again.customers_created) == (0, 0)
    assert {k: (s.pk, s.amount, s.customer_id) for k, s in sales(merchant).items()} == before
    rows[1][3] = "25.50"
    corrected = run_bytes(merchant, "orders", csv_bytes(HEADER, rows))
    assert corrected.rows_written == 1
    assert sales(merchant)["A2"].amount == 2550
    assert sales(merchant)["A1"].amount == 1000
    with merchant_context(merchant):
        assert Customer.objects.count() == 2


def test_bad_rows_are_reported_and_good_rows_imported(merchant, tmp_path):
    content = csv_bytes(
        [*HEADER, "refunded"],
        [
            ["A1", "C1", "2025-03-01", "10", ""],
            ["", "C1", "2025-03-01", "10", ""],  # row 3: no order id
            ["A3", "C1", "yesterday", "10", ""],  # row 4
            ["A4", "C1", "2025-03-01", "10.001", ""],  # row 5
            ["A5", "C1", "2025-03-01", "-3", ""],  # row 6
            ["A6", "C1", "2025-03-01", "10", "11"],  # row 7: refund above amount
            ["A7", "C1", "2099-01-01", "10", ""],  # row 8: future
            ["A8", "C1", "2025-03-01", "8", "2"],
        ],
    )
    report = tmp_path / "report.csv"
    outcome = run_bytes(merchant, "orders", content, report_path=report)
    assert (outcome.rows_read, outcome.rows_rejected) == (8, 6)
    assert set(sales(merchant)) == {"A1", "A8"}
    assert sales(merchant)["A8"].refunded == 200
    fields = {(line["row"], line["field"]) for line in outcome.report}
    assert fields == {
        (3, "order_id"),
        (4, "placed_at"),
        (5, "amount"),
        (6, "amount"),
        (7, "refunded"),
        (8, "placed_at"),
    }
    text = report.read_text(encoding="utf-8-sig").splitlines()
    assert text[0] == "row,field,reason"
    assert text[1].startswith("3,order_id,")
    assert len(text) == 7


def test_jpy_has_no_decimals_and_kwd_three():
    yen = make_merchant(currency="JPY", time_zone="Asia/Tokyo")
    out = run_bytes(
        yen,
        "orders",
        csv_bytes(HEADER, [["J1", "C", "2025-01-01", "1200"], ["J2", "C", "2025-01-01", "1200.5"]]),
    )
    assert out.rows_rejected == 1
    assert out.report[0]["field"] == "amount"
    assert sales(yen)["J1"].amount == 1200
    dinar = make_merchant(time_zone="Asia/Kuwait")
    # core's list of merchant currencies lacks the three-decimal dinars so far
    Merchant.objects.filter(pk=dinar.pk).update(currency="KWD")
    dinar.refresh_from_db()
    out = run_bytes(
        dinar,
        "orders",
        csv_bytes(
            HEADER, [["K1", "C", "2025-01-01", "12.345"], ["K2", "C", "2025-01-01", "1.2345"]]
        ),
    )
    assert sales(dinar)["K1"].amount == 12345
    assert out.report[0]["row"] == 3


def test_a_currency_other_than_the_merchants_is_refused(merchant):
    with pytest.raises(FileProblem):
        run_bytes(
            merchant, "orders", csv_bytes(HEADER, [["A", "C", "2025-01-01", "1"]]), currency="USD"
        )
    out = run_bytes(
        merchant, "orders", csv_bytes(HEADER, [["A", "C", "2025-01-01", "1"]]), currency="cny"
    )
    assert out.rows_written == 1


def test_optional_columns_and_chinese_headers_in_gb18030(merchant):
    store = make_store(merchant, code="SH01")
    guide = make_staff(merchant, username="xiaoli")
    content = csv_bytes(
        [
            "订单号",
            "会员号",
            "下单时间",
            "实付金额",
            "退款金额",
            "门店",
            "渠道",
            "导购",
            "活动",
            "商品数",
            "备注",
        ],
        [
            [
                "订单1",
                "会员1",
                "2025/03/01 12:00:00",
                "¥99.90",
                "9.90",
                "sh01",
                "社群",
                "XiaoLi",
                "7",
                "3",
                "无",
            ]
        ],
        encoding="gb18030",
    )
    out = run_bytes(merchant, "orders", content)
    assert out.rows_rejected == 0, out.report
    sale = sales(merchant)["订单1"]
    assert (sale.amount, sale.refunded, sale.store_id, sale.channel) == (
        9990,
        990,
        store.pk,
        "社群",
    )
    assert (sale.guide_id, sale.campaign_id) == (guide.pk, 7)
    assert [(r["row"], r["field"]) for r in out.report] == [(1, "备注")]


def test_unknown_references_are_reported(merchant):
    content = csv_bytes(
        [*HEADER, "store", "group", "distributor", "guide"],
        [
            ["A", "C", "2025-01-01", "1", "NOPE", "", "", ""],
            ["B", "C", "2025-01-01", "1", "", "999999", "", ""],
            ["D", "C", "2025-01-01", "1", "", "", "888888", ""],
            ["E", "C", "2025-01-01", "1", "", "", "", "nobody"],
        ],
    )
    out = run_bytes(merchant, "orders", content)
    assert [(r["row"], r["field"]) for r in out.report] == [
        (2, "store"),
        (3, "group"),
        (4, "distributor"),
        (5, "guide"),
    ]


def test_jsonl_orders(merchant):
    content = (
        jsonl_bytes(
            [
                {
                    "order_id": "J1",
                    "customer_id": "C1",
                    "placed_at": "2025-03-01T08:00:00+08:00",
                    "amount": 19.9,
                },
                {
                    "order_id": "J2",
                    "customer_id": 42,
                    "placed_at": "2025-03-01 08:00:00",
                    "amount": "5",
                },
            ]
        )
        + b"not json\n"
    )
    out = run_bytes(merchant, "orders", content, name="orders.jsonl")
    assert out.rows_written == 2
    assert sales(merchant)["J1"].amount == 1990
    assert [(r["row"], r["field"]) for r in out.report] == [(3, "line")]


def test_several_batches_and_a_duplicate_within_a_batch(merchant):
    rows = [[f"A{n}", f"C{n % 7}", "2025-02-01 10:00:00", f"{n}.00"] for n in range(1, 24)]
    rows.append(["A5", "C5", "2025-02-01 10:00:00", "500"])  # same order again: last one wins
    out = run_bytes(merchant, "orders", csv_bytes(HEADER, rows), batch_size=5)
    assert out.rows_read == 24
    assert len(sales(merchant)) == 23
    assert sales(merchant)["A5"].amount == 50000
    assert out.customers_created == 7
    with merchant_context(merchant):
        assert Customer.objects.count() == 7
        assert CustomerIdentity.objects.count() == 7


def test_missing_required_column_fails_the_file(merchant):
    with pytest.raises(FileProblem, match="amount"):
        run_bytes(
            merchant,
            "orders",
            csv_bytes(["order_id", "customer_id", "placed_at"], [["1", "2", "3"]]),
        )


def test_group_and_distributor_of_the_merchant_and_lines_counted(merchant):
    from siyu.community.testing import make_group
    from siyu.core.testing import actor_for
    from siyu.distribution.testing import make_distributor

    group = make_group(actor_for(merchant))
    distributor = make_distributor(merchant)
    content = jsonl_bytes(
        [
            {
                "order_id": "G1",
                "customer_id": "C1",
                "placed_at": "2025-03-01 10:00:00",
                "amount": "30",
                "group": group.pk,
                "distributor": str(distributor.pk),
                "lines": 2,
            },
            {
                "order_id": "G2",
                "customer_id": "C1",
                "placed_at": "2025-03-01 10:00:00",
                "amount": "30",
                "lines": "two",
            },
        ]
    )
    out = run_bytes(merchant, "orders", content, name="orders.jsonl")
    assert [(r["row"], r["field"]) for r in out.report] == [(2, "lines")]
    sale = sales(merchant)["G1"]
    assert (sale.group_id, sale.distributor_id) == (group.pk, distributor.pk)
