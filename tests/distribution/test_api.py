"""The staff API of distribution: settings, distributors, rules, ledger, withdrawals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from siyu.core import clock
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import api_client
from siyu.distribution import services
from siyu.distribution.testing import distributed_order, make_distributor, set_default_rate
from siyu.orders.testing import make_customer, make_shop

pytestmark = pytest.mark.django_db
BASE = "/api/v1/distribution"


def test_settings_are_read_and_changed_field_by_field(merchant):
    client = api_client(merchant)
    assert client.get(f"{BASE}/settings").json()["enrolment"] == "approval"
    ok = client.patch(
        f"{BASE}/settings",
        {"enrolment": "open", "protection_days": 15},
        content_type="application/json",
    )
    assert ok.status_code == 200, ok.content
    assert (ok.json()["enrolment"], ok.json()["protection_days"]) == ("open", 15)
    assert ok.json()["binding_policy"] == "first_link"
    bad = client.patch(
        f"{BASE}/settings", {"settlement_delay_days": -1}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert "settlement_delay_days" in bad.json()["fields"]
    on = client.patch(f"{BASE}/settings", {"second_level": True}, content_type="application/json")
    assert on.status_code == 422
    assert "second_level_rate_bp" in on.json()["fields"]
    fee = client.patch(f"{BASE}/settings", {"enrolment": "paid"}, content_type="application/json")
    assert fee.status_code == 422
    assert any("enrolment" in name for name in fee.json()["fields"])


def test_operators_decide_on_distributors_and_set_rules(merchant):
    client = api_client(merchant, Role.OPERATOR)
    customer = make_customer(merchant)
    with merchant_context(merchant):
        applicant = services.apply(customer)
    listed = client.get(f"{BASE}/distributors?status=applied").json()
    assert [d["id"] for d in listed["items"]] == [applicant.pk]
    decided = client.post(
        f"{BASE}/distributors/{applicant.pk}/decision",
        {"status": "approved"},
        content_type="application/json",
    )
    assert decided.json()["status"] == "approved"
    rule = client.put(
        f"{BASE}/rules",
        {"scope": "default", "kind": "percent", "rate_bp": 300},
        content_type="application/json",
    )
    assert rule.status_code == 200, rule.content
    missing = client.put(
        f"{BASE}/rules",
        {"scope": "product", "kind": "fixed", "fixed_fen": 100},
        content_type="application/json",
    )
    assert missing.status_code == 422
    assert "product_id" in missing.json()["fields"]
    assert [r["rate_bp"] for r in client.get(f"{BASE}/rules").json()] == [300]
    assert client.delete(f"{BASE}/rules/{rule.json()['id']}").status_code == 204
    assert client.get(f"{BASE}/rules").json() == []


def test_another_merchants_distributor_is_a_404(merchant, other_merchant):
    theirs = make_distributor(other_merchant)
    client = api_client(merchant)
    assert client.get(f"{BASE}/distributors/{theirs.pk}/balances").status_code == 404
    response = client.post(
        f"{BASE}/distributors/{theirs.pk}/decision",
        {"status": "suspended"},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_finance_pays_a_withdrawal_and_exports_it(merchant):
    set_default_rate(merchant, 1000)
    distributor = make_distributor(merchant)
    order = distributed_order(
        merchant, distributor, status="completed", shop=make_shop(merchant, price=20_000)
    )
    services.settle_merchant(merchant, now=clock.now() + timedelta(days=8))
    with merchant_context(merchant):
        w = services.request_withdrawal(distributor.pk, 2000)
    finance = api_client(merchant, Role.FINANCE)
    ledger = finance.get(f"{BASE}/ledger?order_id={order.pk}").json()
    assert sorted(e["kind"] for e in ledger["items"]) == ["pending", "settled"]
    balances = finance.get(f"{BASE}/distributors/{distributor.pk}/balances").json()
    assert (balances["settled"], balances["held"], balances["available"]) == (2000, 2000, 0)
    operator = api_client(merchant, Role.OPERATOR)
    assert operator.post(f"{BASE}/withdrawals/{w.pk}/approve").status_code == 403
    assert finance.post(f"{BASE}/withdrawals/{w.pk}/approve").json()["status"] == "approved"
    blank = finance.post(
        f"{BASE}/withdrawals/{w.pk}/pay", {"reference": ""}, content_type="application/json"
    )
    assert blank.status_code == 422
    assert "reference" in blank.json()["fields"]
    paid = finance.post(
        f"{BASE}/withdrawals/{w.pk}/pay", {"reference": "ICBC-7"}, content_type="application/json"
    )
    assert (paid.json()["status"], paid.json()["reference"]) == ("paid", "ICBC-7")
    csv_response = finance.get(f"{BASE}/withdrawals.csv?status=paid")
    assert csv_response["Content-Type"].startswith("text/csv")
    assert b"ICBC-7" in csv_response.content
