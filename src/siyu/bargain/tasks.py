"""Background work of bargains (django.tasks): expiring bargains whose time ran out."""

from __future__ import annotations

from django.db.models import Q
from django.tasks import task

from siyu.bargain.models import Bargain, BargainActivity
from siyu.core import clock
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context


@task()
def expire_bargains() -> int:
    """Every minute: bargains past their time and not bought expire; activities past their
    end end. Per merchant."""
    from siyu.bargain.services import EXPIRE_BATCH, LIVE, expire_due

    now = clock.now()
    due = set(
        Bargain.unscoped.filter(status__in=LIVE, expires_at__lte=now)
        .values_list("merchant_id", flat=True)
        .distinct()
    )
    due |= set(
        BargainActivity.unscoped.filter(
            Q(status=BargainActivity.Status.ACTIVE) | Q(status=BargainActivity.Status.PAUSED),
            ends_at__lte=now,
        )
        .values_list("merchant_id", flat=True)
        .distinct()
    )
    expired = 0
    for merchant in Merchant.objects.filter(pk__in=sorted(due)).order_by("pk"):
        with merchant_context(merchant):
            while True:  # batches of EXPIRE_BATCH, one transaction each
                done = expire_due(now)
                expired += done
                if done < EXPIRE_BATCH:
                    break
    return expired
