"""Reads of the community's storefront pages (``/s/<slug>/community/``, ``/j/<token>``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from siyu.community import selectors
from siyu.community.models import CommunityGroup, Conversation
from siyu.customers.models import Customer
from siyu.stores.models import Store

STORE_CHOOSER_MAX = 50


@dataclass
class MyChats:
    """The customer's "groups and messages" page."""

    groups: list[selectors.ConversationRow] = field(default_factory=list)
    inbox: selectors.ConversationRow | None = None
    guide: selectors.ConversationRow | None = None  # the chat with the owner guide
    has_guide: bool = False  # an owner guide, even before the first message
    other_chats: list[selectors.ConversationRow] = field(default_factory=list)  # former guides

    @property
    def unread(self) -> int:
        rows = [*self.groups, *self.other_chats, self.inbox, self.guide]
        return sum(r.unread for r in rows if r is not None)


def my_chats(customer: Customer) -> MyChats:
    """Active groups, the inbox and the 1:1 chats, with unread counts (a few queries)."""
    result = MyChats(has_guide=customer.owner_guide_id is not None)
    for row in selectors.customer_conversations(customer):
        kind = row.conversation.kind
        if kind == Conversation.Kind.GROUP:
            result.groups.append(row)
        elif kind == Conversation.Kind.INBOX:
            result.inbox = row
        elif row.conversation.staff_id == customer.owner_guide_id:
            result.guide = row
        else:
            result.other_chats.append(row)
    return result


def group_stores(merchant_id: int) -> list[Store]:
    """The stores a store-finder code can route to (they have an active group), by city and name."""
    ids = (
        CommunityGroup.unscoped.filter(
            merchant_id=merchant_id, status=CommunityGroup.Status.ACTIVE, store__isnull=False
        )
        .values_list("store_id", flat=True)
        .distinct()
    )
    return list(
        Store.unscoped.filter(merchant_id=merchant_id, pk__in=ids)
        .exclude(status=Store.Status.CLOSED)
        .order_by("city", "district", "name", "id")[:STORE_CHOOSER_MAX]
    )
