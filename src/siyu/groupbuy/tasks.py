"""Background work of group-buys (django.tasks): time moving activities and failing teams."""

from __future__ import annotations

from django.tasks import task


@task()
def close_due_teams() -> int:
    """Every minute: open teams past their deadline fail and their members are refunded (and
    paid members a rolled-back consumer left unseated are seated)."""
    from siyu.groupbuy.services import fail_overdue, seat_stragglers

    seat_stragglers()
    return fail_overdue()


@task()
def advance_activities() -> int:
    """Every minute: scheduled group-buys whose start came run; those past their end end."""
    from siyu.groupbuy.activities import advance_due

    return advance_due()
