"""Staff writes on bargain activities: create and edit a draft, schedule (start), pause,
resume, end.

Every write takes an ``Actor`` with ``PROMOTIONS_MANAGE``, validates everything first (one
``InvalidInput`` naming every bad field), locks the activity row it changes and records an
audit entry. A draft may change in every field. Once scheduled, only what does not change a
bargain already started may: the name, the end (not before now), the stock (never below what
was sold) and the per-customer limit. An activity is *scheduled* when it is active and its
start is still ahead (:func:`siyu.bargain.selectors.shown_status`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from siyu.bargain.models import (
    MAX_HELPERS,
    MAX_HOURS,
    MAX_PER_CUSTOMER,
    MAX_WEIGHT,
    BargainActivity,
)
from siyu.core import audit, clock
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.permissions import Perm

A = BargainActivity
MAX_STOCK = 1_000_000
FIELDS = (
    "name",
    "sku_id",
    "floor_price",
    "helpers_needed",
    "time_limit_hours",
    "starts_at",
    "ends_at",
    "stock_total",
    "per_customer_limit",
    "new_customer_weight",
    "helpers_must_be_new",
    "buy_before_floor",
)
EDITABLE_WHEN_SCHEDULED = frozenset({"name", "ends_at", "stock_total", "per_customer_limit"})
DEFAULTS: dict[str, Any] = {
    "time_limit_hours": 24,
    "per_customer_limit": 1,
    "new_customer_weight": 1,
    "helpers_must_be_new": False,
    "buy_before_floor": True,
}
MOVES: dict[str, tuple[str, ...]] = {
    A.Status.ACTIVE: (A.Status.DRAFT, A.Status.PAUSED),
    A.Status.PAUSED: (A.Status.ACTIVE,),
    A.Status.ENDED: (A.Status.DRAFT, A.Status.ACTIVE, A.Status.PAUSED),
}


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _between(low: int, high: int) -> str:
    return _("A whole number from %(low)d to %(high)d.") % {"low": low, "high": high}


def problems(values: Mapping[str, Any]) -> dict[str, str]:
    """Every bad field of a whole activity (``values`` holds every field of ``FIELDS``)."""
    from siyu.catalog.models import Sku

    errors: dict[str, str] = {}
    name = values["name"]
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 60:
        errors["name"] = _("Give a name of 1–60 characters.")
    sku = None
    if _whole(values["sku_id"], 1, 2**63 - 1):
        sku = Sku.objects.filter(pk=values["sku_id"], active=True).first()
    if sku is None:
        errors["sku_id"] = _("Choose one of your active SKUs.")
    helpers = values["helpers_needed"]
    if not _whole(helpers, 1, MAX_HELPERS):
        errors["helpers_needed"] = _between(1, MAX_HELPERS)
    floor = values["floor_price"]
    if not _whole(floor, 0, 2**62):
        errors["floor_price"] = _("Give the floor price in fen, 0 or more.")
    elif sku is not None:
        if floor >= sku.price:
            errors["floor_price"] = _("The floor price must be below the SKU's price (%(p)s).") % {
                "p": _money(sku.price)
            }
        elif "helpers_needed" not in errors and sku.price - floor < helpers:
            errors["floor_price"] = _(
                "Leave at least 1 fen to cut per helper: at most %(p)s with %(n)d helpers."
            ) % {"p": _money(sku.price - helpers), "n": helpers}
    if not _whole(values["time_limit_hours"], 1, MAX_HOURS):
        errors["time_limit_hours"] = _between(1, MAX_HOURS)
    start, end = values["starts_at"], values["ends_at"]
    if not isinstance(start, datetime):
        errors["starts_at"] = _("Give the date and time it starts.")
    if not isinstance(end, datetime):
        errors["ends_at"] = _("Give the date and time it ends.")
    elif isinstance(start, datetime) and end <= start:
        errors["ends_at"] = _("Give an end after the start.")
    if not _whole(values["stock_total"], 1, MAX_STOCK):
        errors["stock_total"] = _between(1, MAX_STOCK)
    if not _whole(values["per_customer_limit"], 1, MAX_PER_CUSTOMER):
        errors["per_customer_limit"] = _between(1, MAX_PER_CUSTOMER)
    if not _whole(values["new_customer_weight"], 1, MAX_WEIGHT):
        errors["new_customer_weight"] = _between(1, MAX_WEIGHT)
    for flag in ("helpers_must_be_new", "buy_before_floor"):
        if not isinstance(values[flag], bool):
            errors[flag] = _("Yes or no.")
    return errors


def _money(amount: int) -> str:
    from siyu.core.money import format_amount

    return format_amount(amount)


def snapshot(activity: BargainActivity) -> dict[str, Any]:
    data = {name: getattr(activity, name) for name in FIELDS}
    for name in ("starts_at", "ends_at"):
        data[name] = data[name].isoformat() if data[name] else None
    return {**data, "status": activity.status, "stock_left": activity.stock_left}


@transaction.atomic
def create_activity(actor: Actor, data: Mapping[str, Any]) -> BargainActivity:
    """A new draft activity from ``data`` (see ``FIELDS``; the flags and limits have defaults)."""
    actor.require(Perm.PROMOTIONS_MANAGE)
    values: dict[str, Any] = dict.fromkeys(FIELDS) | DEFAULTS
    values.update({k: v for k, v in data.items() if k in FIELDS and v is not None})
    errors = problems(values)
    if errors:
        raise InvalidInput(_("The bargain activity could not be saved."), fields=errors)
    values["name"] = values["name"].strip()
    activity = A.objects.create(**values, stock_left=values["stock_total"], status=A.Status.DRAFT)
    audit.record(actor, "bargain.activity.created", activity, after=snapshot(activity))
    return activity


def _locked(activity_id: int) -> BargainActivity:
    activity = A.objects.select_for_update().filter(pk=activity_id).first()
    if activity is None:
        raise NotFound(_("Not found."))
    return activity


@transaction.atomic
def update_activity(actor: Actor, activity_id: int, data: Mapping[str, Any]) -> BargainActivity:
    """Change the fields in ``data``; once scheduled only the name, the end, the stock and the
    per-customer limit; an ended activity not at all."""
    actor.require(Perm.PROMOTIONS_MANAGE)
    activity = _locked(activity_id)
    before = snapshot(activity)
    changes = {k: v for k, v in data.items() if k in FIELDS}
    if activity.status == A.Status.ENDED:
        raise Conflict(_("An ended activity cannot change."), code="bad_status")
    if activity.status != A.Status.DRAFT:
        frozen = sorted(set(changes) - EDITABLE_WHEN_SCHEDULED)
        if frozen:
            reason = _("Cannot change once the activity is scheduled.")
            raise InvalidInput(reason, fields=dict.fromkeys(frozen, reason))
    values = {name: getattr(activity, name) for name in FIELDS}
    values.update(changes)
    errors = problems(values) if activity.status == A.Status.DRAFT else {}
    if activity.status != A.Status.DRAFT:
        errors = {k: v for k, v in problems(values).items() if k in changes}
        ends_at = values["ends_at"]
        if "ends_at" in changes and "ends_at" not in errors and ends_at <= clock.now():
            errors["ends_at"] = _("Give an end in the future.")
    sold = activity.stock_total - activity.stock_left
    if "stock_total" not in errors and values["stock_total"] < sold:
        errors["stock_total"] = _("At least the %(n)d already sold.") % {"n": sold}
    if errors:
        raise InvalidInput(_("The bargain activity could not be saved."), fields=errors)
    values["name"] = values["name"].strip()
    for name, value in values.items():
        setattr(activity, name, value)
    activity.stock_left = values["stock_total"] - sold
    activity.save()
    audit.record(
        actor, "bargain.activity.updated", activity, before=before, after=snapshot(activity)
    )
    return activity


@transaction.atomic
def set_status(actor: Actor, activity_id: int, status: str) -> BargainActivity:
    """Schedule (``active``: it runs from its start), pause, resume or end. Ended is final;
    bargains already started keep running until they expire unless the activity is paused
    or ended."""
    actor.require(Perm.PROMOTIONS_MANAGE)
    if status not in MOVES:
        reason = _("One of: %(values)s.") % {"values": ", ".join(MOVES)}
        raise InvalidInput(reason, fields={"status": reason})
    activity = _locked(activity_id)
    if activity.status == status:
        return activity
    if activity.status not in MOVES[status]:
        raise Conflict(
            _("A %(from)s activity cannot become %(to)s.")
            % {"from": activity.get_status_display(), "to": A.Status(status).label},
            code="bad_status",
        )
    if status == A.Status.ACTIVE and activity.ends_at <= clock.now():
        reason = _("Its end has already passed.")
        raise InvalidInput(reason, fields={"ends_at": reason})
    if status == A.Status.ACTIVE and activity.status == A.Status.DRAFT:
        # the SKU's price may have changed since the draft was saved
        errors = problems({name: getattr(activity, name) for name in FIELDS})
        errors.pop("starts_at", None)
        if errors:
            raise InvalidInput(_("The bargain activity could not be saved."), fields=errors)
    before = snapshot(activity)
    activity.status = status
    activity.save(update_fields=["status", "updated_at"])
    audit.record(
        actor, f"bargain.activity.{status}", activity, before=before, after=snapshot(activity)
    )
    return activity
