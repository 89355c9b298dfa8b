"""Tags: tag groups, tags, and tags on customers — by hand, in bulk, or by auto-tag rules.

* Names are unique: a tag group per merchant, a tag within its group (422 naming ``name``).
* An *exclusive* group holds at most one tag per customer: tagging with one removes the
  others of that group (in bulk as well).
* ``tag_customer`` / ``untag_customer`` are idempotent (``False`` when nothing changed);
  each change writes a timeline entry (``tagged`` / ``untagged``), an audit entry when
  staff did it, and the domain event ``customers.tag.added`` / ``customers.tag.removed``
  in the same transaction. ``Tag.customer_count`` moves with ``F()``.
* ``bulk_tag`` / ``bulk_untag`` are set-based: batches of ``INSERT … ON CONFLICT DO
  NOTHING`` / ``DELETE``; they emit one ``customers.tag.bulk_added`` /
  ``customers.tag.bulk_removed`` event with the count rather than one per customer.
* Locks: every change takes the tag rows it touches (``SELECT … FOR UPDATE``, ids in
  ascending order) first, so counts stay exact under concurrent tagging.
* Staff with the shopping-guide role tag only the customers they own (403 otherwise).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, Field, OuterRef, QuerySet
from django.db.models.functions import Greatest
from django.utils.translation import gettext as _

from siyu.core import audit, clock, events
from siyu.core.actors import Actor
from siyu.core.errors import Forbidden, InvalidInput, NotFound
from siyu.core.permissions import Perm, Role
from siyu.core.tenancy import merchant_context
from siyu.customers.events import (
    TAG_ADDED,
    TAG_BULK_ADDED,
    TAG_BULK_REMOVED,
    TAG_REMOVED,
)
from siyu.customers.models import AutoTagRule, Customer, CustomerTag, Tag, TagGroup

logger = logging.getLogger(__name__)

BATCH = 2000
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_GROUPS = 100
MAX_TAGS_PER_GROUP = 200


# --- helpers ---------------------------------------------------------------------------


def _is_staff(actor: Actor) -> bool:
    return actor.user is not None or actor.api_key is not None


def _clean_name(name: Any, *, max_length: int = 40) -> str:
    text = (name or "").strip() if isinstance(name, str) else ""
    if not text:
        raise InvalidInput(_("Give a name."), fields={"name": _("This field is required.")})
    if len(text) > max_length:
        raise InvalidInput(
            _("The name is too long."),
            fields={"name": _("At most %(n)d characters.") % {"n": max_length}},
        )
    return text


def _timeline(rows: Sequence[tuple[int, str, Mapping[str, Any]]], actor_label: str) -> None:
    """Timeline entries through ``siyu.customers.timeline`` (the CRM's module) when present."""
    if not rows:
        return
    try:
        from siyu.customers import timeline
    except ImportError:  # the timeline module arrives with the CRM core; tags work without it
        return
    record_many = getattr(timeline, "record_many", None)
    if record_many is not None:
        record_many(rows, actor=actor_label)
        return
    for customer_id, kind, data in rows:
        timeline.record(customer_id, kind, data, actor=actor_label)


def _tag_payload(tag: Tag) -> dict[str, Any]:
    return {
        "tag_id": tag.pk,
        "tag_name": tag.name,
        "group_id": tag.group_id,
        "group_name": tag.group.name,
    }


def _lock_tags(tag_ids: Iterable[int]) -> dict[int, Tag]:
    rows = Tag.objects.select_for_update().filter(pk__in=sorted(set(tag_ids))).order_by("pk")
    return {t.pk: t for t in rows.select_related("group")}


def _require_own_customer(actor: Actor, customer: Customer) -> None:
    if actor.role == Role.SHOPPING_GUIDE and (
        actor.membership is None or customer.owner_guide_id != actor.membership.pk
    ):
        raise Forbidden(
            _("You may tag only the customers you look after."), code="not_your_customer"
        )


# --- tag groups and tags ------------------------------------------------------------------


def create_tag_group(
    actor: Actor, *, name: str, exclusive: bool = False, position: int | None = None
) -> TagGroup:
    actor.require(Perm.SEGMENTS_MANAGE)
    name = _clean_name(name)
    with merchant_context(actor.merchant), transaction.atomic():
        if TagGroup.objects.count() >= MAX_GROUPS:
            raise InvalidInput(
                _("At most %(n)d tag groups.") % {"n": MAX_GROUPS},
                fields={"name": _("At most %(n)d tag groups.") % {"n": MAX_GROUPS}},
            )
        if TagGroup.objects.filter(name=name).exists():
            raise _taken()
        if position is None:
            position = TagGroup.objects.count()
        try:
            with transaction.atomic():
                group = TagGroup.objects.create(
                    merchant=actor.merchant, name=name, exclusive=exclusive, position=position
                )
        except IntegrityError as exc:  # a concurrent create of the same name
            raise _taken() from exc
        audit.record(actor, "tag_group.create", group, after=audit.snapshot(group, GROUP_FIELDS))
    return group


GROUP_FIELDS = ("name", "exclusive", "position")
TAG_FIELDS = ("group", "name", "color", "description")


def _taken() -> InvalidInput:
    return InvalidInput(
        _("That name is already taken."), fields={"name": _("That name is already taken.")}
    )


def update_tag_group(
    actor: Actor,
    group: TagGroup,
    *,
    name: str | None = None,
    exclusive: bool | None = None,
    position: int | None = None,
) -> TagGroup:
    """Rename or reorder a group, or make it (non-)exclusive. Making a group exclusive does
    not remove tags customers already hold; the next tagging in the group does."""
    actor.require(Perm.SEGMENTS_MANAGE)
    with merchant_context(actor.merchant), transaction.atomic():
        row = TagGroup.objects.select_for_update().filter(pk=group.pk).first()
        if row is None:
            raise NotFound(_("No such tag group."))
        before = audit.snapshot(row, GROUP_FIELDS)
        if name is not None:
            row.name = _clean_name(name)
            if TagGroup.objects.filter(name=row.name).exclude(pk=row.pk).exists():
                raise _taken()
        if exclusive is not None:
            row.exclusive = exclusive
        if position is not None:
            row.position = max(0, int(position))
        after = audit.snapshot(row, GROUP_FIELDS)
        if after != before:
            row.save(update_fields=["name", "exclusive", "position"])
            audit.record(actor, "tag_group.update", row, before=before, after=after)
    return row


def delete_tag_group(actor: Actor, group: TagGroup) -> None:
    """Delete a group with its tags; customers lose those tags, rules on them go too."""
    actor.require(Perm.SEGMENTS_MANAGE)
    with merchant_context(actor.merchant), transaction.atomic():
        row = TagGroup.objects.select_for_update().filter(pk=group.pk).first()
        if row is None:
            raise NotFound(_("No such tag group."))
        tags = list(row.tags.all())
        audit.record(
            actor,
            "tag_group.delete",
            row,
            before={**audit.snapshot(row, GROUP_FIELDS), "tags": [t.name for t in tags]},
        )
        row.delete()


def create_tag(
    actor: Actor,
    *,
    group: TagGroup,
    name: str,
    color: str = "#2f6f4f",
    description: str = "",
) -> Tag:
    actor.require(Perm.SEGMENTS_MANAGE)
    name = _clean_name(name)
    color, description = _clean_look(color, description)
    with merchant_context(actor.merchant), transaction.atomic():
        locked = TagGroup.objects.select_for_update().filter(pk=group.pk).first()
        if locked is None:
            raise NotFound(_("No such tag group."))
        if Tag.objects.filter(group=locked).count() >= MAX_TAGS_PER_GROUP:
            message = _("At most %(n)d tags in a group.") % {"n": MAX_TAGS_PER_GROUP}
            raise InvalidInput(message, fields={"name": message})
        if Tag.objects.filter(group=locked, name=name).exists():
            raise _taken()
        tag = Tag.objects.create(
            merchant=actor.merchant,
            group=locked,
            name=name,
            color=color,
            description=description,
        )
        audit.record(actor, "tag.create", tag, after=audit.snapshot(tag, TAG_FIELDS))
    return tag


def _clean_look(color: str | None, description: str | None) -> tuple[str, str]:
    color = (color or "#2f6f4f").strip()
    if not COLOR_RE.match(color):
        raise InvalidInput(
            _("The colour is not valid."),
            fields={"color": _("A colour like #2f6f4f.")},
        )
    description = (description or "").strip()
    if len(description) > 200:
        raise InvalidInput(
            _("The description is too long."),
            fields={"description": _("At most %(n)d characters.") % {"n": 200}},
        )
    return color.lower(), description


def update_tag(
    actor: Actor,
    tag: Tag,
    *,
    name: str | None = None,
    color: str | None = None,
    description: str | None = None,
) -> Tag:
    actor.require(Perm.SEGMENTS_MANAGE)
    with merchant_context(actor.merchant), transaction.atomic():
        row = Tag.objects.select_for_update().filter(pk=tag.pk).first()
        if row is None:
            raise NotFound(_("No such tag."))
        before = audit.snapshot(row, TAG_FIELDS)
        if name is not None:
            row.name = _clean_name(name)
            if Tag.objects.filter(group_id=row.group_id, name=row.name).exclude(pk=row.pk).exists():
                raise _taken()
        if color is not None or description is not None:
            row.color, row.description = _clean_look(
                color if color is not None else row.color,
                description if description is not None else row.description,
            )
        after = audit.snapshot(row, TAG_FIELDS)
        if after != before:
            row.save(update_fields=["name", "color", "description"])
            audit.record(actor, "tag.update", row, before=before, after=after)
    return row


def delete_tag(actor: Actor, tag: Tag) -> None:
    """Delete a tag: customers lose it; auto-tag rules that set it are deleted with it."""
    actor.require(Perm.SEGMENTS_MANAGE)
    with merchant_context(actor.merchant), transaction.atomic():
        row = Tag.objects.select_for_update().filter(pk=tag.pk).first()
        if row is None:
            raise NotFound(_("No such tag."))
        audit.record(
            actor,
            "tag.delete",
            row,
            before={**audit.snapshot(row, TAG_FIELDS), "customer_count": row.customer_count},
        )
        row.delete()


# --- one customer ---------------------------------------------------------------------------


def _remove_links(
    actor: Actor, customer: Customer, tags: Sequence[Tag], *, reason: str
) -> list[Tag]:
    """Delete the customer's links to ``tags`` (locked by the caller); the ones removed."""
    removed: list[Tag] = []
    for tag in tags:
        deleted, _rows = CustomerTag.objects.filter(customer=customer, tag=tag).delete()
        if not deleted:
            continue
        Tag.objects.filter(pk=tag.pk, customer_count__gt=0).update(
            customer_count=F("customer_count") - 1
        )
        removed.append(tag)
        events.emit(
            actor.merchant,
            TAG_REMOVED,
            {**_tag_payload(tag), "customer_id": customer.pk, "reason": reason},
            aggregate=customer,
        )
    return removed


def tag_customer(
    actor: Actor,
    customer: Customer,
    tag: Tag,
    *,
    source: str = CustomerTag.Source.MANUAL,
    rule: AutoTagRule | None = None,
) -> bool:
    """Put ``tag`` on ``customer``; ``False`` when it is already there. In an exclusive group
    the customer's other tags of that group are removed."""
    actor.require(Perm.CUSTOMERS_TAG)
    if source not in CustomerTag.Source.values:
        raise InvalidInput(_("Unknown source."), fields={"source": _("Unknown source.")})
    with merchant_context(actor.merchant), transaction.atomic():
        row = Customer.objects.filter(pk=customer.pk).first()
        if row is None:
            raise NotFound(_("No such customer."))
        _require_own_customer(actor, row)
        target = Tag.objects.filter(pk=tag.pk).select_related("group").first()
        if target is None:
            raise NotFound(_("No such tag."))
        siblings: list[int] = []
        if target.group.exclusive:
            siblings = list(
                CustomerTag.objects.filter(customer=row, tag__group_id=target.group_id)
                .exclude(tag_id=target.pk)
                .values_list("tag_id", flat=True)
            )
        locked = _lock_tags([target.pk, *siblings])
        target = locked[target.pk]
        if CustomerTag.objects.filter(customer=row, tag=target).exists():
            return False
        now = clock.now()
        CustomerTag.objects.create(
            merchant=actor.merchant,
            customer=row,
            tag=target,
            source=source,
            rule=rule,
            added_by=actor.label[:150],
            added_at=now,
        )
        Tag.objects.filter(pk=target.pk).update(customer_count=F("customer_count") + 1)
        removed = _remove_links(actor, row, [locked[t] for t in siblings], reason="exclusive")
        if _is_staff(actor):
            audit.record(
                actor,
                "customer.tag",
                row,
                after={"tag": target.name, "removed": [t.name for t in removed]},
            )
        events.emit(
            actor.merchant,
            TAG_ADDED,
            {
                **_tag_payload(target),
                "customer_id": row.pk,
                "source": source,
                "rule_id": rule.pk if rule else None,
            },
            aggregate=row,
        )
        _timeline(
            [(row.pk, "untagged", {**_tag_payload(t), "reason": "exclusive"}) for t in removed]
            + [(row.pk, "tagged", {**_tag_payload(target), "source": source})],
            actor.label,
        )
    return True


def untag_customer(actor: Actor, customer: Customer, tag: Tag, *, reason: str = "manual") -> bool:
    """Take ``tag`` off ``customer``; ``False`` when the customer does not have it."""
    actor.require(Perm.CUSTOMERS_TAG)
    with merchant_context(actor.merchant), transaction.atomic():
        row = Customer.objects.filter(pk=customer.pk).first()
        if row is None:
            raise NotFound(_("No such customer."))
        _require_own_customer(actor, row)
        locked = _lock_tags([tag.pk])
        if tag.pk not in locked:
            raise NotFound(_("No such tag."))
        removed = _remove_links(actor, row, [locked[tag.pk]], reason=reason)
        if not removed:
            return False
        if _is_staff(actor):
            audit.record(actor, "customer.untag", row, before={"tag": removed[0].name})
        _timeline([(row.pk, "untagged", _tag_payload(removed[0]))], actor.label)
    return True


# --- in bulk ----------------------------------------------------------------------------------


def _batches(ids: QuerySet) -> Iterable[list[int]]:
    """Customer ids of ``ids`` (a values_list of pks) in ascending batches (keyset paging)."""
    last = 0
    while True:
        batch = list(ids.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not batch:
            return
        yield batch
        last = batch[-1]


def _scope_for(actor: Actor, customers: QuerySet) -> QuerySet:
    if actor.role == Role.SHOPPING_GUIDE:
        owner = actor.membership.pk if actor.membership is not None else None
        return customers.filter(owner_guide_id=owner)
    return customers


def bulk_tag(
    actor: Actor,
    tag: Tag,
    customers: QuerySet,
    *,
    source: str = CustomerTag.Source.BULK,
    rule: AutoTagRule | None = None,
) -> int:
    """Put ``tag`` on every customer of ``customers`` who lacks it; the number tagged.

    Set-based, in batches of ids; idempotent. In an exclusive group the customers' other
    tags of the group are removed. One ``customers.tag.bulk_added`` event with the count.
    """
    actor.require(Perm.CUSTOMERS_TAG)
    with merchant_context(actor.merchant), transaction.atomic():
        target = Tag.objects.filter(pk=tag.pk).select_related("group").first()
        if target is None:
            raise NotFound(_("No such tag."))
        siblings: list[int] = []
        if target.group.exclusive:
            siblings = list(
                Tag.objects.filter(group_id=target.group_id)
                .exclude(pk=target.pk)
                .values_list("pk", flat=True)
            )
        locked = _lock_tags([target.pk, *siblings])
        target = locked[target.pk]
        untagged = (
            _scope_for(actor, customers)
            .order_by()
            .filter(~Exists(CustomerTag.objects.filter(tag=target, customer_id=OuterRef("pk"))))
            .values_list("pk", flat=True)
        )
        now = clock.now()
        added = 0
        removed_per_tag: dict[int, int] = {}
        timeline_rows: list[tuple[int, str, Mapping[str, Any]]] = []
        link = (target.pk, source, rule.pk if rule else None, actor.label[:150], now)
        for batch in _batches(untagged):
            _insert_links(actor.merchant.pk, batch, link)
            added += len(batch)
            if siblings:
                gone = CustomerTag.objects.filter(tag_id__in=siblings, customer_id__in=batch)
                for tag_id, n in gone.values_list("tag_id").annotate(n=Count("pk")).order_by():
                    removed_per_tag[tag_id] = removed_per_tag.get(tag_id, 0) + n
                gone.delete()
            timeline_rows = [
                (cid, "tagged", {**_tag_payload(target), "source": source}) for cid in batch
            ]
            _timeline(timeline_rows, actor.label)
        if added:
            Tag.objects.filter(pk=target.pk).update(customer_count=F("customer_count") + added)
        for tag_id, n in removed_per_tag.items():
            _decrement(tag_id, n)
        if added and _is_staff(actor):
            audit.record(
                actor,
                "tag.bulk_add",
                target,
                after={"added": added, "removed_from_group": sum(removed_per_tag.values())},
            )
        if added:
            events.emit(
                actor.merchant,
                TAG_BULK_ADDED,
                {
                    **_tag_payload(target),
                    "count": added,
                    "source": source,
                    "rule_id": rule.pk if rule else None,
                },
                aggregate=target,
            )
        for tag_id, n in removed_per_tag.items():
            events.emit(
                actor.merchant,
                TAG_BULK_REMOVED,
                {**_tag_payload(locked[tag_id]), "count": n, "reason": "exclusive"},
                aggregate=locked[tag_id],
            )
    return added


def _insert_links(
    merchant_id: int, customer_ids: Sequence[int], link: tuple[int, str, int | None, str, Any]
) -> None:
    """The ``CustomerTag`` rows of ``customer_ids``, skipping those already there: one
    multi-row ``INSERT … ON CONFLICT DO NOTHING`` (``bulk_create`` prepares every value of
    every row through the ORM, about twenty times the CPU). ``link``: tag id, source, rule
    id, added by, added at."""
    meta = CustomerTag._meta
    fields = [f for name in LINK_FIELDS if isinstance(f := meta.get_field(name), Field)]
    tag_id, source, rule_id, added_by, added_at = link
    when = fields[-1].get_db_prep_save(added_at, connection)
    qn = connection.ops.quote_name
    columns = ", ".join(qn(str(f.column)) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per = max(1, (connection.features.max_query_params or 999) // len(fields))
    with connection.cursor() as cursor:
        for start in range(0, len(customer_ids), per):
            part = customer_ids[start : start + per]
            sql = (
                f"INSERT INTO {qn(meta.db_table)} ({columns}) "  # noqa: S608 (model names)
                f"VALUES {', '.join([row] * len(part))} ON CONFLICT DO NOTHING"
            )
            values = [
                value
                for cid in part
                for value in (merchant_id, cid, tag_id, source, rule_id, added_by, when)
            ]
            cursor.execute(sql, values)


LINK_FIELDS = ("merchant", "customer", "tag", "source", "rule", "added_by", "added_at")


def _decrement(tag_id: int, n: int) -> None:
    Tag.objects.filter(pk=tag_id).update(customer_count=Greatest(F("customer_count") - n, 0))


def bulk_untag(
    actor: Actor,
    tag: Tag,
    customers: QuerySet,
    *,
    rule: AutoTagRule | None = None,
    reason: str = "bulk",
) -> int:
    """Take ``tag`` off every customer of ``customers`` holding it; the number untagged.
    With ``rule``, only links that rule put there."""
    actor.require(Perm.CUSTOMERS_TAG)
    with merchant_context(actor.merchant), transaction.atomic():
        locked = _lock_tags([tag.pk])
        if tag.pk not in locked:
            raise NotFound(_("No such tag."))
        target = locked[tag.pk]
        links = CustomerTag.objects.filter(tag=target)
        if rule is not None:
            links = links.filter(source=CustomerTag.Source.RULE, rule=rule)
        holders = (
            _scope_for(actor, customers)
            .order_by()
            .filter(Exists(links.filter(customer_id=OuterRef("pk"))))
            .values_list("pk", flat=True)
        )
        removed = 0
        for batch in _batches(holders):
            deleted, _rows = links.filter(customer_id__in=batch).delete()
            removed += deleted
            _timeline(
                [(cid, "untagged", {**_tag_payload(target), "reason": reason}) for cid in batch],
                actor.label,
            )
        if removed:
            _decrement(target.pk, removed)
            if _is_staff(actor):
                audit.record(actor, "tag.bulk_remove", target, before={"removed": removed})
            events.emit(
                actor.merchant,
                TAG_BULK_REMOVED,
                {
                    **_tag_payload(target),
                    "count": removed,
                    "reason": reason,
                    "rule_id": rule.pk if rule else None,
                },
                aggregate=target,
            )
    return removed


def recount(tag: Tag) -> int:
    """Re-derive ``Tag.customer_count`` from the links (a repair; the services keep it)."""
    n = CustomerTag.objects.filter(tag_id=tag.pk).count()
    Tag.objects.filter(pk=tag.pk).update(customer_count=n)
    return n
