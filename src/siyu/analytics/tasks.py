"""Background tasks of analytics (django.tasks).

* :func:`rebuild_facts` — one merchant's facts written again (the console or an operator
  can enqueue it; ``siyu analytics rebuild`` runs the same in the foreground).
* :func:`refresh_lifetime` — nightly: every merchant with sales gets its lifetime-value models
  fitted again and every buyer scored (:func:`siyu.analytics.lifetime.refresh`).
* :func:`run_holdout_check` — a holdout check queued from the console or the API
  (:mod:`siyu.analytics.holdout_runs`).
* :func:`sweep_group_messages` — the messaged flag of active days. The community app emits no
  event when a customer posts in a group chat, so this periodic task reads the messages posted
  since its last run (a range of the primary key, remembered in the cache) and ORs the flag in,
  as the rebuild does. Without the remembered position (a cold cache) it reads the last
  :data:`COLD_WINDOW` of messages by time instead; writing a flag twice changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.db.models import Max, Q
from django.tasks import task

from siyu.core import clock
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context

SWEPT_KEY = "siyu:analytics:messages-swept-to"  # the last message id swept
COLD_WINDOW = timedelta(hours=2)
SWEEP_EVERY = timedelta(minutes=5)
LIFETIME_EVERY = timedelta(days=1)


@task()
def run_holdout_check(run_id: int) -> str:
    """Run the queued :class:`~siyu.analytics.models.HoldoutRun` ``run_id``; its status. A
    retried task finds the run finished and leaves it."""
    from siyu.analytics import holdout_runs

    return holdout_runs.process(run_id)


@task()
def rebuild_facts(merchant_id: int) -> dict[str, int]:
    """Write one merchant's Siyu facts again (:func:`siyu.analytics.rebuild.rebuild`); the rows
    written per table. Idempotent, so a retried task is harmless."""
    from siyu.analytics.rebuild import rebuild

    merchant = Merchant.objects.get(pk=merchant_id)
    with merchant_context(merchant):
        return rebuild(merchant).written


@task()
def sweep_group_messages() -> int:
    """Mark the days customers posted in group chats since the last sweep; the active-day rows
    written (every merchant)."""
    from siyu.analytics import facts
    from siyu.community.models import Conversation, Message

    top = Message.unscoped.aggregate(top=Max("pk"))["top"] or 0
    swept = cache.get(SWEPT_KEY)
    if isinstance(swept, int) and swept <= top:
        window = Q(pk__gt=swept, pk__lte=top)
    else:
        window = Q(pk__lte=top, created_at__gte=clock.now() - COLD_WINDOW)
    merchant_ids = (
        Message.unscoped.filter(
            window, sender_customer__isnull=False, conversation__kind=Conversation.Kind.GROUP
        )
        .order_by()
        .values_list("merchant_id", flat=True)
        .distinct()
    )
    written = 0
    for merchant in Merchant.objects.filter(pk__in=list(merchant_ids)).order_by("pk"):
        with merchant_context(merchant):
            written += facts.write_active_days(merchant, messages=window)
    cache.set(SWEPT_KEY, top, timeout=None)
    return written


@task()
def refresh_lifetime() -> dict[str, int]:
    """Fit and score every merchant with sales (one transaction each); customers scored per
    merchant slug."""
    from siyu.analytics import lifetime
    from siyu.analytics.models import Sale

    scored: dict[str, int] = {}
    with_sales = Sale.unscoped.order_by().values_list("merchant_id", flat=True).distinct()
    for merchant in Merchant.objects.filter(pk__in=list(with_sales)).order_by("pk"):
        with merchant_context(merchant):
            scored[merchant.slug] = lifetime.refresh(merchant).customers
    return scored
