"""Background tasks of orders (django.tasks)."""

from __future__ import annotations

from django.tasks import task


@task()
def cancel_overdue_orders() -> int:
    """Cancel unpaid orders past their payment deadline and release their stock."""
    from siyu.orders.services import cancel_overdue

    return cancel_overdue()
