"""Reads the storefront builds on: the priced cart with stock, checkout preview, own orders."""

from __future__ import annotations

import pytest

from siyu.catalog.models import Product
from siyu.core.errors import InvalidInput
from siyu.inventory.models import StockReservation
from siyu.orders import selectors, services
from siyu.orders.models import Order, ShippingSettings
from siyu.orders.pricing import FixedDiscount
from siyu.orders.testing import make_address, make_customer, make_order, make_shop
from siyu.stores.models import Store


def test_the_cart_is_priced_with_stock_per_line(shop, customer, bound):
    scarce = make_shop(bound, store=shop.store, quantity=1, price=1000)
    services.add_to_cart(customer, shop.sku.pk, 2)
    services.add_to_cart(customer, scarce.sku.pk, 3)
    view = selectors.cart_view(customer, fulfilment="pickup", store_id=shop.store.pk)
    assert view.count == 5
    first, second = view.items
    assert (first.available, first.problem, first.gross) == (100, None, 3600)
    assert (second.available, second.problem) == (1, "Only 1 left.")
    assert view.priced is not None
    assert view.priced.total == 3600  # only what can be bought now
    assert not view.can_check_out


def test_the_cart_without_a_store_has_no_stock_figures(shop, customer, bound):
    services.add_to_cart(customer, shop.sku.pk, 1)
    view = selectors.cart_view(customer)
    assert view.items[0].available is None
    assert view.can_check_out
    assert view.priced.total == 1800


def test_the_cart_for_delivery_uses_the_fee_and_the_warehouse(shop, customer, bound):
    ShippingSettings.objects.create(flat_fee=600)
    services.add_to_cart(customer, shop.sku.pk, 1)
    view = selectors.cart_view(customer, fulfilment="delivery", adjusters=[FixedDiscount(100)])
    assert view.location == shop.warehouse
    assert view.priced.shipping_fee == 600
    assert view.priced.total == 1800 - 100 + 600


def test_the_cart_says_what_cannot_be_bought(shop, customer, bound):
    services.add_to_cart(customer, shop.sku.pk, 1)
    Product.objects.filter(pk=shop.product.pk).update(status=Product.Status.OFF_SALE)
    Store.objects.filter(pk=shop.store.pk).update(pickup_enabled=False)
    view = selectors.cart_view(customer, fulfilment="pickup", store_id=shop.store.pk)
    assert view.problems == {"store_id": "This store does not offer pickup."}
    assert view.items[0].problem == "No longer on sale."
    assert view.priced is None
    empty = selectors.cart_view(make_customer(bound))
    assert empty.items == []
    assert not empty.can_check_out


def test_checkout_preview_prices_without_placing(shop, customer, bound):
    address = make_address(customer)
    ShippingSettings.objects.create(flat_fee=800, free_over=10000)
    preview = selectors.checkout_preview(
        customer, fulfilment="delivery", address_id=address.pk, items=[(shop.sku.pk, 2)]
    )
    assert preview.priced.total == 3600 + 800
    assert preview.can_place
    assert not Order.objects.exists()
    assert not StockReservation.objects.exists()
    order = services.checkout(
        customer, fulfilment="delivery", address_id=address.pk, items=[(shop.sku.pk, 2)]
    )
    assert order.total == preview.priced.total
    assert order.pricing == preview.priced.explanation()


def test_checkout_preview_names_shortages_and_bad_input(shop, customer, bound):
    preview = selectors.checkout_preview(
        customer, fulfilment="pickup", store_id=shop.store.pk, items=[(shop.sku.pk, 99)]
    )
    assert preview.shortages == {}
    assert preview.can_place
    scarce = make_shop(bound, store=shop.store, quantity=2)
    preview = selectors.checkout_preview(
        customer, fulfilment="pickup", store_id=shop.store.pk, items=[(scarce.sku.pk, 3)]
    )
    assert preview.shortages == {"items.0.quantity": "Only 2 left."}
    assert not preview.can_place
    with pytest.raises(InvalidInput) as exc:
        selectors.checkout_preview(
            customer, fulfilment="pickup", store_id=None, items=[(shop.sku.pk, 0)]
        )
    assert set(exc.value.fields) == {"store_id", "items.0.quantity"}


def test_customers_see_only_their_own_orders(shop, customer, bound):
    mine = make_order(bound, shop=shop, customer=customer)
    paid = make_order(bound, shop=shop, customer=customer, status="paid")
    theirs = make_order(bound, shop=shop)
    assert list(selectors.customer_orders(customer)) == [paid, mine]
    assert list(selectors.customer_orders(customer, status="paid")) == [paid]
    found = selectors.customer_order(customer, mine.pk)
    assert found == mine
    assert [e.kind for e in found.events.all()] == ["placed"]
    assert selectors.customer_order(customer, theirs.pk) is None


def test_explanations_read_in_the_active_language(shop, customer, bound):
    order = make_order(bound, shop=shop, customer=customer, quantity=2)
    figures = selectors.explain(order)
    assert [f.name for f in figures] == ["line.0", "subtotal", "shipping", "total"]
    assert figures[0].text == "2 × ¥18.00 = ¥36.00"
    assert figures[-1].amount == 3600
    assert selectors.event_label("collected") == "Collected with the pickup code"
    assert selectors.event_label("something-new") == "something-new"


@pytest.mark.parametrize(
    ("q", "lookups"),
    [
        ("", None),
        ("202611220000000001", {"number", "customer__phone__endswith"}),
        ("5678", {"number", "customer__phone__endswith"}),
        ("138 1234 5678", {"number", "customer__phone"}),
        ("+8613812345678", {"number", "customer__phone"}),
        ("李雷", {"number__iexact", "customer__name__icontains"}),
    ],
)
def test_search_understands_numbers_phones_and_names(q, lookups):
    condition = selectors.search_filter(q)
    if lookups is None:
        assert condition is None
    else:
        assert {name for name, _value in condition.children} == lookups
