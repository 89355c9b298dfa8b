"""Withdrawals: a distributor's request, the finance role's approval or rejection, payout.

Requests lock the distributor row, so two requests at once cannot overdraw.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from siyu.core import audit, clock, events
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.permissions import Perm
from siyu.core.tenancy import current_merchant
from siyu.distribution import events as distribution_events
from siyu.distribution import payouts, selectors
from siyu.distribution.locks import is_int as _is_int
from siyu.distribution.models import Distributor, Withdrawal

Status = Distributor.Status


def _withdrawal_payload(w: Withdrawal) -> dict[str, Any]:
    return {
        "id": w.pk,
        "distributor_id": w.distributor_id,
        "amount": w.amount,
        "status": w.status,
        "payout_method": w.payout_method,
        "reference": w.reference,
    }


@transaction.atomic
def request_withdrawal(distributor_id: int, amount: int) -> Withdrawal:
    """A distributor asks for ``amount`` fen of their settled commission.

    Locks the distributor row (``FOR UPDATE``), so concurrent requests are checked one
    after the other against the balance: never more than is available."""
    distributor = Distributor.objects.select_for_update().filter(pk=distributor_id).first()
    if distributor is None:
        raise NotFound(_("Not found."))
    if distributor.status != Status.APPROVED:
        raise Conflict(_("Only an approved distributor can withdraw."), code="distributor_status")
    minimum = selectors.settings_of().minimum_withdrawal
    available = selectors.balances(distributor).available
    if not _is_int(amount) or amount < minimum:
        problem = _("At least %(n)d fen.") % {"n": minimum}
    elif amount > available:
        problem = _("At most %(n)d fen (settled and not yet withdrawn).") % {"n": max(available, 0)}
    else:
        problem = ""
    if problem:
        raise InvalidInput(_("The withdrawal was not requested."), fields={"amount": problem})
    w = Withdrawal.objects.create(
        merchant=current_merchant(),
        distributor=distributor,
        amount=amount,
        requested_at=clock.now(),
    )
    events.emit(
        current_merchant(),
        distribution_events.WITHDRAWAL_REQUESTED,
        _withdrawal_payload(w),
        aggregate=w,
    )
    return w


def _locked_withdrawal(withdrawal_id: int) -> Withdrawal:
    w = Withdrawal.objects.select_for_update().filter(pk=withdrawal_id).first()
    if w is None:
        raise NotFound(_("Not found."))
    return w


def _decide_withdrawal(actor: Actor, w: Withdrawal, status: str, reason: str) -> Withdrawal:
    before = audit.snapshot(w, ["status", "reason"])
    w.status = status
    w.reason = reason
    w.decided_at = clock.now()
    w.decided_by = actor.label[:150]
    w.save(update_fields=["status", "reason", "decided_at", "decided_by"])
    audit.record(
        actor,
        f"distribution.withdrawal.{status}",
        w,
        before=before,
        after=audit.snapshot(w, ["status", "reason"]),
    )
    events.emit(
        current_merchant(),
        distribution_events.WITHDRAWAL_DECIDED,
        _withdrawal_payload(w),
        aggregate=w,
    )
    return w


@transaction.atomic
def approve_withdrawal(actor: Actor, withdrawal_id: int) -> Withdrawal:
    actor.require(Perm.DISTRIBUTION_PAYOUT)
    w = _locked_withdrawal(withdrawal_id)
    if w.status == Withdrawal.Status.APPROVED:
        return w
    if w.status != Withdrawal.Status.REQUESTED:
        raise Conflict(_("Only a requested withdrawal can be approved."), code="withdrawal_status")
    return _decide_withdrawal(actor, w, Withdrawal.Status.APPROVED, "")


@transaction.atomic
def reject_withdrawal(actor: Actor, withdrawal_id: int, reason: str) -> Withdrawal:
    """Reject a requested or approved (not yet paid) withdrawal: its amount is available again."""
    actor.require(Perm.DISTRIBUTION_PAYOUT)
    if not isinstance(reason, str) or not 0 < len(reason.strip()) <= 200:
        raise InvalidInput(
            _("The withdrawal was not rejected."), fields={"reason": _("1–200 characters.")}
        )
    w = _locked_withdrawal(withdrawal_id)
    if w.status == Withdrawal.Status.REJECTED:
        return w
    if w.status not in (Withdrawal.Status.REQUESTED, Withdrawal.Status.APPROVED):
        raise Conflict(_("A paid withdrawal cannot be rejected."), code="withdrawal_status")
    return _decide_withdrawal(actor, w, Withdrawal.Status.REJECTED, reason.strip())


@transaction.atomic
def pay_withdrawal(actor: Actor, withdrawal_id: int, *, reference: str) -> Withdrawal:
    """Pay an approved withdrawal through the payout adapter and record its reference."""
    actor.require(Perm.DISTRIBUTION_PAYOUT)
    w = _locked_withdrawal(withdrawal_id)
    if w.status == Withdrawal.Status.PAID:
        return w
    if w.status != Withdrawal.Status.APPROVED:
        raise Conflict(_("Approve the withdrawal before paying it."), code="withdrawal_status")
    adapter = payouts.adapter()
    result = adapter.pay(
        payouts.PayoutRequest(w.pk, w.distributor_id, w.amount, current_merchant().currency),
        reference=reference,
    )
    before = audit.snapshot(w, ["status", "reference"])
    w.status = Withdrawal.Status.PAID
    w.payout_method = adapter.name
    w.reference = result.reference
    w.paid_at = clock.now()
    w.save(update_fields=["status", "payout_method", "reference", "paid_at"])
    audit.record(
        actor,
        "distribution.withdrawal.paid",
        w,
        before=before,
        after=audit.snapshot(w, ["status", "reference"]),
    )
    events.emit(
        current_merchant(), distribution_events.WITHDRAWAL_PAID, _withdrawal_payload(w), aggregate=w
    )
    return w
