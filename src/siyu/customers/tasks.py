"""Background tasks of customers (django.tasks)."""

from __future__ import annotations

from django.tasks import task

from siyu.customers import services


@task()
def prune_login_codes() -> int:
    """Forget login codes (and idle send locks) older than a day."""
    return services.prune_login_codes()
