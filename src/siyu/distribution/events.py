"""Domain event types of distribution (registered when the module is imported)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from siyu.core.events import register_event_type

SETTINGS_CHANGED = "distribution.settings.changed"
DISTRIBUTOR_APPLIED = "distribution.distributor.applied"
DISTRIBUTOR_DECIDED = "distribution.distributor.decided"
CUSTOMER_BOUND = "distribution.customer.bound"
RULE_CHANGED = "distribution.rule.changed"
COMMISSION_RECORDED = "distribution.commission.recorded"
COMMISSION_SETTLED = "distribution.commission.settled"
WITHDRAWAL_REQUESTED = "distribution.withdrawal.requested"
WITHDRAWAL_DECIDED = "distribution.withdrawal.decided"
WITHDRAWAL_PAID = "distribution.withdrawal.paid"

EVENT_TYPES = {
    SETTINGS_CHANGED: (
        _("Distribution settings changed"),
        _("An operator changed who may become a distributor, binding, rates or settlement."),
    ),
    DISTRIBUTOR_APPLIED: (
        _("Distributor applied"),
        _("A customer asked to become a distributor (approved at once under open enrolment)."),
    ),
    DISTRIBUTOR_DECIDED: (
        _("Distributor approved, rejected or suspended"),
        _("Staff decided on a distributor (`status`, `reason`)."),
    ),
    CUSTOMER_BOUND: (
        _("Customer bound to a distributor"),
        _("A customer came through a distributor's link and is now theirs (`source`)."),
    ),
    RULE_CHANGED: (
        _("Commission rule changed"),
        _("A default, category or product commission rule was set or removed."),
    ),
    COMMISSION_RECORDED: (
        _("Commission recorded"),
        _("Pending commission of a paid order, or its reversal after a refund (`amount`)."),
    ),
    COMMISSION_SETTLED: (
        _("Commission settled"),
        _("Commission of orders past their return window became withdrawable (`count`)."),
    ),
    WITHDRAWAL_REQUESTED: (
        _("Withdrawal requested"),
        _("A distributor asked for settled commission to be paid out."),
    ),
    WITHDRAWAL_DECIDED: (
        _("Withdrawal approved or rejected"),
        _("The finance role decided on a withdrawal (`status`)."),
    ),
    WITHDRAWAL_PAID: (
        _("Withdrawal paid"),
        _("A withdrawal was paid out (`payout_method`, `reference`)."),
    ),
}

for _name, (_label, _description) in EVENT_TYPES.items():
    register_event_type(_name, _label, _description)
