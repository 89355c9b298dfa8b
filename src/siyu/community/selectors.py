"""Reads of the community that pages, the API and websockets share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from siyu.community import access
from siyu.community.models import (
    AutoReply,
    CommunityGroup,
    Conversation,
    GroupMember,
    JoinCode,
    JoinCodeScan,
    Message,
    ReadState,
)
from siyu.core.errors import NotFound
from siyu.core.models import Membership
from siyu.core.permissions import Role
from siyu.customers.models import Customer

PAGE = 30


def groups(
    *, store_id: int | None = None, status: str = "", staff: Membership | None = None
) -> QuerySet[CommunityGroup]:
    rows = CommunityGroup.objects.select_related("store", "owner__user")
    if store_id:
        rows = rows.filter(store_id=store_id)
    if status:
        rows = rows.filter(status=status)
    if staff is not None and staff.role == Role.SHOPPING_GUIDE:
        rows = rows.filter(owner=staff)
    return rows


def group(pk: int) -> CommunityGroup:
    found = CommunityGroup.objects.select_related("store", "owner__user").filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def members(group: CommunityGroup, *, active_only: bool = False) -> QuerySet[GroupMember]:
    rows = GroupMember.objects.filter(group=group).select_related("customer", "source_code")
    return rows.filter(left_at__isnull=True) if active_only else rows


def member(pk: int) -> GroupMember:
    found = GroupMember.objects.select_related("customer", "group").filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def codes(*, kind: str = "") -> QuerySet[JoinCode]:
    rows = JoinCode.objects.select_related("store", "guide__user")
    return rows.filter(kind=kind) if kind else rows


def code(pk: int) -> JoinCode:
    found = (
        JoinCode.objects.select_related("store", "guide__user", "merchant").filter(pk=pk).first()
    )
    if found is None:
        raise NotFound()
    return found


def code_by_token(token: str) -> JoinCode | None:
    """A code from its short link, across merchants (the link names no merchant)."""
    if not token or len(token) > 16:
        return None
    return (
        JoinCode.unscoped.select_related("merchant", "store", "guide__user")
        .filter(token=token)
        .first()
    )


def code_groups(code: JoinCode) -> list[CommunityGroup]:
    return [r.group for r in code.routes.select_related("group").order_by("position", "id")]


def recent_scans(code: JoinCode, limit: int = 20) -> QuerySet[JoinCodeScan]:
    return JoinCodeScan.objects.filter(code=code).select_related("customer", "group")[:limit]


def auto_replies(group: CommunityGroup | None = None) -> QuerySet[AutoReply]:
    rows = AutoReply.objects.select_related("group")
    return rows.filter(group=group) if group is not None else rows


def conversation(pk: int) -> Conversation:
    found = (
        Conversation.objects.select_related("group", "customer", "staff__user")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def history(
    conversation: Conversation,
    *,
    before_id: int | None = None,
    after_id: int | None = None,
    limit: int = PAGE,
) -> list[Message]:
    """Up to ``limit`` messages, oldest first: the latest, those before ``before_id``, or after ``after_id``."""
    limit = max(1, min(limit, 100))
    rows = Message.unscoped.filter(conversation_id=conversation.pk).select_related(
        "sender_customer", "sender_staff__user"
    )
    if after_id is not None:
        return list(rows.filter(id__gt=after_id).order_by("id")[:limit])
    if before_id is not None:
        rows = rows.filter(id__lt=before_id)
    return list(reversed(rows.order_by("-id")[:limit]))


def _unread(conversation_ids: dict[int, Any], reads: dict[int, int], exclude: Q) -> dict[int, int]:
    """Messages after each read mark (and after the ``since`` moment of group members)."""
    if not conversation_ids:
        return {}
    condition = Q()
    for cid, since in conversation_ids.items():
        part = Q(conversation_id=cid, id__gt=reads.get(cid, 0))
        if since is not None:
            part &= Q(created_at__gte=since)
        condition |= part
    counts = (
        Message.unscoped.filter(condition)
        .exclude(exclude)
        .values("conversation_id")
        .annotate(n=Count("id"))
    )
    result = dict.fromkeys(conversation_ids, 0)
    result.update({row["conversation_id"]: row["n"] for row in counts})
    return result


@dataclass
class ConversationRow:
    conversation: Conversation
    title: str
    unread: int
    last_message: Message | None
    group: CommunityGroup | None = None


def customer_conversations(customer: Customer) -> list[ConversationRow]:
    """The customer's group chats (active memberships), 1:1 chats and inbox, latest first."""
    memberships = list(
        GroupMember.unscoped.filter(customer_id=customer.pk, left_at__isnull=True).select_related(
            "group"
        )
    )
    joined = {m.group_id: m.joined_at for m in memberships}
    latest = Message.unscoped.filter(conversation_id=OuterRef("pk")).order_by("-id").values("id")
    convs = list(
        Conversation.unscoped.filter(
            Q(group_id__in=list(joined)) | Q(customer_id=customer.pk, kind__in=["direct", "inbox"]),
            merchant_id=customer.merchant_id,
        )
        .select_related("group", "staff__user")
        # the bulk inbox fan-out does not move last_message_id: read the latest message
        .annotate(latest_id=Subquery(latest[:1]))
    )
    reads = dict(
        ReadState.unscoped.filter(conversation__in=convs, customer_id=customer.pk).values_list(
            "conversation_id", "last_read_message_id"
        )
    )
    since = {c.pk: joined.get(c.group_id) if c.group_id else None for c in convs}
    unread = _unread(since, reads, Q(sender_customer_id=customer.pk))
    for c in convs:
        c.last_message_id = max(c.last_message_id, c.latest_id or 0)
    last = Message.unscoped.select_related("sender_customer", "sender_staff__user").in_bulk(
        [c.last_message_id for c in convs if c.last_message_id]
    )
    for c in convs:
        if c.last_message_id in last:
            c.last_message_at = last[c.last_message_id].created_at
    rows = [
        ConversationRow(
            conversation=c,
            title=title_for_customer(c),
            unread=unread.get(c.pk, 0),
            last_message=last.get(c.last_message_id),
            group=c.group,
        )
        for c in convs
    ]
    rows.sort(key=lambda r: -(r.conversation.last_message_id or 0))
    return rows


def title_for_customer(conversation: Conversation) -> str:
    from django.utils.translation import gettext as _

    if conversation.kind == Conversation.Kind.GROUP and conversation.group is not None:
        return conversation.group.name
    if conversation.kind == Conversation.Kind.DIRECT and conversation.staff is not None:
        return _("My guide %(name)s") % {"name": conversation.staff.user}
    return _("Messages from the brand")


def customer_unread_counts(customer: Customer) -> dict[int, int]:
    return {r.conversation.pk: r.unread for r in customer_conversations(customer)}


def staff_unread_counts(staff: Membership, conversations: list[Conversation]) -> dict[int, int]:
    """Unread messages per conversation for one staff member (their own excluded)."""
    visible = [c for c in conversations if access.staff_may_see(c, staff)]
    reads = dict(
        ReadState.unscoped.filter(conversation__in=visible, staff_id=staff.pk).values_list(
            "conversation_id", "last_read_message_id"
        )
    )
    return _unread({c.pk: None for c in visible}, reads, Q(sender_staff_id=staff.pk))


def staff_conversations(staff: Membership) -> list[Conversation]:
    """The 1:1 chats of a staff member, latest first."""
    return list(
        Conversation.unscoped.filter(staff_id=staff.pk, kind=Conversation.Kind.DIRECT)
        .select_related("customer", "staff__user")
        .order_by("-last_message_at", "-id")
    )
