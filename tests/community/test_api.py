"""The community API: staff endpoints (422s naming fields, 404 across merchants) and the
customer's endpoints (my chats, history, post, read, scan)."""

from __future__ import annotations

import pytest

from siyu.community import services
from siyu.community.testing import make_code, make_group
from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for, api_client
from siyu.customers.testing import make_customer, storefront_client

pytestmark = pytest.mark.django_db

BASE = "/api/v1/community"


def test_create_group_and_code_through_the_api(merchant: Merchant) -> None:
    client = api_client(merchant)
    bad = client.post(
        f"{BASE}/groups", {"name": "G", "capacity": 501}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert set(bad.json()["fields"]) == {"capacity"}
    created = client.post(
        f"{BASE}/groups",
        {"name": "Jing'an fans", "capacity": 3, "banned_words": ["spam"]},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    group = created.json()
    assert (group["capacity"], group["banned_words"]) == (3, ["spam"])
    assert group["conversation_id"]
    code = client.post(
        f"{BASE}/codes",
        {"kind": "groups", "name": "Door", "state": "store_door", "group_ids": [group["id"]]},
        content_type="application/json",
    )
    assert code.status_code == 201, code.content
    assert code.json()["link"].endswith("/j/" + code.json()["token"])
    bad_state = client.patch(
        f"{BASE}/codes/{code.json()['id']}", {"state": "Bad State"}, content_type="application/json"
    )
    assert bad_state.status_code == 422
    assert set(bad_state.json()["fields"]) == {"state"}
    assert client.get(f"{BASE}/codes/{code.json()['id']}/qr.svg").content.startswith(b"<svg")


def test_other_merchants_rows_are_404(merchant: Merchant, other_merchant: Merchant) -> None:
    theirs = actor_for(other_merchant, Role.OWNER)
    group = make_group(theirs)
    code = make_code(theirs, [group])
    client = api_client(merchant)
    assert client.get(f"{BASE}/groups/{group.pk}").status_code == 404
    assert client.get(f"{BASE}/codes/{code.pk}").status_code == 404
    assert (
        client.patch(
            f"{BASE}/groups/{group.pk}", {"name": "x"}, content_type="application/json"
        ).status_code
        == 404
    )
    posted = client.post(
        f"{BASE}/post", {"group_ids": [group.pk], "text": "hi"}, content_type="application/json"
    )
    assert posted.status_code == 404
    conversation = group.conversation
    assert client.get(f"{BASE}/conversations/{conversation.pk}/messages").status_code == 404


def test_post_to_many_groups(owner: Actor, merchant: Merchant) -> None:
    a, b = make_group(owner), make_group(owner)
    client = api_client(merchant)
    answer = client.post(
        f"{BASE}/post",
        {"group_ids": [a.pk, b.pk], "text": "Flash sale"},
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    assert [m["text"] for m in answer.json()] == ["Flash sale", "Flash sale"]
    empty = client.post(f"{BASE}/post", {"group_ids": [a.pk]}, content_type="application/json")
    assert empty.status_code == 422
    assert set(empty.json()["fields"]) == {"text"}


def test_customer_chats_through_the_storefront_api(owner: Actor, merchant: Merchant) -> None:
    group = make_group(owner, banned_words=["scam"], welcome={"text": "Hi!"})
    code = make_code(owner, [group])
    customer = make_customer(merchant, name="Lin")
    client = storefront_client(customer)
    base = f"/api/v1/storefront/{merchant.slug}/community"
    scanned = client.post(f"{base}/scan/{code.token}", {}, content_type="application/json")
    assert scanned.status_code == 200, scanned.content
    assert scanned.json()["outcome"] == "joined"
    conversation_id = scanned.json()["conversation_id"]
    listed = client.get(f"{base}/conversations").json()
    assert [(c["id"], c["title"], c["unread"]) for c in listed] == [
        (conversation_id, group.name, 1)
    ]
    refused = client.post(
        f"{base}/conversations/{conversation_id}/messages",
        {"text": "a scam"},
        content_type="application/json",
    )
    assert refused.status_code == 422
    assert refused.json()["fields"] == {"text": "contains a banned word: scam"}
    posted = client.post(
        f"{base}/conversations/{conversation_id}/messages",
        {"text": "hello"},
        content_type="application/json",
    )
    assert posted.status_code == 201
    assert client.post(f"{base}/conversations/{conversation_id}/read").status_code == 204
    assert client.get(f"{base}/unread").json() == {str(conversation_id): 0, "total": 0}
    history = client.get(f"{base}/conversations/{conversation_id}/messages").json()
    assert [m["text"] for m in history] == ["Welcome @Lin! Hi!", "hello"]
    with merchant_context(merchant):
        other = services.group_conversation(make_group(owner))
    assert client.get(f"{base}/conversations/{other.pk}/messages").status_code == 404
    assert (
        storefront_client(make_customer(merchant))
        .get(f"{base}/conversations/{conversation_id}/messages")
        .status_code
        == 404
    )
