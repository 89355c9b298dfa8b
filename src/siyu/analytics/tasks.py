"""Background tasks of analytics (django.tasks)."""

from __future__ import annotations

from django.tasks import task

from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context


@task()
def rebuild_facts(merchant_id: int) -> dict[str, int]:
    """Write one merchant's Siyu facts again (:func:`siyu.analytics.rebuild.rebuild`); the rows
    written per table. Idempotent, so a retried task is harmless."""
    from siyu.analytics.rebuild import rebuild

    merchant = Merchant.objects.get(pk=merchant_id)
    with merchant_context(merchant):
        return rebuild(merchant).written
