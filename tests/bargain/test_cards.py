"""The "help me cut" card: posted in a group chat by the starter from the share page, built
from the bargain's row, refused once the bargain no longer needs help."""

from __future__ import annotations

import pytest

from siyu.bargain import services
from siyu.bargain.models import Bargain, BargainActivity
from siyu.community import cards
from siyu.community import services as community_services
from siyu.community.models import Message
from siyu.community.testing import make_group
from siyu.core.errors import InvalidInput
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for
from siyu.customers.models import Customer
from siyu.customers.testing import storefront_client

pytestmark = pytest.mark.django_db


def test_the_starter_asks_their_group_and_the_card_opens_the_share_page(
    merchant: Merchant, activity: BargainActivity, starter: Customer
) -> None:
    owner = actor_for(merchant, Role.OWNER)
    group = make_group(owner, name="Jing'an fans")
    with merchant_context(merchant):
        community_services.join_group(starter, group)
        bargain = services.start(starter, activity.pk)
    client = storefront_client(starter, HTTP_ACCEPT_LANGUAGE="en")
    url = f"/s/{merchant.slug}/bargain/b/{bargain.code}/"
    assert "Ask my group to help" in client.get(url).content.decode()
    posted = client.post(f"{url}share/", {"group_id": str(group.pk)})
    assert posted.status_code == 302
    assert posted["Location"] == f"/s/{merchant.slug}/community/groups/{group.pk}/"
    with merchant_context(merchant):
        message = Message.objects.get(card__type="bargain")
    card = message.card
    assert card["title"] == f"Help me cut: {activity.sku.product.name}"
    assert card["price"] == 5000
    assert card["url"].startswith(f"{url}?via=")
    via = cards.read_via(card["url"].split("via=")[1])
    assert via is not None
    assert via.group_id == group.pk


def test_a_bargain_that_needs_no_help_is_refused_as_a_card(
    merchant: Merchant, activity: BargainActivity, starter: Customer, friends: list[Customer]
) -> None:
    owner = actor_for(merchant, Role.OWNER)
    group = make_group(owner)
    with merchant_context(merchant):
        bargain = services.start(starter, activity.pk)
        for friend in friends[:3]:
            services.help_cut(friend, bargain.pk)
        chat = community_services.group_conversation(group)
        with pytest.raises(InvalidInput) as refused:
            community_services.post_message(
                chat, card={"type": "bargain", "id": bargain.pk}, sender_staff=owner.membership
            )
        assert refused.value.fields == {
            "card": "Only a bargain still being cut can be shared for help."
        }
        with pytest.raises(InvalidInput):
            community_services.post_message(
                chat, card={"type": "bargain", "id": 987654}, sender_staff=owner.membership
            )
        assert Bargain.objects.get(pk=bargain.pk).status == "reached"


def test_someone_elses_bargain_cannot_be_shared_from_the_page(
    merchant: Merchant, activity: BargainActivity, starter: Customer, friends: list[Customer]
) -> None:
    with merchant_context(merchant):
        bargain = services.start(starter, activity.pk)
    client = storefront_client(friends[0], HTTP_ACCEPT_LANGUAGE="en")
    answer = client.post(f"/s/{merchant.slug}/bargain/b/{bargain.code}/share/", {"group_id": "1"})
    assert answer.status_code == 404
