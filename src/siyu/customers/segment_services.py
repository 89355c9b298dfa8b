"""Saved segments: create, change, delete, and keep their counts (a rule per segment)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from siyu.core import audit, clock
from siyu.core.actors import Actor
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.models import Merchant
from siyu.core.permissions import Perm
from siyu.core.tenancy import merchant_context
from siyu.customers import segments
from siyu.customers.models import Segment

SEGMENT_FIELDS = ("name", "description", "rule")
MAX_SEGMENTS = 500


def _taken() -> InvalidInput:
    return InvalidInput(
        _("That name is already taken."), fields={"name": _("That name is already taken.")}
    )


def _clean(name: Any, description: Any) -> tuple[str, str]:
    text = (name or "").strip() if isinstance(name, str) else ""
    if not text:
        raise InvalidInput(_("Give a name."), fields={"name": _("This field is required.")})
    if len(text) > 80:
        raise InvalidInput(
            _("The name is too long."), fields={"name": _("At most %(n)d characters.") % {"n": 80}}
        )
    about = (description or "").strip() if isinstance(description, str) else ""
    if len(about) > 200:
        raise InvalidInput(
            _("The description is too long."),
            fields={"description": _("At most %(n)d characters.") % {"n": 200}},
        )
    return text, about


def create_segment(actor: Actor, *, name: str, rule: Any, description: str = "") -> Segment:
    """Save a segment (the rule validated) with its count as of now."""
    actor.require(Perm.SEGMENTS_MANAGE)
    text, about = _clean(name, description)
    with merchant_context(actor.merchant), transaction.atomic():
        count = segments.count_matching(rule)
        if Segment.objects.count() >= MAX_SEGMENTS:
            message = _("At most %(n)d segments.") % {"n": MAX_SEGMENTS}
            raise InvalidInput(message, fields={"name": message})
        if Segment.objects.filter(name=text).exists():
            raise _taken()
        try:
            with transaction.atomic():
                segment = Segment.objects.create(
                    merchant=actor.merchant,
                    name=text,
                    description=about,
                    rule=rule,
                    customer_count=count,
                    counted_at=clock.now(),
                    created_by=actor.label[:150],
                )
        except IntegrityError as exc:
            raise _taken() from exc
        audit.record(
            actor, "segment.create", segment, after=audit.snapshot(segment, SEGMENT_FIELDS)
        )
    return segment


def update_segment(
    actor: Actor,
    segment: Segment,
    *,
    name: str | None = None,
    rule: Any = None,
    description: str | None = None,
) -> Segment:
    actor.require(Perm.SEGMENTS_MANAGE)
    with merchant_context(actor.merchant), transaction.atomic():
        row = Segment.objects.select_for_update().filter(pk=segment.pk).first()
        if row is None:
            raise NotFound(_("No such segment."))
        before = audit.snapshot(row, SEGMENT_FIELDS)
        text, about = _clean(
            name if name is not None else row.name,
            description if description is not None else row.description,
        )
        if Segment.objects.filter(name=text).exclude(pk=row.pk).exists():
            raise _taken()
        row.name, row.description = text, about
        if rule is not None:
            row.customer_count = segments.count_matching(rule)
            row.counted_at = clock.now()
            row.rule = rule
        after = audit.snapshot(row, SEGMENT_FIELDS)
        if after != before:
            row.save()
            audit.record(actor, "segment.update", row, before=before, after=after)
    return row


def delete_segment(actor: Actor, segment: Segment) -> None:
    actor.require(Perm.SEGMENTS_MANAGE)
    with merchant_context(actor.merchant), transaction.atomic():
        row = Segment.objects.select_for_update().filter(pk=segment.pk).first()
        if row is None:
            raise NotFound(_("No such segment."))
        audit.record(actor, "segment.delete", row, before=audit.snapshot(row, SEGMENT_FIELDS))
        row.delete()


def refresh_count(segment: Segment) -> Segment:
    """Count the segment's customers now (no audit: a reading, not a change of meaning)."""
    with merchant_context(segment.merchant):
        count = segments.count_matching(segment.rule)
        Segment.objects.filter(pk=segment.pk).update(customer_count=count, counted_at=clock.now())
        segment.customer_count = count
        segment.counted_at = clock.now()
    return segment


def refresh_all_counts(merchant: Merchant | None = None) -> int:
    """Recount every segment (of one merchant, or all); invalid rules are skipped."""
    rows = Segment.unscoped.select_related("merchant").order_by("pk")
    if merchant is not None:
        rows = rows.filter(merchant=merchant)
    done = 0
    for row in rows:
        try:
            refresh_count(row)
        except segments.RuleError:
            continue
        done += 1
    return done
