"""Leaderboards of guides and distributors, on rows made by hand (Asia/Shanghai).

Period: 2026-03-01 .. 03-31. Guide g1 got customers x (bound 03-02) and y (assigned 03-31
23:30, still in March); guide g2 got z on 04-01 00:10 (April). x and y are g1's now, z g2's.
Distributor d1 bound y on 03-10; its commission: +500 pending and −200 reversed in March,
+900 pending in April; a settled entry never counts as earned.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from siyu.analytics import metrics_boards as boards
from siyu.analytics.reference import Period, SaleStats
from siyu.analytics.testing import make_active_day, make_sale
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.testing import make_staff
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer
from siyu.distribution.models import Binding, BindingChange, CommissionEntry
from siyu.distribution.testing import make_distributor
from siyu.guides.models import OwnershipChange

pytestmark = pytest.mark.django_db

MARCH = Period(date(2026, 3, 1), date(2026, 4, 1))
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[arg-type,misc]


def test_guide_board(merchant: Merchant) -> None:
    g1, g2 = make_staff(merchant, Role.SHOPPING_GUIDE), make_staff(merchant, Role.SHOPPING_GUIDE)
    x, y, z = (make_customer(merchant) for _ in range(3))
    for customer, guide, kind, at in [
        (x, g1, OwnershipChange.Kind.BOUND, local(2026, 3, 2, 10)),
        (y, g1, OwnershipChange.Kind.ASSIGNED, local(2026, 3, 31, 23, 30)),
        (z, g2, OwnershipChange.Kind.BOUND, local(2026, 4, 1, 0, 10)),
    ]:
        OwnershipChange.unscoped.create(
            merchant=merchant, customer=customer, to_guide=guide, kind=kind, changed_at=at
        )
        Customer.unscoped.filter(pk=customer.pk).update(owner_guide=guide)
    make_active_day(merchant, x.pk, date(2026, 3, 5))
    make_active_day(merchant, x.pk, date(2026, 3, 6))
    make_active_day(merchant, z.pk, date(2026, 3, 7))
    make_sale(merchant, x.pk, datetime(2026, 3, 5, 12), 3000, 1000, guide_id=g1.pk)
    make_sale(merchant, z.pk, datetime(2026, 3, 7, 12), 5000, guide_id=g2.pk)
    rows = boards.guide_board(merchant, MARCH)
    assert [row.id for row in rows] == [g2.pk, g1.pk]  # by attributed net sales
    second, first = rows
    assert (first.customers_added, first.active_customers, first.commission) == (2, 1, 0)
    assert first.sales == SaleStats(3000, 1000, 1, 1, 0, 1, 1, 0, 1)
    assert (second.customers_added, second.active_customers) == (0, 1)
    assert second.sales.net_sales == 5000


def test_distributor_board_with_commission(merchant: Merchant) -> None:
    d1 = make_distributor(merchant)
    y = make_customer(merchant)
    BindingChange.unscoped.create(
        merchant=merchant, customer=y, to_distributor=d1, source="link", at=local(2026, 3, 10)
    )
    Binding.unscoped.create(
        merchant=merchant, customer=y, distributor=d1, since=local(2026, 3, 10), source="link"
    )
    make_sale(merchant, y.pk, datetime(2026, 3, 11, 12), 2000, distributor_id=d1.pk)
    kinds = CommissionEntry.Kind
    # Entries point at orders that these facts do not need (no database constraint there).
    for n, (kind, amount, at) in enumerate([
        (kinds.PENDING, 500, local(2026, 3, 11, 12)),
        (kinds.REVERSED, -200, local(2026, 3, 31, 23, 59)),
        (kinds.SETTLED, 300, local(2026, 3, 20)),
        (kinds.PENDING, 900, local(2026, 4, 1, 0, 1)),
    ], start=1):  # fmt: skip
        CommissionEntry.unscoped.create(
            merchant=merchant, distributor=d1, order_id=10_000 + n, order_line_id=10_000 + n,
            kind=kind, amount=amount, key=f"k{n}" if kind != kinds.SETTLED else None,
            created_at=at,
        )  # fmt: skip
    (row,) = boards.distributor_board(merchant, MARCH)
    assert row.id == d1.pk
    assert (row.customers_added, row.active_customers, row.commission) == (1, 1, 300)
    assert row.sales.net_sales == 2000
    assert boards.distributor_board(merchant, Period(date(2026, 5, 1), date(2026, 6, 1))) == []
