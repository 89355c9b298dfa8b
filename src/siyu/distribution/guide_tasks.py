"""Background task of shopping guides' commission (django.tasks)."""

from __future__ import annotations

from django.tasks import task

from siyu.distribution import guide_commission


@task()
def settle_guide_commissions() -> int:
    """Settle guides' commission of orders whose return window has passed (every merchant)."""
    return guide_commission.settle_guides_due()
