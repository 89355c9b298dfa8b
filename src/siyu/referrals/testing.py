"""Test factories of referrals."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from siyu.core import clock
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.referrals import services
from siyu.referrals.models import Referral, ReferralProgramme


def make_programme(merchant: Merchant, **fields: Any) -> ReferralProgramme:
    """The merchant's programme, running, with ``fields`` set directly (no validation)."""
    fields.setdefault("status", ReferralProgramme.Status.ACTIVE)
    with merchant_context(merchant):
        current = services.programme()
        for name, value in fields.items():
            setattr(current, name, value)
        current.save()
        return current


def a_moment_ago() -> datetime:
    return clock.now() - timedelta(seconds=5)


def invite(
    inviter: Customer,
    invitee: Customer,
    *,
    device: str = "",
    tapped_at: datetime | None = None,
    source: str = "link",
) -> Referral:
    """Register ``invitee`` through ``inviter``'s link, opened before the invitee joined."""
    with merchant_context(inviter.merchant):
        code = services.code_of(inviter)
        return services.register(
            invitee,
            code.code,
            source=source,
            tapped_at=tapped_at or (invitee.created_at - timedelta(seconds=1)),
            device=services.Device(device) if device else None,
        )
