"""Staff API of customers: list with search, filters and pages; detail; changes; roles; tenancy."""

from __future__ import annotations

import json

import pytest

from siyu.core.models import AuditEntry
from siyu.core.permissions import Role
from siyu.core.testing import api_client, staff_client
from siyu.customers import services
from siyu.customers.testing import make_address, make_customer

BASE = "/api/v1/customers"


def patch(client, url, body):
    return client.patch(url, data=json.dumps(body), content_type="application/json")


def test_list_with_search_filters_and_pages(merchant, owner):
    for n in range(5):
        make_customer(merchant, f"+861390000000{n}", name=f"客户{n}", join_channel="guide")
    blocked = make_customer(merchant, "+8613700000009", name="周子航")
    services.block_customer(owner, blocked)
    client = api_client(merchant)
    body = client.get(BASE, {"limit": 2}).json()
    assert body["count"] == 6
    assert body["next_offset"] == 2
    assert len(body["items"]) == 2
    assert body["items"][0]["name"] == "周子航"  # newest first
    assert client.get(BASE, {"q": "13900000003"}).json()["items"][0]["name"] == "客户3"
    assert client.get(BASE, {"q": "子航"}).json()["count"] == 1
    assert client.get(BASE, {"status": "blocked"}).json()["count"] == 1
    assert client.get(BASE, {"join_channel": "guide"}).json()["count"] == 5
    first = client.get(BASE, {"q": "+86 139 0000 0001"}).json()["items"][0]
    assert set(first) == {
        "id",
        "phone",
        "name",
        "status",
        "join_channel",
        "created_at",
        "last_login_at",
        # the CRM's profile and statistics (test_crm_api)
        "gender",
        "birthday",
        "city",
        "home_store_id",
        "owner_guide_id",
        "order_count",
        "total_spent",
        "average_order_value",
        "first_order_at",
        "last_order_at",
        "rfm_recency",
        "rfm_frequency",
        "rfm_monetary",
    }
    assert first["phone"] == "+8613900000001"


@pytest.mark.parametrize(
    ("role", "phone"),
    [
        (Role.OWNER, "+8613812345678"),
        (Role.OPERATOR, "+8613812345678"),
        (Role.STORE_MANAGER, "+86138****5678"),
        (Role.FINANCE, "+86138****5678"),
        # (a shopping guide's key sees only the guide's own customers: test_crm_api)
    ],
)
def test_phones_are_masked_for_roles_without_customers_manage(merchant, customer, role, phone):
    make_address(customer, phone="+8613900000001")
    client = api_client(merchant, role)
    assert client.get(BASE).json()["items"][0]["phone"] == phone
    detail = client.get(f"{BASE}/{customer.pk}").json()
    assert detail["phone"] == phone
    full = role in (Role.OWNER, Role.OPERATOR)
    assert detail["addresses"][0]["phone"] == ("+8613900000001" if full else "+86139****0001")


def test_detail_has_the_addresses_default_first(merchant, customer):
    make_address(customer, district="静安区")
    second = make_address(customer, district="黄浦区", is_default=True)
    body = api_client(merchant).get(f"{BASE}/{customer.pk}").json()
    assert next(a["id"] for a in body["addresses"]) == second.pk
    assert body["addresses"][0]["is_default"] is True
    assert body["addresses"][0]["postal_code"] == "200040"


def test_a_bad_filter_is_422_naming_it(merchant):
    response = api_client(merchant).get(BASE, {"status": "deleted"})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"status"}


def test_patch_name_and_status(merchant, customer):
    client = api_client(merchant, Role.OPERATOR)
    response = patch(client, f"{BASE}/{customer.pk}", {"name": "小明", "status": "blocked"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "blocked"
    assert response.json()["name"] == "小明"
    customer.refresh_from_db()
    assert customer.is_blocked
    assert AuditEntry.unscoped.filter(action="customer.block").exists()


def test_bad_input_is_422_naming_the_field_and_changes_nothing(merchant, customer):
    client = api_client(merchant)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = patch(client, f"{BASE}/{customer.pk}", {"status": "deleted", "name": "小明"})
    assert response.status_code == 422
    assert response.json()["fields"] == {"status": "Choose active or blocked."}
    too_long = patch(client, f"{BASE}/{customer.pk}", {"name": "名" * 81})
    assert too_long.status_code == 422
    assert "name" in too_long.json()["fields"]
    customer.refresh_from_db()
    assert customer.name == "王小明"
    assert customer.status == "active"


@pytest.mark.parametrize("role", [Role.STORE_MANAGER, Role.SHOPPING_GUIDE, Role.FINANCE])
def test_patch_needs_customers_manage(merchant, customer, role):
    response = patch(api_client(merchant, role), f"{BASE}/{customer.pk}", {"status": "blocked"})
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    customer.refresh_from_db()
    assert not customer.is_blocked


def test_another_merchants_customer_is_404(merchant, other_merchant):
    theirs = make_customer(other_merchant, "+8613812345678")
    client = api_client(merchant)
    assert client.get(f"{BASE}/{theirs.pk}").status_code == 404
    assert patch(client, f"{BASE}/{theirs.pk}", {"status": "blocked"}).status_code == 404
    assert client.get(BASE).json()["count"] == 0


def test_a_staff_session_works_with_csrf(merchant, customer):
    client = staff_client(merchant)
    assert client.get(f"{BASE}/{customer.pk}").status_code == 200


def test_anonymous_is_401(db):
    from django.test import Client

    response = Client().get(BASE)
    assert response.status_code == 401
