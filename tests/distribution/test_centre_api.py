"""The distributor centre's customer API: balances that match the ledger through pay → refund →
settle → withdraw, withdrawals' bounds and keys, applying, and nothing of another's."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Q, Sum
from django.test import Client

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.outbox import dispatch_pending
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for
from siyu.customers.testing import storefront_client
from siyu.distribution import services
from siyu.distribution.models import CommissionEntry, Distributor, Withdrawal
from siyu.distribution.testing import distributed_order, make_distributor, set_default_rate
from siyu.orders import services as orders
from siyu.orders.models import OrderLine
from siyu.orders.testing import make_customer, make_shop

pytestmark = pytest.mark.django_db


def api(merchant: Any) -> str:
    return f"/api/v1/storefront/{merchant.slug}/distributor"


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def refund(order: Any, amount: int, reference: str) -> None:
    line = OrderLine.unscoped.filter(order=order).get()
    with merchant_context(order.merchant):
        orders.apply_refund(
            order, lines=[(line.pk, 0, amount)], amount=amount, restock=False, reference=reference
        )
    dispatch_pending()


def ledger_sums(distributor: Distributor) -> dict[str, int]:
    """The balances recomputed from the raw ledger and withdrawals, independently of the API."""
    entries = CommissionEntry.unscoped.filter(distributor=distributor)
    earned = entries.filter(kind__in=["pending", "reversed"]).aggregate(s=Sum("amount"))["s"] or 0
    settled = (
        entries.filter(Q(kind="settled") | Q(kind="reversed", from_settled=True)).aggregate(
            s=Sum("amount")
        )["s"]
        or 0
    )
    ws = Withdrawal.unscoped.filter(distributor=distributor)
    withdrawn = ws.filter(status="paid").aggregate(s=Sum("amount"))["s"] or 0
    held = ws.filter(status__in=["requested", "approved"]).aggregate(s=Sum("amount"))["s"] or 0
    return {
        "earned": earned,
        "pending": earned - settled,
        "settled": settled,
        "withdrawn": withdrawn,
        "held": held,
        "available": settled - withdrawn - held,
    }


def test_balances_follow_the_ledger_through_pay_refund_settle_and_withdraw(bound):
    set_default_rate(bound, 1000)  # 10 %
    seller = make_distributor(bound)
    client = storefront_client(seller.customer, HTTP_ACCEPT_LANGUAGE="en")
    shop = make_shop(bound, price=30_000)
    order = distributed_order(bound, seller, status="completed", shop=shop)
    me = client.get(api(bound)).json()
    assert me["status"] == "approved"
    assert me["balances"] == ledger_sums(seller)
    assert (me["balances"]["pending"], me["balances"]["available"]) == (3000, 0)
    refund(order, 10_000, "R1")  # a third back: a third of the commission reversed
    me = client.get(api(bound)).json()
    assert me["balances"] == ledger_sums(seller)
    assert me["balances"]["pending"] == 2000
    services.settle_merchant(bound, now=clock.now() + timedelta(days=8))
    me = client.get(api(bound)).json()
    assert me["balances"] == ledger_sums(seller)
    assert (me["balances"]["pending"], me["balances"]["available"]) == (0, 2000)
    made = post(client, f"{api(bound)}/withdrawals", {"amount": 1500, "client_key": "k1"})
    assert made.status_code == 201, made.json()
    again = post(client, f"{api(bound)}/withdrawals", {"amount": 1500, "client_key": "k1"})
    assert again.status_code == 201
    assert again.json()["id"] == made.json()["id"]
    me = client.get(api(bound)).json()
    assert me["balances"] == ledger_sums(seller)
    assert (me["balances"]["held"], me["balances"]["available"]) == (1500, 500)
    finance = actor_for(bound, Role.FINANCE)
    services.approve_withdrawal(finance, made.json()["id"])
    services.pay_withdrawal(finance, made.json()["id"], reference="ICBC-1")
    me = client.get(api(bound)).json()
    assert me["balances"] == ledger_sums(seller)
    assert (me["balances"]["withdrawn"], me["balances"]["held"]) == (1500, 0)
    listed = client.get(f"{api(bound)}/withdrawals").json()
    assert [(w["amount"], w["status"], w["reference"]) for w in listed["items"]] == [
        (1500, "paid", "ICBC-1")
    ]
    rows = client.get(f"{api(bound)}/orders").json()
    assert rows["count"] == 1
    item = rows["items"][0]
    assert (item["number"], item["commission"], item["settled"], item["refunded"]) == (
        order.number,
        2000,
        True,
        10_000,
    )
    assert "*" in item["customer"]


def test_withdrawals_below_the_minimum_or_above_what_is_available_are_422_on_amount(bound):
    set_default_rate(bound, 1000)
    seller = make_distributor(bound)
    distributed_order(bound, seller, status="completed", shop=make_shop(bound, price=50_000))
    services.settle_merchant(bound, now=clock.now() + timedelta(days=8))
    client = storefront_client(seller.customer, HTTP_ACCEPT_LANGUAGE="en")
    low = post(client, f"{api(bound)}/withdrawals", {"amount": 999})
    assert low.status_code == 422
    assert set(low.json()["fields"]) == {"amount"}
    assert "¥10.00" in low.json()["fields"]["amount"]
    high = post(client, f"{api(bound)}/withdrawals", {"amount": 5001})
    assert high.status_code == 422
    assert "¥50.00" in high.json()["fields"]["amount"]
    text = post(client, f"{api(bound)}/withdrawals", {"amount": "12.30"})
    assert text.status_code == 422
    assert "amount" in text.json()["fields"]
    assert not Withdrawal.unscoped.exists()
    reused = post(client, f"{api(bound)}/withdrawals", {"amount": 1000, "client_key": "x"})
    assert reused.status_code == 201
    other = post(client, f"{api(bound)}/withdrawals", {"amount": 2000, "client_key": "x"})
    assert other.status_code == 422
    assert set(other.json()["fields"]) == {"client_key"}
    assert Withdrawal.unscoped.count() == 1


def test_apply_under_approval_is_pending_until_staff_decide(bound):
    customer = make_customer(bound)
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")
    assert client.get(api(bound)).json()["status"] == "none"
    assert client.get(f"{api(bound)}/orders").status_code == 404
    bad = post(client, f"{api(bound)}/apply", {"invited_by_code": "NOPE"})
    assert bad.status_code == 422
    assert set(bad.json()["fields"]) == {"invited_by_code"}
    inviter = make_distributor(bound)
    applied = post(client, f"{api(bound)}/apply", {"invited_by_code": inviter.share_code.lower()})
    assert applied.status_code == 200
    assert (applied.json()["status"], applied.json()["share_code"]) == ("applied", "")
    assert post(client, f"{api(bound)}/apply", {}).json()["status"] == "applied"  # once
    assert client.get(f"{api(bound)}/withdrawals").status_code == 404
    row = Distributor.unscoped.get(customer=customer)
    services.decide(Actor.system(bound), row.pk, "rejected", reason="Incomplete profile")
    me = client.get(api(bound)).json()
    assert (me["status"], me["reason"]) == ("rejected", "Incomplete profile")
    again = post(client, f"{api(bound)}/apply", {})
    assert again.json()["status"] == "applied"
    services.decide(Actor.system(bound), row.pk, "approved")
    me = client.get(api(bound)).json()
    assert me["status"] == "approved"
    assert me["share_code"] == row.share_code
    team = storefront_client(inviter.customer).get(f"{api(bound)}/team").json()
    assert [t["status"] for t in team["items"]] == ["approved"]


def test_open_enrolment_approves_at_once(bound):
    with merchant_context(bound):
        services.update_settings(Actor.system(bound), {"enrolment": "open"})
    client = storefront_client(make_customer(bound))
    assert post(client, f"{api(bound)}/apply", {}).json()["status"] == "approved"


def test_another_distributors_withdrawal_and_another_merchants_product_are_404(
    other_merchant, bound
):
    set_default_rate(bound, 1000)
    mine, theirs = make_distributor(bound), make_distributor(bound)
    distributed_order(bound, theirs, status="completed", shop=make_shop(bound, price=50_000))
    services.settle_merchant(bound, now=clock.now() + timedelta(days=8))
    their_withdrawal = services.request_withdrawal(theirs.pk, 2000)
    client = storefront_client(mine.customer)
    assert client.get(f"{api(bound)}/withdrawals/{their_withdrawal.pk}").status_code == 404
    assert client.get(f"{api(bound)}/withdrawals").json()["count"] == 0
    assert client.get(f"{api(bound)}/orders").json()["count"] == 0
    with merchant_context(other_merchant):
        foreign = make_shop(other_merchant)
    assert client.get(f"{api(bound)}/share/{foreign.product.pk}").status_code == 404
    assert Client().get(api(bound)).status_code == 401


def test_bound_customers_are_listed_masked(bound):
    seller = make_distributor(bound)
    buyer = make_customer(bound, name="王小明")
    with merchant_context(bound):
        assert services.bind(buyer, seller.share_code)
    rows = storefront_client(seller.customer).get(f"{api(bound)}/customers").json()
    assert rows["count"] == 1
    item = rows["items"][0]
    assert item["name"] == "王**"
    assert "*" in item["phone"]
    assert buyer.phone[-4:] in item["phone"].replace(" ", "")
    assert item["source"] == "link"
