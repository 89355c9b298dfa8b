"""State changes of distribution. Each is one transaction; events go out in it.

This module holds settings, distributors, bindings and rules; the ledger (pay/refund sync,
settlement) lives in :mod:`siyu.distribution.ledger` and withdrawals in
:mod:`siyu.distribution.withdrawals`. Every public name stays importable from here.

* Settings, rules and decisions on distributors are staff changes: they take an
  :class:`Actor`, check ``distribution.manage`` and are audited.
* :func:`bind` is the one way a customer gets a distributor, by the merchant's policy.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from siyu.core import audit, clock, events
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.permissions import Perm
from siyu.core.tenancy import current_merchant
from siyu.customers.models import Customer
from siyu.distribution import events as distribution_events
from siyu.distribution import selectors
from siyu.distribution.locks import is_int, locked_settings
from siyu.distribution.models import (
    Binding,
    BindingChange,
    CommissionEntry,
    CommissionRule,
    DistributionSettings,
    Distributor,
    GuideCommissionRule,
)

Kind = CommissionEntry.Kind
Status = Distributor.Status
SHARE_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
SHARE_CODE_LENGTH = 8
MAX_SECOND_LEVEL_BP = 10_000
SETTINGS_LIMITS: dict[str, tuple[int, int]] = {
    "protection_days": (1, 3650),
    "settlement_delay_days": (0, 365),
    "second_level_rate_bp": (0, MAX_SECOND_LEVEL_BP),
    "minimum_withdrawal": (1, 100_000_000),
}
SETTINGS_BOOLEANS = ("enabled", "self_purchase", "second_level")
SETTINGS_CHOICES: dict[str, Any] = {
    "enrolment": DistributionSettings.Enrolment,
    "binding_policy": DistributionSettings.BindingPolicy,
}
SETTINGS_FIELDS = (*SETTINGS_BOOLEANS, *SETTINGS_CHOICES, *SETTINGS_LIMITS)


_is_int = is_int
_locked_settings = locked_settings


# --- settings --------------------------------------------------------------------------------


@transaction.atomic
def update_settings(actor: Actor, changes: Mapping[str, Any]) -> DistributionSettings:
    """Change some of the merchant's settings; unknown names and bad values are 422 by field."""
    actor.require(Perm.DISTRIBUTION_MANAGE)
    errors: dict[str, str] = {}
    for name, value in changes.items():
        if name not in SETTINGS_FIELDS:
            errors[name] = _("Not a distribution setting.")
        elif name in SETTINGS_BOOLEANS:
            if not isinstance(value, bool):
                errors[name] = _("Give true or false.")
        elif name in SETTINGS_CHOICES:
            if value not in SETTINGS_CHOICES[name].values:
                errors[name] = _("One of: %(choices)s.") % {
                    "choices": ", ".join(SETTINGS_CHOICES[name].values)
                }
        else:
            low, high = SETTINGS_LIMITS[name]
            if not _is_int(value) or not low <= value <= high:
                errors[name] = _("A whole number from %(low)d to %(high)d.") % {
                    "low": low,
                    "high": high,
                }
    row = _locked_settings()
    second = changes.get("second_level", row.second_level)
    rate = changes.get("second_level_rate_bp", row.second_level_rate_bp)
    if not errors and second is True and rate == 0:
        errors["second_level_rate_bp"] = _("Give the second level's rate to switch it on.")
    if errors:
        raise InvalidInput(_("The settings were not saved."), fields=errors)
    before = audit.snapshot(row, list(SETTINGS_FIELDS))
    for name, value in changes.items():
        setattr(row, name, value)
    row.save()
    after = audit.snapshot(row, list(SETTINGS_FIELDS))
    audit.record(actor, "distribution.settings.changed", row, before=before, after=after)
    events.emit(
        current_merchant(), distribution_events.SETTINGS_CHANGED, dict(after), aggregate=row
    )
    return row


# --- distributors -----------------------------------------------------------------------------


def _new_share_code() -> str:
    return "".join(secrets.choice(SHARE_CODE_ALPHABET) for _n in range(SHARE_CODE_LENGTH))


def _distributor_payload(distributor: Distributor) -> dict[str, Any]:
    return {
        "id": distributor.pk,
        "customer_id": distributor.customer_id,
        "status": distributor.status,
        "invited_by_id": distributor.invited_by_id,
        "share_code": distributor.share_code,
        "reason": distributor.reason,
    }


@transaction.atomic
def apply(customer: Customer, *, invited_by_code: str = "") -> Distributor:
    """``customer`` asks to become a distributor (free: nobody ever pays to join).

    Approved at once under open enrolment; under approval it waits for staff. Applying
    again while applied or approved changes nothing; after a rejection it applies anew.
    ``invited_by_code`` is an approved distributor's share code (the second level)."""
    settings_row = selectors.settings_of()
    if not settings_row.enabled:
        raise Conflict(_("Distribution is switched off."), code="distribution_off")
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    inviter = None
    if invited_by_code:
        inviter = Distributor.objects.filter(
            share_code=str(invited_by_code).strip().upper()[:16], status=Status.APPROVED
        ).first()
        if inviter is None or inviter.customer_id == customer.pk:
            raise InvalidInput(
                _("The application was not sent."),
                fields={"invited_by_code": _("Not the share code of an approved distributor.")},
            )
    open_enrolment = settings_row.enrolment == DistributionSettings.Enrolment.OPEN
    now = clock.now()
    existing = Distributor.objects.filter(customer=customer).first()
    if existing is not None and existing.status in (Status.APPLIED, Status.APPROVED):
        return existing
    if existing is not None and existing.status == Status.SUSPENDED:
        raise Conflict(_("This distributor is suspended."), code="distributor_suspended")
    distributor = existing or Distributor(merchant=current_merchant(), customer=customer)
    distributor.status = Status.APPROVED if open_enrolment else Status.APPLIED
    distributor.invited_by = inviter if existing is None else existing.invited_by
    distributor.applied_at = now
    distributor.decided_at = now if open_enrolment else None
    distributor.decided_by = "open enrolment" if open_enrolment else ""
    distributor.reason = ""
    if existing is None:
        for attempt in range(5):
            distributor.share_code = _new_share_code()
            try:
                with transaction.atomic():
                    distributor.save(force_insert=True)
                break
            except IntegrityError:
                if attempt == 4:
                    raise
    else:
        distributor.save()
    events.emit(
        current_merchant(),
        distribution_events.DISTRIBUTOR_APPLIED,
        _distributor_payload(distributor),
        aggregate=distributor,
    )
    return distributor


DECISIONS: dict[str, tuple[str, ...]] = {
    # target status: the statuses it may come from
    Status.APPROVED: (Status.APPLIED, Status.REJECTED, Status.SUSPENDED),
    Status.REJECTED: (Status.APPLIED,),
    Status.SUSPENDED: (Status.APPROVED,),
}


@transaction.atomic
def decide(actor: Actor, distributor_id: int, status: str, *, reason: str = "") -> Distributor:
    """Approve, reject or suspend a distributor (a suspended one earns nothing on new orders)."""
    actor.require(Perm.DISTRIBUTION_MANAGE)
    if status not in DECISIONS:
        raise InvalidInput(
            _("The decision was not saved."),
            fields={"status": _("One of: approved, rejected, suspended.")},
        )
    if not isinstance(reason, str) or len(reason) > 200:
        raise InvalidInput(
            _("The decision was not saved."), fields={"reason": _("At most 200 characters.")}
        )
    distributor = Distributor.objects.select_for_update().filter(pk=distributor_id).first()
    if distributor is None:
        raise NotFound(_("Not found."))
    if distributor.status == status:
        return distributor
    if distributor.status not in DECISIONS[status]:
        raise Conflict(
            _("A distributor who is %(status)s cannot be %(target)s.")
            % {"status": distributor.get_status_display(), "target": Status(status).label},
            code="distributor_status",
        )
    before = audit.snapshot(distributor, ["status", "reason"])
    distributor.status = status
    distributor.reason = reason.strip()
    distributor.decided_at = clock.now()
    distributor.decided_by = actor.label[:150]
    distributor.save(update_fields=["status", "reason", "decided_at", "decided_by"])
    audit.record(
        actor,
        f"distribution.distributor.{status}",
        distributor,
        before=before,
        after=audit.snapshot(distributor, ["status", "reason"]),
    )
    events.emit(
        current_merchant(),
        distribution_events.DISTRIBUTOR_DECIDED,
        _distributor_payload(distributor),
        aggregate=distributor,
    )
    return distributor


# --- binding -----------------------------------------------------------------------------------


@transaction.atomic
def bind(
    customer: Customer, share_code: str, *, source: str = "link", at: datetime | None = None
) -> bool:
    """Bind ``customer`` to the approved distributor of ``share_code`` by the merchant's policy.

    ``True`` when the customer is (now or already) bound to that distributor. Refused
    (``False``, nothing written): distribution off, an unknown or unapproved code, the
    distributor's own link (no self-binding), a customer bound permanently or within the
    first link's protection period to someone else."""
    settings_row = selectors.settings_of()
    if not settings_row.enabled or not isinstance(share_code, str) or not share_code.strip():
        return False
    distributor = Distributor.objects.filter(
        share_code=share_code.strip().upper()[:16], status=Status.APPROVED
    ).first()
    if distributor is None or distributor.customer_id == customer.pk:
        return False
    Customer.objects.select_for_update().filter(pk=customer.pk).first()  # one binder at a time
    at = at or clock.now()
    current = Binding.objects.filter(customer=customer).first()
    if current is not None:
        if current.distributor_id == distributor.pk:
            return True
        policy = settings_row.binding_policy
        if policy == DistributionSettings.BindingPolicy.PERMANENT:
            return False
        if (
            policy == DistributionSettings.BindingPolicy.FIRST_LINK
            and at < current.since + timedelta(days=settings_row.protection_days)
        ):
            return False
    previous = current.distributor_id if current is not None else None
    if current is None:
        current = Binding(merchant=current_merchant(), customer=customer)
    current.distributor = distributor
    current.since = at
    current.source = source[:24]
    current.save()
    BindingChange.objects.create(
        merchant=current_merchant(),
        customer=customer,
        from_distributor_id=previous,
        to_distributor=distributor,
        source=source[:24],
        at=at,
    )
    events.emit(
        current_merchant(),
        distribution_events.CUSTOMER_BOUND,
        {
            "customer_id": customer.pk,
            "distributor_id": distributor.pk,
            "from_distributor_id": previous,
            "source": source[:24],
        },
        aggregate=current,
    )
    return True


# --- rules -------------------------------------------------------------------------------------


RULE_FIELDS = ["kind", "rate_bp", "fixed_fen"]


def rule_errors(
    scope: Any,
    kind: Any,
    rate_bp: Any,
    fixed_fen: Any,
    category_id: Any,
    product_id: Any,
) -> dict[str, str]:
    """What is wrong with a rule (the distributors' or the guides': the same columns), by
    field; empty when it may be saved."""
    from siyu.catalog.models import Category, Product

    errors: dict[str, str] = {}
    Scope = CommissionRule.Scope
    if scope not in Scope.values:
        errors["scope"] = _("One of: default, category, product.")
    if kind not in CommissionRule.Kind.values:
        errors["kind"] = _("One of: percent, fixed.")
    if kind == CommissionRule.Kind.PERCENT and (not _is_int(rate_bp) or not 0 <= rate_bp <= 10_000):
        errors["rate_bp"] = _("Basis points from 0 to 10000 (100 = 1 %).")
    if kind == CommissionRule.Kind.FIXED and (
        not _is_int(fixed_fen) or not 0 <= fixed_fen <= 100_000_000
    ):
        errors["fixed_fen"] = _("Fen per unit from 0 to 100000000.")
    if scope == Scope.CATEGORY:
        if (
            category_id is None
            or not _is_int(category_id)
            or not Category.objects.filter(pk=category_id).exists()
        ):
            errors["category_id"] = _("Not a category of this shop.")
    elif category_id is not None:
        errors["category_id"] = _("Only for a category rule.")
    if scope == Scope.PRODUCT:
        if (
            product_id is None
            or not _is_int(product_id)
            or not Product.objects.filter(pk=product_id).exists()
        ):
            errors["product_id"] = _("Not a product of this shop.")
    elif product_id is not None:
        errors["product_id"] = _("Only for a product rule.")
    return errors


def save_rule[RuleModel: (CommissionRule, GuideCommissionRule)](
    actor: Actor,
    rule_model: type[RuleModel],
    *,
    scope: str,
    kind: str,
    rate_bp: int = 0,
    fixed_fen: int = 0,
    category_id: int | None = None,
    product_id: int | None = None,
    action: str,
    event_type: str,
) -> RuleModel:
    """Set a default, category or product rule of ``rule_model`` (replacing the one there was),
    audited as ``action`` and announced as ``event_type``. Bad input is a 422 naming each bad
    field; nothing is written. Runs in the caller's transaction."""
    actor.require(Perm.DISTRIBUTION_MANAGE)
    errors = rule_errors(scope, kind, rate_bp, fixed_fen, category_id, product_id)
    if errors:
        raise InvalidInput(_("The rule was not saved."), fields=errors)
    target = {"scope": scope, "category_id": category_id, "product_id": product_id}
    rule = rule_model.objects.select_for_update().filter(**target).first()
    before = audit.snapshot(rule, RULE_FIELDS) if rule else None
    if rule is None:
        rule = rule_model(merchant=current_merchant(), **target)
    rule.kind = kind
    rule.rate_bp = rate_bp if kind == CommissionRule.Kind.PERCENT else 0
    rule.fixed_fen = fixed_fen if kind == CommissionRule.Kind.FIXED else 0
    rule.save()
    after = audit.snapshot(rule, RULE_FIELDS)
    audit.record(actor, action, rule, before=before, after=after)
    events.emit(
        current_merchant(),
        event_type,
        {"id": rule.pk, **target, **after, "action": "set"},
        aggregate=rule,
    )
    return rule


def remove_rule(
    actor: Actor,
    rule_model: type[CommissionRule] | type[GuideCommissionRule],
    rule_id: int,
    *,
    action: str,
    event_type: str,
) -> None:
    """Delete a rule of ``rule_model`` (404 when the merchant has none with that id)."""
    actor.require(Perm.DISTRIBUTION_MANAGE)
    rule = rule_model.objects.select_for_update().filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(_("Not found."))
    payload = {"id": rule.pk, "scope": rule.scope, "action": "deleted"}
    audit.record(actor, action, rule)
    rule.delete()
    events.emit(current_merchant(), event_type, payload)


@transaction.atomic
def set_rule(
    actor: Actor,
    *,
    scope: str,
    kind: str,
    rate_bp: int = 0,
    fixed_fen: int = 0,
    category_id: int | None = None,
    product_id: int | None = None,
) -> CommissionRule:
    """Set the default rule, a category's or a product's (replacing the one there was)."""
    return save_rule(
        actor,
        CommissionRule,
        scope=scope,
        kind=kind,
        rate_bp=rate_bp,
        fixed_fen=fixed_fen,
        category_id=category_id,
        product_id=product_id,
        action="distribution.rule.set",
        event_type=distribution_events.RULE_CHANGED,
    )


@transaction.atomic
def delete_rule(actor: Actor, rule_id: int) -> None:
    remove_rule(
        actor,
        CommissionRule,
        rule_id,
        action="distribution.rule.deleted",
        event_type=distribution_events.RULE_CHANGED,
    )


# --- the ledger and withdrawals (re-exported: this module is the facade) -----------------------

from siyu.distribution.ledger import (  # noqa: E402
    PAID,
    SETTLE_SQL,
    settle_due,
    settle_merchant,
    sync_order_commission,
)
from siyu.distribution.withdrawals import (  # noqa: E402
    approve_withdrawal,
    pay_withdrawal,
    reject_withdrawal,
    request_withdrawal,
)

__all__ = [
    "DECISIONS",
    "PAID",
    "SETTINGS_FIELDS",
    "SETTLE_SQL",
    "apply",
    "approve_withdrawal",
    "bind",
    "decide",
    "delete_rule",
    "pay_withdrawal",
    "reject_withdrawal",
    "request_withdrawal",
    "set_rule",
    "settle_due",
    "settle_merchant",
    "sync_order_commission",
    "update_settings",
]
