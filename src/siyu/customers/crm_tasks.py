"""Background tasks of the CRM (django.tasks): timeline pruning, nightly statistics, imports."""

from __future__ import annotations

from django.tasks import task

from siyu.customers import imports, stats, timeline


@task()
def prune_timeline() -> int:
    """Delete timeline entries older than ``SIYU_TIMELINE_DAYS`` (every merchant)."""
    return timeline.prune()


@task()
def refresh_statistics() -> int:
    """Every merchant's customer statistics and RFM scores, recomputed set-based."""
    return stats.refresh_all_merchants()


@task()
def run_customer_import(import_id: int) -> str:
    """Process an uploaded CSV import in batches; the import's final status."""
    return imports.process(import_id)
