"""Payout adapters: how a withdrawal's money reaches the distributor.

An adapter is a small typed interface chosen in settings (``SIYU_DISTRIBUTION_PAYOUT``,
``DISTRIBUTION_PAYOUT`` in Django settings). The built-in one is a manual bank transfer:
finance pays from the bank and records the bank's reference here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.translation import gettext as _

from siyu.core.errors import InvalidInput


@dataclass(frozen=True)
class PayoutRequest:
    withdrawal_id: int
    distributor_id: int
    amount: int  # fen
    currency: str


@dataclass(frozen=True)
class PayoutResult:
    reference: str


class PayoutAdapter(Protocol):
    name: str

    def pay(self, request: PayoutRequest, *, reference: str) -> PayoutResult:
        """Pay ``request`` out; raise ``InvalidInput`` naming the field on bad input."""
        ...


class ManualBankTransfer:
    """Finance transferred the money by hand; the bank's reference is recorded."""

    name = "manual_bank_transfer"

    def pay(self, request: PayoutRequest, *, reference: str) -> PayoutResult:
        cleaned = reference.strip() if isinstance(reference, str) else ""
        if not 0 < len(cleaned) <= 80:
            raise InvalidInput(
                _("The payout could not be recorded."),
                fields={"reference": _("The bank transfer's reference, 1–80 characters.")},
            )
        return PayoutResult(reference=cleaned)


ADAPTERS: dict[str, PayoutAdapter] = {ManualBankTransfer.name: ManualBankTransfer()}


def adapter() -> PayoutAdapter:
    name = getattr(settings, "DISTRIBUTION_PAYOUT", ManualBankTransfer.name)
    return ADAPTERS[name]
