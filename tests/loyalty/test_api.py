"""The staff API /api/v1/loyalty: settings, tiers, a customer's points and adjustments,
results; bad fields named, permissions, another merchant's rows 404."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import api_client
from siyu.customers.testing import make_customer
from siyu.loyalty import services

pytestmark = pytest.mark.django_db
BASE = "/api/v1/loyalty"


def send(client: Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(client, method)(
        f"{BASE}{path}", data=json.dumps(body or {}), content_type="application/json"
    )


def test_settings_round_trip_and_bad_fields(merchant: Merchant) -> None:
    client = api_client(merchant)
    assert client.get(f"{BASE}/settings").json()["fen_per_point"] == 1
    body = {
        "enabled": True,
        "earn_per_yuan": 3,
        "fen_per_point": 2,
        "max_redeem_bp": 20_000,
        "expiry": "days",
        "expiry_days": 0,
        "sign_in_points": 1,
        "first_order_points": 0,
        "review_points": 0,
    }
    bad = send(client, "put", "/settings", body)
    assert bad.status_code == 422
    assert set(bad.json()["fields"]) == {"max_redeem_bp", "expiry_days"}
    good = send(client, "put", "/settings", {**body, "max_redeem_bp": 2_000, "expiry_days": 30})
    assert good.status_code == 200
    assert good.json()["earn_per_yuan"] == 3


def test_tiers_adjustments_and_results(merchant: Merchant, other_merchant: Merchant) -> None:
    client = api_client(merchant)
    silver = send(client, "post", "/tiers", {"name": "Silver", "basis": "spend", "threshold": 0})
    assert silver.status_code == 201
    gold = send(
        client,
        "post",
        "/tiers",
        {"name": "Gold", "basis": "points", "threshold": 500, "discount_bp": 300},
    )
    assert gold.json()["rank"] == 2
    bad = send(client, "post", "/tiers", {"name": "", "basis": "spend", "threshold": -1})
    assert set(bad.json()["fields"]) == {"name", "threshold"}
    moved = send(client, "post", f"/tiers/{gold.json()['id']}/move", {"direction": "down"})
    assert [t["name"] for t in moved.json()] == ["Gold", "Silver"]
    customer = make_customer(merchant)
    added = send(
        client,
        "post",
        f"/customers/{customer.pk}/adjust",
        {"points": 600, "reason": "welcome", "client_key": "k"},
    )
    assert added.status_code == 201, added.json()
    again = send(
        client,
        "post",
        f"/customers/{customer.pk}/adjust",
        {"points": 600, "reason": "welcome", "client_key": "k"},
    )
    assert again.json()["id"] == added.json()["id"]
    too_much = send(
        client, "post", f"/customers/{customer.pk}/adjust", {"points": -601, "reason": "x"}
    )
    assert too_much.status_code == 422
    assert too_much.json()["fields"] == {"points": "The customer has only 600 points."}
    points = client.get(f"{BASE}/customers/{customer.pk}").json()
    assert points["balance"] == 600
    entries = client.get(f"{BASE}/customers/{customer.pk}/entries").json()
    assert entries["count"] == 1
    assert entries["items"][0]["reason"] == "welcome"
    results = client.get(f"{BASE}/results").json()
    assert (results["issued"], results["outstanding"], results["liability"]) == (600, 600, 600)
    assert client.delete(f"{BASE}/tiers/{gold.json()['id']}").status_code == 204
    theirs = make_customer(other_merchant)
    assert client.get(f"{BASE}/customers/{theirs.pk}").status_code == 404
    finance = api_client(merchant, Role.FINANCE)
    assert finance.get(f"{BASE}/results").status_code == 200
    assert send(finance, "post", "/tiers", {"name": "X", "basis": "spend"}).status_code == 403
    with merchant_context(merchant):
        assert services.award(customer, 1, reason="r", reference="x") is not None
