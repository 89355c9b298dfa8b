"""The staff API of coupons: templates, status moves, issuing, listing; every refusal named."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from siyu.catalog.testing import make_category
from siyu.core import clock
from siyu.core.models import AuditEntry, Merchant
from siyu.core.permissions import Role
from siyu.core.testing import api_client
from siyu.customers.testing import make_customer
from siyu.promotions.testing import make_template

pytestmark = pytest.mark.django_db

URL = "/api/v1/promotions"


def send(client: Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.generic(
        method, f"{URL}{path}", data=json.dumps(body or {}), content_type="application/json"
    )


def test_create_start_issue_and_list(merchant: Merchant) -> None:
    client = api_client(merchant)
    coffee = make_category(merchant, "Coffee")
    made = send(
        client,
        "POST",
        "/templates",
        {
            "name": "满50减10",
            "kind": "threshold",
            "amount": 1000,
            "threshold": 5000,
            "total_quantity": 500,
            "per_customer_limit": 2,
            "scope": "categories",
            "scope_ids": [coffee.pk],
        },
    )
    assert made.status_code == 201, made.json()
    body = made.json()
    assert (body["status"], body["remaining"], body["valid_days"]) == ("draft", 500, 7)
    assert body["summary"] == "¥10.00 off on ¥50.00 or more"
    assert body["claim_path"] == f"/s/{merchant.slug}/coupons/{body['id']}/"
    pk = body["id"]
    started = send(client, "POST", f"/templates/{pk}/status", {"status": "active"})
    assert started.json()["status"] == "active"
    customer = make_customer(merchant)
    issued = send(client, "POST", f"/templates/{pk}/issue", {"customer_id": customer.pk})
    assert issued.status_code == 201, issued.json()
    assert issued.json()["source"] == "staff"
    listed = client.get(f"{URL}/coupons?customer_id={customer.pk}").json()
    assert listed["count"] == 1
    assert listed["items"][0]["template_id"] == pk
    templates = client.get(f"{URL}/templates?status=active").json()
    assert [t["id"] for t in templates["items"]] == [pk]
    assert templates["items"][0]["issued_count"] == 1
    assert AuditEntry.unscoped.filter(action="promotions.template.created").exists()
    assert AuditEntry.unscoped.filter(action="promotions.coupon.issued").exists()


def test_bad_templates_name_every_field(merchant: Merchant) -> None:
    client = api_client(merchant)
    answer = send(
        client,
        "POST",
        "/templates",
        {
            "name": " ",
            "kind": "percent",
            "percent_bp": 0,
            "cap": 0,
            "total_quantity": 0,
            "per_customer_limit": 100,
            "validity": "dates",
            "audience": "tag",
            "scope": "products",
            "scope_ids": [10**9],
        },
    )
    assert answer.status_code == 422
    assert set(answer.json()["fields"]) == {
        "name",
        "percent_bp",
        "cap",
        "total_quantity",
        "per_customer_limit",
        "valid_until",
        "audience_tag_id",
        "scope_ids",
    }
    threshold = send(
        client,
        "POST",
        "/templates",
        {"name": "x", "kind": "threshold", "amount": 100, "total_quantity": 5},
    )
    assert threshold.json()["fields"] == {
        "threshold": "A spend-and-save coupon needs a minimum spend."
    }


def test_started_templates_change_only_safe_fields(merchant: Merchant) -> None:
    client = api_client(merchant)
    template = make_template(merchant, quantity=10)
    customer = make_customer(merchant)
    send(client, "POST", f"/templates/{template.pk}/issue", {"customer_id": customer.pk})
    refused = send(client, "PATCH", f"/templates/{template.pk}", {"amount": 9900})
    assert refused.status_code == 422
    assert refused.json()["fields"] == {"amount": "Cannot change once the coupon has started."}
    too_few = send(client, "PATCH", f"/templates/{template.pk}", {"total_quantity": 0})
    assert set(too_few.json()["fields"]) == {"total_quantity"}
    grown = send(client, "PATCH", f"/templates/{template.pk}", {"total_quantity": 20})
    assert grown.status_code == 200, grown.json()
    assert (grown.json()["total_quantity"], grown.json()["remaining"]) == (20, 19)


def test_status_moves(merchant: Merchant) -> None:
    client = api_client(merchant)
    template = make_template(merchant)
    assert (
        send(client, "POST", f"/templates/{template.pk}/status", {"status": "paused"}).json()[
            "status"
        ]
        == "paused"
    )
    assert (
        send(client, "POST", f"/templates/{template.pk}/status", {"status": "ended"}).json()[
            "status"
        ]
        == "ended"
    )
    again = send(client, "POST", f"/templates/{template.pk}/status", {"status": "active"})
    assert again.status_code == 409
    assert again.json()["error"] == "bad_status"
    lapsed = make_template(
        merchant,
        status="draft",
        validity="dates",
        valid_from=clock.now() - timedelta(days=3),
        valid_until=clock.now() - timedelta(days=1),
    )
    late = send(client, "POST", f"/templates/{lapsed.pk}/status", {"status": "active"})
    assert late.status_code == 422
    assert set(late.json()["fields"]) == {"valid_until"}


def test_roles_and_tenancy(merchant: Merchant, other_merchant: Merchant) -> None:
    theirs = make_template(other_merchant)
    client = api_client(merchant)
    assert client.get(f"{URL}/templates/{theirs.pk}").status_code == 404
    guide = api_client(merchant, Role.SHOPPING_GUIDE)
    assert guide.get(f"{URL}/templates").status_code == 403
    finance = api_client(merchant, Role.FINANCE)
    assert finance.get(f"{URL}/templates").status_code == 200
    made = send(
        finance,
        "POST",
        "/templates",
        {"name": "x", "kind": "fixed", "amount": 1, "total_quantity": 1},
    )
    assert made.status_code == 403
