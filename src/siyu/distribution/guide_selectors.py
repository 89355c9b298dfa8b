"""Reads of shopping guides' commission: the rule set, a guide's balances, the workbench card."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q, QuerySet, Sum

from siyu.core import clock
from siyu.core.models import Membership
from siyu.distribution import commission
from siyu.distribution.models import GuideCommissionEntry, GuideCommissionRule

Kind = GuideCommissionEntry.Kind
SETTLED_SIDE = Q(kind=Kind.SETTLED) | Q(kind=Kind.REVERSED, from_settled=True)
EARNED_SIDE = Q(kind__in=[Kind.PENDING, Kind.REVERSED])


def rule_set() -> commission.RuleSet:
    default = None
    by_category: dict[int, commission.Rule] = {}
    by_product: dict[int, commission.Rule] = {}
    for row in GuideCommissionRule.objects.all():
        rule = commission.Rule(row.kind, row.rate_bp, row.fixed_fen)
        if row.scope == GuideCommissionRule.Scope.DEFAULT:
            default = rule
        elif row.scope == GuideCommissionRule.Scope.CATEGORY and row.category_id is not None:
            by_category[row.category_id] = rule
        elif row.product_id is not None:
            by_product[row.product_id] = rule
    return commission.RuleSet(default, by_category, by_product)


@dataclass(frozen=True)
class GuideBalances:
    """A guide's commission in fen, sums of the ledger: ``earned`` (pending + reversed) splits
    into ``settled`` and ``pending`` (still within the return window)."""

    earned: int
    pending: int
    settled: int


def balances(guide: Membership | int) -> GuideBalances:
    pk = guide.pk if isinstance(guide, Membership) else guide
    sums = GuideCommissionEntry.objects.filter(guide_id=pk).aggregate(
        earned=Sum("amount", filter=EARNED_SIDE, default=0),
        settled=Sum("amount", filter=SETTLED_SIDE, default=0),
    )
    earned, settled = int(sums["earned"]), int(sums["settled"])
    return GuideBalances(earned=earned, pending=earned - settled, settled=settled)


def all_balances() -> dict[int, GuideBalances]:
    """Every guide's balances of the bound merchant (one grouped query)."""
    rows = (
        GuideCommissionEntry.objects.values("guide_id")
        .annotate(
            earned=Sum("amount", filter=EARNED_SIDE, default=0),
            settled=Sum("amount", filter=SETTLED_SIDE, default=0),
        )
        .order_by("guide_id")
    )
    return {
        r["guide_id"]: GuideBalances(
            int(r["earned"]), int(r["earned"]) - int(r["settled"]), int(r["settled"])
        )
        for r in rows
    }


def entries(
    guide_id: int | None = None, order_id: int | None = None
) -> QuerySet[GuideCommissionEntry]:
    rows = GuideCommissionEntry.objects.order_by("-created_at", "-id")
    if guide_id is not None:
        rows = rows.filter(guide_id=guide_id)
    if order_id is not None:
        rows = rows.filter(order_id=order_id)
    return rows


@dataclass(frozen=True)
class Card:
    """The workbench's commission card of one guide."""

    balances: GuideBalances
    last_30_days: int  # fen earned (net of refunds) by entries of the last 30 days
    orders_30_days: int  # orders that earned in the last 30 days
    has_rules: bool


def card(guide: Membership) -> Card:
    since = clock.now() - timedelta(days=30)
    recent = GuideCommissionEntry.objects.filter(guide_id=guide.pk, created_at__gte=since)
    return Card(
        balances=balances(guide),
        last_30_days=int(recent.filter(EARNED_SIDE).aggregate(s=Sum("amount", default=0))["s"]),
        orders_30_days=recent.filter(kind=Kind.PENDING).values("order_id").distinct().count(),
        has_rules=GuideCommissionRule.objects.exists(),
    )
