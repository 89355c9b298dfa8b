"""The "join my team" card: posted in a group chat by a member from the team page, built from
the team's row, refused once the team no longer fills."""

from __future__ import annotations

from datetime import timedelta

import pytest

from siyu.community import cards
from siyu.community import services as community_services
from siyu.community.models import Message
from siyu.community.testing import make_group
from siyu.core import clock
from siyu.core.errors import InvalidInput
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for
from siyu.customers.testing import make_customer, storefront_client
from siyu.groupbuy.models import GroupBuy
from siyu.orders.testing import Shop

from .helpers import buy, fail_overdue, pay_and_seat

pytestmark = pytest.mark.django_db


def test_a_member_posts_the_team_in_their_group_and_the_card_opens_the_team(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    owner = actor_for(merchant, Role.OWNER)
    group = make_group(owner, name="Jing'an fans")
    leader = make_customer(merchant)
    with merchant_context(merchant):
        community_services.join_group(leader, group)
    member = pay_and_seat(buy(merchant, shop, activity, leader))
    client = storefront_client(leader, HTTP_ACCEPT_LANGUAGE="en")
    url = f"/s/{merchant.slug}/groupbuy/teams/{member.team_id}/"
    assert "Post in my group" in client.get(url).content.decode()
    posted = client.post(f"{url}share/", {"group_id": str(group.pk)})
    assert posted.status_code == 302
    assert posted["Location"] == f"/s/{merchant.slug}/community/groups/{group.pk}/"
    with merchant_context(merchant):
        message = Message.objects.get(card__type="groupbuy")
    card = message.card
    assert card["title"] == f"Join my team: {activity.name}"
    assert card["subtitle"] == "2 more to go at ¥18.00"
    assert card["price"] == 1800
    assert card["url"].startswith(f"{url}?via=")
    via = cards.read_via(card["url"].split("via=")[1])
    assert via is not None
    assert via.group_id == group.pk
    stranger = storefront_client(make_customer(merchant))
    assert stranger.post(f"{url}share/", {"group_id": str(group.pk)}).status_code == 404


def test_a_team_that_no_longer_fills_is_refused_as_a_card(
    merchant: Merchant, shop: Shop, activity: GroupBuy
) -> None:
    member = pay_and_seat(buy(merchant, shop, activity, make_customer(merchant)))
    fail_overdue(clock.now() + timedelta(days=2))
    with merchant_context(merchant), pytest.raises(InvalidInput) as refused:
        cards.build_card({"type": "groupbuy", "id": member.team_id})
    assert refused.value.fields["card"] == "Only a team still filling can be shared."
    with merchant_context(merchant), pytest.raises(InvalidInput) as missing:
        cards.build_card({"type": "groupbuy", "id": 999999})
    assert missing.value.fields["card"] == "There is no such team."
