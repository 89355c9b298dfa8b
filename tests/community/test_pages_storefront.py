"""The community's storefront pages: my groups and messages (unread counts), a group's chat,
the inbox, the chat with my guide, the form fallback (refusals shown), access (404), and the
chat panel include (URLs, websocket address, static files)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.test import Client

from siyu.catalog.testing import make_product
from siyu.community import chat_panel, services
from siyu.community.models import CommunityGroup, GroupMember, Message
from siyu.community.testing import make_code, make_group
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.models import Membership, Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_staff
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer, storefront_client

pytestmark = pytest.mark.django_db

SHOP = "/s/lucky-coffee"
PAGES = f"{SHOP}/community"


def text(response) -> str:
    return response.content.decode()


def joined(actor: Actor, customer: Customer, **fields: object) -> CommunityGroup:
    group = make_group(actor, **fields)
    with merchant_context(actor.merchant):
        services.join_group(customer, group)
    return group


def staff_says(staff: Membership, group: CommunityGroup, words: str) -> Message:
    with merchant_context(group.merchant):
        return services.post_message(
            services.group_conversation(group), text=words, sender_staff=staff
        )


@pytest.fixture
def guide(merchant: Merchant) -> Membership:
    return make_staff(merchant, Role.SHOPPING_GUIDE, first_name="Lily")


def test_pages_need_a_login(merchant: Merchant) -> None:
    for path in ("", "inbox/", "guide/", "groups/1/", "chats/1/"):
        response = Client().get(f"{PAGES}/{path}")
        assert response.status_code == 302, path
        assert response["Location"].startswith(f"{SHOP}/login/?next=%2Fs%2Flucky-coffee%2F")


def test_my_groups_with_unread_counts(owner: Actor, merchant: Merchant, customer: Customer) -> None:
    staff = owner.membership
    assert staff is not None
    busy = joined(owner, customer, name="Jing'an fans")
    quiet = joined(owner, customer, name="Xuhui fans")
    joined(owner, make_customer(merchant), name="Not mine")
    staff_says(staff, busy, "Latte day!")
    staff_says(staff, busy, "Two for one until 3 pm")
    with merchant_context(merchant):
        services.post_message(
            services.inbox_conversation(customer), text="Happy birthday", system=True
        )
    client = storefront_client(customer)
    response = client.get(f"{PAGES}/")
    assert response.status_code == 200
    body = text(response)
    assert "Jing&#x27;an fans" in body
    assert "Xuhui fans" in body
    assert "Not mine" not in body
    assert "Two for one until 3 pm" in body  # the last message
    assert '<span class="cm-unread">2</span>' in body
    assert "Messages from the brand" in body
    assert "Happy birthday" in body
    assert f'href="{PAGES}/groups/{quiet.pk}/"' in body
    assert "My guide" not in body  # no owner guide, no 1:1 chat yet
    # opening the group reads it
    assert client.get(f"{PAGES}/groups/{busy.pk}/").status_code == 200
    assert '<span class="cm-unread">2</span>' not in text(client.get(f"{PAGES}/"))


def test_my_guide_entry_and_chat(
    owner: Actor, merchant: Merchant, customer: Customer, guide: Membership
) -> None:
    client = storefront_client(customer)
    assert "Scan a guide" in text(client.get(f"{PAGES}/guide/"))  # no guide yet
    Customer.unscoped.filter(pk=customer.pk).update(owner_guide=guide)
    listing = text(client.get(f"{PAGES}/"))
    assert 'data-testid="guide-entry"' in listing
    with merchant_context(merchant):
        conversation = services.direct_conversation(customer, guide)
        services.post_message(conversation, text="Hi, I am Lily", sender_staff=guide)
    listing = text(client.get(f"{PAGES}/"))
    assert f'href="{PAGES}/chats/{conversation.pk}/"' in listing
    assert '<span class="cm-unread">1</span>' in listing
    page = client.get(f"{PAGES}/guide/")
    assert page.status_code == 200
    assert "Hi, I am Lily" in text(page)
    posted = client.post(f"{PAGES}/chats/{conversation.pk}/", {"text": "Is the latte iced?"})
    assert posted.status_code == 302
    assert Message.unscoped.filter(conversation=conversation, sender_customer=customer).exists()


def test_group_page_shows_announcement_welcome_and_the_panel(
    owner: Actor, merchant: Merchant, customer: Customer
) -> None:
    group = make_group(owner, announcement="No ads, please", welcome={"text": "Fridays: coupons"})
    code = make_code(owner, [group])
    with merchant_context(merchant):
        result = services.scan(code, customer)
    assert result.conversation is not None
    conversation_id = result.conversation.pk
    page = storefront_client(customer).get(f"{PAGES}/groups/{group.pk}/")
    assert page.status_code == 200
    body = text(page)
    assert "No ads, please" in body
    assert "Welcome @Xiaoming! Fridays: coupons" in body
    api = f"/api/v1/storefront/lucky-coffee/community/conversations/{conversation_id}"
    assert f'data-history-url="{api}/messages"' in body
    assert f'data-post-url="{api}/messages"' in body
    assert f'data-read-url="{api}/read"' in body
    assert f'data-ws-url="/ws/chat/{conversation_id}/?as=customer"' in body
    assert f'data-me-id="{customer.pk}"' in body
    assert 'data-me-kind="customer"' in body
    assert 'data-csrf="' in body
    assert 'data-csrf=""' not in body
    assert "/static/community/chat.js" in body
    assert "/static/community/chat.css" in body
    assert 'name="text"' in body


def test_history_url_of_the_panel_answers(owner: Actor, customer: Customer) -> None:
    staff = owner.membership
    assert staff is not None
    group = joined(owner, customer)
    first = staff_says(staff, group, "one")
    staff_says(staff, group, "two")
    client = storefront_client(customer)
    url = f"/api/v1/storefront/lucky-coffee/community/conversations/{first.conversation_id}"
    after = client.get(f"{url}/messages?after_id={first.pk}")
    assert after.status_code == 200
    assert [m["text"] for m in after.json()] == ["two"]
    assert client.post(f"{url}/read?up_to={first.pk}").status_code == 204


def test_a_customer_cannot_open_a_group_they_are_not_in(
    owner: Actor, merchant: Merchant, other_merchant: Merchant, customer: Customer
) -> None:
    client = storefront_client(customer)
    theirs = make_group(owner)
    assert client.get(f"{PAGES}/groups/{theirs.pk}/").status_code == 404
    assert client.post(f"{PAGES}/groups/{theirs.pk}/", {"text": "hi"}).status_code == 404
    left = joined(owner, customer)
    with merchant_context(merchant):
        services.leave_group(customer, left)
    assert client.get(f"{PAGES}/groups/{left.pk}/").status_code == 404
    foreign_owner = Actor.system(other_merchant)
    foreign = make_group(foreign_owner)
    assert client.get(f"{PAGES}/groups/{foreign.pk}/").status_code == 404
    assert client.get(f"{PAGES}/groups/999999/").status_code == 404
    stranger = make_customer(merchant)
    with merchant_context(merchant):
        theirs_chat = services.inbox_conversation(stranger)
    assert client.get(f"{PAGES}/chats/{theirs_chat.pk}/").status_code == 404


def test_the_form_fallback_posts_and_shows_refusals(
    owner: Actor, merchant: Merchant, customer: Customer
) -> None:
    group = joined(owner, customer, banned_words=["wechat me"])
    client = storefront_client(customer)
    page = f"{PAGES}/groups/{group.pk}/"
    assert client.post(page, {"text": "Hello all"}).status_code == 302
    assert "Hello all" in text(client.get(page))
    refused = client.post(page, {"text": "WeChat me for cheap"}, follow=True)
    assert "contains a banned word: wechat me" in text(refused)
    with merchant_context(merchant):
        member = GroupMember.objects.get(group=group, customer=customer)
        services.mute_member(owner, member, clock.now() + timedelta(hours=1))
    muted = client.post(page, {"text": "Still here"}, follow=True)
    assert "You are muted in this group until" in text(muted)
    texts = list(Message.unscoped.filter(sender_customer=customer).values_list("text", flat=True))
    assert texts == ["Hello all"]


def test_inbox_is_read_only_and_shows_cards(merchant: Merchant, customer: Customer) -> None:
    product = make_product(merchant, "Iced latte")
    with merchant_context(merchant):
        inbox = services.inbox_conversation(customer)
        services.post_message(
            inbox, text="New this week", card={"type": "product", "id": product.pk}, system=True
        )
    client = storefront_client(customer)
    response = client.get(f"{PAGES}/inbox/")
    assert response.status_code == 200
    body = text(response)
    assert "New this week" in body
    assert "Iced latte" in body
    assert "¥18.00" in body
    assert f"{SHOP}/products/{product.pk}/?via=" in body
    assert 'name="text"' not in body  # no composer
    assert 'data-read-only="true"' in body
    assert client.post(f"{PAGES}/inbox/", {"text": "hi"}).status_code == 405
    listing = text(client.get(f"{PAGES}/"))
    assert "cm-unread" not in listing  # opening the inbox read it


def test_chat_js_is_served(client: Client) -> None:
    for name in ("community/chat.js", "community/chat.css", "community/join.js"):
        assert finders.find(name), name
    response = client.get("/static/community/chat.js")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"after_id" in body
    assert b"before_id" in body


def test_the_include_renders_staff_urls_and_the_configured_websocket(
    owner: Actor, merchant: Merchant, customer: Customer, settings
) -> None:
    settings.WEBSOCKET_URL = "ws://127.0.0.1:8001/"
    staff = owner.membership
    assert staff is not None
    group = joined(owner, customer)
    staff_says(staff, group, "<b>not bold</b>")
    with merchant_context(merchant):
        conversation = services.group_conversation(group)
        panel = chat_panel.for_staff(conversation, staff)
    html = render_to_string("community/chat_panel.html", {"chat": panel, "csrf_token": "tok"})
    base = f"/api/v1/community/conversations/{conversation.pk}"
    assert f'data-history-url="{base}/messages"' in html
    assert f'data-read-url="{base}/read"' in html
    assert f'data-ws-url="ws://127.0.0.1:8001/ws/chat/{conversation.pk}/?as=staff"' in html
    assert 'data-me-kind="staff"' in html
    assert 'data-csrf="tok"' in html
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html  # text is escaped
    assert "chat-mine" in html
    assert panel.has_earlier is False


def test_the_guide_workbench_embeds_the_panel(
    owner: Actor, merchant: Merchant, customer: Customer, guide: Membership
) -> None:
    from siyu.core.testing import login

    Customer.unscoped.filter(pk=customer.pk).update(owner_guide=guide)
    group = joined(owner, customer, owner=guide.pk)
    client = login(guide)
    one_to_one = client.get(f"/guide/customers/{customer.pk}/chat/")
    assert one_to_one.status_code == 200
    body = text(one_to_one)
    assert 'data-me-kind="staff"' in body
    assert "/api/v1/community/conversations/" in body
    assert 'data-post-form="true"' in body  # the page's handler closes the follow-up task
    assert client.post(f"/guide/customers/{customer.pk}/chat/", {"text": "Hi!"}).status_code == 302
    in_group = text(client.get(f"/guide/groups/{group.pk}/"))
    assert 'data-post-form="false"' in in_group
    with merchant_context(merchant):
        conversation = services.group_conversation(group)
    assert f'data-ws-url="/ws/chat/{conversation.pk}/?as=staff"' in in_group
