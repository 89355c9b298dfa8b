"""Groups and their members: create/update/archive, join, leave, remove, mute, the welcome.

Capacity is kept by one conditional UPDATE (``member_count < capacity``) and the
table's check constraint; an active membership is unique (partial constraint),
so :func:`join_group` is idempotent and two concurrent joins of one customer add
one member. Staff actions take an :class:`Actor`, check the permission and write
an audit entry; joins and leaves emit ``community.member.joined`` /
``community.member.left`` and a timeline entry in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from siyu.community import chat, validation
from siyu.community.events import MEMBER_JOINED, MEMBER_LEFT
from siyu.community.models import (
    DEFAULT_CAPACITY,
    CommunityGroup,
    Conversation,
    GroupMember,
    JoinCode,
    Message,
)
from siyu.community.validation import fail
from siyu.core import audit, clock, events, inserts
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, Forbidden
from siyu.core.permissions import Perm
from siyu.customers.models import Customer

GROUP_AUDIT_FIELDS = (
    "name",
    "store",
    "owner",
    "capacity",
    "announcement",
    "welcome",
    "banned_words",
    "status",
)


# --- groups ----------------------------------------------------------------------------


def create_group(
    actor: Actor,
    *,
    name: str,
    store: Any = None,
    owner: Any = None,
    capacity: int = DEFAULT_CAPACITY,
    announcement: str = "",
    welcome: Any = None,
    banned_words: Any = None,
    opened_by_code: JoinCode | None = None,
) -> CommunityGroup:
    actor.require(Perm.COMMUNITY_MANAGE)
    merchant = actor.merchant
    values = {
        "name": validation.name(name),
        "store": validation.store_of(merchant, store),
        "owner": validation.staff_of(merchant, owner),
        "capacity": validation.capacity(capacity),
        "announcement": validation.text(announcement, field="announcement"),
        "welcome": validation.welcome(welcome),
        "banned_words": validation.banned_words(banned_words),
    }
    with transaction.atomic():
        group = CommunityGroup.unscoped.create(
            merchant=merchant, opened_by_code=opened_by_code, **values
        )
        Conversation.unscoped.create(merchant=merchant, kind=Conversation.Kind.GROUP, group=group)
        audit.record(
            actor, "community.group.created", group, after=audit.snapshot(group, GROUP_AUDIT_FIELDS)
        )
    return group


def update_group(actor: Actor, group: CommunityGroup, **changes: Any) -> CommunityGroup:
    """Change any of name, store, owner, capacity, announcement, welcome, banned_words."""
    actor.require(Perm.COMMUNITY_MANAGE)
    merchant = actor.merchant
    checks: dict[str, Callable[[Any], Any]] = {
        "name": lambda v: validation.name(v),
        "store": lambda v: validation.store_of(merchant, v),
        "owner": lambda v: validation.staff_of(merchant, v),
        "capacity": lambda v: validation.capacity(v),
        "announcement": lambda v: validation.text(v, field="announcement"),
        "welcome": lambda v: validation.welcome(v),
        "banned_words": lambda v: validation.banned_words(v),
    }
    unknown = set(changes) - set(checks)
    if unknown:
        raise fail(sorted(unknown)[0], _("This field cannot be changed."))
    values = {field: checks[field](value) for field, value in changes.items()}
    with transaction.atomic():
        locked = CommunityGroup.unscoped.select_for_update().get(pk=group.pk, merchant=merchant)
        if "capacity" in values and values["capacity"] < locked.member_count:
            raise fail(
                "capacity",
                _("The group has %(n)d members: the capacity cannot be lower.")
                % {"n": locked.member_count},
            )
        before = audit.snapshot(locked, GROUP_AUDIT_FIELDS)
        for field, value in values.items():
            setattr(locked, field, value)
        locked.save(update_fields=list(values) or None)
        after = audit.snapshot(locked, GROUP_AUDIT_FIELDS)
        if audit.changed(before, after):
            audit.record(actor, "community.group.updated", locked, before=before, after=after)
    return locked


def archive_group(actor: Actor, group: CommunityGroup) -> CommunityGroup:
    """Archive: no new members, no posts; history and members stay readable."""
    actor.require(Perm.COMMUNITY_MANAGE)
    with transaction.atomic():
        locked = CommunityGroup.unscoped.select_for_update().get(
            pk=group.pk, merchant=actor.merchant
        )
        if locked.status == CommunityGroup.Status.ARCHIVED:
            return locked
        locked.status = CommunityGroup.Status.ARCHIVED
        locked.save(update_fields=["status"])
        audit.record(
            actor,
            "community.group.archived",
            locked,
            before={"status": "active"},
            after={"status": "archived"},
        )
    return locked


# --- membership ------------------------------------------------------------------------


def active_member(customer: Customer, group: CommunityGroup | int) -> GroupMember | None:
    group_id = group if isinstance(group, int) else group.pk
    return GroupMember.unscoped.filter(
        group_id=group_id, customer_id=customer.pk, left_at__isnull=True
    ).first()


def take_seat(group_id: int) -> bool:
    """One seat of the group, if it is active and has room (one conditional UPDATE)."""
    return bool(
        CommunityGroup.unscoped.filter(
            pk=group_id,
            status=CommunityGroup.Status.ACTIVE,
            member_count__lt=F("capacity"),
        ).update(member_count=F("member_count") + 1)
    )


def admit(
    customer: Customer,
    group: CommunityGroup,
    *,
    source_code: JoinCode | None,
    state: str,
    welcome: dict[str, Any] | None,
    now: datetime,
    timeline_entries: list[tuple[str, dict[str, Any]]] | None = None,
) -> GroupMember | None:
    """Seat ``customer`` in ``group``: the new member, or None when the group is full.

    Runs inside the caller's transaction. If the customer became a member
    concurrently the seat is given back and the existing membership returned.
    ``timeline_entries``: see :func:`on_joined`.
    """
    if not take_seat(group.pk):
        return None
    message = welcome if welcome is not None else (group.welcome or {})
    member = GroupMember(
        merchant_id=group.merchant_id,
        group=group,
        customer=customer,
        source_code=source_code,
        state=state,
        joined_at=now,
        welcomed_at=now if message else None,
    )
    # ON CONFLICT DO NOTHING: the active-membership constraint decides, without a savepoint
    if not inserts.insert([member], skip_conflict=True):  # a concurrent join won
        CommunityGroup.unscoped.filter(pk=group.pk).update(member_count=F("member_count") - 1)
        existing = active_member(customer, group)
        if existing is None:
            raise IntegrityError(f"customer {customer.pk} could not join group {group.pk}")
        existing.just_joined = False  # type: ignore[attr-defined]
        return existing
    group.member_count += 1  # what the row says now, near enough for the caller
    member.just_joined = True  # type: ignore[attr-defined]
    member.welcome_message = on_joined(  # type: ignore[attr-defined]
        customer, group, member, message, now, timeline_entries=timeline_entries
    )
    return member


def on_joined(
    customer: Customer,
    group: CommunityGroup,
    member: GroupMember,
    welcome: dict[str, Any],
    now: datetime,
    *,
    timeline_entries: list[tuple[str, dict[str, Any]]] | None = None,
    conversation: Conversation | None = None,
) -> Message | None:
    """What follows a new membership: ``community.member.joined``, the timeline entry
    "joined" (appended to ``timeline_entries`` when given, for the caller to write with its
    own in one INSERT) and the welcome, if any (in ``conversation``, the group's chat)."""
    from siyu.customers import timeline

    events.emit(
        customer.merchant,
        MEMBER_JOINED,
        {
            "group_id": group.pk,
            "group_name": group.name,
            "customer_id": customer.pk,
            "member_id": member.pk,
            "store_id": group.store_id,
            "source_code_id": member.source_code_id,
            "state": member.state,
        },
        aggregate=member,
    )
    data = {"group_id": group.pk, "group_name": group.name, "state": member.state}
    if timeline_entries is None:
        timeline.record(customer, "joined", data, at=now)
    else:
        timeline_entries.append(("joined", data))
    if welcome:
        return send_welcome(customer, group, welcome, at=now, conversation=conversation)
    return None


def send_welcome(
    customer: Customer,
    group: CommunityGroup,
    welcome: dict[str, Any],
    *,
    at: datetime,
    conversation: Conversation | None = None,
) -> Message:
    """The welcome as a system message in the group chat that names the new member."""
    if conversation is None:
        conversation = chat.group_conversation(group)
    name = chat.customer_label(customer)
    greeting = _("Welcome @%(name)s!") % {"name": name}
    text = f"{greeting} {welcome.get('text', '')}".strip()
    return chat.post_message(conversation, text=text, card=welcome.get("card"), system=True, at=at)


def join_group(
    customer: Customer,
    group: CommunityGroup,
    *,
    source_code: JoinCode | None = None,
    state: str = "",
) -> GroupMember:
    """Put ``customer`` in ``group``; an active member gets the membership back (idempotent)."""
    if customer.merchant_id != group.merchant_id:
        raise fail("group", _("There is no such group."))
    existing = active_member(customer, group)
    if existing is not None:
        existing.just_joined = False  # type: ignore[attr-defined]
        return existing
    if group.status != CommunityGroup.Status.ACTIVE:
        raise Conflict(_("This group is archived."), fields={"group": _("This group is archived.")})
    with transaction.atomic():
        member = admit(
            customer, group, source_code=source_code, state=state, welcome=None, now=clock.now()
        )
    if member is None:
        raise Conflict(
            _("This group is full."), fields={"group": _("This group is full.")}, code="full"
        )
    return member


def _leave(member: GroupMember, reason: str, actor_label: str) -> GroupMember:
    from siyu.customers import timeline

    now = clock.now()
    with transaction.atomic():
        closed = GroupMember.unscoped.filter(pk=member.pk, left_at__isnull=True).update(
            left_at=now, leave_reason=reason
        )
        if not closed:  # already gone: nothing to undo twice
            member.refresh_from_db()
            return member
        CommunityGroup.unscoped.filter(pk=member.group_id, member_count__gt=0).update(
            member_count=F("member_count") - 1
        )
        member.left_at, member.leave_reason = now, reason
        group = member.group
        events.emit(
            group.merchant,
            MEMBER_LEFT,
            {
                "group_id": group.pk,
                "group_name": group.name,
                "customer_id": member.customer_id,
                "member_id": member.pk,
                "reason": reason,
            },
            aggregate=member,
        )
        data: dict[str, Any] = {"group_id": group.pk, "group_name": group.name}
        if reason == GroupMember.LeaveReason.REMOVED:
            data["reason"] = "removed"
        timeline.record(member.customer_id, "left", data, actor=actor_label, at=now)
    return member


def leave_group(customer: Customer, group: CommunityGroup) -> GroupMember | None:
    """The customer leaves; None when they were not a member."""
    member = active_member(customer, group)
    if member is None:
        return None
    member.group = group
    return _leave(member, GroupMember.LeaveReason.LEFT, "customer")


def _check_staff_member(actor: Actor, member: GroupMember) -> None:
    actor.require(Perm.COMMUNITY_MANAGE)
    if member.merchant_id != actor.merchant.pk:
        raise fail("member", _("There is no such member."))


def remove_member(actor: Actor, member: GroupMember) -> GroupMember:
    _check_staff_member(actor, member)
    if member.left_at is not None:
        raise Conflict(_("This customer has already left the group."))
    with transaction.atomic():
        result = _leave(member, GroupMember.LeaveReason.REMOVED, actor.label)
        audit.record(
            actor,
            "community.member.removed",
            member,
            object_repr=f"{chat.customer_label(member.customer)} / {member.group.name}",
            after={"left_at": result.left_at, "group": member.group_id},
        )
    return result


def mute_member(actor: Actor, member: GroupMember, until: datetime | None) -> GroupMember:
    """Mute until ``until`` (a future moment); ``None`` unmutes."""
    _check_staff_member(actor, member)
    if member.left_at is not None:
        raise Conflict(_("This customer has already left the group."))
    if until is not None and until <= clock.now():
        raise fail("until", _("Choose a moment in the future."))
    with transaction.atomic():
        before = {"muted_until": member.muted_until}
        GroupMember.unscoped.filter(pk=member.pk).update(muted_until=until)
        member.muted_until = until
        audit.record(
            actor,
            "community.member.muted" if until else "community.member.unmuted",
            member,
            object_repr=f"{chat.customer_label(member.customer)} / {member.group.name}",
            before=before,
            after={"muted_until": until},
        )
    return member


def unmute_member(actor: Actor, member: GroupMember) -> GroupMember:
    return mute_member(actor, member, None)


def require_group_access(actor: Actor, group: CommunityGroup) -> None:
    """A shopping guide acts only in groups they own."""
    from siyu.community import access

    if actor.membership is not None and not access.staff_may_see_group(actor.membership, group):
        raise Forbidden(_("You may not act in this group."))
