"""Helpers the state-changing modules share (services, ledger, withdrawals)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from siyu.core.tenancy import current_merchant
from siyu.distribution.models import DistributionSettings


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def locked_settings() -> DistributionSettings:
    """The merchant's settings row, created if missing, locked until the transaction ends.

    The ledger's writers (pay/refund sync, settlement) take it, so a refund's reversal knows
    whether its line was settled."""
    merchant = current_merchant()
    found = DistributionSettings.objects.select_for_update().first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            DistributionSettings.objects.create(merchant=merchant)
    except IntegrityError:
        pass  # another transaction created it at the same moment
    return DistributionSettings.objects.select_for_update().get()
