"""Member tiers and points settings: the operator's writes and tier evaluation.

A customer's tier is the highest-ranked tier whose threshold their last 12 months reach
(spend paid less refunds in fen, or points earned less points taken back). It is evaluated
on every paid or refunded order of theirs (outbox consumer) and nightly for every customer
(figures slide out of the 12-month window); a change up or down updates ``CustomerTier``,
writes a timeline entry and emits ``loyalty.tier.changed``, in one transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import translation
from django.utils.translation import gettext as _

from siyu.core import audit, clock, events
from siyu.core.actors import Actor
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.permissions import Perm
from siyu.core.tenancy import current_merchant
from siyu.customers import timeline
from siyu.customers.models import Customer
from siyu.loyalty import events as loyalty_events
from siyu.loyalty import rules, selectors
from siyu.loyalty.models import BASIS_POINTS, CustomerTier, LoyaltySettings, MemberTier

MAX_TIERS = 20
MAX_THRESHOLD = 10**13


# --- evaluation -----------------------------------------------------------------------------


def _change(
    customer_id: int,
    row: CustomerTier | None,
    tier: MemberTier | None,
    spend: int,
    points: int,
    now: datetime,
    ranks: dict[int, int],
) -> bool:
    """Record the customer's tier (their row locked, or None); True when it changed."""
    before = row.tier if row is not None else None
    before_id = before.pk if before is not None else None
    after_id = tier.pk if tier is not None else None
    if row is None:
        row = CustomerTier(
            customer_id=customer_id,
            tier=tier,
            spend_12m=spend,
            points_12m=points,
            since=now if tier is not None else None,
            evaluated_at=now,
        )
        row.save(force_insert=True)
    else:
        row.spend_12m, row.points_12m, row.evaluated_at = spend, points, now
        fields = ["spend_12m", "points_12m", "evaluated_at"]
        if before_id != after_id:
            row.tier, row.since = tier, now
            fields += ["tier", "since"]
        row.save(update_fields=fields)
    if before_id == after_id:
        return False
    up = ranks.get(after_id or 0, -1) > ranks.get(before_id or 0, -1)
    direction = "up" if up else "down"
    with translation.override(settings.LANGUAGE_CODE):
        text = _("Member tier: %(from)s → %(to)s") % {
            "from": before.name if before is not None else _("none"),
            "to": tier.name if tier is not None else _("none"),
        }
    data = {
        "from_tier_id": before_id,
        "from_tier": before.name if before is not None else "",
        "to_tier_id": after_id,
        "to_tier": tier.name if tier is not None else "",
        "direction": direction,
        "spend_12m": spend,
        "points_12m": points,
    }
    timeline.record(customer_id, "note", {"text": text, "source": "loyalty.tier", **data}, at=now)
    events.emit(
        current_merchant(), loyalty_events.TIER_CHANGED, {"customer_id": customer_id, **data}
    )
    return True


@transaction.atomic
def evaluate(customer: Customer | int, *, now: datetime | None = None) -> MemberTier | None:
    """Re-decide one customer's tier from their last 12 months; their tier after."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    now = now or clock.now()
    found = selectors.tiers()
    row = (
        CustomerTier.objects.select_for_update(of=("self",))
        .select_related("tier")
        .filter(customer_id=customer_id)
        .first()
    )
    if row is None and not found:
        return None
    spend, points = selectors.figures_of(customer_id, now)
    rule = rules.tier_for(selectors.tier_rules(found), spend, points)
    tier = next((t for t in found if rule is not None and t.pk == rule.id), None)
    try:
        with transaction.atomic():
            _change(customer_id, row, tier, spend, points, now, {t.pk: t.rank for t in found})
    except IntegrityError:  # a concurrent first evaluation created the row: evaluate again
        return evaluate(customer_id, now=now)
    return tier


def evaluate_all(now: datetime | None = None) -> int:
    """Re-decide every customer's tier of the bound merchant (nightly); the changes made.

    Figures are aggregated for all customers in two queries; only customers whose tier
    differs from the stored one are locked and written (one transaction each)."""
    from siyu.orders.models import Order

    now = now or clock.now()
    found = selectors.tiers()
    ruled = selectors.tier_rules(found)
    since = now - selectors.YEAR
    spend = dict(
        Order.objects.filter(paid_at__gte=since, paid_at__lte=now)
        .values_list("customer_id")
        .annotate(s=Sum(F("total") - F("refunded_total")))
        .values_list("customer_id", "s")
    )
    from siyu.loyalty.models import PointsEntry

    points = dict(
        PointsEntry.objects.filter(kind__in=selectors.EARNING_KINDS, created_at__gte=since)
        .values_list("customer_id")
        .annotate(s=Sum("points"))
        .values_list("customer_id", "s")
    )
    current = dict(CustomerTier.objects.values_list("customer_id", "tier_id"))
    changed = 0
    for customer_id in sorted(set(spend) | set(points) | set(current)):
        rule = rules.tier_for(
            ruled, int(spend.get(customer_id) or 0), int(points.get(customer_id) or 0)
        )
        want = rule.id if rule is not None else None
        if current.get(customer_id) == want and (customer_id in current or want is None):
            continue
        before = current.get(customer_id)
        after = evaluate(customer_id, now=now)
        if (after.pk if after is not None else None) != before:
            changed += 1
    return changed


# --- operator writes ---------------------------------------------------------------------------


def _check(actor: Actor) -> None:
    actor.require(Perm.PROMOTIONS_MANAGE)


def _int(data: dict[str, Any], name: str, errors: dict[str, str], low: int, high: int) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[name] = _("A whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
        return 0
    return value


SETTING_LIMITS = {
    "earn_per_yuan": (0, 1000),
    "fen_per_point": (1, 10_000),
    "max_redeem_bp": (0, BASIS_POINTS),
    "expiry_days": (1, 3650),
    "sign_in_points": (0, 100_000),
    "first_order_points": (0, 1_000_000),
    "review_points": (0, 100_000),
}


@transaction.atomic
def save_settings(actor: Actor, data: dict[str, Any]) -> LoyaltySettings:
    """Save the merchant's points settings (every field checked; 422 naming each bad one)."""
    _check(actor)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        name: _int(data, name, errors, low, high) for name, (low, high) in SETTING_LIMITS.items()
    }
    if data.get("expiry") not in LoyaltySettings.Expiry.values:
        errors["expiry"] = _("Choose an expiry rule.")
    if not isinstance(data.get("enabled"), bool):
        errors["enabled"] = _("Yes or no.")
    if errors:
        raise InvalidInput(_("The settings could not be saved."), fields=errors)
    row = LoyaltySettings.objects.select_for_update().first()
    before = audit.snapshot(row, [*list(values), "expiry", "enabled"]) if row else {}
    row = row or LoyaltySettings(merchant=current_merchant())
    for name, value in values.items():
        setattr(row, name, value)
    row.expiry = data["expiry"]
    row.enabled = data["enabled"]
    row.save()
    audit.record(
        actor,
        "loyalty.settings.saved",
        row,
        before=before,
        after=audit.snapshot(row, [*list(values), "expiry", "enabled"]),
    )
    return row


TIER_FIELDS = ["name", "basis", "threshold", "discount_bp", "points_multiplier_bp", "free_shipping"]


def _tier_values(data: dict[str, Any], tier: MemberTier | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = " ".join(str(data.get("name") or "").split())
    if not 0 < len(name) <= 40:
        errors["name"] = _("1–40 characters.")
    elif MemberTier.objects.filter(name=name).exclude(pk=tier.pk if tier else 0).exists():
        errors["name"] = _("Another tier has this name.")
    if data.get("basis") not in MemberTier.Basis.values:
        errors["basis"] = _("Choose spend or points.")
    values = {
        "name": name,
        "basis": data.get("basis"),
        "threshold": _int(data, "threshold", errors, 0, MAX_THRESHOLD),
        "discount_bp": _int(data, "discount_bp", errors, 0, 9000),
        "points_multiplier_bp": _int(data, "points_multiplier_bp", errors, 0, 10 * BASIS_POINTS),
        "free_shipping": data.get("free_shipping"),
    }
    if not isinstance(values["free_shipping"], bool):
        errors["free_shipping"] = _("Yes or no.")
    if errors:
        raise InvalidInput(_("The tier could not be saved."), fields=errors)
    return values


@transaction.atomic
def create_tier(actor: Actor, data: dict[str, Any]) -> MemberTier:
    """A new tier, ranked above the others; customers move into it on their next evaluation
    (their next order or the nightly run)."""
    _check(actor)
    values = _tier_values(data, None)
    existing = list(MemberTier.objects.select_for_update().order_by("rank", "id"))
    if len(existing) >= MAX_TIERS:
        raise InvalidInput(
            _("At most %(n)d tiers.") % {"n": MAX_TIERS},
            fields={"name": _("At most %(n)d tiers.") % {"n": MAX_TIERS}},
        )
    rank = (existing[-1].rank + 1) if existing else 1
    try:
        with transaction.atomic():
            tier = MemberTier.objects.create(rank=rank, **values)
    except IntegrityError:
        raise InvalidInput(
            _("Another tier has this name."), fields={"name": _("Another tier has this name.")}
        ) from None
    audit.record(actor, "loyalty.tier.created", tier, after=audit.snapshot(tier, TIER_FIELDS))
    return tier


def _tier(pk: int, *, lock: bool = False) -> MemberTier:
    found = MemberTier.objects.select_for_update() if lock else MemberTier.objects
    tier = found.filter(pk=pk).first()
    if tier is None:
        raise NotFound(_("Not found."))
    return tier


@transaction.atomic
def update_tier(actor: Actor, tier_id: int, data: dict[str, Any]) -> MemberTier:
    _check(actor)
    tier = _tier(tier_id, lock=True)
    values = _tier_values(data, tier)
    before = audit.snapshot(tier, TIER_FIELDS)
    for name, value in values.items():
        setattr(tier, name, value)
    tier.save()
    audit.record(
        actor, "loyalty.tier.updated", tier, before=before, after=audit.snapshot(tier, TIER_FIELDS)
    )
    return tier


@transaction.atomic
def move_tier(actor: Actor, tier_id: int, direction: str) -> list[MemberTier]:
    """Swap a tier with its neighbour (``up``: a higher rank); the tiers in their new order."""
    _check(actor)
    if direction not in ("up", "down"):
        raise InvalidInput(_("Up or down."), fields={"direction": _("Up or down.")})
    ordered = list(MemberTier.objects.select_for_update().order_by("rank", "id"))
    index = next((i for i, t in enumerate(ordered) if t.pk == tier_id), None)
    if index is None:
        raise NotFound(_("Not found."))
    other = index + 1 if direction == "up" else index - 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    for rank, tier in enumerate(ordered, start=1):
        if tier.rank != rank:
            tier.rank = rank
            tier.save(update_fields=["rank"])
    audit.record(actor, "loyalty.tier.moved", ordered[0], after={"order": [t.pk for t in ordered]})
    return ordered


@transaction.atomic
def delete_tier(actor: Actor, tier_id: int) -> None:
    """Remove a tier; its members are evaluated again at once (timeline and event each)."""
    _check(actor)
    tier = _tier(tier_id, lock=True)
    members = sorted(CustomerTier.objects.filter(tier=tier).values_list("customer_id", flat=True))
    audit.record(actor, "loyalty.tier.deleted", tier, before=audit.snapshot(tier, TIER_FIELDS))
    ranks = {t.pk: t.rank for t in selectors.tiers()}
    now = clock.now()
    found = [t for t in selectors.tiers() if t.pk != tier.pk]
    ruled = selectors.tier_rules(found)
    for customer_id in members:
        row = (
            CustomerTier.objects.select_for_update(of=("self",))
            .select_related("tier")
            .get(customer_id=customer_id)
        )
        spend, points = selectors.figures_of(customer_id, now)
        rule = rules.tier_for(ruled, spend, points)
        new = next((t for t in found if rule is not None and t.pk == rule.id), None)
        _change(customer_id, row, new, spend, points, now, ranks)
    tier.delete()
