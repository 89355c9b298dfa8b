"""The chat: posting rules, banned words, auto-replies, cards, read marks, unread counts, inbox."""

from __future__ import annotations

import pytest

from siyu.catalog.testing import make_product
from siyu.community import bulk, cards, chat, selectors, services
from siyu.community.models import Conversation, Message
from siyu.community.testing import make_group
from siyu.core.actors import Actor
from siyu.core.errors import Forbidden, InvalidInput
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_staff
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def group_chat(owner: Actor, customer: Customer) -> Conversation:
    group = make_group(owner, banned_words=["spam", "代购"])
    with merchant_context(owner.merchant):
        services.join_group(customer, group)
        return services.group_conversation(group)


def test_banned_words_refuse_customers_but_not_staff(
    owner: Actor, customer: Customer, group_chat: Conversation
) -> None:
    with merchant_context(owner.merchant):
        with pytest.raises(InvalidInput) as err:
            services.post_message(group_chat, text="cheap SPAM here", sender_customer=customer)
        assert err.value.fields == {"text": "contains a banned word: spam"}
        with pytest.raises(InvalidInput):
            services.post_message(group_chat, text="找代购吗", sender_customer=customer)
        services.post_message(group_chat, text="no spam please", sender_staff=owner.membership)
    assert Message.unscoped.filter(conversation=group_chat).count() == 1


def test_text_limits(customer: Customer, group_chat: Conversation) -> None:
    with merchant_context(customer.merchant):
        with pytest.raises(InvalidInput) as err:
            services.post_message(group_chat, text="x" * 2001, sender_customer=customer)
        assert "text" in err.value.fields
        with pytest.raises(InvalidInput):
            services.post_message(group_chat, text="   ", sender_customer=customer)


def test_strangers_cannot_post(merchant: Merchant, group_chat: Conversation) -> None:
    stranger = make_customer(merchant)
    with merchant_context(merchant), pytest.raises(Forbidden):
        services.post_message(group_chat, text="hi", sender_customer=stranger)


def test_guide_posts_only_in_groups_they_own(merchant: Merchant, owner: Actor) -> None:
    guide = make_staff(merchant, Role.SHOPPING_GUIDE)
    mine, other = make_group(owner, owner=guide.pk), make_group(owner)
    with merchant_context(merchant):
        services.post_message(services.group_conversation(mine), text="hi", sender_staff=guide)
        with pytest.raises(Forbidden):
            services.post_message(services.group_conversation(other), text="hi", sender_staff=guide)


def test_auto_reply_group_first_then_merchant_wide(
    owner: Actor, customer: Customer, group_chat: Conversation
) -> None:
    with merchant_context(owner.merchant):
        services.create_auto_reply(
            owner, keyword="hours", reply={"text": "We open 7:00-22:00 everywhere."}
        )
        services.create_auto_reply(
            owner, group=group_chat.group_id, keyword="hours", reply={"text": "This store: 8-20."}
        )
        services.create_auto_reply(
            owner, keyword="wifi", match="exact", reply={"text": "Password: latte"}
        )
        services.post_message(group_chat, text="what are your HOURS?", sender_customer=customer)
        services.post_message(group_chat, text="is there wifi here", sender_customer=customer)
        services.post_message(group_chat, text="WiFi", sender_customer=customer)
    texts = list(
        Message.unscoped.filter(conversation=group_chat).values_list("sender_kind", "text")
    )
    assert texts == [
        ("customer", "what are your HOURS?"),
        ("system", "This store: 8-20."),
        ("customer", "is there wifi here"),
        ("customer", "WiFi"),
        ("system", "Password: latte"),
    ]


def test_product_card_carries_a_signed_via(
    owner: Actor, customer: Customer, group_chat: Conversation
) -> None:
    product = make_product(owner.merchant, name="Latte")
    with merchant_context(owner.merchant):
        message = services.post_message(
            group_chat, card={"type": "product", "id": product.pk}, sender_staff=owner.membership
        )
    card = message.card
    assert card["title"] == "Latte"
    assert card["url"].startswith(f"/s/{owner.merchant.slug}/products/{product.pk}/?via=")
    via = cards.read_via(card["url"].split("via=")[1])
    assert via == cards.Via("group", group_id=group_chat.group_id, message_id=message.pk)
    assert cards.read_via(card["url"].split("via=")[1] + "x") is None


def test_cards_are_checked(
    owner: Actor, other_merchant: Merchant, group_chat: Conversation
) -> None:
    foreign = make_product(other_merchant)
    with merchant_context(owner.merchant):
        for card, reason in [
            ({"type": "product", "id": foreign.pk}, "There is no such product."),
            ({"type": "coupon", "id": 10**9}, "There is no such coupon."),
            ({"type": "banner", "id": 1}, "Choose a card type: product, coupon, store or order."),
            ({"type": "store"}, "The card needs the id of the store."),
        ]:
            with pytest.raises(InvalidInput) as err:
                services.post_message(group_chat, card=card, sender_staff=owner.membership)
            assert err.value.fields == {"card": reason}


def test_unread_counts_and_mark_read(
    owner: Actor, merchant: Merchant, customer: Customer, group_chat: Conversation
) -> None:
    guide = make_staff(merchant, Role.SHOPPING_GUIDE)
    with merchant_context(merchant):
        direct = services.direct_conversation(customer, guide)
        assert services.direct_conversation(customer, guide).pk == direct.pk
        services.post_message(group_chat, text="hello group", sender_staff=owner.membership)
        services.post_message(group_chat, text="me too", sender_customer=customer)
        last = services.post_message(group_chat, text="deal today", sender_staff=owner.membership)
        services.post_message(direct, text="hi, I'm your guide", sender_staff=guide)
        counts = selectors.customer_unread_counts(customer)
        assert counts[group_chat.pk] == 1  # own message marked read; the earlier one before it
        assert counts[direct.pk] == 1
        assert selectors.staff_unread_counts(guide, [direct]) == {direct.pk: 0}
        services.post_message(direct, text="thanks", sender_customer=customer)
        assert selectors.staff_unread_counts(guide, [direct]) == {direct.pk: 1}
        services.mark_read(group_chat, customer=customer, up_to=last.pk)
        services.mark_read(direct, customer=customer)
        services.mark_read(direct, staff=guide)
        services.mark_read(group_chat, customer=customer, up_to=1)  # never moves back
        assert selectors.customer_unread_counts(customer) == {group_chat.pk: 0, direct.pk: 0}
        assert selectors.staff_unread_counts(guide, [direct]) == {direct.pk: 0}


def test_new_members_do_not_inherit_old_unread(owner: Actor, merchant: Merchant) -> None:
    group = make_group(owner)
    with merchant_context(merchant):
        conversation = services.group_conversation(group)
        services.post_message(conversation, text="old news", sender_staff=owner.membership)
        newcomer = make_customer(merchant)
        services.join_group(newcomer, group)
        assert selectors.customer_unread_counts(newcomer) == {conversation.pk: 0}


def test_history_pages_backwards(owner: Actor, group_chat: Conversation) -> None:
    with merchant_context(owner.merchant):
        ids = [
            services.post_message(group_chat, text=f"m{i}", sender_staff=owner.membership).pk
            for i in range(35)
        ]
        latest = selectors.history(group_chat)
        assert [m.pk for m in latest] == ids[-30:]
        older = selectors.history(group_chat, before_id=latest[0].pk)
        assert [m.pk for m in older] == ids[:5]
        assert [m.pk for m in selectors.history(group_chat, after_id=ids[-2])] == ids[-1:]


def test_post_to_groups_is_all_or_nothing(owner: Actor, merchant: Merchant) -> None:
    first, second = make_group(owner), make_group(owner)
    with merchant_context(merchant):
        services.archive_group(owner, second)
        with pytest.raises(InvalidInput):
            services.post_to_groups(owner, [first, second], text="sale")
        assert Message.unscoped.count() == 0
        second_open = make_group(owner)
        sent = services.post_to_groups(owner, [first, second_open], text="sale", broadcast_id=7)
    assert [m.conversation.group_id for m in sent] == [first.pk, second_open.pk]
    assert all(m.broadcast_id == 7 and m.sender_staff_id == owner.membership.pk for m in sent)


def test_inbox_bulk_fan_out(merchant: Merchant) -> None:
    customers = [make_customer(merchant) for _ in range(3)]
    with merchant_context(merchant):
        services.inbox_conversation(customers[0])
        written = bulk.post_inbox_bulk(
            [c.pk for c in customers], text="Double 11 is here", card=None, broadcast_id=3
        )
        assert written == 3
        for c in customers:
            inbox = services.inbox_conversation(c)
            assert chat.latest_message_id(inbox.pk) > 0  # read from Message, not the row
            assert selectors.customer_unread_counts(c)[inbox.pk] == 1
        services.mark_read(inbox, customer=customers[2])  # up to the fanned-out message
        assert selectors.customer_unread_counts(customers[2])[inbox.pk] == 0
        with pytest.raises(Forbidden):
            services.post_message(inbox, text="reply", sender_customer=customers[2])


def test_inbox_fan_out_of_several_parts_once_per_customer_of_the_merchant(
    merchant: Merchant, other_merchant: Merchant
) -> None:
    customers = [make_customer(merchant) for _ in range(3)]
    stranger = make_customer(other_merchant)
    ids = [c.pk for c in customers]
    card = {"type": "store", "id": 1, "title": "Shop", "url": "/s/x/"}
    with merchant_context(merchant):
        written = bulk.post_inbox_messages(
            [*ids, ids[0], stranger.pk], [("Hello", None), ("", card)], broadcast_id=9
        )
        again = bulk.create_inboxes(ids)
    assert written == 6  # two parts, three customers, the duplicate once, not the stranger
    assert again == 0
    assert not Conversation.unscoped.filter(customer=stranger).exists()
    for c in customers:
        inbox = Conversation.unscoped.get(customer=c, kind="inbox")
        texts = list(
            Message.unscoped.filter(conversation=inbox).order_by("id").values_list("text", "card")
        )
        assert texts == [("Hello", None), ("", card)]  # in order: the text, then the card
        assert (
            chat.latest_message_id(inbox.pk)
            == Message.unscoped.filter(conversation=inbox).latest("id").pk
        )
