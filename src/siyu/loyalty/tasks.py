"""Background work of loyalty (django.tasks): expiring points, the nightly tier run."""

from __future__ import annotations

from django.tasks import task

from siyu.core import clock
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.loyalty.models import MemberTier, PointsEntry


@task()
def expire_points() -> int:
    """Hourly: what is left of lots past their expiry is written off, per merchant."""
    from siyu.loyalty.services import expire_due

    now = clock.now()
    merchant_ids = (
        PointsEntry.unscoped.filter(points__gt=0, expires_at__lte=now)
        .values_list("merchant_id", flat=True)
        .distinct()
    )
    expired = 0
    for merchant in Merchant.objects.filter(pk__in=list(merchant_ids)).order_by("pk"):
        with merchant_context(merchant):
            expired += expire_due(now)
    return expired


@task()
def evaluate_tiers() -> int:
    """Nightly: every customer's tier of every merchant with tiers (or members) re-decided."""
    from siyu.loyalty.models import CustomerTier
    from siyu.loyalty.tiers import evaluate_all

    now = clock.now()
    ids = set(MemberTier.unscoped.values_list("merchant_id", flat=True).distinct())
    ids |= set(
        CustomerTier.unscoped.filter(tier__isnull=False)
        .values_list("merchant_id", flat=True)
        .distinct()
    )
    changed = 0
    for merchant in Merchant.objects.filter(pk__in=sorted(ids)).order_by("pk"):
        with merchant_context(merchant):
            changed += evaluate_all(now)
    return changed
