"""Background tasks of guides (django.tasks)."""

from __future__ import annotations

from django.tasks import task

from siyu.guides import followups, transfers


@task()
def generate_daily_tasks() -> int:
    """Create the follow-up tasks due today for every merchant's guides (idempotent)."""
    return followups.generate_all()


@task()
def run_transfer_task(transfer_id: int) -> int:
    """Carry out (or resume) a large transfer; the number of customers moved."""
    return transfers.run_transfer(transfer_id).customers_moved
