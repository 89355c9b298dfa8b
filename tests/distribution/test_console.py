"""The distribution console: overview, settings, distributors, rules, ledger, withdrawals."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse

from siyu.catalog.testing import make_category
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.models import AuditEntry
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import staff_client
from siyu.distribution import selectors, services
from siyu.distribution.models import CommissionRule, DistributionSettings, Distributor, Withdrawal
from siyu.distribution.testing import distributed_order, make_distributor, set_default_rate
from siyu.orders import services as orders
from siyu.orders.models import OrderLine
from siyu.orders.testing import make_customer, make_shop

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"distribution:{name}", args=args)


def client_for(merchant, role=Role.OWNER, language="en"):
    client = staff_client(merchant, role)
    client.cookies["siyu_language"] = language
    return client


def page(response):
    return response.content.decode()


def streamed(response):
    return b"".join(response.streaming_content).decode("utf-8-sig")


@pytest.fixture
def shop_with_sales(merchant):
    """A distributor with one settled ¥30.00 order (10 %) and one paid ¥18.00 order refunded
    by ¥8.00, a bound customer, and an invited distributor."""
    set_default_rate(merchant, 1000)
    seller = make_distributor(merchant)
    buyer = make_customer(merchant)
    with merchant_context(merchant):
        assert services.bind(buyer, seller.share_code)
    done = distributed_order(
        merchant, seller, status="completed", customer=buyer, shop=make_shop(merchant, price=30_000)
    )
    services.settle_merchant(merchant, now=clock.now() + timedelta(days=8))
    paid = distributed_order(merchant, seller, customer=buyer, shop=make_shop(merchant, price=1800))
    line = OrderLine.unscoped.get(order=paid)
    with merchant_context(merchant):
        orders.apply_refund(
            paid, lines=[(line.pk, 0, 800)], amount=800, restock=False, reference="R-8"
        )
    from siyu.core.outbox import dispatch_pending

    dispatch_pending()
    child = make_distributor(merchant, invited_by=seller)
    return {"seller": seller, "buyer": buyer, "done": done, "paid": paid, "child": child}


def test_the_overview_shows_the_numbers_and_a_local_chart(merchant, shop_with_sales):
    response = client_for(merchant).get(url("overview"))
    assert response.status_code == 200
    html = page(response)
    # pending: 180 − 80 = 100 fen; settled 3000; reversed 80
    assert 'data-testid="pending">¥1.00<' in html
    assert 'data-testid="settled">¥30.00<' in html
    assert 'data-testid="reversed">¥0.80<' in html
    assert "vendor/echarts.min.js" in html
    assert "cdn" not in html.lower()
    data = json.loads(
        html.split('id="distribution-chart-data" type="application/json">')[1].split("<")[0]
    )
    assert data["series"][0]["data"][-1] == 31.8  # earned this month: ¥30.00 + ¥1.80
    with merchant_context(merchant):  # settled entries carry the time of settling (8 days on)
        months = selectors.commission_by_month(clock.now() + timedelta(days=8))
    assert (months[-1].settled, sum(m.earned for m in months)) == (3000, 3180)
    # two distributors, one bound customer brought by one active distributor
    with merchant_context(merchant):
        numbers = selectors.overview(clock.now())
    assert (numbers.distributors, numbers.bound_customers, numbers.attributed_orders) == (2, 1, 2)
    assert numbers.attributed_sales == 30_000 + 1800 - 800
    assert (numbers.new_customers, numbers.active_distributors, numbers.k_factor) == (1, 1, 1.0)
    assert 'data-testid="kfactor">1.0<' in html


def test_the_overview_warns_when_the_second_level_is_on(merchant):
    client = client_for(merchant)
    assert "second-level-warning" not in page(client.get(url("overview")))
    with merchant_context(merchant):
        services.update_settings(
            Actor.system(merchant), {"second_level": True, "second_level_rate_bp": 200}
        )
    assert "second-level-warning" in page(client.get(url("overview")))


def test_settings_show_the_legal_notes_save_audit_and_refuse_bad_input(merchant):
    client = client_for(merchant)
    html = page(client.get(url("settings")))
    assert 'data-testid="no-fee-note"' in html
    assert "pyramid selling" in html
    assert 'data-testid="second-level-warning"' in html
    form = {
        "enabled": "on",
        "enrolment": "open",
        "binding_policy": "last_link",
        "protection_days": "15",
        "settlement_delay_days": "10",
        "second_level": "on",
        "second_level_rate": "2.5",
        "minimum_withdrawal": "20",
    }
    response = client.post(url("settings"), form)
    assert response.status_code == 302
    row = DistributionSettings.unscoped.get(merchant=merchant)
    assert (row.enrolment, row.binding_policy, row.settlement_delay_days) == (
        "open",
        "last_link",
        10,
    )
    assert (row.second_level, row.second_level_rate_bp, row.minimum_withdrawal) == (
        True,
        250,
        2000,
    )
    assert AuditEntry.unscoped.filter(action="distribution.settings.changed").exists()
    bad = client.post(url("settings"), {**form, "protection_days": "0"})
    assert bad.status_code == 422
    assert "A whole number from 1 to 3650" in page(bad)
    no_rate = client.post(url("settings"), {**form, "second_level_rate": "0"})
    assert no_rate.status_code == 422
    assert "Give the second level" in page(no_rate)
    assert DistributionSettings.unscoped.get(merchant=merchant).protection_days == 15
    for rate in ("abc", "sNaN", "Infinity", "2.555", "101"):
        assert client.post(url("settings"), {**form, "second_level_rate": rate}).status_code == 422
    assert client.post(url("settings"), {**form, "minimum_withdrawal": "1e999"}).status_code == 422


def test_finance_sees_the_settings_but_cannot_change_them_and_guides_see_nothing(merchant):
    finance = client_for(merchant, Role.FINANCE)
    assert finance.get(url("settings")).status_code == 200
    assert finance.post(url("settings"), {"enrolment": "open"}).status_code == 403
    guide = client_for(merchant, Role.SHOPPING_GUIDE)
    assert guide.get(url("overview")).status_code == 403


def test_distributors_search_filter_detail_and_decide_with_a_reason(
    merchant, other_merchant, shop_with_sales
):
    seller, child = shop_with_sales["seller"], shop_with_sales["child"]
    client = client_for(merchant, Role.OPERATOR)
    html = page(client.get(url("distributors"), {"q": seller.share_code}))
    assert seller.share_code in html
    assert f">{child.share_code}<" not in html.replace(f"<code>{seller.share_code}</code>", "")
    assert child.customer.phone in page(client.get(url("distributors"), {"status": "approved"}))
    assert "No distributors match" in page(client.get(url("distributors"), {"status": "applied"}))
    detail = page(client.get(url("distributor_detail", seller.pk)))
    assert shop_with_sales["buyer"].phone in detail  # the bound customer
    assert shop_with_sales["done"].number in detail
    assert shop_with_sales["paid"].number in detail
    assert child.share_code in detail  # invited distributors
    assert 'data-testid="available">¥30.00<' in detail
    response = client.post(
        url("distributor_decide", seller.pk), {"status": "suspended", "reason": "fraud check"}
    )
    assert response.status_code == 302
    seller.refresh_from_db()
    assert (seller.status, seller.reason) == ("suspended", "fraud check")
    assert AuditEntry.unscoped.filter(action="distribution.distributor.suspended").exists()
    # a refused transition is a message, not a 500
    response = client.post(
        url("distributor_decide", seller.pk), {"status": "rejected"}, follow=True
    )
    assert response.status_code == 200
    assert "cannot be" in page(response)
    theirs = make_distributor(other_merchant)
    assert client.get(url("distributor_detail", theirs.pk)).status_code == 404
    assert (
        client.post(url("distributor_decide", theirs.pk), {"status": "suspended"}).status_code
        == 404
    )
    finance = client_for(merchant, Role.FINANCE)
    assert (
        finance.post(url("distributor_decide", child.pk), {"status": "suspended"}).status_code
        == 403
    )


def test_rules_percent_fixed_by_category_and_product_and_bad_input(merchant, other_merchant):
    client = client_for(merchant, Role.OPERATOR)
    drinks = make_category(merchant, "Drinks")
    shop = make_shop(merchant, price=2000)
    assert (
        client.post(url("rules"), {"scope": "default", "kind": "percent", "rate": "10"}).status_code
        == 302
    )
    assert (
        client.post(
            url("rules"),
            {"scope": "category", "category": drinks.pk, "kind": "percent", "rate": "5.25"},
        ).status_code
        == 302
    )
    assert (
        client.post(
            url("rules"),
            {"scope": "product", "product": shop.product.pk, "kind": "fixed", "fixed": "1.20"},
        ).status_code
        == 302
    )
    rules = {r.scope: r for r in CommissionRule.unscoped.filter(merchant=merchant)}
    assert (rules["default"].kind, rules["default"].rate_bp) == ("percent", 1000)
    assert (rules["category"].category_id, rules["category"].rate_bp) == (drinks.pk, 525)
    assert (rules["product"].kind, rules["product"].fixed_fen) == ("fixed", 120)
    html = page(client.get(url("rules")))
    assert "10 %" in html
    assert "5.25 %" in html
    assert "¥1.20" in html
    assert "Drinks" in html
    no_category = client.post(url("rules"), {"scope": "category", "kind": "percent", "rate": "3"})
    assert no_category.status_code == 422
    assert "Not a category of this shop" in page(no_category)
    too_much = client.post(url("rules"), {"scope": "default", "kind": "percent", "rate": "101"})
    assert too_much.status_code == 422
    their_category = make_category(other_merchant, "Theirs")
    theirs = client.post(
        url("rules"),
        {"scope": "category", "category": their_category.pk, "kind": "percent", "rate": "3"},
    )
    assert theirs.status_code == 422
    assert CommissionRule.unscoped.filter(merchant=merchant).count() == 3
    assert client.post(url("rule_delete", rules["product"].pk)).status_code == 302
    assert CommissionRule.unscoped.filter(merchant=merchant).count() == 2
    assert client.post(url("rule_delete", rules["product"].pk)).status_code == 404
    assert AuditEntry.unscoped.filter(action="distribution.rule.deleted").exists()


def test_the_ledger_filters_and_exports_csv(merchant, shop_with_sales):
    client = client_for(merchant)
    seller = shop_with_sales["seller"]
    html = page(client.get(url("ledger"), {"kind": "reversed"}))
    assert "−¥0.80" in html or "-¥0.80" in html
    assert shop_with_sales["done"].number not in html
    by_order = page(client.get(url("ledger"), {"order": shop_with_sales["done"].number}))
    assert shop_with_sales["paid"].number not in by_order
    unknown = page(client.get(url("ledger"), {"distributor": "NOPE"}))
    assert "No distributor has this share code" in unknown
    export = client.get(url("ledger_export"), {"distributor": seller.share_code.lower()})
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(streamed(export))))
    assert sorted((r["kind"], r["amount_fen"]) for r in rows) == [
        ("pending", "180"),
        ("pending", "3000"),
        ("reversed", "-80"),
        ("settled", "3000"),
    ]
    assert {r["amount_yuan"] for r in rows} >= {"-0.80", "30.00"}
    assert client.get(url("ledger_export"), {"distributor": "NOPE"}).status_code == 302


def test_withdrawals_finance_approves_pays_rejects_and_exports(merchant, shop_with_sales):
    seller = shop_with_sales["seller"]
    with merchant_context(merchant):
        first = services.request_withdrawal(seller.pk, 1000)
        second = services.request_withdrawal(seller.pk, 1500)
    operator = client_for(merchant, Role.OPERATOR)
    assert operator.post(url("withdrawal_approve", first.pk)).status_code == 403
    finance = client_for(merchant, Role.FINANCE)
    html = page(finance.get(url("withdrawals")))
    assert f'data-testid="withdrawal-{first.pk}"' in html
    assert "Approve" in html
    assert finance.post(url("withdrawal_approve", first.pk)).status_code == 302
    no_reference = finance.post(url("withdrawal_pay", first.pk), {"reference": ""}, follow=True)
    assert "reference" in page(no_reference)
    assert Withdrawal.unscoped.get(pk=first.pk).status == "approved"
    finance.post(url("withdrawal_pay", first.pk), {"reference": "ICBC-42", "back": "status=paid"})
    paid = Withdrawal.unscoped.get(pk=first.pk)
    assert (paid.status, paid.reference) == ("paid", "ICBC-42")
    assert finance.post(url("withdrawal_reject", second.pk), {"reason": ""}).status_code == 302
    assert Withdrawal.unscoped.get(pk=second.pk).status == "requested"
    finance.post(url("withdrawal_reject", second.pk), {"reason": "wrong bank account"})
    assert Withdrawal.unscoped.get(pk=second.pk).status == "rejected"
    again = finance.post(url("withdrawal_pay", second.pk), {"reference": "X"}, follow=True)
    assert "Approve the withdrawal before paying it" in page(again)
    assert AuditEntry.unscoped.filter(action="distribution.withdrawal.paid").exists()
    export = finance.get(url("withdrawal_export"), {"status": "paid"})
    rows = list(csv.DictReader(io.StringIO(streamed(export))))
    assert [(r["withdrawal_id"], r["amount_yuan"], r["reference"]) for r in rows] == [
        (str(first.pk), "10.00", "ICBC-42")
    ]
    with merchant_context(merchant):
        assert selectors.balances(seller).available == 3000 - 1000


def test_the_pages_speak_chinese(merchant, shop_with_sales):
    client = client_for(merchant, language="zh-hans")
    for name in ("overview", "settings", "distributors", "rules", "ledger", "withdrawals"):
        response = client.get(url(name))
        assert response.status_code == 200, name
    html = page(client.get(url("settings")))
    assert "传销" in html  # the legal notes are translated
    assert "分销" in page(client.get(url("overview")))


def test_the_nav_entry_leads_to_the_overview(merchant):
    html = page(client_for(merchant).get(reverse("console:home")))
    assert url("overview") in html


def test_a_distributor_awaiting_approval_can_be_approved_from_the_console(merchant):
    with merchant_context(merchant):
        services.update_settings(Actor.system(merchant), {"enrolment": "approval"})
        applicant = services.apply(make_customer(merchant))
    assert applicant.status == Distributor.Status.APPLIED
    client = client_for(merchant, Role.OPERATOR)
    detail = page(client.get(url("distributor_detail", applicant.pk)))
    assert 'value="approved"' in detail
    assert 'value="rejected"' in detail
    client.post(url("distributor_decide", applicant.pk), {"status": "approved"})
    applicant.refresh_from_db()
    assert applicant.status == "approved"
