"""Console pages of community groups: list, forms with field errors, detail, moderation,
auto-replies, posting to many groups, and who may see what (404 across owners/merchants)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from siyu.catalog.testing import make_product
from siyu.community import services
from siyu.community.models import AutoReply, CommunityGroup, GroupMember, Message
from siyu.community.testing import bound, make_group
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.permissions import Role
from siyu.core.testing import login, make_staff
from siyu.customers.testing import make_customer

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def operator(merchant):
    return make_staff(merchant, Role.OPERATOR)


@pytest.fixture
def client(operator):
    c = login(operator)
    c.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


@pytest.fixture
def group(owner, store):
    return make_group(owner, name="Jing'an fans", store=store, capacity=50)


def _member(group, merchant, name="Lin"):
    customer = make_customer(merchant, name=name)
    with bound(merchant):
        return services.join_group(customer, group)


def test_pages_render_for_an_operator(client, group, merchant):
    _member(group, merchant)
    for url in (
        reverse("community:group_list"),
        reverse("community:group_create"),
        reverse("community:group_detail", args=[group.pk]),
        reverse("community:group_edit", args=[group.pk]),
        reverse("community:reply_create", args=[group.pk]),
        reverse("community:post_many"),
        reverse("community:code_list"),
        reverse("community:code_create"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    listing = html(client.get(reverse("community:group_list")))
    assert "Jing&#x27;an fans" in listing
    assert "1/50" in listing
    detail = html(client.get(reverse("community:group_detail", args=[group.pk])))
    assert "Lin" in detail


def test_group_list_filters_by_status_and_name(client, owner, group):
    other = make_group(owner, name="Brand club")
    with bound(owner.merchant):
        services.archive_group(owner, other)
    page = html(client.get(reverse("community:group_list"), {"status": "active"}))
    assert "Jing&#x27;an fans" in page
    assert "Brand club" not in page
    page = html(client.get(reverse("community:group_list"), {"q": "brand"}))
    assert "Brand club" in page
    assert "Jing&#x27;an fans" not in page


def test_create_a_group(client, store, operator):
    response = client.post(
        reverse("community:group_create"),
        {
            "name": "Xintiandi",
            "store": store.pk,
            "owner": operator.pk,
            "capacity": "300",
            "announcement": "No ads",
            "welcome_text": "Hello",
            "welcome_card": f"store:{store.pk}",
            "banned_words": "spam\nads\n\n",
        },
    )
    group = CommunityGroup.unscoped.get(name="Xintiandi")
    assert response.status_code == 302
    assert response["Location"] == reverse("community:group_detail", args=[group.pk])
    assert group.capacity == 300
    assert group.owner_id == operator.pk
    assert group.banned_words == ["spam", "ads"]
    assert group.welcome == {"text": "Hello", "card": {"type": "store", "id": store.pk}}


@pytest.mark.parametrize("capacity", ["0", "501", "many"])
def test_invalid_capacity_shows_the_field_error_and_writes_nothing(client, capacity):
    response = client.post(
        reverse("community:group_create"), {"name": "Too big", "capacity": capacity}
    )
    assert response.status_code == 422
    assert 'aria-invalid="true"' in html(response)
    assert response.context["form"].errors["capacity"]
    assert not CommunityGroup.unscoped.filter(name="Too big").exists()


def test_edit_below_the_member_count_is_refused_by_the_service(client, group, merchant):
    _member(group, merchant, "A")
    _member(group, merchant, "B")
    response = client.post(
        reverse("community:group_edit", args=[group.pk]),
        {"name": "Renamed", "capacity": "1"},
    )
    assert response.status_code == 422
    assert "capacity" in response.context["form"].errors
    group.refresh_from_db()
    assert (group.name, group.capacity) == ("Jing'an fans", 50)


def test_edit_a_group(client, group):
    response = client.post(
        reverse("community:group_edit", args=[group.pk]),
        {"name": "Renamed", "capacity": "80", "banned_words": "x"},
    )
    assert response.status_code == 302
    group.refresh_from_db()
    assert (group.name, group.capacity, group.banned_words) == ("Renamed", 80, ["x"])


def test_a_guide_sees_only_the_groups_they_own(merchant, owner):
    guide = make_staff(merchant, Role.SHOPPING_GUIDE)
    mine = make_group(owner, name="Mine", owner=guide)
    theirs = make_group(owner, name="Theirs")
    client = login(guide)
    listing = html(client.get(reverse("community:group_list")))
    assert "Mine" in listing
    assert "Theirs" not in listing
    assert client.get(reverse("community:group_detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("community:group_detail", args=[theirs.pk])).status_code == 404
    # guides do not manage groups
    assert client.get(reverse("community:group_edit", args=[mine.pk])).status_code == 403


def test_another_merchants_group_is_a_404(client, other_merchant):
    theirs = make_group(Actor.system(other_merchant), name="Rival")
    assert client.get(reverse("community:group_detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("community:group_edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("community:group_archive", args=[theirs.pk])).status_code == 404


def test_remove_and_mute_members(client, group, merchant):
    member = _member(group, merchant)
    response = client.post(reverse("community:member_mute", args=[member.pk]), {"duration": "1h"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.muted_until is not None
    assert timedelta(minutes=59) < member.muted_until - clock.now() <= timedelta(hours=1)
    page = html(client.get(reverse("community:group_detail", args=[group.pk])))
    assert "Muted until" in page
    client.post(reverse("community:member_mute", args=[member.pk]), {"duration": "forever"})
    # muting again while muted is allowed: "until unmuted"
    member.refresh_from_db()
    assert member.muted_until - clock.now() > timedelta(days=3650)
    assert "Muted until unmuted" in html(
        client.get(reverse("community:group_detail", args=[group.pk]))
    )
    client.post(reverse("community:member_unmute", args=[member.pk]))
    member.refresh_from_db()
    assert member.muted_until is None
    response = client.post(reverse("community:member_remove", args=[member.pk]))
    assert response.status_code == 302
    member.refresh_from_db()
    group.refresh_from_db()
    assert member.left_at is not None
    assert member.leave_reason == GroupMember.LeaveReason.REMOVED
    assert group.member_count == 0


def test_a_guide_cannot_moderate(merchant, owner, group):
    guide = make_staff(merchant, Role.SHOPPING_GUIDE)
    member = _member(group, merchant)
    client = login(guide)
    assert client.post(reverse("community:member_remove", args=[member.pk])).status_code == 403
    member.refresh_from_db()
    assert member.left_at is None


def test_auto_reply_crud(client, group, merchant):
    product = make_product(merchant, name="Latte", status="on_sale")
    response = client.post(
        reverse("community:reply_create", args=[group.pk]),
        {
            "keyword": "hours",
            "match": "contains",
            "reply_text": "8 to 22",
            "reply_card": f"product:{product.pk}",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    reply = AutoReply.unscoped.get(group=group)
    assert reply.reply == {"text": "8 to 22", "card": {"type": "product", "id": product.pk}}
    assert "hours" in html(client.get(reverse("community:group_detail", args=[group.pk])))
    # a reply without text or card is refused with the field named
    response = client.post(
        reverse("community:reply_edit", args=[group.pk, reply.pk]),
        {"keyword": "hours", "match": "exact"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors["reply_text"]
    response = client.post(
        reverse("community:reply_edit", args=[group.pk, reply.pk]),
        {"keyword": "open", "match": "exact", "reply_text": "Always"},
    )
    assert response.status_code == 302
    reply.refresh_from_db()
    assert (reply.keyword, reply.match, reply.is_active) == ("open", "exact", False)
    client.post(reverse("community:reply_delete", args=[group.pk, reply.pk]))
    assert not AutoReply.unscoped.filter(pk=reply.pk).exists()


def test_archive(client, group):
    response = client.post(reverse("community:group_archive", args=[group.pk]))
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.status == CommunityGroup.Status.ARCHIVED


def test_post_to_chosen_groups_with_a_card(client, owner, group, merchant):
    second = make_group(owner, name="Second")
    make_group(owner, name="Not chosen")
    product = make_product(merchant, name="Latte", status="on_sale")
    response = client.post(
        reverse("community:post_many"),
        {
            "scope": "pick",
            "groups": [group.pk, second.pk],
            "text": "New latte!",
            "card": f"product:{product.pk}",
        },
        follow=True,
    )
    assert "Posted in 2 groups." in html(response)
    posts = Message.unscoped.filter(text="New latte!")
    assert {m.conversation.group_id for m in posts} == {group.pk, second.pk}
    assert all(m.card["type"] == "product" for m in posts)


def test_post_to_all_or_one_store(client, owner, group, store):
    make_group(owner, name="Brand wide")
    response = client.post(
        reverse("community:post_many"), {"scope": "store", "store": store.pk, "text": "Hi"}
    )
    assert response.status_code == 302
    assert Message.unscoped.filter(text="Hi").count() == 1
    client.post(reverse("community:post_many"), {"scope": "all", "text": "All"})
    assert Message.unscoped.filter(text="All").count() == 2


def test_post_needs_text_or_card_and_groups(client):
    response = client.post(reverse("community:post_many"), {"scope": "pick"})
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "groups" in errors
    assert "text" in errors
    assert not Message.unscoped.exists()


def test_a_guide_posts_only_in_own_groups(merchant, owner):
    guide = make_staff(merchant, Role.SHOPPING_GUIDE)
    mine = make_group(owner, name="Mine", owner=guide)
    theirs = make_group(owner, name="Theirs")
    client = login(guide)
    response = client.post(
        reverse("community:post_many"), {"scope": "pick", "groups": [theirs.pk], "text": "x"}
    )
    assert response.status_code == 422  # not a choice offered to this guide
    client.post(reverse("community:post_many"), {"scope": "all", "text": "mine only"})
    [message] = Message.unscoped.filter(text="mine only")
    assert message.conversation.group_id == mine.pk


def test_detail_embeds_the_staff_chat_and_posts_without_javascript(client, group, operator):
    page = html(client.get(reverse("community:group_detail", args=[group.pk])))
    assert "data-chat" in page
    assert 'data-me-kind="staff"' in page
    response = client.post(reverse("community:group_post", args=[group.pk]), {"text": "Hello all"})
    assert response.status_code == 302
    [message] = Message.unscoped.filter(text="Hello all")
    assert message.sender_staff_id == operator.pk
    assert "Hello all" in html(client.get(reverse("community:group_detail", args=[group.pk])))


def test_finance_cannot_post_in_the_group_chat(merchant, group):
    client = login(make_staff(merchant, Role.FINANCE))
    assert client.get(reverse("community:group_detail", args=[group.pk])).status_code == 403
    response = client.post(reverse("community:group_post", args=[group.pk]), {"text": "x"})
    assert response.status_code == 403
    assert not Message.unscoped.filter(text="x").exists()
