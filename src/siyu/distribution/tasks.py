"""Background tasks of distribution (django.tasks)."""

from __future__ import annotations

from django.tasks import task

from siyu.distribution import services


@task()
def settle_commissions() -> int:
    """Settle the commission of orders whose return window has passed (every merchant)."""
    return services.settle_due()
