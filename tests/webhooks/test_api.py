"""The webhooks API: endpoints, secrets, delivery log, replay and test events."""

from __future__ import annotations

import json

import pytest

from siyu.core.models import AuditEntry, DomainEvent
from siyu.core.permissions import Role
from siyu.core.testing import api_client
from siyu.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from siyu.webhooks.testing import endpoint_for, make_endpoint

from .conftest import ORDER_PAID, ORDER_REFUNDED
from .test_delivery import emit_and_dispatch

pytestmark = pytest.mark.usefixtures("test_events")

BASE = "/api/v1/webhooks"


def post(client, path, data=None, **extra):
    return client.post(
        BASE + path, json.dumps(data or {}), content_type="application/json", **extra
    )


def patch(client, path, data):
    return client.patch(BASE + path, json.dumps(data), content_type="application/json")


@pytest.fixture
def owner(merchant):
    return api_client(merchant, Role.OWNER)


def test_create_answers_the_secret_once(owner, merchant):
    response = post(
        owner,
        "/endpoints",
        {
            "url": "https://erp.example.com/siyu",
            "event_types": [ORDER_PAID, ORDER_REFUNDED, ORDER_PAID],
            "description": "ERP",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["event_types"] == [ORDER_PAID, ORDER_REFUNDED]
    assert body["is_active"] is True
    assert body["success_rate_7d"] is None
    endpoint = WebhookEndpoint.unscoped.get(pk=body["id"])
    assert endpoint.secret == body["secret"]
    assert endpoint.merchant_id == merchant.pk

    # nowhere else
    for response in (
        owner.get(f"{BASE}/endpoints/{endpoint.pk}"),
        owner.get(f"{BASE}/endpoints"),
        patch(owner, f"/endpoints/{endpoint.pk}", {"description": "ERP sync"}),
    ):
        assert response.status_code == 200
        shown = response.json()
        for item in shown.get("items", [shown]):
            assert "secret" not in item
        assert body["secret"] not in response.content.decode()
    # and never in the audit log
    entries = AuditEntry.unscoped.filter(object_type="webhooks.webhookendpoint")
    assert entries.count() == 2
    assert all(body["secret"] not in json.dumps([e.before, e.after]) for e in entries)


def test_list_and_get(owner, merchant, other_merchant):
    mine = make_endpoint(merchant, url="https://a.example.com/h").endpoint
    make_endpoint(other_merchant, url="https://theirs.example.com/h")
    listed = owner.get(f"{BASE}/endpoints").json()
    assert listed["count"] == 1
    assert [e["url"] for e in listed["items"]] == ["https://a.example.com/h"]
    one = owner.get(f"{BASE}/endpoints/{mine.pk}").json()
    assert one["event_types"] == ["*"]
    assert one["consecutive_failures"] == 0


def test_patch_changes_only_what_is_sent(owner, merchant):
    endpoint = make_endpoint(merchant, url="https://a.example.com/h", description="keep").endpoint
    response = patch(owner, f"/endpoints/{endpoint.pk}", {"event_types": [ORDER_REFUNDED]})
    assert response.status_code == 200
    assert response.json()["event_types"] == [ORDER_REFUNDED]
    assert response.json()["description"] == "keep"
    assert response.json()["url"] == "https://a.example.com/h"

    response = patch(owner, f"/endpoints/{endpoint.pk}", {"is_active": False})
    assert response.json()["is_active"] is False
    assert response.json()["disabled_reason"] == "manual"
    response = patch(owner, f"/endpoints/{endpoint.pk}", {"is_active": True})
    assert response.json()["disabled_reason"] == ""


def test_delete(owner, merchant):
    endpoint = make_endpoint(merchant).endpoint
    assert owner.delete(f"{BASE}/endpoints/{endpoint.pk}").status_code == 204
    assert not WebhookEndpoint.unscoped.filter(pk=endpoint.pk).exists()
    assert owner.delete(f"{BASE}/endpoints/{endpoint.pk}").status_code == 404
    assert AuditEntry.unscoped.filter(
        action="webhooks.endpoint.delete", object_id=str(endpoint.pk)
    ).exists()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://erp.example.com/x", "http"),
        ("not-a-url", "http"),
        ("https://user:pass@erp.example.com/x", "password"),
        ("", "required"),
    ],
)
def test_bad_url_is_422_naming_url_and_nothing_is_written(owner, url, reason):
    response = post(
        owner,
        "/endpoints",
        {"url": url, "event_types": ["*"]},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid"
    assert set(body["fields"]) == {"url"}
    assert reason in body["fields"]["url"].lower()
    assert WebhookEndpoint.unscoped.count() == 0
    assert AuditEntry.unscoped.filter(action__startswith="webhooks.").count() == 0


def test_https_is_required_in_production(owner, settings):
    settings.PRODUCTION = True
    response = post(owner, "/endpoints", {"url": "http://erp.example.com/x", "event_types": ["*"]})
    assert response.status_code == 422
    assert "https" in response.json()["fields"]["url"]


def test_private_target_is_refused_when_not_allowed(owner, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    response = post(
        owner,
        "/endpoints",
        {"url": "http://127.0.0.1:8080/x", "event_types": ["*"]},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "private" in response.json()["fields"]["url"]
    assert WebhookEndpoint.unscoped.count() == 0


@pytest.mark.parametrize("types", [["no.such.event"], [], [ORDER_PAID, "orders.typo"]])
def test_unknown_or_missing_event_types_are_422(owner, types):
    response = post(owner, "/endpoints", {"url": "https://erp.example.com/x", "event_types": types})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"event_types"}
    assert WebhookEndpoint.unscoped.count() == 0


def test_several_problems_are_reported_together(owner):
    response = post(owner, "/endpoints", {"url": "ftp://x", "event_types": ["nope"]})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"url", "event_types"}


def test_star_means_every_event(owner):
    response = post(
        owner, "/endpoints", {"url": "https://erp.example.com/x", "event_types": ["*", ORDER_PAID]}
    )
    assert response.json()["event_types"] == ["*"]


def test_rotate_secret_answers_the_new_secret_and_the_old_one_stops_at_once(owner, merchant):
    issued = make_endpoint(merchant)
    response = post(owner, f"/endpoints/{issued.endpoint.pk}/rotate-secret")
    assert response.status_code == 200
    new = response.json()["secret"]
    assert new.startswith("whsec_")
    assert new != issued.secret
    assert response.json()["previous_secret_expires_at"] is None
    endpoint = WebhookEndpoint.unscoped.get(pk=issued.endpoint.pk)
    assert (endpoint.secret, endpoint.previous_secret) == (new, "")
    entry = AuditEntry.unscoped.get(action="webhooks.endpoint.rotate_secret")
    assert new not in json.dumps(entry.after)
    assert issued.secret not in json.dumps(entry.after)


def test_rotate_secret_with_a_grace_period(owner, merchant):
    issued = make_endpoint(merchant)
    response = post(owner, f"/endpoints/{issued.endpoint.pk}/rotate-secret", {"grace_hours": 24})
    assert response.status_code == 200
    assert response.json()["previous_secret_expires_at"] is not None
    endpoint = WebhookEndpoint.unscoped.get(pk=issued.endpoint.pk)
    assert endpoint.previous_secret == issued.secret
    response = post(owner, f"/endpoints/{issued.endpoint.pk}/rotate-secret", {"grace_hours": 99})
    assert response.status_code == 422
    assert "grace_hours" in response.json()["fields"]


def test_ping_sends_a_test_event_to_that_endpoint_only(
    owner, merchant, receiver_factory, django_capture_on_commit_callbacks
):
    target, bystander = receiver_factory(), receiver_factory()
    endpoint = endpoint_for(target, merchant, is_active=False)  # a test works before enabling
    endpoint_for(bystander, merchant, event_types=["*"])
    with django_capture_on_commit_callbacks(execute=True):
        response = post(owner, f"/endpoints/{endpoint.pk}/ping")
    assert response.status_code == 202
    assert response.json()["event_type"] == "webhooks.ping"
    [request] = target.received
    assert target.verified(request)
    body = json.loads(request.body)
    assert body["type"] == "webhooks.ping"
    assert body["data"]["endpoint_id"] == endpoint.pk
    assert bystander.received == []
    delivery = WebhookDelivery.unscoped.get(pk=response.json()["id"])
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert DomainEvent.unscoped.filter(event_type="webhooks.ping").count() == 1


def test_delivery_log_filters_detail_and_replay(
    owner, merchant, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver, merchant)
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks)
    emit_and_dispatch(merchant, django_capture_on_commit_callbacks, ORDER_REFUNDED)

    listed = owner.get(f"{BASE}/deliveries").json()
    assert listed["count"] == 2
    assert [d["event_type"] for d in listed["items"]] == [ORDER_REFUNDED, ORDER_PAID]
    only = owner.get(f"{BASE}/deliveries", {"event_type": ORDER_PAID}).json()
    assert [d["event_type"] for d in only["items"]] == [ORDER_PAID]
    assert owner.get(f"{BASE}/deliveries", {"status": "failed"}).json()["count"] == 0
    assert owner.get(f"{BASE}/deliveries", {"endpoint": endpoint.pk}).json()["count"] == 2
    assert owner.get(f"{BASE}/deliveries", {"endpoint": endpoint.pk + 1000}).json()["count"] == 0
    assert owner.get(f"{BASE}/deliveries", {"status": "lost"}).status_code == 422
    page = owner.get(f"{BASE}/deliveries", {"limit": 1}).json()
    assert (len(page["items"]), page["next_offset"]) == (1, 1)

    paid_id = only["items"][0]["id"]
    detail = owner.get(f"{BASE}/deliveries/{paid_id}").json()
    assert json.loads(detail["body"])["type"] == ORDER_PAID
    [attempt] = detail["attempt_log"]
    assert attempt["response_status"] == 200
    assert attempt["request_headers"]["Siyu-Event"] == ORDER_PAID
    assert attempt["duration_ms"] >= 0

    # a replay is sent now, same bytes, new signature (a later timestamp)
    from datetime import timedelta

    from django.utils import timezone

    later = timezone.now() + timedelta(minutes=2)
    monkeypatch.setattr("siyu.core.clock.now", lambda: later)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(owner, f"/deliveries/{paid_id}/replay")
    assert response.status_code == 202
    replay = response.json()
    assert replay["replay_of_id"] == paid_id
    assert replay["id"] != paid_id
    original_request = receiver.received[0]
    replay_request = receiver.received[-1]
    assert replay_request.body == original_request.body
    assert replay_request.header("Siyu-Signature") != original_request.header("Siyu-Signature")
    assert receiver.verified(replay_request, now=later.timestamp())
    assert replay_request.header("Siyu-Delivery") == str(replay["id"])
    replayed = WebhookDelivery.unscoped.get(pk=replay["id"])
    assert (replayed.status, replayed.max_attempts) == (WebhookDelivery.Status.SUCCEEDED, 1)


def test_another_merchants_rows_are_404_everywhere(owner, other_merchant, receiver):
    theirs = endpoint_for(receiver, other_merchant)
    delivery = WebhookDelivery.unscoped.create(
        merchant=other_merchant, endpoint=theirs, event_type=ORDER_PAID, body="{}"
    )
    WebhookAttempt.unscoped.create(
        merchant=other_merchant,
        delivery=delivery,
        number=1,
        attempted_at=delivery.created_at,
        url=theirs.url,
    )
    e, d = theirs.pk, delivery.pk
    responses = [
        owner.get(f"{BASE}/endpoints/{e}"),
        patch(owner, f"/endpoints/{e}", {"description": "mine now"}),
        owner.delete(f"{BASE}/endpoints/{e}"),
        post(owner, f"/endpoints/{e}/rotate-secret"),
        post(owner, f"/endpoints/{e}/ping"),
        owner.get(f"{BASE}/deliveries/{d}"),
        post(owner, f"/deliveries/{d}/replay"),
    ]
    assert [r.status_code for r in responses] == [404] * len(responses)
    assert owner.get(f"{BASE}/deliveries").json()["count"] == 0
    assert owner.get(f"{BASE}/deliveries", {"endpoint": e}).json()["count"] == 0
    theirs.refresh_from_db()
    assert theirs.description == ""
    assert WebhookDelivery.unscoped.count() == 1
    assert receiver.received == []


def test_finance_may_read_but_not_change(merchant):
    finance = api_client(merchant, Role.FINANCE)
    endpoint = make_endpoint(merchant).endpoint
    assert finance.get(f"{BASE}/endpoints").status_code == 200
    assert finance.get(f"{BASE}/deliveries").status_code == 200
    denied = [
        post(finance, "/endpoints", {"url": "https://erp.example.com/x", "event_types": ["*"]}),
        patch(finance, f"/endpoints/{endpoint.pk}", {"description": "x"}),
        finance.delete(f"{BASE}/endpoints/{endpoint.pk}"),
        post(finance, f"/endpoints/{endpoint.pk}/rotate-secret"),
        post(finance, f"/endpoints/{endpoint.pk}/ping"),
    ]
    assert [r.status_code for r in denied] == [403] * len(denied)
    assert WebhookEndpoint.unscoped.count() == 1


def test_roles_without_webhooks_see_nothing(merchant):
    guide = api_client(merchant, Role.SHOPPING_GUIDE)
    assert guide.get(f"{BASE}/endpoints").status_code == 403
    assert guide.get(f"{BASE}/deliveries").status_code == 403


def test_anonymous_is_401():
    from django.test import Client

    assert Client().get(f"{BASE}/endpoints").status_code == 401


def test_create_with_an_idempotency_key_takes_effect_once(owner):
    data = {"url": "https://erp.example.com/x", "event_types": ["*"]}
    first = post(owner, "/endpoints", data, headers={"Idempotency-Key": "create-erp-1"})
    second = post(owner, "/endpoints", data, headers={"Idempotency-Key": "create-erp-1"})
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert WebhookEndpoint.unscoped.count() == 1


def test_list_queries_do_not_grow_with_rows(
    owner, merchant, receiver, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    for n in range(3):
        endpoint_for(receiver, merchant, description=f"e{n}")
    for n in range(4):
        emit_and_dispatch(merchant, django_capture_on_commit_callbacks, payload={"n": n})
    # authentication and key bookkeeping, the count, the page
    with django_assert_max_num_queries(5):
        assert owner.get(f"{BASE}/endpoints").json()["count"] == 3
    with django_assert_max_num_queries(5):
        assert owner.get(f"{BASE}/deliveries").json()["count"] == 12
    delivery_id = WebhookDelivery.unscoped.order_by("id").first().pk
    with django_assert_max_num_queries(5):
        assert len(owner.get(f"{BASE}/deliveries/{delivery_id}").json()["attempt_log"]) == 1
