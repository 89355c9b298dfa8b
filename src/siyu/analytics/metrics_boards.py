"""Leaderboards of shopping guides and distributors for a period of local days.

Per guide (a staff ``Membership``) or distributor:

* customers added: distinct customers who became the guide's in the period
  (``guides.OwnershipChange`` to them: bound by their code, assigned, transferred, imported)
  or were bound to the distributor (``distribution.BindingChange`` to them);
* active customers: customers the guide owns now (``Customer.owner_guide``) or bound to the
  distributor now (``distribution.Binding``) who were active in the period (``ActiveDay``;
  from sales when the merchant has no activity facts in it);
* attributed sales: net sales, orders and buyers of the period's sales carrying their id;
* commission: earned in the period (pending entries minus reversals, by the entry's time),
  read through the distribution app's ledger selectors.

Reads other apps' tables only; never writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone

from siyu.analytics import metrics_sql as q
from siyu.analytics.models import ActiveDay
from siyu.analytics.reference import Filters, Period, SaleStats
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.distribution import guide_selectors
from siyu.distribution import selectors as distribution_selectors
from siyu.distribution.models import Binding, BindingChange
from siyu.guides.models import OwnershipChange

ADDED_KINDS = (
    OwnershipChange.Kind.BOUND,
    OwnershipChange.Kind.ASSIGNED,
    OwnershipChange.Kind.TRANSFER,
    OwnershipChange.Kind.IMPORTED,
)


@dataclass(frozen=True)
class BoardRow:
    id: int
    customers_added: int = 0
    active_customers: int = 0
    sales: SaleStats = field(default_factory=SaleStats)
    commission: int = 0


def _rows(
    added: dict[int, int],
    active: dict[int, int],
    sales: dict[Any, SaleStats],
    commission: dict[int, int],
) -> list[BoardRow]:
    ids = {*added, *active, *commission, *(k for k in sales if k is not None)}
    rows = [
        BoardRow(
            id=i,
            customers_added=added.get(i, 0),
            active_customers=active.get(i, 0),
            sales=sales.get(i, SaleStats()),
            commission=commission.get(i, 0),
        )
        for i in ids
    ]
    return sorted(rows, key=lambda r: (-r.sales.net_sales, -r.customers_added, r.id))


def _active_by_owner(
    merchant: Merchant, period: Period, owner_table: str, owner_column: str
) -> dict[int, int]:
    has_facts = ActiveDay.unscoped.filter(
        merchant_id=merchant.pk, day__gte=period.start, day__lt=period.end
    ).exists()
    facts = q.ACTIVE if has_facts else q.SALE
    sql = f"""
        SELECT o.{owner_column}, COUNT(DISTINCT a.customer_id)
        FROM {facts} a JOIN {owner_table} o ON o.{"id" if owner_table == q.CUSTOMER else "customer_id"} = a.customer_id
        WHERE a.merchant_id = %s AND o.merchant_id = %s AND a.day >= %s AND a.day < %s
          AND o.{owner_column} IS NOT NULL
        GROUP BY o.{owner_column}
    """  # noqa: S608
    params = [merchant.pk, merchant.pk, q.db_date(period.start), q.db_date(period.end)]
    return {int(k): int(n) for k, n in q.fetch(sql, params)}


def _bounds(merchant: Merchant, period: Period) -> tuple[Any, Any]:
    return q.local_midnight_utc(merchant, period.start), q.local_midnight_utc(merchant, period.end)


def guide_board(merchant: Merchant, period: Period) -> list[BoardRow]:
    """Every guide with anything in the period, best attributed net sales first."""
    start, end = _bounds(merchant, period)
    with merchant_context(merchant):
        added = {
            r["to_guide_id"]: r["n"]
            for r in OwnershipChange.objects.filter(
                to_guide__isnull=False,
                kind__in=ADDED_KINDS,
                changed_at__gte=start,
                changed_at__lt=end,
            )
            .values("to_guide_id")
            .annotate(n=Count("customer_id", distinct=True))
            .order_by()
        }
        commission = {
            r["guide_id"]: int(r["earned"])
            for r in guide_selectors.entries()
            .filter(guide_selectors.EARNED_SIDE, created_at__gte=start, created_at__lt=end)
            .values("guide_id")
            .annotate(earned=Sum("amount"))
            .order_by()
        }
    active = _active_by_owner(merchant, period, q.CUSTOMER, "owner_guide_id")
    sales = q.sale_stats_rows(merchant, period.start, period.end, Filters(), "s.guide_id")
    return _rows(added, active, sales, commission)


def distributor_board(merchant: Merchant, period: Period) -> list[BoardRow]:
    """Every distributor with anything in the period, best attributed net sales first."""
    start, end = _bounds(merchant, period)
    with merchant_context(merchant), timezone.override(merchant.time_zone):
        added = {
            r["to_distributor_id"]: r["n"]
            for r in BindingChange.objects.filter(at__gte=start, at__lt=end)
            .values("to_distributor_id")
            .annotate(n=Count("customer_id", distinct=True))
            .order_by()
        }
        # The ledger selector takes whole local days, both ends included.
        filters = distribution_selectors.EntryFilters(
            since=period.start, until=period.end - timedelta(days=1)
        )
        commission = {
            r["distributor_id"]: int(r["earned"])
            for r in distribution_selectors.entries(filters)
            .filter(guide_selectors.EARNED_SIDE)
            .values("distributor_id")
            .annotate(earned=Sum("amount"))
            .order_by()
        }
    active = _active_by_owner(merchant, period, Binding._meta.db_table, "distributor_id")
    sales = q.sale_stats_rows(merchant, period.start, period.end, Filters(), "s.distributor_id")
    return _rows(added, active, sales, commission)
