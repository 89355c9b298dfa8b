"""The storefront's bargain pages in both languages: start, share page, help cut (a visitor
logs in first and the cut happens on the way back), buy through checkout, my bargains; the
product page links to a running bargain."""

from __future__ import annotations

import pytest
from django.test import Client

from siyu.bargain import services
from siyu.bargain.models import Bargain, BargainActivity, BargainCut
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.customers.testing import log_in, make_customer, storefront_client
from siyu.orders.models import Order
from siyu.orders.testing import Shop

pytestmark = pytest.mark.django_db


def page(merchant: Merchant, path: str) -> str:
    return f"/s/{merchant.slug}/bargain/{path}"


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ("Start my bargain", "Friends cut it down to")),
        ("zh-hans", ("发起砍价", "好友帮砍至")),
    ],
)
def test_activity_page_starts_a_bargain_in_both_languages(
    merchant: Merchant,
    activity: BargainActivity,
    starter: Customer,
    language: str,
    words: tuple[str, str],
) -> None:
    client = storefront_client(starter, HTTP_ACCEPT_LANGUAGE=language)
    shown = client.get(page(merchant, f"{activity.pk}/"))
    assert shown.status_code == 200
    body = shown.content.decode()
    for word in words:
        assert word in body
    assert "¥1.00" in body
    started = client.post(page(merchant, f"{activity.pk}/"))
    assert started.status_code == 302
    with merchant_context(merchant):
        bargain = Bargain.objects.get(customer=starter)
    assert started["Location"] == page(merchant, f"b/{bargain.code}/")
    mine = client.get(started["Location"])
    assert mine.status_code == 200
    assert "¥50.00" in mine.content.decode()
    listed = client.get(page(merchant, ""))
    assert bargain.code in listed.content.decode()


def test_a_visitor_taps_help_logs_in_and_the_cut_happens_on_the_way_back(
    merchant: Merchant, activity: BargainActivity, starter: Customer
) -> None:
    with merchant_context(merchant):
        bargain = services.start(starter, activity.pk)
    url = page(merchant, f"b/{bargain.code}/")
    visitor = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert "Log in to help cut" in visitor.get(url).content.decode()
    tapped = visitor.post(url)
    assert tapped.status_code == 302
    assert tapped["Location"].startswith(f"/s/{merchant.slug}/login/")
    friend = make_customer(merchant)  # signs up by phone now
    log_in(visitor, friend)
    back = visitor.get(url)
    assert back.status_code == 200
    assert "Thank you for helping" in back.content.decode()
    with merchant_context(merchant):
        made = BargainCut.objects.get(bargain=bargain)
    assert made.helper_id == friend.pk
    assert made.new_customer  # signed up after the bargain started
    # the replay happens once
    visitor.get(url)
    with merchant_context(merchant):
        assert BargainCut.objects.filter(bargain=bargain).count() == 1
    assert "You have already helped" in visitor.get(url).content.decode()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_starter_buys_at_the_current_price_through_checkout(
    merchant: Merchant,
    shop: Shop,
    activity: BargainActivity,
    starter: Customer,
    friends: list[Customer],
    language: str,
) -> None:
    with merchant_context(merchant):
        bargain = services.start(starter, activity.pk)
        services.help_cut(friends[0], bargain.pk)
        bargain.refresh_from_db()
    client = storefront_client(starter, HTTP_ACCEPT_LANGUAGE=language)
    share = client.get(page(merchant, f"b/{bargain.code}/")).content.decode()
    assert f"b/{bargain.code}/buy/" in share
    url = page(merchant, f"b/{bargain.code}/buy/")
    shown = client.get(url)
    assert shown.status_code == 200
    price = f"¥{bargain.current_price / 100:,.2f}"
    assert price in shown.content.decode()
    placed = client.post(url, {"fulfilment": "pickup", "store_id": shop.store.pk, "place": "1"})
    assert placed.status_code == 302
    with merchant_context(merchant):
        order = Order.objects.get(customer=starter)
        bargain.refresh_from_db()
    assert order.total == bargain.current_price
    assert bargain.status == "bought"


def test_someone_elses_buy_page_and_unknown_codes_are_404(
    merchant: Merchant, activity: BargainActivity, starter: Customer, friends: list[Customer]
) -> None:
    with merchant_context(merchant):
        bargain = services.start(starter, activity.pk)
    friend = storefront_client(friends[0], HTTP_ACCEPT_LANGUAGE="en")
    assert friend.get(page(merchant, f"b/{bargain.code}/buy/")).status_code == 404
    assert friend.get(page(merchant, "b/nosuchcode/")).status_code == 404
    assert friend.get(page(merchant, "999999/")).status_code == 404


def test_the_product_page_links_to_a_running_bargain(
    merchant: Merchant, shop: Shop, activity: BargainActivity
) -> None:
    visitor = Client(HTTP_ACCEPT_LANGUAGE="en")
    shown = visitor.get(f"/s/{merchant.slug}/products/{shop.product.pk}/")
    assert shown.status_code == 200
    assert f'data-bargain-activity="{activity.pk}"' in shown.content.decode()
    BargainActivity.unscoped.filter(pk=activity.pk).update(status="paused")
    shown = visitor.get(f"/s/{merchant.slug}/products/{shop.product.pk}/")
    assert "data-bargain-activity" not in shown.content.decode()


def test_the_bargain_list_shows_running_activities_to_anyone(
    merchant: Merchant, shop: Shop, activity: BargainActivity
) -> None:
    from siyu.bargain.testing import make_activity

    paused = make_activity(merchant, shop.sku, status="paused", name="Paused one")
    visitor = Client(HTTP_ACCEPT_LANGUAGE="en")
    body = visitor.get(page(merchant, "")).content.decode()
    assert f'data-activity="{activity.pk}"' in body
    assert f'data-activity="{paused.pk}"' not in body
    assert "Log in to see my bargains" in body
