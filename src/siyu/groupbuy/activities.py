"""Operators' changes to group-buy activities: create (a draft), edit, schedule, pause, resume,
end — each validated first (every bad field named), audited, in one transaction.

Permissions: ``promotions.manage`` (group-buys are promotions to the roles). A started
activity (scheduled, running, paused) keeps its product, SKUs, prices, team size and fill time:
teams already filling were promised them. Ending an activity closes its open teams at once:
the minute job fails them and refunds their members.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from siyu.catalog.models import Product, Sku
from siyu.core import audit, clock
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.permissions import Perm
from siyu.groupbuy import rules
from siyu.groupbuy.models import (
    MAX_FILL_HOURS,
    MAX_PER_CUSTOMER,
    MAX_TEAM_SIZE,
    MIN_TEAM_SIZE,
    GroupBuy,
    GroupBuySku,
    Team,
)

MAX_NAME = 60
MAX_DESCRIPTION = 200
MAX_STOCK = 1_000_000
MAX_SKUS = 50
AUDIT_FIELDS = [
    "name",
    "description",
    "status",
    "team_size",
    "fill_hours",
    "starts_at",
    "ends_at",
    "per_customer_limit",
    "new_customers_only",
    "allow_coupons",
]
# What a started activity may still change.
STARTED_FIELDS = frozenset({"name", "description", "ends_at", "per_customer_limit", "skus"})
STARTED = (GroupBuy.Status.SCHEDULED, GroupBuy.Status.RUNNING, GroupBuy.Status.PAUSED)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _id(value: object) -> int:
    """``value`` when it is a whole number, else 0 (which matches no row)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _whole(errors: dict[str, str], name: str, value: object, low: int, high: int) -> int | None:
    if not _is_int(value) or not low <= value <= high:  # type: ignore[operator]
        errors[name] = _("Give a whole number from %(low)d to %(high)d.") % {
            "low": low,
            "high": high,
        }
        return None
    return value  # type: ignore[return-value]


def _moment(errors: dict[str, str], name: str, value: object) -> datetime | None:
    if not isinstance(value, datetime) or value.tzinfo is None:
        errors[name] = _("Expected a date and time with a time zone.")
        return None
    return value


def _clean_skus(
    errors: dict[str, str], raw: object, product: Product | None, started: GroupBuy | None
) -> list[dict[str, int]]:
    """``[{sku_id, group_price, stock}]`` checked against the product's SKUs."""
    if not isinstance(raw, (list, tuple)) or not raw:
        errors["skus"] = _("Add at least one SKU with its group price and stock.")
        return []
    if len(raw) > MAX_SKUS:
        errors["skus"] = _("At most %(n)d SKUs.") % {"n": MAX_SKUS}
        return []
    skus = {s.pk: s for s in Sku.objects.filter(product=product)} if product is not None else {}
    sold: dict[int, int] = {}
    if started is not None:
        sold = {
            row.sku_id: row.stock_total - row.stock_left
            for row in GroupBuySku.objects.filter(activity=started)
        }
    cleaned: list[dict[str, int]] = []
    seen: set[int] = set()
    for n, item in enumerate(raw):
        if not isinstance(item, Mapping):
            errors[f"skus.{n}"] = _("Give the SKU id, group price and stock.")
            continue
        sku_id = item.get("sku_id")
        sku = skus.get(sku_id) if _is_int(sku_id) else None  # type: ignore[arg-type]
        if sku is None:
            if product is not None:
                errors[f"skus.{n}.sku_id"] = _("Not a SKU of this product.")
            continue
        if sku.pk in seen:
            errors[f"skus.{n}.sku_id"] = _("Listed twice.")
            continue
        seen.add(sku.pk)
        if started is not None and sku.pk not in sold:
            errors[f"skus.{n}.sku_id"] = _("SKUs cannot be added once the group-buy started.")
            continue
        price = _whole(errors, f"skus.{n}.group_price", item.get("group_price"), 1, sku.price)
        if price is not None and price >= sku.price:
            errors[f"skus.{n}.group_price"] = _("The group price must be below the price.")
            price = None
        if price is not None and started is not None:
            current = GroupBuySku.objects.get(activity=started, sku=sku).group_price
            if price != current:
                errors[f"skus.{n}.group_price"] = _(
                    "The group price cannot change once the group-buy started."
                )
        low = sold.get(sku.pk, 0)
        stock = _whole(errors, f"skus.{n}.stock", item.get("stock"), max(1, low), MAX_STOCK)
        if price is not None and stock is not None:
            cleaned.append({"sku_id": sku.pk, "group_price": price, "stock": stock})
    return cleaned


def _clean(
    data: Mapping[str, Any], current: GroupBuy | None
) -> tuple[dict[str, Any], list[dict[str, int]] | None]:
    """The activity's fields and SKUs from ``data`` (only the keys given, for an edit)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    started = current if current is not None and current.status in STARTED else None
    if started is not None:
        for name in data:
            if name not in STARTED_FIELDS:
                errors[name] = _("This cannot change once the group-buy started.")
    if "name" in data:
        name = " ".join(str(data.get("name") or "").split())
        if not name:
            errors["name"] = _("Give a name.")
        elif len(name) > MAX_NAME:
            errors["name"] = _("At most %(n)d characters.") % {"n": MAX_NAME}
        values["name"] = name
    if "description" in data:
        text = " ".join(str(data.get("description") or "").split())
        if len(text) > MAX_DESCRIPTION:
            errors["description"] = _("At most %(n)d characters.") % {"n": MAX_DESCRIPTION}
        values["description"] = text
    product = current.product if current is not None else None
    if "product_id" in data and started is None:
        raw = data.get("product_id")
        product = Product.objects.filter(pk=_id(raw)).first() if _is_int(raw) else None
        if product is None:
            errors["product_id"] = _("Unknown product.")
        values["product"] = product
    for name, low, high in (
        ("team_size", MIN_TEAM_SIZE, MAX_TEAM_SIZE),
        ("fill_hours", 1, MAX_FILL_HOURS),
        ("per_customer_limit", 1, MAX_PER_CUSTOMER),
    ):
        if name in data:
            values[name] = _whole(errors, name, data.get(name), low, high)
    for name in ("new_customers_only", "allow_coupons"):
        if name in data:
            if not isinstance(data.get(name), bool):
                errors[name] = _("Give true or false.")
            values[name] = data.get(name)
    for name in ("starts_at", "ends_at"):
        if name in data:
            values[name] = _moment(errors, name, data.get(name))
    starts = values.get("starts_at", current.starts_at if current else None)
    ends = values.get("ends_at", current.ends_at if current else None)
    if starts is not None and ends is not None and ends <= starts:
        errors["ends_at"] = _("The end must come after the start.")
    if started is not None and "ends_at" in values and ends is not None and ends <= clock.now():
        errors["ends_at"] = _("The end must be in the future (end it instead).")
    skus = None
    if "skus" in data:
        skus = _clean_skus(errors, data.get("skus"), product, started)
    elif current is not None and values.get("product") not in (None, current.product):
        errors["skus"] = _("Give the SKUs of the new product.")
    if errors:
        raise InvalidInput(_("The group-buy could not be saved."), fields=errors)
    return values, skus


def _write_skus(activity: GroupBuy, skus: list[dict[str, int]]) -> None:
    existing = {row.sku_id: row for row in GroupBuySku.objects.filter(activity=activity)}
    keep = {item["sku_id"] for item in skus}
    GroupBuySku.objects.filter(activity=activity).exclude(sku_id__in=keep).delete()
    for item in skus:
        row = existing.get(item["sku_id"])
        if row is None:
            GroupBuySku.objects.create(
                activity=activity,
                sku_id=item["sku_id"],
                group_price=item["group_price"],
                stock_total=item["stock"],
                stock_left=item["stock"],
            )
            continue
        sold = row.stock_total - row.stock_left
        row.group_price = item["group_price"]
        row.stock_total = item["stock"]
        row.stock_left = item["stock"] - sold
        row.save(update_fields=["group_price", "stock_total", "stock_left"])


REQUIRED = (
    "name",
    "product_id",
    "team_size",
    "fill_hours",
    "starts_at",
    "ends_at",
    "skus",
)


@transaction.atomic
def create(actor: Actor, data: Mapping[str, Any]) -> GroupBuy:
    """A new group-buy, as a draft (``schedule`` it to publish)."""
    actor.require(Perm.PROMOTIONS_MANAGE)
    missing = {name: _("Required.") for name in REQUIRED if data.get(name) is None}
    values, skus = _clean({k: v for k, v in data.items() if v is not None}, None)
    if missing:
        raise InvalidInput(_("The group-buy could not be saved."), fields=missing)
    values.setdefault("per_customer_limit", 1)
    activity = GroupBuy.objects.create(status=GroupBuy.Status.DRAFT, **values)
    _write_skus(activity, skus or [])
    audit.record(
        actor, "groupbuy.activity.create", activity, after=audit.snapshot(activity, AUDIT_FIELDS)
    )
    return activity


def _locked(activity_id: object) -> GroupBuy:
    activity = (
        GroupBuy.objects.select_for_update()
        .select_related("product")
        .filter(pk=_id(activity_id))
        .first()
        if _is_int(activity_id)
        else None
    )
    if activity is None:
        raise NotFound(_("Not found."))
    return activity


@transaction.atomic
def update(actor: Actor, activity_id: int, changes: Mapping[str, Any]) -> GroupBuy:
    """Change a draft freely; a started one only its name, description, end, per-customer
    limit and SKU stock (never below what was sold). An ended one: 409 ``bad_status``."""
    actor.require(Perm.PROMOTIONS_MANAGE)
    activity = _locked(activity_id)
    if activity.status == GroupBuy.Status.ENDED:
        raise Conflict(_("An ended group-buy cannot change."), code="bad_status")
    before = audit.snapshot(activity, AUDIT_FIELDS)
    values, skus = _clean(changes, activity)
    for name, value in values.items():
        setattr(activity, name, value)
    activity.save()
    if skus is not None:
        _write_skus(activity, skus)
    if "ends_at" in values:  # open teams never outlive the activity
        Team.objects.filter(
            activity=activity, status=Team.Status.OPEN, deadline__gt=activity.ends_at
        ).update(deadline=activity.ends_at)
    audit.record(
        actor,
        "groupbuy.activity.update",
        activity,
        before=before,
        after=audit.snapshot(activity, AUDIT_FIELDS),
    )
    return activity


# action → (statuses it leaves from, status it goes to)
MOVES: dict[str, tuple[frozenset[str], str]] = {
    "schedule": (frozenset({GroupBuy.Status.DRAFT}), GroupBuy.Status.SCHEDULED),
    "pause": (frozenset({GroupBuy.Status.RUNNING}), GroupBuy.Status.PAUSED),
    "resume": (frozenset({GroupBuy.Status.PAUSED}), GroupBuy.Status.RUNNING),
    "end": (
        frozenset({GroupBuy.Status.SCHEDULED, GroupBuy.Status.RUNNING, GroupBuy.Status.PAUSED}),
        GroupBuy.Status.ENDED,
    ),
}


@transaction.atomic
def set_status(actor: Actor, activity_id: int, action: str) -> GroupBuy:
    """``schedule`` a draft (it runs from its start), ``pause``/``resume`` a running one, ``end``
    it (open teams close now and are refunded by the minute job). Others: 409 ``bad_status``."""
    actor.require(Perm.PROMOTIONS_MANAGE)
    if action not in MOVES:
        raise InvalidInput(
            _("Unknown action."), fields={"action": _("schedule, pause, resume or end.")}
        )
    activity = _locked(activity_id)
    now = clock.now()
    phase = rules.phase(activity.status, activity.starts_at, activity.ends_at, now)
    sources, target = MOVES[action]
    if phase not in sources:
        reason = _("A %(status)s group-buy cannot do this.") % {
            "status": GroupBuy.Status(phase).label
        }
        raise Conflict(reason, fields={"action": reason}, code="bad_status")
    if action == "schedule":
        errors: dict[str, str] = {}
        if activity.ends_at <= now:
            errors["ends_at"] = _("The end must be in the future.")
        if not GroupBuySku.objects.filter(activity=activity).exists():
            errors["skus"] = _("Add at least one SKU with its group price and stock.")
        if errors:
            raise InvalidInput(_("The group-buy cannot be scheduled."), fields=errors)
        if activity.starts_at <= now:
            target = GroupBuy.Status.RUNNING
    before = audit.snapshot(activity, AUDIT_FIELDS)
    activity.status = target
    activity.save(update_fields=["status", "updated_at"])
    if target == GroupBuy.Status.ENDED:
        Team.objects.filter(activity=activity, status=Team.Status.OPEN).update(deadline=now)
    audit.record(
        actor,
        f"groupbuy.activity.{action}",
        activity,
        before=before,
        after=audit.snapshot(activity, AUDIT_FIELDS),
    )
    return activity


def advance_due(now: datetime | None = None) -> int:
    """Write down what time did (all merchants): scheduled ones whose start came run, those
    past their end end. Answers how many changed."""
    now = now or clock.now()
    started = GroupBuy.unscoped.filter(
        status=GroupBuy.Status.SCHEDULED, starts_at__lte=now, ends_at__gt=now
    ).update(status=GroupBuy.Status.RUNNING, updated_at=now)
    ended = GroupBuy.unscoped.filter(status__in=list(STARTED), ends_at__lte=now).update(
        status=GroupBuy.Status.ENDED, updated_at=now
    )
    return started + ended
