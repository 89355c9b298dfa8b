"""The chat websocket: a customer and a guide exchange messages; strangers are turned away."""

from __future__ import annotations

import os
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import Client

from siyu.community import services
from siyu.community.models import Message
from siyu.community.testing import WebsocketClient as WebsocketCommunicator
from siyu.community.testing import make_group
from siyu.config.asgi import application
from siyu.core.models import Membership, Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for, login, make_staff
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer, storefront_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _hosts(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["testserver"]


def _cookie(client: Client) -> list[tuple[bytes, bytes]]:
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode()),
        (b"origin", b"http://testserver"),
        (b"host", b"testserver"),
    ]


def _socket(conversation_id: int, client: Client | None, query: str = "") -> WebsocketCommunicator:
    path = f"/ws/chat/{conversation_id}/" + (f"?{query}" if query else "")
    headers = _cookie(client) if client is not None else [(b"origin", b"http://testserver")]
    return WebsocketCommunicator(application, path, headers=headers)


def _customer_client(customer: Customer) -> Client:
    client = storefront_client(customer)
    return client


async def _connect(socket: WebsocketCommunicator) -> None:
    connected, code = await socket.connect()
    assert connected, code


def test_customer_and_guide_chat_both_ways(merchant: Merchant) -> None:
    customer = make_customer(merchant, name="Mei")
    guide = make_staff(merchant, Role.SHOPPING_GUIDE)
    with merchant_context(merchant):
        conversation = services.direct_conversation(customer, guide)
    customer_http, guide_http = _customer_client(customer), login(guide)

    async def talk() -> None:
        mine = _socket(conversation.pk, customer_http)
        theirs = _socket(conversation.pk, guide_http, "as=staff")
        await _connect(mine)
        await _connect(theirs)
        await mine.send_json_to({"type": "post", "text": "Is the latte on sale?"})
        for socket in (mine, theirs):
            event = await socket.receive_json_from(timeout=5)
            if event["type"] == "posted":
                event = await socket.receive_json_from(timeout=5)
            assert event["type"] == "message"
            assert event["message"]["text"] == "Is the latte on sale?"
            assert event["message"]["sender"] == {
                "kind": "customer",
                "id": customer.pk,
                "name": "Mei",
            }
        await theirs.send_json_to({"type": "post", "text": "Yes, 20% off today"})
        got_mine = [await mine.receive_json_from(timeout=5)]
        assert got_mine[0]["message"]["sender"]["kind"] == "staff"
        assert got_mine[0]["message"]["text"] == "Yes, 20% off today"
        echoed = [await theirs.receive_json_from(timeout=5) for _ in range(2)]
        assert sorted(e["type"] for e in echoed) == ["message", "posted"]
        await theirs.send_json_to({"type": "post", "text": ""})
        error = await theirs.receive_json_from(timeout=5)
        assert error["type"] == "error"
        assert error["fields"] == {"text": "Write a message or choose a card."}
        await mine.send_json_to({"type": "read", "up_to": got_mine[0]["message"]["id"]})
        await mine.disconnect()
        await theirs.disconnect()

    async_to_sync(talk)()
    assert list(Message.unscoped.values_list("text", flat=True)) == [
        "Is the latte on sale?",
        "Yes, 20% off today",
    ]


def test_strangers_are_rejected(merchant: Merchant, other_merchant: Merchant) -> None:
    customer = make_customer(merchant)
    guide = make_staff(merchant, Role.SHOPPING_GUIDE)
    other_guide = make_staff(merchant, Role.SHOPPING_GUIDE)
    foreign_owner = make_staff(other_merchant, Role.OWNER)
    with merchant_context(merchant):
        conversation = services.direct_conversation(customer, guide)
    strangers = [
        None,
        _customer_client(make_customer(merchant)),
        login(other_guide),
        login(foreign_owner),
    ]

    own = _customer_client(customer)

    async def knock() -> list[Any]:
        codes = []
        for client in strangers:
            socket = _socket(conversation.pk, client)
            connected, code = await socket.connect()
            codes.append((connected, code))
            await socket.disconnect()
        missing = _socket(999999, own)
        codes.append(await missing.connect())
        return codes

    assert async_to_sync(knock)() == [(False, 4403)] * 5


def test_a_group_message_reaches_other_members(merchant: Merchant) -> None:
    owner = actor_for(merchant, Role.OWNER)
    group = make_group(owner)
    alice, bob = make_customer(merchant, name="Alice"), make_customer(merchant, name="Bob")
    outsider = make_customer(merchant)
    with merchant_context(merchant):
        services.join_group(alice, group)
        services.join_group(bob, group)
        conversation = services.group_conversation(group)

    clients = [_customer_client(c) for c in (alice, bob, outsider)]

    async def chat() -> None:
        a, b = _socket(conversation.pk, clients[0]), _socket(conversation.pk, clients[1])
        await _connect(a)
        await _connect(b)
        out = _socket(conversation.pk, clients[2])
        assert (await out.connect()) == (False, 4403)
        await a.send_json_to({"type": "post", "text": "anyone for coffee?"})
        event = await b.receive_json_from(timeout=5)
        assert event["message"]["text"] == "anyone for coffee?"
        assert event["message"]["sender"]["name"] == "Alice"
        await a.disconnect()
        await b.disconnect()

    async_to_sync(chat)()


def test_http_posts_are_pushed_to_sockets(merchant: Merchant) -> None:
    """A message written by a service (not the socket) reaches the socket after commit."""
    owner = actor_for(merchant, Role.OWNER)
    group = make_group(owner)
    member = make_customer(merchant)
    with merchant_context(merchant):
        services.join_group(member, group)
        conversation = services.group_conversation(group)
    staff: Membership = owner.membership  # type: ignore[assignment]

    client = _customer_client(member)

    async def listen() -> None:
        socket = _socket(conversation.pk, client)
        await _connect(socket)
        from channels.db import database_sync_to_async

        def post() -> None:
            with merchant_context(merchant):
                services.post_to_groups(owner, [group], text="Flash sale at 3pm")

        await database_sync_to_async(post)()
        event = await socket.receive_json_from(timeout=5)
        assert event["message"]["text"] == "Flash sale at 3pm"
        assert event["message"]["sender"]["id"] == staff.pk
        await socket.disconnect()

    async_to_sync(listen)()


@pytest.mark.skipif(not os.environ.get("SIYU_REDIS_URL"), reason="needs SIYU_REDIS_URL (Redis)")
def test_the_redis_layer_carries_messages(settings: Any) -> None:
    from channels.layers import channel_layers, get_channel_layer

    assert "Redis" in settings.CHANNEL_LAYERS["default"]["BACKEND"]
    channel_layers.backends.clear()

    async def roundtrip() -> dict[str, Any]:
        layer = get_channel_layer()
        name = await layer.new_channel()
        await layer.group_add("chat.test", name)
        await layer.group_send("chat.test", {"type": "chat.message", "message": {"id": 1}})
        received = await layer.receive(name)
        await layer.group_discard("chat.test", name)
        return received

    assert async_to_sync(roundtrip)() == {"type": "chat.message", "message": {"id": 1}}
