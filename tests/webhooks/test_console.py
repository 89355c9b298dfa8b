"""Console pages of webhooks: endpoints, secrets shown once, tests, the delivery log, replay."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from siyu.core import events
from siyu.core.models import AuditEntry
from siyu.core.permissions import Role
from siyu.core.testing import staff_client
from siyu.webhooks.models import WebhookDelivery, WebhookEndpoint
from siyu.webhooks.testing import Reply, endpoint_for, make_endpoint

from .conftest import ORDER_PAID, ORDER_REFUNDED
from .test_delivery import emit_and_dispatch

pytestmark = pytest.mark.usefixtures("test_events")


def url(name, *args):
    return reverse(f"webhooks:{name}", args=args)


@pytest.fixture
def owner(merchant):
    client = staff_client(merchant, Role.OWNER)
    client.cookies["siyu_language"] = "en"
    return client


def page(response):
    return response.content.decode()


def test_list_shows_the_merchants_endpoints_with_success_rates(
    owner, merchant, other_merchant, receiver_factory, django_capture_on_commit_callbacks
):
    good = receiver_factory()
    bad = receiver_factory([Reply(500)])
    endpoint_for(good, merchant, description="ERP sync")
    endpoint_for(bad, merchant, event_types=[ORDER_PAID])
    make_endpoint(other_merchant, url="https://rival.example.com/hook")
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)
    WebhookDelivery.unscoped.filter(status="pending").update(status="failed")

    response = owner.get(url("endpoint_list"))
    assert response.status_code == 200
    html = page(response)
    assert "ERP sync" in html
    assert good.url() in html
    assert "rival.example.com" not in html
    assert "100%" in html  # the good one: 1 of 1
    assert "0%" in html  # the failing one: 0 of 1
    assert "All events" in html
    assert f"<code>{ORDER_PAID}</code>" in html
    assert 'aria-current="page"' in html  # the navigation highlights Webhooks


def test_create_shows_the_secret_once(owner, merchant):
    response = owner.post(
        url("endpoint_create"),
        {
            "url": "https://erp.example.com/siyu",
            "description": "ERP",
            "event_types": [ORDER_PAID],
            "is_active": "on",
        },
    )
    endpoint = WebhookEndpoint.unscoped.get()
    assert response.status_code == 302
    assert response["Location"] == url("endpoint_detail", endpoint.pk)
    assert endpoint.event_types == [ORDER_PAID]
    assert endpoint.is_active

    first = page(owner.get(response["Location"]))
    assert endpoint.secret in first
    assert 'data-copy="webhook-secret"' in first
    second = page(owner.get(response["Location"]))
    assert endpoint.secret not in second


def test_create_with_all_events(owner):
    owner.post(url("endpoint_create"), {"url": "https://erp.example.com/x", "all_events": "on"})
    assert WebhookEndpoint.unscoped.get().event_types == ["*"]


def test_create_with_a_bad_url_shows_the_reason_and_writes_nothing(owner):
    response = owner.post(
        url("endpoint_create"), {"url": "ftp://erp.example.com/x", "event_types": [ORDER_PAID]}
    )
    assert response.status_code == 422
    assert "Only http:// and https:// URLs can receive webhooks." in page(response)
    assert WebhookEndpoint.unscoped.count() == 0


def test_create_without_events_is_refused(owner):
    response = owner.post(url("endpoint_create"), {"url": "https://erp.example.com/x"})
    assert response.status_code == 422
    assert "Choose at least one event" in page(response)
    assert WebhookEndpoint.unscoped.count() == 0


def test_private_target_is_refused_on_the_form_when_not_allowed(owner, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    response = owner.post(
        url("endpoint_create"), {"url": "http://10.0.0.8/hook", "all_events": "on"}
    )
    assert response.status_code == 422
    assert "private" in page(response)
    assert WebhookEndpoint.unscoped.count() == 0


def test_the_form_lists_every_event_type_registered_now_grouped_by_area(owner):
    events.register_event_type("test.order.shipped", "Order shipped")
    try:
        html = page(owner.get(url("endpoint_create")))
    finally:
        events.EVENT_TYPES.pop("test.order.shipped")
    for name in (ORDER_PAID, ORDER_REFUNDED, "test.order.shipped"):
        assert f'value="{name}"' in html
    assert "<h3>Test</h3>" in html
    assert 'value="webhooks.ping"' not in html  # test events are sent on demand, not subscribed


def test_labels_are_translated(merchant):
    client = staff_client(merchant, Role.OWNER)
    client.cookies["siyu_language"] = "zh-hans"
    html = page(client.get(url("endpoint_create")))
    assert "添加端点" in html
    assert "Webhook 端点已停用" in html  # the label of webhooks.endpoint.disabled


def test_edit_keeps_what_is_not_changed(owner, merchant):
    endpoint = make_endpoint(merchant, url="https://a.example.com/h", event_types=[ORDER_PAID])
    response = owner.get(url("endpoint_edit", endpoint.endpoint.pk))
    assert 'value="https://a.example.com/h"' in page(response)
    response = owner.post(
        url("endpoint_edit", endpoint.endpoint.pk),
        {"url": "https://b.example.com/h", "event_types": [ORDER_PAID, ORDER_REFUNDED]},
    )
    assert response.status_code == 302
    changed = WebhookEndpoint.unscoped.get()
    assert changed.url == "https://b.example.com/h"
    assert changed.event_types == [ORDER_PAID, ORDER_REFUNDED]
    assert changed.secret == endpoint.secret
    assert changed.is_active


def test_detail_shows_the_chart_and_recent_deliveries(
    owner, merchant, receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver, merchant)
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)
    html = page(owner.get(url("endpoint_detail", endpoint.pk)))
    assert "vendor/echarts.min.js" in html
    assert 'data-chart="webhook-chart-data"' in html
    start = html.index('<script id="webhook-chart-data" type="application/json">')
    chart = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    assert chart["series"][0]["data"][-1] == 1  # today: one succeeded
    assert chart["series"][1]["data"][-1] == 0
    assert len(chart["xAxis"]["data"]) == 14
    assert ORDER_PAID in html
    assert endpoint.secret not in html


def test_send_test_event_button(owner, merchant, receiver, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(receiver, merchant)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(url("endpoint_ping", endpoint.pk))
    assert response.status_code == 302
    [request] = receiver.received
    assert json.loads(request.body)["type"] == "webhooks.ping"
    assert receiver.verified(request)
    assert "webhooks.ping" in page(owner.get(url("endpoint_detail", endpoint.pk)))


def test_disable_enable_rotate_delete(owner, merchant):
    issued = make_endpoint(merchant)
    pk = issued.endpoint.pk
    owner.post(url("endpoint_toggle", pk), {"active": "0"})
    endpoint = WebhookEndpoint.unscoped.get(pk=pk)
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, "manual")
    assert "no events are sent to it" in page(owner.get(url("endpoint_detail", pk)))
    owner.post(url("endpoint_toggle", pk), {"active": "1"})
    assert WebhookEndpoint.unscoped.get(pk=pk).is_active

    owner.post(url("endpoint_rotate", pk), {"grace_hours": "24"})
    endpoint = WebhookEndpoint.unscoped.get(pk=pk)
    assert endpoint.secret != issued.secret
    assert endpoint.previous_secret == issued.secret
    html = page(owner.get(url("endpoint_detail", pk)))
    assert endpoint.secret in html
    assert "both the old and the new secret" in html
    assert endpoint.secret not in page(owner.get(url("endpoint_detail", pk)))

    response = owner.post(url("endpoint_delete", pk))
    assert response["Location"] == url("endpoint_list")
    assert not WebhookEndpoint.unscoped.filter(pk=pk).exists()
    actions = set(AuditEntry.unscoped.filter(object_id=str(pk)).values_list("action", flat=True))
    assert {
        "webhooks.endpoint.create",
        "webhooks.endpoint.disable",
        "webhooks.endpoint.enable",
        "webhooks.endpoint.rotate_secret",
        "webhooks.endpoint.delete",
    } <= actions


def test_endpoint_disabled_for_failures_says_why(owner, merchant):
    endpoint = make_endpoint(merchant).endpoint
    WebhookEndpoint.unscoped.filter(pk=endpoint.pk).update(
        is_active=False, disabled_reason="failing", consecutive_failures=20
    )
    html = page(owner.get(url("endpoint_detail", endpoint.pk)))
    assert "Siyu disabled this endpoint" in html
    assert "its last 20 deliveries failed" in html
    assert "Disabled: failing" in page(owner.get(url("endpoint_list")))


def test_delivery_log_filters_and_attempt_details(
    owner, merchant, receiver_factory, django_capture_on_commit_callbacks
):
    receiver = receiver_factory([Reply(500, b"database is down"), Reply(200)])
    endpoint = endpoint_for(receiver, merchant)
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks, ORDER_REFUNDED)
    paid = WebhookDelivery.unscoped.get(event_type=ORDER_PAID)

    html = page(owner.get(url("delivery_list")))
    assert ORDER_PAID in html
    assert ORDER_REFUNDED in html
    html = page(owner.get(url("delivery_list"), {"status": "pending"}))
    assert url("delivery_detail", paid.pk) in html
    assert ORDER_REFUNDED not in html.split("<tbody>")[1]
    html = page(owner.get(url("delivery_list"), {"event_type": ORDER_REFUNDED}))
    assert url("delivery_detail", paid.pk) not in html
    html = page(owner.get(url("delivery_list"), {"endpoint": endpoint.pk, "since": "2000-01-01"}))
    assert url("delivery_detail", paid.pk) in html
    html = page(owner.get(url("delivery_list"), {"until": "2000-01-01"}))
    assert "No deliveries yet." in html

    detail = page(owner.get(url("delivery_detail", paid.pk)))
    assert "Attempt 1" in detail
    assert "HTTP 500" in detail
    assert "database is down" in detail
    assert "Siyu-Signature: t=" in detail
    assert "User-Agent: Siyu-Webhooks/1" in detail
    assert " ms" in detail
    assert "next try in" in detail


def test_replay_button_sends_again_as_a_new_delivery(
    owner, merchant, receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver, merchant)
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)
    original = WebhookDelivery.unscoped.get(endpoint=endpoint)
    assert 'action="{}"'.format(url("delivery_replay", original.pk)) in page(
        owner.get(url("delivery_detail", original.pk))
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(url("delivery_replay", original.pk))
    replay = WebhookDelivery.unscoped.get(replay_of=original)
    assert response["Location"] == url("delivery_detail", replay.pk)
    assert len(receiver.received) == 2
    assert receiver.received[0].body == receiver.received[1].body
    assert replay.status == WebhookDelivery.Status.SUCCEEDED
    html = page(owner.get(response["Location"]))
    assert f"#{original.pk}" in html  # "Replay of"


def test_finance_may_look_but_not_change(merchant, receiver, django_capture_on_commit_callbacks):
    finance = staff_client(merchant, Role.FINANCE)
    endpoint = endpoint_for(receiver, merchant)
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.unscoped.get()
    for name, args in [
        ("endpoint_list", ()),
        ("endpoint_detail", (endpoint.pk,)),
        ("delivery_list", ()),
        ("delivery_detail", (delivery.pk,)),
    ]:
        response = finance.get(url(name, *args))
        assert response.status_code == 200, name
        assert url("endpoint_create") not in page(response)
        assert url("delivery_replay", delivery.pk) not in page(response)
    assert finance.get(url("endpoint_create")).status_code == 403
    assert finance.get(url("endpoint_edit", endpoint.pk)).status_code == 403
    for name, pk in [
        ("endpoint_ping", endpoint.pk),
        ("endpoint_toggle", endpoint.pk),
        ("endpoint_rotate", endpoint.pk),
        ("endpoint_delete", endpoint.pk),
        ("delivery_replay", delivery.pk),
    ]:
        assert finance.post(url(name, pk)).status_code == 403, name
    assert WebhookDelivery.unscoped.count() == 1
    assert WebhookEndpoint.unscoped.get().is_active
    assert len(receiver.received) == 1


def test_roles_without_webhooks_are_refused(merchant):
    guide = staff_client(merchant, Role.SHOPPING_GUIDE)
    assert guide.get(url("endpoint_list")).status_code == 403
    assert guide.get(url("delivery_list")).status_code == 403


def test_anonymous_is_sent_to_login():
    from django.test import Client

    response = Client().get(url("endpoint_list"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_another_merchants_endpoint_and_delivery_are_404(owner, other_merchant, receiver):
    theirs = endpoint_for(receiver, other_merchant)
    delivery = WebhookDelivery.unscoped.create(
        merchant=other_merchant, endpoint=theirs, event_type=ORDER_PAID, body="{}"
    )
    gets = [
        url("endpoint_detail", theirs.pk),
        url("endpoint_edit", theirs.pk),
        url("delivery_detail", delivery.pk),
    ]
    posts = [
        url("endpoint_edit", theirs.pk),
        url("endpoint_ping", theirs.pk),
        url("endpoint_toggle", theirs.pk),
        url("endpoint_rotate", theirs.pk),
        url("endpoint_delete", theirs.pk),
        url("delivery_replay", delivery.pk),
    ]
    assert [owner.get(u).status_code for u in gets] == [404] * len(gets)
    assert [owner.post(u, {"active": "0"}).status_code for u in posts] == [404] * len(posts)
    theirs.refresh_from_db()
    assert theirs.is_active
    assert WebhookDelivery.unscoped.count() == 1
    assert receiver.received == []
    html = page(owner.get(url("delivery_list"), {"endpoint": theirs.pk}))
    assert url("delivery_detail", delivery.pk) not in html
