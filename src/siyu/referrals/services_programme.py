"""The referral programme's settings: what operators change, validated field by field.

``programme()`` reads (and makes, paused, on first use) the merchant's one programme;
``update_programme`` changes some of its fields (422 naming every bad one, nothing written);
``set_status`` runs or pauses it. Both take the staff :class:`Actor`, check
``promotions.manage``, lock the programme row, and are audited, with an event.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from siyu.core import audit, events
from siyu.core.actors import Actor
from siyu.core.errors import InvalidInput
from siyu.core.permissions import Perm
from siyu.core.tenancy import current_merchant
from siyu.promotions.models import CouponTemplate
from siyu.referrals import events as referral_events
from siyu.referrals.models import MAX_CAP, MAX_POINTS, ReferralProgramme, RewardKind

BOOLEANS = ("guard_phone", "guard_device", "guard_address")
CAPS = ("cap_per_month", "cap_total")
TIMES = ("starts_at", "ends_at")
SIDES = ("invitee", "inviter")
MAX_CODE_ENTRY_DAYS = 90
FIELDS = (
    *BOOLEANS,
    *CAPS,
    *TIMES,
    "message",
    "code_entry_days",
    *(f"{side}_{part}" for side in SIDES for part in ("reward", "template_id", "points")),
)
AUDITED = (
    "status",
    "starts_at",
    "ends_at",
    "message",
    "invitee_reward",
    "invitee_template",
    "invitee_points",
    "inviter_reward",
    "inviter_template",
    "inviter_points",
    *CAPS,
    *BOOLEANS,
    "code_entry_days",
)


def points_available() -> bool:
    """Whether the loyalty app gives points yet (``siyu.loyalty.services.award``)."""
    try:
        from siyu.loyalty import services as loyalty_services
    except ImportError:
        return False
    return callable(getattr(loyalty_services, "award", None))


def programme() -> ReferralProgramme:
    """The bound merchant's programme (made, paused and rewarding nothing, on first use)."""
    found = ReferralProgramme.objects.select_related("invitee_template", "inviter_template").first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return ReferralProgramme.objects.create()
    except IntegrityError:  # made by a concurrent first use
        return ReferralProgramme.objects.get()


def _locked() -> ReferralProgramme:
    programme()
    return ReferralProgramme.objects.select_for_update().get()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_side(side: str, values: dict[str, Any], errors: dict[str, str]) -> CouponTemplate | None:
    """Check one side's reward; the coupon template it names (or None)."""
    kind = values[f"{side}_reward"]
    if kind not in RewardKind.values:
        errors[f"{side}_reward"] = _("One of: %(choices)s.") % {
            "choices": ", ".join(RewardKind.values)
        }
        return None
    template: CouponTemplate | None = None
    if kind == RewardKind.COUPON:
        template_id = values[f"{side}_template_id"]
        if template_id is None:
            errors[f"{side}_template_id"] = _("Choose the coupon to give.")
        elif not _is_int(template_id):
            errors[f"{side}_template_id"] = _("Give a number.")
        else:
            template = CouponTemplate.objects.filter(pk=template_id).first()
            if template is None:
                errors[f"{side}_template_id"] = _("Unknown coupon template.")
            elif template.status not in (
                CouponTemplate.Status.ACTIVE,
                CouponTemplate.Status.PAUSED,
            ):
                errors[f"{side}_template_id"] = _(
                    "Start this coupon template first (drafts and ended ones give nothing)."
                )
    points = values[f"{side}_points"]
    if kind == RewardKind.POINTS:
        if not points_available():
            errors[f"{side}_reward"] = _("Points cannot be given yet: the loyalty app is missing.")
        if not _is_int(points) or not 1 <= points <= MAX_POINTS:
            errors[f"{side}_points"] = _("A whole number from 1 to %(max)d.") % {"max": MAX_POINTS}
    elif not _is_int(points) or points < 0:
        errors[f"{side}_points"] = _("A whole number of 0 or more.")
    return template


def _validate(current: ReferralProgramme, changes: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "starts_at": current.starts_at,
        "ends_at": current.ends_at,
        "message": current.message,
        "code_entry_days": current.code_entry_days,
        **{name: getattr(current, name) for name in (*BOOLEANS, *CAPS)},
        **{
            f"{side}_{part}": getattr(current, f"{side}_{part}")
            for side in SIDES
            for part in ("reward", "template_id", "points")
        },
    }
    for name, value in changes.items():
        if name not in FIELDS:
            errors[name] = _("Not a setting of the referral programme.")
            continue
        values[name] = value
    for name in BOOLEANS:
        if not isinstance(values[name], bool):
            errors[name] = _("Give true or false.")
    for name in CAPS:
        value = values[name]
        if value is not None and (not _is_int(value) or not 1 <= value <= MAX_CAP):
            errors[name] = _("Empty for no limit, or a whole number from 1 to %(max)d.") % {
                "max": MAX_CAP
            }
    for name in TIMES:
        value = values[name]
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            errors[name] = _("A date and time with its time zone.")
    starts, ends = values["starts_at"], values["ends_at"]
    if (
        isinstance(starts, datetime)
        and isinstance(ends, datetime)
        and starts.tzinfo
        and ends.tzinfo
        and ends <= starts
    ):
        errors["ends_at"] = _("The end must come after the start.")
    if not isinstance(values["message"], str) or len(values["message"]) > 200:
        errors["message"] = _("At most %(n)d characters.") % {"n": 200}
    days = values["code_entry_days"]
    if not _is_int(days) or not 0 <= days <= MAX_CODE_ENTRY_DAYS:
        errors["code_entry_days"] = _("A whole number from 0 to %(max)d.") % {
            "max": MAX_CODE_ENTRY_DAYS
        }
    for side in SIDES:
        _check_side(side, values, errors)
    if errors:
        raise InvalidInput(_("Some settings are not valid."), fields=errors)
    for side in SIDES:  # a side without a coupon keeps no template
        if values[f"{side}_reward"] != RewardKind.COUPON:
            values[f"{side}_template_id"] = None
        if values[f"{side}_reward"] != RewardKind.POINTS:
            values[f"{side}_points"] = 0
    return values


@transaction.atomic
def update_programme(actor: Actor, changes: Mapping[str, Any]) -> ReferralProgramme:
    """Change some settings of the programme (the rest stay); 422 names every bad field."""
    actor.require(Perm.PROMOTIONS_MANAGE)
    current = _locked()
    values = _validate(current, changes)
    before = audit.snapshot(current, AUDITED)
    for name, value in values.items():
        setattr(current, name, value)
    current.save()
    after = audit.snapshot(current, AUDITED)
    if audit.changed(before, after):
        audit.record(actor, "referrals.programme.updated", current, before=before, after=after)
        events.emit(
            current_merchant(),
            referral_events.PROGRAMME_CHANGED,
            {
                "status": current.status,
                "changed": sorted(k for k in after if before[k] != after[k]),
            },
            aggregate=current,
        )
    return programme()


@transaction.atomic
def set_status(actor: Actor, status: object) -> ReferralProgramme:
    """Run (``active``) or pause (``paused``) the programme. Pausing stops new referrals; those
    already registered still earn the inviter's reward when their first order completes."""
    actor.require(Perm.PROMOTIONS_MANAGE)
    if status not in ReferralProgramme.Status.values:
        reason = _("One of: %(choices)s.") % {"choices": ", ".join(ReferralProgramme.Status.values)}
        raise InvalidInput(reason, fields={"status": reason})
    current = _locked()
    if status == ReferralProgramme.Status.ACTIVE:
        _validate(current, {})  # a programme whose coupon was ended since must be fixed first
    if current.status != status:
        before = audit.snapshot(current, ["status"])
        current.status = str(status)
        current.save(update_fields=["status", "updated_at"])
        audit.record(
            actor,
            "referrals.programme.status",
            current,
            before=before,
            after=audit.snapshot(current, ["status"]),
        )
        events.emit(
            current_merchant(),
            referral_events.PROGRAMME_CHANGED,
            {"status": current.status, "changed": ["status"]},
            aggregate=current,
        )
    return programme()
