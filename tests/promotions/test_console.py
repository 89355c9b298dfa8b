"""The coupon pages of the console: list, create with every bad field named, edit (a started
coupon only its safe fields), schedule / start / pause / resume / end, issue to a customer, the
results of one template (participants, uses, orders, sales, discount, new customers), the claim
link's QR; permissions and another merchant's template."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client

from siyu.catalog.testing import make_category
from siyu.core import clock
from siyu.core.models import AuditEntry, Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import staff_client
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer
from siyu.orders.models import Order
from siyu.orders.testing import Shop, make_shop
from siyu.payments.testing import pay
from siyu.promotions import checkout as offers_checkout
from siyu.promotions import services, tasks
from siyu.promotions.models import Coupon, CouponTemplate
from siyu.promotions.testing import make_template

pytestmark = pytest.mark.django_db
BASE = "/console/promotions/"


@pytest.fixture
def owner(merchant: Merchant) -> Client:
    client = staff_client(merchant, Role.OWNER)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def new_coupon(**fields: str) -> dict[str, str]:
    return {
        "name": "Spring ¥10",
        "description": "",
        "kind": "threshold",
        "amount": "10",
        "percent": "",
        "cap": "",
        "threshold": "50",
        "validity": "days",
        "valid_days": "14",
        "total_quantity": "500",
        "per_customer_limit": "2",
        "audience": "everyone",
        "scope": "all",
        **fields,
    }


def test_create_a_coupon_then_start_pause_resume_and_end(merchant: Merchant, owner: Client) -> None:
    answer = owner.post(f"{BASE}new/", new_coupon())
    assert answer.status_code == 302, answer.content.decode()
    with merchant_context(merchant):
        template = CouponTemplate.objects.get()
    assert answer["Location"] == f"{BASE}{template.pk}/"
    assert (template.kind, template.amount, template.threshold, template.status) == (
        "threshold",
        1000,
        5000,
        "draft",
    )
    assert (template.valid_days, template.total_quantity, template.per_customer_limit) == (
        14,
        500,
        2,
    )
    page = owner.get(f"{BASE}{template.pk}/").content.decode()
    assert "¥10.00 off on ¥50.00 or more" in page
    assert f"/s/{merchant.slug}/coupons/{template.pk}/" in page
    assert "<svg" in page
    for status, shown in (
        ("active", "Active"),
        ("paused", "Paused"),
        ("active", "Active"),
        ("ended", "Ended"),
    ):
        moved = owner.post(f"{BASE}{template.pk}/status/", {"status": status}, follow=True)
        assert shown in moved.content.decode()
        template.refresh_from_db()
        assert template.status == status
    refused = owner.post(f"{BASE}{template.pk}/status/", {"status": "active"}, follow=True)
    assert "cannot become" in refused.content.decode()
    with merchant_context(merchant):
        actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"promotions.template.created", "promotions.template.paused"} <= actions
    listing = owner.get(BASE).content.decode()
    assert "Spring ¥10" in listing


def test_bad_fields_are_named_next_to_them_and_nothing_is_saved(
    merchant: Merchant, owner: Client
) -> None:
    answer = owner.post(
        f"{BASE}new/",
        new_coupon(
            name="",
            kind="percent",
            percent="150",
            cap="abc",
            validity="dates",
            valid_until="",
            total_quantity="0",
            scope="categories",
        ),
    )
    assert answer.status_code == 422
    body = answer.content.decode()
    for reason in (
        "This field is required.",  # name
        "Give a share from 0.01 to 100, like 15 or 8.5.",
        "Give an amount in yuan, like 5 or 12.50.",
        "Give the date and time it ends.",
        "Ensure this value is greater than or equal to 1.",
        "Choose at least one category.",
    ):
        assert reason in body, reason
    with merchant_context(merchant):
        assert not CouponTemplate.objects.exists()


def test_scope_pickers_offer_only_this_merchants_rows(
    merchant: Merchant, other_merchant: Merchant, owner: Client
) -> None:
    drinks = make_category(merchant, "Drinks")
    theirs = make_category(other_merchant, "Their tea")
    form = owner.get(f"{BASE}new/").content.decode()
    assert "Drinks" in form
    assert "Their tea" not in form
    refused = owner.post(f"{BASE}new/", new_coupon(scope="categories", categories=str(theirs.pk)))
    assert refused.status_code == 422
    made = owner.post(f"{BASE}new/", new_coupon(scope="categories", categories=str(drinks.pk)))
    assert made.status_code == 302
    with merchant_context(merchant):
        assert CouponTemplate.objects.get().scope_ids == [drinks.pk]


def test_a_started_coupon_changes_only_its_safe_fields(merchant: Merchant, owner: Client) -> None:
    template = make_template(merchant, amount=500, quantity=10)
    form = owner.get(f"{BASE}{template.pk}/edit/").content.decode()
    assert "only its name, description, quantity" in form
    answer = owner.post(
        f"{BASE}{template.pk}/edit/", new_coupon(name="Renamed", amount="99", total_quantity="20")
    )
    assert answer.status_code == 302, answer.content.decode()
    template.refresh_from_db()
    assert (template.name, template.amount, template.total_quantity) == ("Renamed", 500, 20)


def test_schedule_then_the_job_starts_it(merchant: Merchant, owner: Client) -> None:
    template = make_template(merchant, status=CouponTemplate.Status.DRAFT)
    past = owner.post(
        f"{BASE}{template.pk}/schedule/", {"starts_at": "2020-01-01T10:00"}, follow=True
    )
    assert "Give a time in the future" in past.content.decode()
    when = clock.now() + timedelta(days=1)
    local = when.astimezone(clock.zone(merchant.time_zone)).strftime("%Y-%m-%dT%H:%M")
    owner.post(f"{BASE}{template.pk}/schedule/", {"starts_at": local})
    template.refresh_from_db()
    assert template.status == CouponTemplate.Status.SCHEDULED
    customer = make_customer(merchant)
    with merchant_context(merchant), pytest.raises(Exception, match="Claims open on"):
        services.claim(template.pk, customer)
    poster = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/s/{merchant.slug}/coupons/{template.pk}/")
    assert poster.status_code == 200  # a poster printed ahead of time already opens it
    assert f"Claims open on {local.replace('T', ' ')}" in poster.content.decode()
    assert tasks.start_scheduled_templates.call() == 0
    CouponTemplate.unscoped.filter(pk=template.pk).update(
        starts_at=clock.now() - timedelta(minutes=1)
    )
    assert tasks.start_scheduled_templates.call() == 1
    template.refresh_from_db()
    assert template.status == CouponTemplate.Status.ACTIVE


def test_issue_to_a_customer_by_phone(merchant: Merchant, owner: Client) -> None:
    template = make_template(merchant)
    customer = make_customer(merchant)
    page = owner.get(f"{BASE}{template.pk}/").content.decode()
    key = re.search(r'name="client_key" value="([^"]+)"', page)
    assert key is not None
    for _twice in range(2):
        answer = owner.post(
            f"{BASE}{template.pk}/issue/",
            {"customer": customer.phone, "client_key": key.group(1)},
            follow=True,
        )
        assert "given to" in answer.content.decode()
    with merchant_context(merchant):
        assert Coupon.objects.filter(customer=customer, source="staff").count() == 1
    unknown = owner.post(f"{BASE}{template.pk}/issue/", {"customer": "13800000000"}, follow=True)
    assert "No customer has that mobile number" in unknown.content.decode()


def place(merchant: Merchant, shop: Shop, customer: Customer, coupon: Coupon | None) -> Order:
    with merchant_context(merchant):
        order = offers_checkout.checkout(
            customer,
            choices=offers_checkout.Choices(coupon_id=coupon.pk if coupon else None),
            fulfilment="pickup",
            store_id=shop.store.pk,
            items=[(shop.sku.pk, 2)],
        )
    pay(order)
    return order


def test_results_count_participants_orders_sales_discount_and_new_customers(
    merchant: Merchant, owner: Client
) -> None:
    shop = make_shop(merchant, price=3000)
    template = make_template(merchant, amount=500, name="Five off")
    fresh, regular, idle = (make_customer(merchant) for _n in range(3))
    place(merchant, shop, regular, None)  # regular has ordered before
    with merchant_context(merchant):
        coupons = {c: services.claim(template.pk, c) for c in (fresh, regular, idle)}
    place(merchant, shop, fresh, coupons[fresh])
    place(merchant, shop, regular, coupons[regular])
    page = owner.get(f"{BASE}{template.pk}/")
    body = page.content.decode()
    figures = page.context["figures"]
    assert (figures.participants, figures.claimed, figures.used, figures.orders) == (3, 3, 2, 2)
    assert (figures.sales, figures.discount, figures.new_customers) == (11000, 1000, 1)
    assert figures.k_factor is None  # not spread by sharing
    assert "¥110.00" in body
    assert "coupon-chart-data" in body
    chart = page.context["chart"]
    assert sum(chart["series"][0]["data"]) == 3
    assert sum(chart["series"][1]["data"]) == 2


def test_qr_downloads(merchant: Merchant, owner: Client) -> None:
    template = make_template(merchant)
    png = owner.get(f"{BASE}{template.pk}/qr.png")
    assert png.status_code == 200
    assert png.content[:4] == b"\x89PNG"
    svg = owner.get(f"{BASE}{template.pk}/qr.svg")
    assert b"<svg" in svg.content


def test_permissions_and_other_merchants(
    merchant: Merchant, other_merchant: Merchant, owner: Client
) -> None:
    theirs = make_template(other_merchant)
    assert owner.get(f"{BASE}{theirs.pk}/").status_code == 404
    assert owner.post(f"{BASE}{theirs.pk}/status/", {"status": "paused"}).status_code == 404
    guide = staff_client(merchant, Role.SHOPPING_GUIDE)
    assert guide.get(BASE).status_code == 403
    finance = staff_client(merchant, Role.FINANCE)
    mine = make_template(merchant)
    assert finance.get(f"{BASE}{mine.pk}/").status_code == 200
    assert finance.get(f"{BASE}new/").status_code == 403
    assert finance.post(f"{BASE}{mine.pk}/status/", {"status": "paused"}).status_code == 403
    mine.refresh_from_db()
    assert mine.status == "active"


def test_the_pages_read_in_chinese(merchant: Merchant) -> None:
    template = make_template(merchant)
    client = staff_client(merchant, Role.OWNER)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    for path in (BASE, f"{BASE}new/", f"{BASE}{template.pk}/", f"{BASE}{template.pk}/edit/"):
        body = client.get(path).content.decode()
        assert "优惠券" in body, path
        assert "Claimed" not in body, path


def test_post_the_coupon_as_a_card_to_groups(merchant: Merchant, owner: Client) -> None:
    from siyu.community.models import Message
    from siyu.community.testing import make_group
    from siyu.core.actors import Actor

    template = make_template(merchant, name="Group treat")
    group = make_group(Actor.system(merchant), name="Jing'an fans")
    page = owner.get(f"{BASE}{template.pk}/").content.decode()
    assert "Jing&#x27;an fans" in page or "Jing'an fans" in page
    answer = owner.post(
        f"{BASE}{template.pk}/post/", {"groups": [str(group.pk)], "text": "For you"}, follow=True
    )
    assert "Posted in 1 group." in answer.content.decode()
    with merchant_context(merchant):
        message = Message.objects.get(text="For you")
    assert message.card["type"] == "coupon"
    assert f"/coupons/{template.pk}/" in message.card["url"]
    nothing = owner.post(f"{BASE}{template.pk}/post/", {"groups": ["999999"]}, follow=True)
    assert "Choose at least one group." in nothing.content.decode()
    CouponTemplate.unscoped.filter(pk=template.pk).update(status="paused")
    refused = owner.post(f"{BASE}{template.pk}/post/", {"groups": [str(group.pk)]}, follow=True)
    assert "not active" in refused.content.decode()  # a paused coupon is not posted
    with merchant_context(merchant):
        assert Message.objects.filter(card__type="coupon").count() == 1
