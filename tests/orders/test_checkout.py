"""Checkout: validate everything first, then price, write, reserve — or write nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from siyu.catalog.models import Product, ProductStore, Sku
from siyu.catalog.testing import first_sku, make_product
from siyu.core import clock
from siyu.core.errors import Forbidden, InvalidInput, NotFound
from siyu.core.models import DomainEvent
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.inventory import services as inventory
from siyu.inventory.models import StockLevel, StockReservation
from siyu.orders import services
from siyu.orders.models import CartLine, Order, OrderEvent, OrderLine, ShippingSettings
from siyu.orders.pricing import FixedDiscount
from siyu.orders.testing import make_address, make_customer, make_shop, stock
from siyu.stores.models import Store
from siyu.stores.testing import make_store


def counts(location, sku):
    level = StockLevel.unscoped.filter(location=location, sku=sku).first()
    return (level.on_hand, level.reserved) if level else (0, 0)


def nothing_written():
    return (
        not Order.unscoped.exists()
        and not OrderLine.unscoped.exists()
        and not StockReservation.unscoped.exists()
        and not DomainEvent.unscoped.filter(event_type__startswith="orders.").exists()
    )


def pickup(customer, shop, items=None, **kwargs):
    return services.checkout(
        customer,
        fulfilment="pickup",
        store_id=kwargs.pop("store_id", shop.store.pk),
        address_id=None,
        items=items if items is not None else [(shop.sku.pk, 2)],
        **kwargs,
    )


def test_a_pickup_order_snapshots_lines_prices_reserves_and_tells(shop, customer, bound, settings):
    settings.ORDER_PAYMENT_MINUTES = 15
    before = clock.now()
    order = pickup(customer, shop)
    assert order.status == Order.Status.PENDING_PAYMENT
    assert order.fulfilment == "pickup"
    assert order.store == shop.store
    assert order.location == shop.location
    assert order.subtotal == 3600
    assert order.total == 3600
    assert order.shipping_fee == 0
    assert len(order.pickup_code) == 6
    assert order.number.startswith(clock.local(before, "Asia/Shanghai").strftime("%Y%m%d"))
    assert before + timedelta(minutes=15) <= order.payment_deadline
    assert order.payment_deadline <= clock.now() + timedelta(minutes=15)
    (line,) = order.lines.all()
    assert (line.product_name, line.sku_code, line.unit_price, line.quantity, line.line_total) == (
        shop.product.name,
        shop.sku.code,
        1800,
        2,
        3600,
    )
    assert order.pricing["total"]["amount"] == 3600
    assert counts(shop.location, shop.sku) == (100, 2)
    assert StockReservation.objects.get().reference == f"order:{order.pk}"
    (event,) = OrderEvent.objects.filter(order=order)
    assert event.kind == "placed"
    assert event.to_status == "pending_payment"
    placed = DomainEvent.objects.get(event_type="orders.order.placed")
    assert placed.payload["id"] == order.pk
    assert placed.payload["total"] == 3600
    assert placed.payload["lines"] == [{"sku_id": shop.sku.pk, "quantity": 2, "line_total": 3600}]


def test_the_snapshot_survives_catalog_changes(shop, customer, bound):
    order = pickup(customer, shop)
    Sku.objects.filter(pk=shop.sku.pk).update(price=9900, code="CHANGED")
    Product.objects.filter(pk=shop.product.pk).update(name="Renamed")
    line = OrderLine.objects.get(order=order)
    assert (line.unit_price, line.sku_code, line.product_name) == (
        1800,
        shop.sku.code,
        shop.product.name,
    )


def test_a_delivery_order_ships_from_the_delivery_location_with_the_fee(shop, customer, bound):
    ShippingSettings.objects.create(flat_fee=800, free_over=5000)
    address = make_address(customer)
    order = services.checkout(
        customer,
        fulfilment="delivery",
        store_id=None,
        address_id=address.pk,
        items=[(shop.sku.pk, 1)],
    )
    assert order.location == shop.warehouse
    assert order.store is None
    assert order.pickup_code == ""
    assert order.shipping_fee == 800
    assert order.total == 1800 + 800
    assert order.shipping_address["recipient"] == address.recipient
    assert order.shipping_address["street"] == address.street
    assert counts(shop.warehouse, shop.sku) == (100, 1)
    assert counts(shop.location, shop.sku) == (100, 0)
    free = services.checkout(
        customer,
        fulfilment="delivery",
        store_id=None,
        address_id=address.pk,
        items=[(shop.sku.pk, 3)],
    )
    assert free.shipping_fee == 0
    assert free.total == 5400


def test_checkout_takes_the_cart_and_empties_it(shop, customer, bound):
    other = make_shop(bound, store=shop.store)
    services.add_to_cart(customer, shop.sku.pk, 2)
    services.add_to_cart(customer, other.sku.pk, 1)
    order = services.checkout(
        customer, fulfilment="pickup", store_id=shop.store.pk, address_id=None
    )
    assert [(line.sku_id, line.quantity) for line in order.lines.order_by("id")] == [
        (shop.sku.pk, 2),
        (other.sku.pk, 1),
    ]
    assert order.total == 3 * 1800
    assert not CartLine.objects.exists()


def test_an_empty_cart_cannot_check_out(shop, customer, bound):
    with pytest.raises(InvalidInput) as exc:
        services.checkout(customer, fulfilment="pickup", store_id=shop.store.pk, address_id=None)
    assert exc.value.fields == {"items": "The cart is empty."}


def test_promotions_plug_in_and_lines_carry_their_share(shop, customer, bound):
    order = pickup(customer, shop, adjusters=[FixedDiscount(500, code="WELCOME")])
    assert order.discount_total == 500
    assert order.total == 3100
    line = order.lines.get()
    assert line.discount == 500
    assert line.line_total == 3100
    assert order.pricing["discounts"][0]["code"] == "WELCOME"


def test_attribution_is_recorded(shop, customer, bound):
    order = pickup(
        customer,
        shop,
        attribution={"channel": "group", "group_id": 7, "guide_id": 9, "poster": "door-A"},
    )
    assert (order.channel, order.group_id, order.guide_id) == ("group", 7, 9)
    assert order.attribution == {"poster": "door-A"}
    payload = DomainEvent.objects.get(event_type="orders.order.placed").payload
    assert payload["group_id"] == 7
    assert payload["channel"] == "group"


# --- bad input: a clear 4xx naming the field, and nothing written -------------------------------


@pytest.mark.parametrize(
    ("items", "field", "reason"),
    [
        ([(999999, 1)], "items.0.sku_id", "Unknown SKU."),
        ([(0, 1)], "items.0.sku_id", "Unknown SKU."),
        (["x"], "items.0", "Expected a SKU id and a quantity."),
        ("SKU-1", "items", "Give the items as a list of SKU and quantity."),
        ([], "items", "Add at least one item."),
    ],
)
def test_unknown_skus_and_bad_shapes_are_refused(shop, customer, bound, items, field, reason):
    with pytest.raises(InvalidInput) as exc:
        pickup(customer, shop, items=items)
    assert exc.value.fields[field] == reason
    assert nothing_written()


@pytest.mark.parametrize(
    ("quantity", "reason"),
    [(0, "At least 1."), (-2, "At least 1."), (100, "At most 99."), ("2", "Give a whole number.")],
)
def test_bad_quantities_are_refused(shop, customer, bound, quantity, reason):
    with pytest.raises(InvalidInput) as exc:
        pickup(
            customer,
            shop,
            items=[(shop.sku.pk, 1), (make_shop(bound, store=shop.store).sku.pk, quantity)],
        )
    assert exc.value.status == 422
    assert exc.value.fields == {"items.1.quantity": reason}
    assert nothing_written()


def test_a_sku_listed_twice_is_refused(shop, customer, bound):
    with pytest.raises(InvalidInput) as exc:
        pickup(customer, shop, items=[(shop.sku.pk, 1), (shop.sku.pk, 2)])
    assert "items.1.sku_id" in exc.value.fields
    assert nothing_written()


def test_more_than_fifty_lines_are_refused(shop, customer, bound):
    with pytest.raises(InvalidInput) as exc:
        pickup(customer, shop, items=[(i + 1, 1) for i in range(51)])
    assert "50" in exc.value.fields["items"]


def test_another_merchants_sku_is_unknown(shop, customer, bound, other_merchant):
    theirs = make_shop(other_merchant)
    with pytest.raises(InvalidInput) as exc:
        pickup(customer, shop, items=[(theirs.sku.pk, 1)])
    assert exc.value.fields == {"items.0.sku_id": "Unknown SKU."}
    assert nothing_written()


def test_another_merchants_store_is_unknown(shop, customer, bound, other_merchant):
    theirs = make_store(other_merchant)
    with pytest.raises(InvalidInput) as exc:
        pickup(customer, shop, store_id=theirs.pk)
    assert exc.value.fields == {"store_id": "Unknown store."}
    assert nothing_written()


def test_pickup_needs_a_store_that_is_open_and_offers_pickup(shop, customer, bound):
    with pytest.raises(InvalidInput) as exc:
        pickup(customer, shop, store_id=None)
    assert exc.value.fields == {"store_id": "Choose the store to pick up from."}
    Store.objects.filter(pk=shop.store.pk).update(pickup_enabled=False)
    with pytest.raises(InvalidInput) as exc:
        pickup(customer, shop)
    assert exc.value.fields == {"store_id": "This store does not offer pickup."}
    Store.objects.filter(pk=shop.store.pk).update(
        pickup_enabled=True, status=Store.Status.TEMPORARILY_CLOSED
    )
    with pytest.raises(InvalidInput) as exc:
        pickup(customer, shop)
    assert exc.value.fields == {"store_id": "This store is closed."}
    assert nothing_written()


def test_a_product_not_sold_at_the_store_is_refused(shop, customer, bound):
    elsewhere = make_store(bound)
    product = make_product(
        bound, status=Product.Status.ON_SALE, sold_in_all_stores=False, store_ids=[elsewhere.pk]
    )
    sku = first_sku(product)
    stock(shop.location, sku, 5)
    with pytest.raises(InvalidInput) as exc:
        pickup(customer, shop, items=[(shop.sku.pk, 1), (sku.pk, 1)])
    assert exc.value.fields == {"items.1.sku_id": "Not sold at this store."}
    assert nothing_written()
    ProductStore.objects.create(product=product, store=shop.store)
    assert pickup(customer, shop, items=[(sku.pk, 1)]).total == 1800


def test_a_product_off_sale_or_an_inactive_sku_is_refused(shop, customer, bound):
    Product.objects.filter(pk=shop.product.pk).update(status=Product.Status.OFF_SALE)
    with pytest.raises(InvalidInput) as exc:
        pickup(customer, shop)
    assert exc.value.fields == {"items.0.sku_id": "No longer on sale."}
    Product.objects.filter(pk=shop.product.pk).update(status=Product.Status.ON_SALE)
    Sku.objects.filter(pk=shop.sku.pk).update(active=False)
    with pytest.raises(InvalidInput):
        pickup(customer, shop)
    assert nothing_written()


def test_delivery_needs_the_customers_own_address(shop, customer, bound):
    stranger = make_customer(bound)
    theirs = make_address(stranger)
    for address_id, reason in (
        (None, "Choose a delivery address."),
        (theirs.pk, "Unknown address."),
        (10**9, "Unknown address."),
    ):
        with pytest.raises(InvalidInput) as exc:
            services.checkout(
                customer,
                fulfilment="delivery",
                store_id=None,
                address_id=address_id,
                items=[(shop.sku.pk, 1)],
            )
        assert exc.value.fields == {"address_id": reason}
    assert nothing_written()


def test_delivery_without_a_delivery_location_is_refused(merchant, other_merchant, customer):
    shop = make_shop(merchant)  # no warehouse
    address = make_address(customer)
    with merchant_context(merchant), pytest.raises(InvalidInput) as exc:
        services.checkout(
            customer,
            fulfilment="delivery",
            store_id=None,
            address_id=address.pk,
            items=[(shop.sku.pk, 1)],
        )
    assert "fulfilment" in exc.value.fields
    assert nothing_written()


def test_every_problem_is_named_at_once(shop, customer, bound):
    with pytest.raises(InvalidInput) as exc:
        services.checkout(
            customer,
            fulfilment="drone",
            store_id=None,
            address_id=None,
            items=[(999999, 0)],
            note="x" * 201,
            attribution={"channel": "Not a Slug!", "guide_id": -1},
        )
    assert set(exc.value.fields) == {
        "fulfilment",
        "items.0.quantity",
        "items.0.sku_id",
        "note",
        "attribution.channel",
        "attribution.guide_id",
    }


def test_out_of_stock_names_the_line_and_writes_nothing(shop, customer, bound):
    scarce = make_shop(bound, store=shop.store, quantity=1)
    with pytest.raises(inventory.OutOfStock) as exc:
        pickup(customer, shop, items=[(shop.sku.pk, 1), (scarce.sku.pk, 2)])
    assert exc.value.status == 409
    assert exc.value.code == "out_of_stock"
    assert exc.value.fields == {"items.1.quantity": "Only 1 left."}
    assert nothing_written()
    assert counts(shop.location, shop.sku) == (100, 0)


def test_a_blocked_customer_cannot_order_and_another_merchants_customer_is_not_found(
    shop, customer, bound, other_merchant
):
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.BLOCKED)
    customer.refresh_from_db()
    with pytest.raises(Forbidden):
        pickup(customer, shop)
    stranger = make_customer(other_merchant)
    with pytest.raises(NotFound):
        pickup(stranger, shop)
    assert nothing_written()


# --- queries -------------------------------------------------------------------------------------


def test_checkout_takes_a_handful_of_queries_however_many_lines(
    shop, customer, bound, django_assert_max_num_queries
):
    skus = [make_shop(bound, store=shop.store).sku for _ in range(10)]
    with CaptureQueriesContext(connection) as one:
        pickup(customer, shop, items=[(shop.sku.pk, 1)])
    with CaptureQueriesContext(connection) as ten:
        pickup(customer, shop, items=[(sku.pk, 1) for sku in skus])
    print(f"\ncheckout queries: 1 line {len(one)}, 10 lines {len(ten)}")
    assert len(one) <= 11
    # each further SKU costs one stock UPDATE (the conditional one that cannot oversell),
    # and several SKUs one SELECT of their stock rows, to lock them in id order
    assert len(ten) <= 11 + 9 + 2
    with django_assert_max_num_queries(11):
        pickup(customer, shop, items=[(shop.sku.pk, 1)])


def test_a_colliding_number_or_pickup_code_is_drawn_again(shop, customer, bound, monkeypatch):
    from siyu.orders import numbers

    first = pickup(customer, shop)
    drawn = iter([first.number, first.number, "202601010000000001"])
    codes = iter([first.pickup_code, first.pickup_code, "123456"])
    monkeypatch.setattr(numbers, "order_number", lambda day, rng=None: next(drawn))
    monkeypatch.setattr(numbers, "pickup_code", lambda rng=None: next(codes))
    second = pickup(customer, shop)
    assert second.number == "202601010000000001"
    assert second.pickup_code == "123456"
    assert Order.objects.count() == 2
    assert counts(shop.location, shop.sku) == (100, 4)
    assert OrderLine.objects.count() == 2


def test_a_pickup_code_is_free_again_once_the_order_is_closed(shop, customer, bound, monkeypatch):
    from siyu.orders import numbers

    first = pickup(customer, shop)
    services.cancel(first, actor=customer, reason="")
    monkeypatch.setattr(numbers, "pickup_code", lambda rng=None: first.pickup_code)
    assert pickup(customer, shop).pickup_code == first.pickup_code
