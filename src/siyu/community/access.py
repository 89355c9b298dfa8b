"""Who may read and write which conversation (used by services, views, API and websockets)."""

from __future__ import annotations

from siyu.community.models import CommunityGroup, Conversation, GroupMember
from siyu.core.models import Membership
from siyu.core.permissions import Perm, Role, role_has
from siyu.customers.models import Customer


def is_active_member(customer: Customer | int, group: CommunityGroup | int) -> bool:
    customer_id = customer if isinstance(customer, int) else customer.pk
    group_id = group if isinstance(group, int) else group.pk
    return GroupMember.unscoped.filter(
        group_id=group_id, customer_id=customer_id, left_at__isnull=True
    ).exists()


def customer_may_see(conversation: Conversation, customer: Customer) -> bool:
    if conversation.merchant_id != customer.merchant_id:
        return False
    if conversation.kind == Conversation.Kind.GROUP:
        return conversation.group_id is not None and is_active_member(
            customer, conversation.group_id
        )
    return conversation.customer_id == customer.pk


def staff_may_see_group(membership: Membership, group: CommunityGroup) -> bool:
    """Managers see every group of their merchant; a shopping guide sees the groups they own."""
    if not membership.is_active or membership.merchant_id != group.merchant_id:
        return False
    if not role_has(membership.role, Perm.COMMUNITY_VIEW):
        return False
    if membership.role == Role.SHOPPING_GUIDE:
        return group.owner_id == membership.pk
    return True


def staff_may_see(conversation: Conversation, membership: Membership) -> bool:
    if not membership.is_active or membership.merchant_id != conversation.merchant_id:
        return False
    if conversation.kind == Conversation.Kind.GROUP:
        group = conversation.group
        return group is not None and staff_may_see_group(membership, group)
    if conversation.kind == Conversation.Kind.DIRECT:
        return conversation.staff_id == membership.pk or role_has(
            membership.role, Perm.COMMUNITY_MANAGE
        )
    return role_has(membership.role, Perm.COMMUNITY_MANAGE)  # a customer's inbox


def staff_may_post(conversation: Conversation, membership: Membership) -> bool:
    if not role_has(membership.role, Perm.COMMUNITY_CHAT):
        return False
    if conversation.kind == Conversation.Kind.DIRECT:
        return conversation.staff_id == membership.pk
    return staff_may_see(conversation, membership)
