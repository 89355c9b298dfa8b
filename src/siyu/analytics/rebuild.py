"""Writing Siyu's facts again from the operational tables, and counting what is there.

:func:`rebuild` runs each writer of :mod:`siyu.analytics.facts` once over a whole merchant —
one set-based ``INSERT … SELECT … ON CONFLICT DO UPDATE`` per fact table — in one
transaction. It is what ``siyu analytics rebuild`` and the demo run: after a restore, after a
consumer was down past the outbox's retries, or to fill the tables for history that existed
before analytics did. It is idempotent (a second run writes the same values) and leaves
imported rows (``source = "import"``) alone. Facts of Siyu's own rows whose source row has
since been deleted are kept (a deleted group's spans still describe the past).

:func:`status` counts the rows of each table by source, for ``siyu analytics status``, and
says whether the daily rollups are current (``ready``) and how many rows they hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q

from siyu.analytics import facts, rollups
from siyu.analytics.models import ActiveDay, GroupSpan, ReferralLink, Sale
from siyu.core.models import Merchant

STEPS = ("sales", "active days", "group spans", "referral links")


@dataclass
class RebuildReport:
    """Rows written (inserted or updated) per table, in :data:`STEPS` order."""

    written: dict[str, int] = field(default_factory=dict)
    rollup_rows: dict[str, int] = field(default_factory=dict)  # rebuilt from all the facts

    @property
    def total(self) -> int:
        return sum(self.written.values())


def rebuild(
    merchant: Merchant, *, progress: Callable[[str, int], None] | None = None
) -> RebuildReport:
    """Write ``merchant``'s Siyu facts again from its orders, group memberships, group-chat
    messages, referrals and distributor bindings, then its rollups from all its facts (imported
    ones too); ``progress(step, rows)`` after each table."""
    report = RebuildReport()
    writers: list[Callable[[], int]] = [
        lambda: facts.write_sales(merchant, maintain=False),
        lambda: facts.write_active_days(
            merchant, orders=Q(), memberships=Q(), messages=Q(), maintain=False
        ),
        lambda: facts.write_group_spans(merchant),
        lambda: facts.write_referral_links(merchant),
    ]
    with transaction.atomic():
        for step, write in zip(STEPS, writers, strict=True):
            report.written[step] = write()
            if progress is not None:
                progress(step, report.written[step])
        report.rollup_rows = rollups.rebuild(merchant)
        if progress is not None:
            progress("rollups", sum(report.rollup_rows.values()))
    return report


def status(merchant: Merchant) -> dict[str, dict[str, int]]:
    """``{table: {source: rows}}`` of ``merchant``'s facts (active days have no source: they
    are counted under ``"all"``, and by flag)."""
    counts: dict[str, dict[str, int]] = {}
    for name, model in (
        ("sales", Sale),
        ("group spans", GroupSpan),
        ("referral links", ReferralLink),
    ):
        rows = (
            model.unscoped.filter(merchant_id=merchant.pk)
            .values("source")
            .annotate(n=Count("pk"))
            .order_by("source")
        )
        counts[name] = {row["source"]: row["n"] for row in rows}
    days = ActiveDay.unscoped.filter(merchant_id=merchant.pk)
    flags = {
        "ordered": ActiveDay.ORDERED,
        "messaged": ActiveDay.MESSAGED,
        "visited": ActiveDay.VISITED,
        "joined": ActiveDay.JOINED,
    }
    counts["active days"] = days.aggregate(
        all=Count("pk"),
        **{
            name: Count("pk", filter=Q(kinds__in=[k for k in range(16) if k & flag]))
            for name, flag in flags.items()
        },
    )
    counts["rollups"] = {
        "ready": int(rollups.ready(merchant)),
        **{
            name: model.unscoped.filter(merchant_id=merchant.pk).count()
            for name, model in zip(
                ("sales days", "buyers days", "cohort days", "activity days"),
                rollups.ROLLUP_MODELS,
                strict=True,
            )
        },
    }
    return counts
