"""Reads of shopping guides' commission: the rule set, a guide's balances, the workbench card,
and the console's per-guide summaries, filtered ledger and CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from siyu.core import clock
from siyu.core.models import Membership
from siyu.core.permissions import Role
from siyu.core.tenancy import current_merchant
from siyu.distribution import commission
from siyu.distribution.models import GuideCommissionEntry, GuideCommissionRule
from siyu.distribution.selectors import _yuan

Kind = GuideCommissionEntry.Kind
SETTLED_SIDE = Q(kind=Kind.SETTLED) | Q(kind=Kind.REVERSED, from_settled=True)
EARNED_SIDE = Q(kind__in=[Kind.PENDING, Kind.REVERSED])


def rule_set() -> commission.RuleSet:
    """The guides' rules of the bound merchant, for the pure calculator."""
    from siyu.distribution.ledger import rules_of

    return rules_of(GuideCommissionRule)


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


# --- the console: per-guide summaries, the filtered ledger, its export ---------------------------


@dataclass(frozen=True)
class GuideSummary:
    """One guide's line of the console: who, and the sums of their entries (fen)."""

    guide_id: int
    name: str
    active: bool  # still an active member (an inactive guide earns nothing on new orders)
    orders: int  # orders that earned them commission
    pending: int  # earned, not yet settled
    settled: int  # settled, net of refunds after settlement
    reversed: int  # taken back by refunds (a positive number)

    @property
    def earned(self) -> int:
        return self.pending + self.settled


def guide_names(guide_ids: Iterable[int] | None = None) -> dict[int, tuple[str, bool]]:
    """The bound merchant's staff (or those of ``guide_ids``): name and whether active.
    Memberships are not merchant-scoped rows, so the merchant is named here."""
    rows = Membership.objects.filter(merchant=current_merchant()).select_related("user")
    if guide_ids is not None:
        rows = rows.filter(pk__in=list(guide_ids))
    return {
        m.pk: (m.user.get_full_name() or m.user.get_username(), m.is_active)
        for m in rows.order_by("pk")
    }


def guide_choices() -> list[tuple[int, str]]:
    """Who the ledger may be filtered by: shopping guides, and anyone with entries."""
    with_entries = set(GuideCommissionEntry.objects.values_list("guide_id", flat=True).distinct())
    guides = set(
        Membership.objects.filter(
            merchant=current_merchant(), role=Role.SHOPPING_GUIDE
        ).values_list("pk", flat=True)
    )
    names = guide_names(with_entries | guides)
    return sorted(((pk, name) for pk, (name, _active) in names.items()), key=lambda c: c[1])


def summaries(guide_id: int | None = None) -> list[GuideSummary]:
    """Every guide with entries (or just ``guide_id``), by what they earned: one grouped
    query over the ledger and one for the names."""
    rows = GuideCommissionEntry.objects.order_by().values("guide_id")
    if guide_id is not None:
        rows = rows.filter(guide_id=guide_id)
    sums = rows.annotate(
        earned=Sum("amount", filter=EARNED_SIDE, default=0),
        settled=Sum("amount", filter=SETTLED_SIDE, default=0),
        reversed=Sum("amount", filter=Q(kind=Kind.REVERSED), default=0),
        orders=Count("order_id", filter=Q(kind=Kind.PENDING), distinct=True),
    )
    found = list(sums)
    names = guide_names(r["guide_id"] for r in found)
    result = [
        GuideSummary(
            guide_id=r["guide_id"],
            name=names.get(r["guide_id"], (f"#{r['guide_id']}", False))[0],
            active=names.get(r["guide_id"], ("", False))[1],
            orders=int(r["orders"]),
            pending=int(r["earned"]) - int(r["settled"]),
            settled=int(r["settled"]),
            reversed=-int(r["reversed"]),
        )
        for r in found
    ]
    return sorted(result, key=lambda s: (-s.earned, s.guide_id))


def ledger_rows(guide_id: int | None = None, kind: str = "") -> QuerySet[GuideCommissionEntry]:
    """Entries for the console, newest first, by guide and state."""
    rows = entries(guide_id).select_related("order")
    if kind:
        rows = rows.filter(kind=kind)
    return rows


LEDGER_CSV_HEADER = [
    "entry_id",
    "created_at",
    "guide_id",
    "guide",
    "order_number",
    "order_line_id",
    "kind",
    "amount_fen",
    "amount_yuan",
    "from_settled",
]


def ledger_csv(guide_id: int | None = None, kind: str = "") -> Iterator[str]:
    """The filtered guide ledger as CSV lines, oldest first (times in the current time zone),
    like the distributors' export (:func:`siyu.distribution.selectors.entries_csv`)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LEDGER_CSV_HEADER)
    yield out.getvalue()
    names = guide_names()
    rows = ledger_rows(guide_id, kind).order_by("created_at", "id")
    for e in rows.iterator(chunk_size=2000):
        out.seek(0)
        out.truncate()
        writer.writerow(
            [
                e.pk,
                timezone.localtime(e.created_at).isoformat(),
                e.guide_id,
                names.get(e.guide_id, ("", False))[0],
                e.order.number,
                e.order_line_id,
                e.kind,
                e.amount,
                _yuan(e.amount),
                "yes" if e.from_settled else "no",
            ]
        )
        yield out.getvalue()
