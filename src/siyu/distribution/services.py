"""State changes of distribution. Each is one transaction; events go out in it.

* Settings, rules and decisions on distributors are staff changes: they take an
  :class:`Actor`, check ``distribution.manage`` and are audited.
* :func:`bind` is the one way a customer gets a distributor, by the merchant's policy.
* :func:`sync_order_commission` brings an order's ledger to what its lines earn now (the
  outbox consumers call it on paid and refund events); :func:`settle_due` settles, in one
  set-based statement per merchant, the commission of orders completed more than the
  settlement delay ago. Both take the merchant's settings row lock (``FOR UPDATE``), so a
  refund's reversal knows whether its line was settled.
* Withdrawals lock the distributor row, so two requests at once cannot overdraw.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from siyu.core import audit, clock, events
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.models import Merchant
from siyu.core.permissions import Perm
from siyu.core.tenancy import current_merchant, merchant_context
from siyu.customers.models import Customer
from siyu.distribution import commission, payouts, selectors
from siyu.distribution import events as distribution_events
from siyu.distribution.models import (
    Binding,
    BindingChange,
    CommissionEntry,
    CommissionRule,
    DistributionSettings,
    Distributor,
    Withdrawal,
)
from siyu.orders.models import Order, OrderLine

Kind = CommissionEntry.Kind
Status = Distributor.Status
SHARE_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
SHARE_CODE_LENGTH = 8
PAID = "paid"  # the cause of the first entries of an order
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


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _locked_settings() -> DistributionSettings:
    """The merchant's settings row, created if missing, locked until the transaction ends."""
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
    from siyu.catalog.models import Category, Product

    actor.require(Perm.DISTRIBUTION_MANAGE)
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
    if errors:
        raise InvalidInput(_("The rule was not saved."), fields=errors)
    target = {"scope": scope, "category_id": category_id, "product_id": product_id}
    rule = CommissionRule.objects.select_for_update().filter(**target).first()
    before = audit.snapshot(rule, ["kind", "rate_bp", "fixed_fen"]) if rule else None
    if rule is None:
        rule = CommissionRule(merchant=current_merchant(), **target)
    rule.kind = kind
    rule.rate_bp = rate_bp if kind == CommissionRule.Kind.PERCENT else 0
    rule.fixed_fen = fixed_fen if kind == CommissionRule.Kind.FIXED else 0
    rule.save()
    after = audit.snapshot(rule, ["kind", "rate_bp", "fixed_fen"])
    audit.record(actor, "distribution.rule.set", rule, before=before, after=after)
    events.emit(
        current_merchant(),
        distribution_events.RULE_CHANGED,
        {"id": rule.pk, **target, **after, "action": "set"},
        aggregate=rule,
    )
    return rule


@transaction.atomic
def delete_rule(actor: Actor, rule_id: int) -> None:
    actor.require(Perm.DISTRIBUTION_MANAGE)
    rule = CommissionRule.objects.select_for_update().filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(_("Not found."))
    payload = {"id": rule.pk, "scope": rule.scope, "action": "deleted"}
    audit.record(actor, "distribution.rule.deleted", rule)
    rule.delete()
    events.emit(current_merchant(), distribution_events.RULE_CHANGED, payload)


# --- the ledger --------------------------------------------------------------------------------


def _first_entries(
    order: Order, lines: list[OrderLine], settings_row: DistributionSettings
) -> list[tuple[Distributor, commission.Basis]]:
    """Who earns what on a just-paid order (empty when nobody does)."""
    if order.distributor_id is None:
        return []
    distributor = (
        Distributor.objects.select_related("invited_by").filter(pk=order.distributor_id).first()
    )
    if distributor is None or distributor.status != Status.APPROVED:
        return []
    if distributor.customer_id == order.customer_id and not settings_row.self_purchase:
        return []
    inviter = distributor.invited_by
    second = (
        settings_row.second_level_rate_bp
        if settings_row.second_level
        and inviter is not None
        and inviter.status == Status.APPROVED
        and inviter.customer_id != order.customer_id
        else None
    )
    paths = selectors.category_paths(line.product_id_snapshot for line in lines)
    found = commission.bases(
        [
            commission.Line(
                line.pk,
                line.product_id_snapshot,
                line.quantity,
                line.line_total,
                paths.get(line.product_id_snapshot, ()),
            )
            for line in lines
        ],
        selectors.rule_set(),
        second_level_bp=second or None,
    )
    return [(distributor if basis.level == 1 else inviter, basis) for basis in found]  # type: ignore[misc]


def sync_order_commission(order_id: int, *, cause: str) -> int:
    """Bring the ledger of ``order_id`` to what its lines earn now; the fen appended.

    On the first call after payment it writes the pending entries (the basis fixed then);
    afterwards it appends a reversal for every line and level whose refunds took some of it
    back, keyed by ``cause`` (a refund's reference). Idempotent: a replay finds nothing to
    change, and the unique keys stop a duplicate even if two calls race."""
    with transaction.atomic():
        settings_row = _locked_settings()
        order = Order.objects.filter(pk=order_id).first()
        if order is None or order.paid_at is None:
            return 0
        lines = list(OrderLine.objects.filter(order=order).order_by("pk"))
        by_line = {line.pk: line for line in lines}
        entries = list(CommissionEntry.objects.filter(order=order))
        now = clock.now()
        new: list[CommissionEntry] = []
        if not entries:
            if cause != PAID:  # a rule added later never reaches back to old orders
                return 0
            for distributor, basis in _first_entries(order, lines, settings_row):
                line = by_line[basis.line_id]
                new.append(
                    CommissionEntry(
                        merchant_id=order.merchant_id,
                        distributor=distributor,
                        order=order,
                        order_line=line,
                        level=basis.level,
                        kind=Kind.PENDING,
                        amount=commission.commission(basis, line.refunded_amount),
                        rule_kind=basis.kind,
                        rate_bp=basis.rate_bp,
                        fixed_fen=basis.fixed_fen,
                        quantity=basis.quantity,
                        base_amount=basis.paid,
                        key="paid",
                        created_at=now,
                    )
                )
        else:
            accrued: dict[tuple[int, int], int] = {}
            settled: set[tuple[int, int]] = set()
            for e in entries:
                slot = (e.order_line_id, e.level)
                if e.kind == Kind.SETTLED:
                    settled.add(slot)
                else:
                    accrued[slot] = accrued.get(slot, 0) + e.amount
            for e in entries:
                if e.kind != Kind.PENDING:
                    continue
                slot = (e.order_line_id, e.level)
                basis = commission.Basis(
                    e.order_line_id,
                    e.level,
                    e.rule_kind,
                    e.rate_bp,
                    e.fixed_fen,
                    e.quantity,
                    e.base_amount,
                )
                delta = commission.adjustment(
                    basis, by_line[e.order_line_id].refunded_amount, accrued[slot]
                )
                if delta < 0:
                    new.append(
                        CommissionEntry(
                            merchant_id=order.merchant_id,
                            distributor_id=e.distributor_id,
                            order=order,
                            order_line_id=e.order_line_id,
                            level=e.level,
                            kind=Kind.REVERSED,
                            amount=delta,
                            from_settled=slot in settled,
                            key=f"refund:{cause}"[:100],
                            created_at=now,
                        )
                    )
        if not new:
            return 0
        CommissionEntry.objects.bulk_create(new)
        total = sum(e.amount for e in new)
        events.emit(
            current_merchant(),
            distribution_events.COMMISSION_RECORDED,
            {
                "order_id": order.pk,
                "number": order.number,
                "cause": cause,
                "amount": total,
                "entries": [
                    [e.distributor_id, e.order_line_id, e.level, e.kind, e.amount] for e in new
                ],
            },
            aggregate=order,
        )
        return total


SETTLE_SQL = """
INSERT INTO distribution_commissionentry (
    merchant_id, distributor_id, order_id, order_line_id, level, kind, amount, from_settled,
    rule_kind, rate_bp, fixed_fen, quantity, base_amount, key, created_at
)
SELECT e.merchant_id, e.distributor_id, e.order_id, e.order_line_id, e.level, 'settled',
       SUM(e.amount), %s, '', 0, 0, 0, 0, NULL, %s
FROM distribution_commissionentry e
JOIN orders_order o ON o.id = e.order_id
WHERE e.merchant_id = %s
  AND e.kind IN ('pending', 'reversed')
  AND o.status = 'completed'
  AND o.completed_at <= %s
  AND NOT EXISTS (
      SELECT 1 FROM distribution_commissionentry s
      WHERE s.order_line_id = e.order_line_id AND s.level = e.level AND s.kind = 'settled'
  )
GROUP BY e.merchant_id, e.distributor_id, e.order_id, e.order_line_id, e.level
"""


def settle_merchant(merchant: Merchant, now: datetime | None = None) -> int:
    """Settle the bound merchant's commission of orders completed more than the settlement
    delay before ``now``: one ``settled`` entry per order line and level, in one statement.
    The number of entries written."""
    now = now or clock.now()
    with merchant_context(merchant), transaction.atomic():
        settings_row = _locked_settings()
        cutoff = now - timedelta(days=settings_row.settlement_delay_days)
        ops = connection.ops
        with connection.cursor() as cursor:
            cursor.execute(
                SETTLE_SQL,
                [
                    False,
                    ops.adapt_datetimefield_value(now),
                    merchant.pk,
                    ops.adapt_datetimefield_value(cutoff),
                ],
            )
            count = max(cursor.rowcount, 0)
        if count:
            events.emit(
                merchant,
                distribution_events.COMMISSION_SETTLED,
                {"count": count, "completed_before": cutoff},
            )
        return count


def settle_due(now: datetime | None = None) -> int:
    """Settle every merchant's due commission (the hourly job); the entries written."""
    merchant_ids = (
        CommissionEntry.unscoped.filter(kind=Kind.PENDING).values_list("merchant_id", flat=True)
    ).distinct()
    total = 0
    for merchant in Merchant.objects.filter(pk__in=merchant_ids):
        total += settle_merchant(merchant, now)
    return total


# --- withdrawals -------------------------------------------------------------------------------


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
