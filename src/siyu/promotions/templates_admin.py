"""Staff writes on coupon templates: create, edit, start/pause/end, issue to a customer.

Every write takes an ``Actor`` with ``PROMOTIONS_MANAGE``, validates everything first (one
``InvalidInput`` naming every bad field), records an audit entry, and locks the template row
it changes. While a template is a draft every field may change; once started, only what does
not change coupons already issued: name, description, quantity (never below what was issued),
the per-customer limit and the automatic-issue switches.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from siyu.core import audit, clock
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.money import MAX_AMOUNT
from siyu.core.permissions import Perm
from siyu.core.tenancy import current_merchant
from siyu.customers.models import Customer
from siyu.promotions import services
from siyu.promotions.models import MAX_PER_CUSTOMER, MAX_VALID_DAYS, Coupon, CouponTemplate

T = CouponTemplate
MAX_QUANTITY = 10_000_000
MAX_SCOPE_IDS = 200
FIELDS = (
    "name",
    "description",
    "kind",
    "amount",
    "percent_bp",
    "cap",
    "threshold",
    "validity",
    "valid_from",
    "valid_until",
    "valid_days",
    "total_quantity",
    "per_customer_limit",
    "audience",
    "audience_tag_id",
    "audience_segment_id",
    "scope",
    "scope_ids",
    "stackable",
    "issue_on_group_join",
    "issue_on_first_order",
)
EDITABLE_WHEN_STARTED = frozenset(
    {
        "name",
        "description",
        "total_quantity",
        "per_customer_limit",
        "issue_on_group_join",
        "issue_on_first_order",
    }
)
MOVES: dict[str, tuple[str, ...]] = {
    T.Status.ACTIVE: (T.Status.DRAFT, T.Status.SCHEDULED, T.Status.PAUSED),
    T.Status.PAUSED: (T.Status.ACTIVE,),
    T.Status.ENDED: (T.Status.DRAFT, T.Status.SCHEDULED, T.Status.ACTIVE, T.Status.PAUSED),
    T.Status.DRAFT: (T.Status.SCHEDULED,),  # unschedule
}
NOT_STARTED = (T.Status.DRAFT, T.Status.SCHEDULED)


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _between(low: int, high: int) -> str:
    return _("A whole number from %(low)d to %(high)d.") % {"low": low, "high": high}


def problems(values: Mapping[str, Any]) -> dict[str, str]:
    """Every bad field of a whole template (``values`` holds every field of ``FIELDS``)."""
    from siyu.catalog.models import Category, Product
    from siyu.customers.models import Segment, Tag

    errors: dict[str, str] = {}
    name = values["name"]
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 60:
        errors["name"] = _("Give a name of 1–60 characters.")
    if not isinstance(values["description"], str) or len(values["description"]) > 200:
        errors["description"] = _("At most %(n)d characters.") % {"n": 200}
    kind = values["kind"]
    if kind not in T.Kind.values:
        errors["kind"] = _("One of: %(values)s.") % {"values": ", ".join(T.Kind.values)}
    if kind in (T.Kind.FIXED, T.Kind.THRESHOLD) and not _whole(values["amount"], 1, MAX_AMOUNT):
        errors["amount"] = _("Give the amount off in fen, at least 1.")
    if kind == T.Kind.PERCENT and not _whole(values["percent_bp"], 1, 10_000):
        errors["percent_bp"] = _("Give the share off in basis points, 1–10000 (1500 = 15%).")
    if values["cap"] is not None and not _whole(values["cap"], 1, MAX_AMOUNT):
        errors["cap"] = _("Give the most it takes off in fen, at least 1, or nothing.")
    if not _whole(values["threshold"], 0, MAX_AMOUNT):
        errors["threshold"] = _("Give the minimum spend in fen, 0 for none.")
    elif kind == T.Kind.THRESHOLD and values["threshold"] <= 0:
        errors["threshold"] = _("A spend-and-save coupon needs a minimum spend.")
    if values["validity"] == T.Validity.DAYS:
        if not _whole(values["valid_days"], 1, MAX_VALID_DAYS):
            errors["valid_days"] = _between(1, MAX_VALID_DAYS)
    elif values["validity"] == T.Validity.DATES:
        start, end = values["valid_from"], values["valid_until"]
        if not isinstance(end, datetime):
            errors["valid_until"] = _("Give the date and time it ends.")
        elif start is not None and (not isinstance(start, datetime) or start >= end):
            errors["valid_from"] = _("Give a start before the end.")
    else:
        errors["validity"] = _("One of: %(values)s.") % {"values": ", ".join(T.Validity.values)}
    if not _whole(values["total_quantity"], 1, MAX_QUANTITY):
        errors["total_quantity"] = _between(1, MAX_QUANTITY)
    if not _whole(values["per_customer_limit"], 1, MAX_PER_CUSTOMER):
        errors["per_customer_limit"] = _between(1, MAX_PER_CUSTOMER)
    audience = values["audience"]
    if audience not in T.Audience.values:
        errors["audience"] = _("One of: %(values)s.") % {"values": ", ".join(T.Audience.values)}
    elif audience == T.Audience.TAG and not (
        _whole(values["audience_tag_id"], 1, 2**63 - 1)
        and Tag.objects.filter(pk=values["audience_tag_id"]).exists()
    ):
        errors["audience_tag_id"] = _("Choose one of your tags.")
    elif audience == T.Audience.SEGMENT and not (
        _whole(values["audience_segment_id"], 1, 2**63 - 1)
        and Segment.objects.filter(pk=values["audience_segment_id"]).exists()
    ):
        errors["audience_segment_id"] = _("Choose one of your segments.")
    scope, ids = values["scope"], values["scope_ids"]
    if scope not in T.Scope.values:
        errors["scope"] = _("One of: %(values)s.") % {"values": ", ".join(T.Scope.values)}
    elif scope != T.Scope.ALL:
        model = Category if scope == T.Scope.CATEGORIES else Product
        if (
            not isinstance(ids, list)
            or not 0 < len(ids) <= MAX_SCOPE_IDS
            or not all(_whole(i, 1, 2**63 - 1) for i in ids)
        ):
            errors["scope_ids"] = _("Give 1–%(n)d ids.") % {"n": MAX_SCOPE_IDS}
        else:
            known = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
            unknown = [str(i) for i in ids if i not in known]
            if unknown:
                errors["scope_ids"] = _("Unknown: %(ids)s.") % {"ids": ", ".join(unknown)}
    return errors


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    values["name"] = values["name"].strip()
    if values["kind"] == T.Kind.PERCENT:
        values["amount"] = 0
    else:
        values["percent_bp"], values["cap"] = 0, None
    if values["kind"] == T.Kind.FREE_SHIPPING:
        values["amount"] = 0
    if values["validity"] == T.Validity.DAYS:
        values["valid_from"] = values["valid_until"] = None
    else:
        values["valid_days"] = None
    if values["audience"] != T.Audience.TAG:
        values["audience_tag_id"] = None
    if values["audience"] != T.Audience.SEGMENT:
        values["audience_segment_id"] = None
    if values["scope"] == T.Scope.ALL:
        values["scope_ids"] = []
    return values


def snapshot(template: CouponTemplate) -> dict[str, Any]:
    data = {name: getattr(template, name) for name in FIELDS}
    for name in ("valid_from", "valid_until"):
        data[name] = data[name].isoformat() if data[name] else None
    starts = template.starts_at.isoformat() if template.starts_at else None
    return {**data, "status": template.status, "remaining": template.remaining, "starts_at": starts}


DEFAULTS: dict[str, Any] = {
    "description": "",
    "amount": 0,
    "percent_bp": 0,
    "cap": None,
    "threshold": 0,
    "validity": T.Validity.DAYS,
    "valid_from": None,
    "valid_until": None,
    "valid_days": 7,
    "per_customer_limit": 1,
    "audience": T.Audience.EVERYONE,
    "audience_tag_id": None,
    "audience_segment_id": None,
    "scope": T.Scope.ALL,
    "scope_ids": [],
    "stackable": False,
    "issue_on_group_join": False,
    "issue_on_first_order": False,
}


@transaction.atomic
def create_template(actor: Actor, data: Mapping[str, Any]) -> CouponTemplate:
    """A new draft template from ``data`` (``name``, ``kind``, ``total_quantity`` required)."""
    actor.require(Perm.PROMOTIONS_MANAGE)
    values = {**DEFAULTS, "name": None, "kind": None, "total_quantity": None}
    values.update({k: v for k, v in data.items() if k in FIELDS})
    errors = problems(values)
    if errors:
        raise InvalidInput(_("The coupon could not be saved."), fields=errors)
    values = _clean(values)
    template = T.objects.create(**values, remaining=values["total_quantity"], status=T.Status.DRAFT)
    audit.record(actor, "promotions.template.created", template, after=snapshot(template))
    return template


def _locked(template_id: int) -> CouponTemplate:
    template = T.objects.select_for_update().filter(pk=template_id).first()
    if template is None:
        raise NotFound(_("Not found."))
    return template


@transaction.atomic
def update_template(actor: Actor, template_id: int, data: Mapping[str, Any]) -> CouponTemplate:
    """Change the fields in ``data``; a started template only its name, description, quantity,
    per-customer limit and automatic-issue switches."""
    actor.require(Perm.PROMOTIONS_MANAGE)
    template = _locked(template_id)
    before = snapshot(template)
    changes = {k: v for k, v in data.items() if k in FIELDS}
    if template.status not in NOT_STARTED:
        frozen = sorted(set(changes) - EDITABLE_WHEN_STARTED)
        if frozen:
            reason = _("Cannot change once the coupon has started.")
            raise InvalidInput(reason, fields=dict.fromkeys(frozen, reason))
    values = {name: getattr(template, name) for name in FIELDS}
    values.update(changes)
    errors = problems(values)
    issued = template.total_quantity - template.remaining
    if "total_quantity" not in errors and values["total_quantity"] < issued:
        errors["total_quantity"] = _("At least the %(n)d already issued.") % {"n": issued}
    if errors:
        raise InvalidInput(_("The coupon could not be saved."), fields=errors)
    values = _clean(values)
    for name, value in values.items():
        setattr(template, name, value)
    template.remaining = values["total_quantity"] - issued
    template.save()
    audit.record(
        actor, "promotions.template.updated", template, before=before, after=snapshot(template)
    )
    return template


@transaction.atomic
def set_status(actor: Actor, template_id: int, status: str) -> CouponTemplate:
    """Start (``active``), pause, resume or end a template; ``draft`` unschedules a scheduled
    one. Ended is final."""
    actor.require(Perm.PROMOTIONS_MANAGE)
    if status not in MOVES:
        reason = _("One of: %(values)s.") % {"values": ", ".join(MOVES)}
        raise InvalidInput(reason, fields={"status": reason})
    template = _locked(template_id)
    if template.status == status:
        return template
    if template.status not in MOVES[status]:
        raise Conflict(
            _("A %(from)s coupon cannot become %(to)s.")
            % {"from": template.get_status_display(), "to": T.Status(status).label},
            code="bad_status",
        )
    if (
        status == T.Status.ACTIVE
        and template.validity == T.Validity.DATES
        and template.valid_until is not None
        and template.valid_until <= clock.now()
    ):
        reason = _("Its validity has already ended.")
        raise InvalidInput(reason, fields={"valid_until": reason})
    before = snapshot(template)
    template.status = status
    if status in (T.Status.ACTIVE, T.Status.DRAFT):
        template.starts_at = None if status == T.Status.DRAFT else template.starts_at
    template.save(update_fields=["status", "starts_at", "updated_at"])
    audit.record(
        actor, f"promotions.template.{status}", template, before=before, after=snapshot(template)
    )
    return template


def issue(actor: Actor, template_id: int, customer_id: int, *, client_key: str = "") -> Coupon:
    """Give a customer one coupon of an active template (the audience is not checked: staff
    decide; the quantity and the per-customer limit are)."""
    actor.require(Perm.PROMOTIONS_MANAGE)
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        reason = _("Unknown customer.")
        raise InvalidInput(reason, fields={"customer_id": reason})
    with transaction.atomic():
        coupon = services.claim(
            template_id,
            customer,
            source=Coupon.Source.STAFF,
            client_key=client_key,
            check_audience=False,
        )
        audit.record(
            actor,
            "promotions.coupon.issued",
            coupon,
            after={"template_id": template_id, "customer_id": customer_id, "code": coupon.code},
        )
    return coupon


@transaction.atomic
def schedule(actor: Actor, template_id: int, starts_at: Any) -> CouponTemplate:
    """Start a draft (or move a scheduled template) at ``starts_at``, a time in the future;
    :func:`start_due` starts it then. Claims are refused until it starts."""
    actor.require(Perm.PROMOTIONS_MANAGE)
    now = clock.now()
    if not isinstance(starts_at, datetime) or starts_at.tzinfo is None:
        reason = _("Give the date and time it starts.")
        raise InvalidInput(reason, fields={"starts_at": reason})
    if starts_at <= now:
        reason = _("Give a time in the future (or start it now).")
        raise InvalidInput(reason, fields={"starts_at": reason})
    template = _locked(template_id)
    if template.status not in NOT_STARTED:
        raise Conflict(
            _("A %(from)s coupon cannot become %(to)s.")
            % {"from": template.get_status_display(), "to": T.Status.SCHEDULED.label},
            code="bad_status",
        )
    ends = template.valid_until if template.validity == T.Validity.DATES else None
    if ends is not None and ends <= starts_at:
        reason = _("Its validity ends before it would start.")
        raise InvalidInput(reason, fields={"starts_at": reason})
    before = snapshot(template)
    template.status, template.starts_at = T.Status.SCHEDULED, starts_at
    template.save(update_fields=["status", "starts_at", "updated_at"])
    audit.record(
        actor, "promotions.template.scheduled", template, before=before, after=snapshot(template)
    )
    return template


def start_due(now: datetime | None = None) -> int:
    """Start the bound merchant's scheduled templates whose time has come (the scheduler's job;
    each start is its own transaction, audited as the system)."""
    now = now or clock.now()
    due = list(
        T.objects.filter(status=T.Status.SCHEDULED, starts_at__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    started = 0
    for pk in due:
        with transaction.atomic():
            template = T.objects.select_for_update().filter(pk=pk).first()
            if template is None or template.status != T.Status.SCHEDULED:
                continue  # started or unscheduled by staff meanwhile
            before = snapshot(template)
            template.status = T.Status.ACTIVE
            template.save(update_fields=["status", "updated_at"])
            audit.record(
                Actor.system(current_merchant()),
                "promotions.template.active",
                template,
                before=before,
                after=snapshot(template),
            )
            started += 1
    return started
