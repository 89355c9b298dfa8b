"""Auto-tag rules: a tag kept on exactly the customers who match a segment rule.

* ``run_rule`` is set-based: the rule's tag goes on every matching customer who lacks it
  (``bulk_tag``, source ``rule``), and — with ``remove_unmatched`` — leaves the customers
  who no longer match, only where this rule put it.
* ``run_all_rules`` runs every active rule of every merchant (the nightly job), so
  time-relative rules ("no order for 60 days") move as time passes.
* ``apply_rules_to_customer`` runs the active rules for one customer; the outbox consumer
  below calls it when the customer pays, gets a refund, joins or leaves a group, changes
  consent or profile, or is tagged by hand. Tags set by rules do not trigger rules again
  (no chains or loops through events; the nightly run settles rules on rules' tags).
* A rule may not name its own tag (a rule on its own output would flip back and forth).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from siyu.core import audit, clock
from siyu.core.actors import Actor
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.events import consumer
from siyu.core.models import DomainEvent, Merchant
from siyu.core.permissions import Perm
from siyu.core.tenancy import merchant_context
from siyu.customers import segments, tags
from siyu.customers.models import AutoTagRule, Customer, CustomerTag, Tag
from siyu.customers.rules import RuleError, check_structure

logger = logging.getLogger(__name__)

RULE_FIELDS = ("name", "tag", "rule", "remove_unmatched", "is_active")
MAX_RULES = 200

# Events after which a customer's rules are evaluated again (names, so the apps that
# register them need not be loaded first; the consumer ignores types never emitted).
TRIGGER_EVENTS = (
    "orders.order.paid",
    "orders.order.completed",
    "orders.order.cancelled",
    "orders.order.refunded",
    "payments.refund.succeeded",
    "customers.tag.added",
    "customers.tag.removed",
    "customers.customer.updated",
    "customers.consent.changed",
    "community.member.joined",
    "community.member.left",
    "guides.customer.bound",
    "guides.customer.transferred",
)


@dataclass(frozen=True)
class RunResult:
    added: int
    removed: int


def rule_actor(merchant: Merchant, rule: AutoTagRule) -> Actor:
    return Actor.system(merchant, label=f"auto-tag rule “{rule.name}”"[:150])


def _clean(
    *, name: Any, tag: Tag | None, rule: Any, tag_required: bool = True
) -> tuple[str, Tag | None]:
    text = (name or "").strip() if isinstance(name, str) else ""
    if not text:
        raise InvalidInput(_("Give a name."), fields={"name": _("This field is required.")})
    if len(text) > 80:
        raise InvalidInput(
            _("The name is too long."), fields={"name": _("At most %(n)d characters.") % {"n": 80}}
        )
    found = None
    if tag is not None:
        found = Tag.objects.filter(pk=tag.pk).first()
    if found is None and tag_required:
        raise InvalidInput(_("Choose a tag."), fields={"tag": _("Choose a tag of this merchant.")})
    segments.validate_rule(rule)
    if found is not None:
        for ref in check_structure(rule):
            if ref.kind == "tag" and ref.id == found.pk:
                raise RuleError(_("a rule may not ask for the tag it sets."), ref.path)
    return text, found


def create_rule(
    actor: Actor,
    *,
    name: str,
    tag: Tag,
    rule: Any,
    remove_unmatched: bool = True,
    is_active: bool = True,
) -> AutoTagRule:
    actor.require(Perm.SEGMENTS_MANAGE)
    with merchant_context(actor.merchant), transaction.atomic():
        text, found = _clean(name=name, tag=tag, rule=rule)
        if AutoTagRule.objects.count() >= MAX_RULES:
            message = _("At most %(n)d auto-tag rules.") % {"n": MAX_RULES}
            raise InvalidInput(message, fields={"name": message})
        row = AutoTagRule.objects.create(
            merchant=actor.merchant,
            name=text,
            tag=found,
            rule=rule,
            remove_unmatched=remove_unmatched,
            is_active=is_active,
        )
        audit.record(actor, "autotag_rule.create", row, after=audit.snapshot(row, RULE_FIELDS))
    return row


def update_rule(
    actor: Actor,
    rule_row: AutoTagRule,
    *,
    name: str | None = None,
    tag: Tag | None = None,
    rule: Any = None,
    remove_unmatched: bool | None = None,
    is_active: bool | None = None,
) -> AutoTagRule:
    actor.require(Perm.SEGMENTS_MANAGE)
    with merchant_context(actor.merchant), transaction.atomic():
        row = AutoTagRule.objects.select_for_update().filter(pk=rule_row.pk).first()
        if row is None:
            raise NotFound(_("No such auto-tag rule."))
        before = audit.snapshot(row, RULE_FIELDS)
        text, found = _clean(
            name=name if name is not None else row.name,
            tag=tag if tag is not None else row.tag,
            rule=rule if rule is not None else row.rule,
        )
        row.name, row.tag = text, found  # type: ignore[assignment]
        if rule is not None:
            row.rule = rule
        if remove_unmatched is not None:
            row.remove_unmatched = remove_unmatched
        if is_active is not None:
            row.is_active = is_active
        after = audit.snapshot(row, RULE_FIELDS)
        if after != before:
            row.save()
            audit.record(actor, "autotag_rule.update", row, before=before, after=after)
    return row


def delete_rule(actor: Actor, rule_row: AutoTagRule) -> None:
    """Delete a rule. The tags it set stay (their links keep no rule)."""
    actor.require(Perm.SEGMENTS_MANAGE)
    with merchant_context(actor.merchant), transaction.atomic():
        row = AutoTagRule.objects.select_for_update().filter(pk=rule_row.pk).first()
        if row is None:
            raise NotFound(_("No such auto-tag rule."))
        audit.record(actor, "autotag_rule.delete", row, before=audit.snapshot(row, RULE_FIELDS))
        row.delete()


def run_rule(rule_row: AutoTagRule, *, actor: Actor | None = None) -> RunResult:
    """Bring the rule's tag in line with the rule, set-based; the counts added and removed.

    ``actor`` (staff pressing "run now") is written to the audit log; the tagging itself is
    done by the rule."""
    merchant = rule_row.merchant
    with merchant_context(merchant), transaction.atomic():
        row = AutoTagRule.objects.select_for_update().filter(pk=rule_row.pk).first()
        if row is None:
            raise NotFound(_("No such auto-tag rule."))
        if actor is not None:
            actor.require(Perm.SEGMENTS_MANAGE)
        by_rule = rule_actor(merchant, row)
        matching = segments.matching_customers(row.rule)
        added = tags.bulk_tag(by_rule, row.tag, matching, source=CustomerTag.Source.RULE, rule=row)
        removed = 0
        if row.remove_unmatched:
            not_matching = Customer.objects.filter(~segments.rule_filter(row.rule))
            removed = tags.bulk_untag(by_rule, row.tag, not_matching, rule=row, reason="rule")
        row.last_run_at = clock.now()
        row.last_run_added = added
        row.last_run_removed = removed
        row.save(update_fields=["last_run_at", "last_run_added", "last_run_removed"])
        if actor is not None:
            audit.record(actor, "autotag_rule.run", row, after={"added": added, "removed": removed})
    return RunResult(added, removed)


def run_all_rules(merchant: Merchant | None = None) -> dict[str, int]:
    """Run every active rule of every merchant (or of ``merchant`` only: after an import
    changed many customers at once); a rule that fails is logged and skipped."""
    totals = {"rules": 0, "added": 0, "removed": 0, "failed": 0}
    rows = AutoTagRule.unscoped.filter(is_active=True).select_related("merchant").order_by("pk")
    if merchant is not None:
        rows = rows.filter(merchant_id=merchant.pk)
    for row in rows:
        try:
            result = run_rule(row)
        except RuleError as exc:  # e.g. a group the rule names was deleted since
            logger.warning("auto-tag rule %s is no longer valid: %s", row.pk, exc)
            totals["failed"] += 1
            continue
        totals["rules"] += 1
        totals["added"] += result.added
        totals["removed"] += result.removed
    return totals


def _set_by(row: AutoTagRule, customer: Customer) -> bool:
    return CustomerTag.objects.filter(
        customer=customer, tag=row.tag, source=CustomerTag.Source.RULE, rule=row
    ).exists()


def apply_rules_to_customer(customer_id: int) -> RunResult:
    """Run the bound merchant's active rules for one customer: one ``EXISTS`` per rule."""
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return RunResult(0, 0)
    added = removed = 0
    for row in AutoTagRule.objects.filter(is_active=True).select_related("tag").order_by("pk"):
        try:
            matches = segments.matching_customers(row.rule).filter(pk=customer.pk).exists()
        except RuleError as exc:
            logger.warning("auto-tag rule %s is no longer valid: %s", row.pk, exc)
            continue
        by_rule = rule_actor(customer.merchant, row)
        if matches:
            if tags.tag_customer(
                by_rule, customer, row.tag, source=CustomerTag.Source.RULE, rule=row
            ):
                added += 1
        elif row.remove_unmatched and _set_by(row, customer):
            removed += int(tags.untag_customer(by_rule, customer, row.tag, reason="rule"))
    return RunResult(added, removed)


def _customer_of(event: DomainEvent) -> int | None:
    payload = event.payload or {}
    customer_id = payload.get("customer_id")
    if isinstance(customer_id, int):
        return customer_id
    order_id = payload.get("order_id")
    if not isinstance(order_id, int) and event.aggregate_type == "orders.order":
        order_id = int(event.aggregate_id) if event.aggregate_id.isdigit() else None
    if isinstance(order_id, int):
        from siyu.orders.models import Order

        return Order.objects.filter(pk=order_id).values_list("customer_id", flat=True).first()
    if event.aggregate_type == "customers.customer" and event.aggregate_id.isdigit():
        return int(event.aggregate_id)
    return None


@consumer("customers.autotag", event_types=TRIGGER_EVENTS)
def evaluate_rules_on_event(event: DomainEvent) -> None:
    """Idempotent: running a customer's rules twice changes nothing the second time."""
    payload = event.payload or {}
    if event.event_type.startswith("customers.tag.") and (
        payload.get("source") == CustomerTag.Source.RULE
        or payload.get("reason") in ("rule", "exclusive")
    ):
        return  # set by a rule (or its exclusive group): no chains or loops through events
    if not AutoTagRule.objects.filter(is_active=True).exists():
        return
    customer_id = _customer_of(event)
    if customer_id is not None:
        apply_rules_to_customer(customer_id)
