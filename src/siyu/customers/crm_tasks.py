"""Background tasks of the CRM (django.tasks): timeline pruning, nightly statistics, imports."""

from __future__ import annotations

from django.tasks import task

from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers import imports, stats, timeline, windows


@task()
def prune_timeline() -> int:
    """Delete timeline entries older than ``SIYU_TIMELINE_DAYS`` (every merchant)."""
    return timeline.prune()


@task()
def refresh_statistics() -> int:
    """Every merchant's customer statistics and RFM scores, recomputed set-based."""
    return stats.refresh_all_merchants()


@task()
def roll_order_windows() -> int:
    """Move every merchant's order windows to their local today (a no-op until it changes);
    build them where they are missing or were invalidated."""
    return windows.roll_all_merchants()


@task()
def rebuild_order_windows(merchant_id: int) -> str:
    """Rebuild one merchant's order windows (after the catalogue's tree changed)."""
    merchant = Merchant.objects.get(pk=merchant_id)
    with merchant_context(merchant):
        return windows.rebuild(merchant).isoformat()


@task()
def run_customer_import(import_id: int) -> str:
    """Process an uploaded CSV import in batches; the import's final status."""
    return imports.process(import_id)
