"""Background tasks of inventory (django.tasks)."""

from __future__ import annotations

from django.tasks import task


@task()
def expire_stock_reservations() -> int:
    """Release the stock of reservations past their expiry (the periodic job)."""
    from siyu.inventory.services import expire_reservations

    return expire_reservations()
