"""Console: the payment and refund lists, the order page's panel and its refund actions."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from siyu.core.actors import Actor
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_staff, staff_client
from siyu.inventory.testing import counts
from siyu.orders.models import Order
from siyu.orders.testing import make_order, make_shop
from siyu.payments import services
from siyu.payments.models import Payment, Refund
from siyu.payments.testing import make_paid_order, start

ORDER_PAGE = "/console/orders/1/"


@pytest.fixture
def shop(merchant):
    return make_shop(merchant, price=1800, quantity=10)


@pytest.fixture
def paid(merchant, shop):
    return make_paid_order(merchant, shop=shop, quantity=3)


def panel(merchant, order, role=Role.OWNER, language="en"):
    request = RequestFactory().get(ORDER_PAGE)
    actor = Actor.for_membership(make_staff(merchant, role))
    request.siyu_actor = actor  # type: ignore[attr-defined]
    request.actor = actor  # type: ignore[attr-defined]
    with merchant_context(merchant), translation.override(language):
        order = Order.objects.get(pk=order.pk)
        return render_to_string("payments/_order_panel.html", {"order": order}, request=request)


def line_of(merchant, order):
    with merchant_context(merchant):
        return Order.objects.get(pk=order.pk).lines.get()


# --- lists --------------------------------------------------------------------------------------


def test_the_payment_list_shows_yuan_and_filters(merchant, paid):
    pending = make_order(merchant)
    start(pending)
    client = staff_client(merchant, Role.FINANCE)
    html = client.get("/console/payments/", headers={"Accept-Language": "en"}).content.decode()
    assert "¥54.00" in html
    assert paid.number in html
    assert pending.number in html
    assert "Sandbox" in html
    only_paid = client.get("/console/payments/?status=succeeded").content.decode()
    assert paid.number in only_paid
    assert pending.number not in only_paid
    assert (
        "¥54.00"
        not in client.get("/console/payments/?since=2000-01-01&until=2000-01-01").content.decode()
    )


def test_the_refund_list_filters_by_source_and_offers_decisions_to_finance_only(merchant, paid):
    with merchant_context(merchant):
        requested = services.request_refund(paid.customer, paid, lines=None, reason="不新鲜")
    finance = staff_client(merchant, Role.FINANCE)
    html = finance.get("/console/payments/refunds/?source=customer").content.decode()
    assert requested.number in html
    assert "¥54.00" in html
    assert f"/console/payments/refunds/{requested.pk}/approve/" in html
    assert (
        requested.number
        not in finance.get("/console/payments/refunds/?source=staff").content.decode()
    )
    guide = staff_client(merchant, Role.SHOPPING_GUIDE)
    html = guide.get("/console/payments/refunds/").content.decode()
    assert requested.number in html
    assert "/approve/" not in html


def test_pages_are_complete_in_chinese(merchant, paid):
    client = staff_client(merchant, Role.OWNER)
    client.cookies["siyu_language"] = "zh-hans"
    html = client.get("/console/payments/").content.decode()
    assert "支付" in html
    assert "模拟支付" in html
    html = client.get("/console/payments/refunds/").content.decode()
    assert "退款" in html


def test_lists_need_a_staff_login(merchant):
    from django.test import Client

    assert Client().get("/console/payments/").status_code == 302
    assert Client().get("/console/payments/refunds/").status_code == 302


# --- the order panel ------------------------------------------------------------------------------


def test_the_panel_shows_payments_the_sandbox_note_and_a_refund_form(merchant, paid):
    html = panel(merchant, paid)
    payment = Payment.unscoped.get()
    assert payment.out_trade_no in html
    assert "Sandbox — no real money" in html
    assert "¥54.00" in html
    assert f'action="/console/payments/orders/{paid.pk}/refund/"' in html
    line = line_of(merchant, paid)
    assert f'name="qty_{line.pk}"' in html
    assert 'max="3"' in html
    assert "Everything left (¥54.00)" in html
    assert f'value="{ORDER_PAGE}"' in html  # comes back to the order page


def test_the_panel_is_translated(merchant, paid):
    html = panel(merchant, paid, language="zh-hans")
    assert "模拟支付" in html
    assert "退款" in html
    assert "按商品和数量" in html
    assert "Refund" not in html


def test_a_guide_sees_the_panel_without_the_refund_form(merchant, paid):
    html = panel(merchant, paid, role=Role.SHOPPING_GUIDE)
    assert Payment.unscoped.get().out_trade_no in html
    assert "/refund/" not in html


def test_an_unpaid_order_has_no_refund_form_and_a_query_button(merchant):
    order = make_order(merchant)
    start(order)
    html = panel(merchant, order)
    assert "Check with the provider" in html
    assert "/refund/" not in html


# --- refunding from the panel -------------------------------------------------------------------


def test_refunding_one_unit_from_the_panel(
    merchant, shop, paid, django_capture_on_commit_callbacks
):
    client = staff_client(merchant, Role.FINANCE)
    line = line_of(merchant, paid)
    before = counts(shop.location, shop.sku)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            f"/console/payments/orders/{paid.pk}/refund/",
            {
                "mode": "lines",
                f"qty_{line.pk}": "1",
                "reason": "cup cracked",
                "restock": "on",
                "next": ORDER_PAGE,
            },
            headers={"Accept-Language": "en"},
        )
    assert answer.status_code == 302
    assert answer["Location"] == ORDER_PAGE
    refund = Refund.unscoped.get()
    assert (refund.status, refund.amount, refund.restock) == (Refund.Status.SUCCEEDED, 1800, True)
    assert counts(shop.location, shop.sku)[0] == before[0] + 1
    page = client.get("/console/payments/refunds/", headers={"Accept-Language": "en"})
    # the message on the next page: in a test the refund completes after the view has answered
    assert "The refund of ¥18.00 is being processed" in page.content.decode()
    html = panel(merchant, paid)
    assert refund.number in html
    assert 'max="2"' in html


def test_an_amount_and_a_full_refund_from_the_panel(
    merchant, paid, django_capture_on_commit_callbacks
):
    client = staff_client(merchant, Role.OWNER)
    url = f"/console/payments/orders/{paid.pk}/refund/"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"mode": "amount", "amount": "¥4.50", "reason": "late", "restock": "on"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"mode": "full", "reason": "closing the order"})
    first, second = Refund.unscoped.order_by("id")
    assert (first.amount, first.restock) == (450, False)
    assert (second.amount, second.full, second.restock) == (4950, True, False)
    assert Payment.unscoped.get().refunded_total == 5400


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mode": "lines", "reason": "x"}, "Enter how many of each line to refund."),
        ({"mode": "amount", "amount": "12,5", "reason": "x"}, "Not an amount, e.g. 12.50."),
        ({"mode": "amount", "amount": "999", "reason": "x"}, "At most ¥54.00 is left to refund."),
        ({"mode": "amount", "amount": "1", "reason": ""}, "This field is required."),
        ({"mode": "lines", "qty_LINE": "4", "reason": "x"}, "At most 3 can be refunded."),
        ({"mode": "lines", "qty_LINE": "two", "reason": "x"}, "Quantities must be whole numbers."),
    ],
)
def test_bad_refunds_from_the_panel_say_why_and_write_nothing(merchant, paid, data, message):
    line = line_of(merchant, paid)
    data = {key.replace("LINE", str(line.pk)): value for key, value in data.items()}
    client = staff_client(merchant, Role.OWNER)
    answer = client.post(
        f"/console/payments/orders/{paid.pk}/refund/",
        {**data, "next": ORDER_PAGE},
        headers={"Accept-Language": "en"},
        follow=False,
    )
    assert answer.status_code == 302
    shown = client.get("/console/payments/refunds/", headers={"Accept-Language": "en"})
    assert message in shown.content.decode()
    assert Refund.unscoped.count() == 0


def test_a_guide_cannot_refund_and_another_merchants_order_is_404(merchant, other_merchant, paid):
    guide = staff_client(merchant, Role.SHOPPING_GUIDE)
    url = f"/console/payments/orders/{paid.pk}/refund/"
    assert guide.post(url, {"mode": "full", "reason": "x"}).status_code == 403
    stranger = staff_client(other_merchant, Role.OWNER)
    assert stranger.post(url, {"mode": "full", "reason": "x"}).status_code == 404
    assert Refund.unscoped.count() == 0


def test_approving_and_rejecting_requests_from_the_console(
    merchant, other_merchant, paid, django_capture_on_commit_callbacks
):
    with merchant_context(merchant):
        first = services.request_refund(paid.customer, paid, lines=None, reason="first")
    client = staff_client(merchant, Role.FINANCE)
    answer = client.post(f"/console/payments/refunds/{first.pk}/reject/", {"reason": ""})
    assert answer.status_code == 302
    assert Refund.unscoped.get(pk=first.pk).status == Refund.Status.REQUESTED  # a reason is needed
    client.post(f"/console/payments/refunds/{first.pk}/reject/", {"reason": "请先退回商品"})
    assert Refund.unscoped.get(pk=first.pk).status == Refund.Status.REJECTED
    with merchant_context(merchant):
        line = paid.lines.get()
        second = services.request_refund(paid.customer, paid, lines=[(line.pk, 1)], reason="second")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/console/payments/refunds/{second.pk}/approve/")
    assert Refund.unscoped.get(pk=second.pk).status == Refund.Status.SUCCEEDED
    with merchant_context(merchant):
        third = services.request_refund(paid.customer, paid, lines=None, reason="third")
    stranger = staff_client(other_merchant, Role.OWNER)
    assert stranger.post(f"/console/payments/refunds/{third.pk}/approve/").status_code == 404
    assert (
        stranger.post(f"/console/payments/refunds/{third.pk}/reject/", {"reason": "x"}).status_code
        == 404
    )
    assert Refund.unscoped.get(pk=third.pk).status == Refund.Status.REQUESTED


def test_the_order_page_carries_the_panel(merchant, paid):
    client = staff_client(merchant, Role.FINANCE)
    html = client.get(f"/console/orders/{paid.pk}/", headers={"Accept-Language": "en"})
    text = html.content.decode()
    assert 'id="payments"' in text
    assert "Sandbox — no real money" in text
    assert f"/console/payments/orders/{paid.pk}/refund/" in text
    listed = client.get("/console/payments/").content.decode()
    assert f'href="/console/orders/{paid.pk}/#payments"' in listed


def test_without_a_next_address_the_refund_returns_to_the_order_page(merchant, paid):
    answer = staff_client(merchant, Role.OWNER).post(
        f"/console/payments/orders/{paid.pk}/refund/", {"mode": "lines", "reason": "x"}
    )
    assert answer["Location"] == f"/console/orders/{paid.pk}/#payments"
    evil = staff_client(merchant, Role.OWNER).post(
        f"/console/payments/orders/{paid.pk}/refund/",
        {"mode": "lines", "reason": "x", "next": "https://evil.example/"},
    )
    assert evil["Location"] == f"/console/orders/{paid.pk}/#payments"
