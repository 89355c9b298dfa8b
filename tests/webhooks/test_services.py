"""Services of webhooks: rules, audit, idempotent toggles; the demo seeder; the chart."""

from __future__ import annotations

import json
import random
from datetime import date

import pytest

from siyu.core.actors import Actor
from siyu.core.demo import DemoContext
from siyu.core.errors import Forbidden, InvalidInput, NotFound
from siyu.core.models import AuditEntry
from siyu.core.permissions import Role
from siyu.core.testing import actor_for
from siyu.webhooks import charts, demo, services
from siyu.webhooks.models import WebhookDelivery, WebhookEndpoint
from siyu.webhooks.selectors import DayCount, event_areas
from siyu.webhooks.testing import make_endpoint

from .conftest import ORDER_PAID, ORDER_REFUNDED

pytestmark = pytest.mark.usefixtures("test_events")


def test_only_managers_may_change_endpoints(merchant):
    finance = actor_for(merchant, Role.FINANCE)
    endpoint = make_endpoint(merchant).endpoint
    calls = [
        lambda: services.create_endpoint(finance, url="https://x.example.com", event_types=["*"]),
        lambda: services.update_endpoint(finance, endpoint.pk, description="x"),
        lambda: services.set_endpoint_active(finance, endpoint.pk, False),
        lambda: services.rotate_secret(finance, endpoint.pk),
        lambda: services.delete_endpoint(finance, endpoint.pk),
        lambda: services.send_test_event(finance, endpoint.pk),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            call()
    assert WebhookEndpoint.unscoped.get().is_active


def test_update_validates_everything_before_writing(merchant):
    actor = actor_for(merchant)
    endpoint = make_endpoint(merchant, url="https://a.example.com/h").endpoint
    with pytest.raises(InvalidInput) as caught:
        services.update_endpoint(
            actor, endpoint.pk, url="gopher://x", event_types=["nope"], description="d" * 201
        )
    assert set(caught.value.fields) == {"url", "event_types", "description"}
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.event_types, endpoint.description) == (
        "https://a.example.com/h",
        ["*"],
        "",
    )


def test_another_merchants_endpoint_is_not_found(merchant, other_merchant):
    theirs = make_endpoint(other_merchant).endpoint
    actor = actor_for(merchant)
    for call in (
        lambda: services.update_endpoint(actor, theirs.pk, description="mine"),
        lambda: services.set_endpoint_active(actor, theirs.pk, False),
        lambda: services.rotate_secret(actor, theirs.pk),
        lambda: services.delete_endpoint(actor, theirs.pk),
        lambda: services.send_test_event(actor, theirs.pk),
    ):
        with pytest.raises(NotFound):
            call()
    theirs_delivery = WebhookDelivery.unscoped.create(
        merchant=other_merchant, endpoint=theirs, event_type=ORDER_PAID, body="{}"
    )
    with pytest.raises(NotFound):
        services.replay_delivery(actor, theirs_delivery.pk)


def test_toggling_twice_is_harmless_and_enabling_resets_the_streak(merchant):
    actor = actor_for(merchant)
    endpoint = make_endpoint(merchant).endpoint
    services.set_endpoint_active(actor, endpoint.pk, False)
    services.set_endpoint_active(actor, endpoint.pk, False)
    assert AuditEntry.unscoped.filter(action="webhooks.endpoint.disable").count() == 1
    WebhookEndpoint.unscoped.filter(pk=endpoint.pk).update(
        consecutive_failures=20, disabled_reason="failing"
    )
    enabled = services.set_endpoint_active(actor, endpoint.pk, True)
    assert (enabled.is_active, enabled.consecutive_failures, enabled.disabled_reason) == (
        True,
        0,
        "",
    )


def test_the_secret_never_reaches_the_audit_log(merchant):
    actor = actor_for(merchant)
    issued = make_endpoint(merchant)
    services.update_endpoint(actor, issued.endpoint.pk, description="ERP")
    rotated = services.rotate_secret(actor, issued.endpoint.pk, grace_hours=1)
    services.delete_endpoint(actor, issued.endpoint.pk)
    logged = json.dumps(list(AuditEntry.unscoped.values("before", "after")))
    assert issued.secret not in logged
    assert rotated.secret not in logged
    assert "whsec_" not in logged


@pytest.mark.parametrize("grace", [-1, 73, 1.5])
def test_rotation_grace_is_bounded(merchant, grace):
    endpoint = make_endpoint(merchant).endpoint
    with pytest.raises(InvalidInput) as caught:
        services.rotate_secret(actor_for(merchant), endpoint.pk, grace_hours=grace)
    assert set(caught.value.fields) == {"grace_hours"}


def test_event_areas_group_what_is_registered():
    areas = {a.area: a for a in event_areas()}
    assert [e.name for e in areas["test"].events] == [ORDER_PAID, ORDER_REFUNDED]
    assert "webhooks.ping" not in [e.name for a in areas.values() for e in a.events]
    assert "webhooks.endpoint.disabled" in [e.name for e in areas["webhooks"].events]


def test_deliveries_chart_option():
    days = [DayCount(date(2026, 3, 1), 5, 1), DayCount(date(2026, 3, 2), 0, 2)]
    option = charts.deliveries_per_day(days, succeeded="OK", failed="Failed")
    assert option["xAxis"]["data"] == ["03-01", "03-02"]
    assert [s["name"] for s in option["series"]] == ["OK", "Failed"]
    assert option["series"][0]["data"] == [5, 0]
    assert option["series"][1]["data"] == [1, 2]
    json.dumps(option)  # goes into json_script as is


def test_demo_seeds_one_inactive_endpoint_and_sends_nothing(merchant):
    advanced = []
    ctx = DemoContext(
        merchant=merchant,
        owner=Actor.system(merchant),
        rng=random.Random(1),
        advance=advanced.append,
    )
    demo.seed(ctx)
    [endpoint] = WebhookEndpoint.unscoped.filter(merchant=merchant)
    assert endpoint.url == demo.DEMO_URL
    assert not endpoint.is_active
    assert WebhookDelivery.unscoped.count() == 0
    assert sum(advanced) == demo.STEPS
