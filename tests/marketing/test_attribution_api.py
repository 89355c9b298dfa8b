"""Attribution (touches, checkout), the delivery funnel (read, clicked, ordered), the scheduled
job, and the API's refusals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from siyu.community.cards import Via, via_token
from siyu.community.models import Conversation, Message, ReadState
from siyu.core import clock
from siyu.core.models import Merchant
from siyu.core.outbox import dispatch_pending
from siyu.core.tenancy import merchant_context
from siyu.core.testing import api_client, make_staff
from siyu.customers.models import Customer
from siyu.customers.testing import storefront_client
from siyu.marketing import attribution, engine, selectors, tasks
from siyu.marketing.models import Broadcast, Delivery, Touch
from siyu.marketing.testing import make_broadcast, make_group_with
from siyu.orders.testing import make_customer, make_order, make_shop


@pytest.fixture
def guide(merchant: Merchant) -> Any:
    return make_staff(merchant, "shopping_guide")


@pytest.mark.django_db
def test_touch_within_the_window_attributes_the_order_to_the_group_and_guide(
    merchant: Merchant, guide: Any
) -> None:
    owner = make_staff(merchant, "shopping_guide")
    customer = make_customer(merchant)
    Customer.unscoped.filter(pk=customer.pk).update(owner_guide=owner)
    customer.refresh_from_db()
    group = make_group_with(merchant, [customer.pk], owner=guide)
    with merchant_context(merchant):
        attribution.record_touch(
            customer,
            Via("group", group_id=group.pk, message_id=41),
            at=clock.now() - timedelta(days=2),
        )
        result = attribution.checkout_attribution(customer, at=clock.now())
    assert result["channel"] == "group"
    assert (result["group_id"], result["guide_id"], result["message_id"]) == (
        group.pk,
        guide.pk,
        41,
    )
    order = make_order(merchant, customer=customer, attribution=result)
    assert (order.channel, order.group_id, order.guide_id) == ("group", group.pk, guide.pk)
    assert order.attribution["source"] == "card"


@pytest.mark.django_db
def test_outside_the_window_the_owner_guide_gets_the_order(merchant: Merchant, guide: Any) -> None:
    owner = make_staff(merchant, "shopping_guide")
    customer = make_customer(merchant)
    Customer.unscoped.filter(pk=customer.pk).update(owner_guide=owner)
    customer.refresh_from_db()
    with merchant_context(merchant):
        attribution.record_touch(
            customer, Via("guide", guide_id=guide.pk), at=clock.now() - timedelta(days=8)
        )
        result = attribution.checkout_attribution(customer, at=clock.now())
    assert result == {"channel": "storefront", "guide_id": owner.pk}


@pytest.mark.django_db
def test_foreign_ids_in_a_token_are_dropped(merchant: Merchant, other_merchant: Merchant) -> None:
    customer = make_customer(merchant)
    foreign_guide = make_staff(other_merchant, "shopping_guide")
    with merchant_context(merchant):
        touch = attribution.record_touch(customer, Via("guide", guide_id=foreign_guide.pk))
    assert touch.guide_id is None


@pytest.mark.django_db
def test_storefront_request_with_via_records_a_touch_and_checkout_uses_it(
    merchant: Merchant, guide: Any
) -> None:
    shop = make_shop(merchant)
    customer = make_customer(merchant)
    client = storefront_client(customer)
    token = via_token(Via("guide", guide_id=guide.pk))
    client.get(f"/s/{merchant.slug}/products/{shop.product.pk}/?via={token}")
    client.get(f"/s/{merchant.slug}/products/{shop.product.pk}/?via=forged-{token}")
    touches = Touch.unscoped.filter(customer=customer)
    assert [(t.source, t.guide_id) for t in touches] == [("chat", guide.pk)]
    response = client.post(
        f"/api/v1/storefront/{merchant.slug}/orders",
        {
            "fulfilment": "pickup",
            "store_id": shop.store.pk,
            "items": [{"sku_id": shop.sku.pk, "quantity": 1}],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    from siyu.orders.models import Order

    order = Order.unscoped.get(pk=response.json()["id"])
    assert (order.channel, order.guide_id) == ("guide", guide.pk)


@pytest.mark.django_db
def test_a_tap_before_login_is_recorded_after_it(merchant: Merchant, guide: Any) -> None:
    from django.test import Client

    from siyu.customers.testing import log_in

    shop = make_shop(merchant)
    customer = make_customer(merchant)
    client = Client()
    token = via_token(Via("guide", guide_id=guide.pk))
    client.get(f"/s/{merchant.slug}/products/{shop.product.pk}/?via={token}")
    assert not Touch.unscoped.exists()
    log_in(client, customer)
    client.get(f"/s/{merchant.slug}/")
    assert Touch.unscoped.get().guide_id == guide.pk


@pytest.mark.django_db
def test_funnel_counts_read_clicked_and_ordered(
    merchant: Merchant, django_capture_on_commit_callbacks: Any
) -> None:
    customers = [make_customer(merchant) for _ in range(3)]
    group = make_group_with(merchant, [c.pk for c in customers])
    broadcast = make_broadcast(merchant, audience="groups", group_ids=[group.pk])
    engine.send_broadcast(broadcast)
    reader, clicker = customers[0], customers[1]
    inbox = Conversation.unscoped.get(customer=reader, kind="inbox")
    message = Message.unscoped.get(conversation=inbox)
    ReadState.unscoped.create(
        merchant=merchant, conversation=inbox, customer=reader, last_read_message_id=message.pk
    )
    with merchant_context(merchant):
        attribution.record_touch(clicker, Via("broadcast", broadcast_id=broadcast.pk))
        attribution.record_touch(clicker, Via("broadcast", broadcast_id=broadcast.pk))
        result = attribution.checkout_attribution(clicker, at=clock.now())
    assert (result["channel"], result["campaign_id"]) == ("broadcast", broadcast.pk)
    order = make_order(merchant, customer=clicker, status="paid", attribution=result)
    dispatch_pending()
    dispatch_pending()  # a replay changes nothing

    with merchant_context(merchant):
        funnel = selectors.funnel(broadcast)
        rows = {d.customer_id: d for d in selectors.deliveries(broadcast)}
    assert (funnel.targeted, funnel.sent, funnel.read, funnel.clicked, funnel.ordered) == (
        3,
        3,
        1,
        1,
        1,
    )
    assert rows[reader.pk].was_read
    assert not rows[clicker.pk].was_read
    assert Delivery.unscoped.get(customer=clicker).order_id == order.pk


@pytest.mark.django_db
def test_scheduled_broadcast_is_sent_once_by_the_job(
    merchant: Merchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers = [make_customer(merchant) for _ in range(2)]
    group = make_group_with(merchant, [c.pk for c in customers])
    later = clock.now() + timedelta(hours=1)
    broadcast = make_broadcast(
        merchant, audience="groups", group_ids=[group.pk], scheduled_at=later
    )
    assert broadcast.status == Broadcast.Status.SCHEDULED
    assert tasks.send_due.call() == 0
    monkeypatch.setattr("siyu.core.clock.now", lambda: later + timedelta(seconds=30))
    assert tasks.send_due.call() == 1
    assert tasks.send_due.call() == 0
    assert Message.unscoped.filter(broadcast_id=broadcast.pk).count() == 2


@pytest.mark.django_db
def test_api_refusals_name_the_field(
    merchant: Merchant, other_merchant: Merchant, django_capture_on_commit_callbacks: Any
) -> None:
    client = api_client(merchant)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the messages are asserted in English
    foreign = make_group_with(other_merchant, [])
    base = {"name": "Launch", "text": "hello", "delivery": "inbox"}

    def post(**changes: Any) -> Any:
        return client.post(
            "/api/v1/marketing/broadcasts", {**base, **changes}, content_type="application/json"
        )

    assert post(audience="groups", group_ids=[foreign.pk]).json()["fields"] == {
        "group_ids": f"There is no active group {foreign.pk}."
    }
    assert "tag_id" in post(audience="tag", tag_id=999).json()["fields"]
    assert "segment_id" in post(audience="segment").json()["fields"]
    group = make_group_with(merchant, [])
    bad_delivery = post(audience="tag", tag_id=1, delivery="group_post")
    assert bad_delivery.status_code == 422
    assert "delivery" in bad_delivery.json()["fields"]
    past = post(audience="groups", group_ids=[group.pk], scheduled_at="2020-01-01T00:00:00Z")
    assert past.json()["fields"] == {"scheduled_at": "Choose a time in the future."}
    assert post(audience="groups", group_ids=[group.pk], text="").json()["fields"] == {
        "text": "Write a text or add a card."
    }
    created = post(audience="groups", group_ids=[group.pk])
    assert created.status_code == 201
    pk = created.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):  # the task runs after commit
        sent = client.post(f"/api/v1/marketing/broadcasts/{pk}/send")
    assert sent.status_code == 202
    assert Broadcast.unscoped.get(pk=pk).status == Broadcast.Status.SENT
    again = client.post(f"/api/v1/marketing/broadcasts/{pk}/send")
    assert again.status_code == 409
    stats = client.get(f"/api/v1/marketing/broadcasts/{pk}/stats").json()
    assert stats["targeted"] == 0
    policy = client.put(
        "/api/v1/marketing/policy",
        {"cap_count": 0, "cap_period": "day", "quiet_start": "21:00"},
        content_type="application/json",
    )
    assert policy.status_code == 422
    assert set(policy.json()["fields"]) == {"cap_count", "quiet_end"}
    assert client.get("/api/v1/marketing/broadcasts/999999").status_code == 404
    other = api_client(other_merchant)
    assert other.get(f"/api/v1/marketing/broadcasts/{pk}").status_code == 404
