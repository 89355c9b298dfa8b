"""Refunds recorded on orders (called by payments) and the customer's cart."""

from __future__ import annotations

import pytest

from siyu.catalog.models import Product, Sku
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.models import DomainEvent
from siyu.core.tenancy import merchant_context
from siyu.inventory.models import StockLevel
from siyu.orders import services
from siyu.orders.models import Cart, CartLine, OrderEvent, OrderLine, OrderRefund
from siyu.orders.testing import make_customer, make_order, make_shop
from siyu.stores.testing import make_store


def on_hand(location, sku):
    return StockLevel.unscoped.get(location=location, sku=sku).on_hand


@pytest.fixture
def paid(bound, shop, customer):
    other = make_shop(bound, store=shop.store, price=1000)
    return make_order(
        bound,
        status="paid",
        shop=shop,
        customer=customer,
        items=[(shop.sku.pk, 2), (other.sku.pk, 1)],
    ), other


def test_a_partial_refund_restocks_exactly_what_was_refunded(paid, shop):
    order, _other = paid
    line = order.lines.get(sku=shop.sku)
    assert on_hand(shop.location, shop.sku) == 98
    refunded = services.apply_refund(
        order, lines=[(line.pk, 1, 1800)], amount=1800, restock=True, reference="R1"
    )
    assert refunded.refund_state == "partial"
    assert refunded.refunded_total == 1800
    assert refunded.status == "paid"
    line.refresh_from_db()
    assert (line.refunded_quantity, line.refunded_amount) == (1, 1800)
    assert on_hand(shop.location, shop.sku) == 99
    again = services.apply_refund(
        order, lines=[(line.pk, 1, 1800)], amount=1800, restock=True, reference="R1"
    )
    assert again.refunded_total == 1800
    assert on_hand(shop.location, shop.sku) == 99
    assert OrderRefund.objects.count() == 1
    assert DomainEvent.objects.filter(event_type="orders.order.refunded").count() == 1
    event = OrderEvent.objects.get(order=order, kind="refunded")
    assert event.data["amount"] == 1800


def test_a_refund_without_restock_leaves_the_stock(paid, shop):
    order, _other = paid
    line = order.lines.get(sku=shop.sku)
    services.apply_refund(
        order, lines=[(line.pk, 1, 1800)], amount=1800, restock=False, reference="R1"
    )
    assert on_hand(shop.location, shop.sku) == 98


def test_a_full_refund_of_an_unfulfilled_order_cancels_it(paid, shop):
    order, other = paid
    lines = [(ln.pk, ln.quantity, ln.line_total) for ln in order.lines.all()]
    done = services.apply_refund(
        order, lines=lines, amount=order.total, restock=True, reference="R-all"
    )
    assert done.refund_state == "full"
    assert done.status == "cancelled"
    assert done.cancel_reason == "Refunded in full"
    assert on_hand(shop.location, shop.sku) == 100
    assert on_hand(shop.location, other.sku) == 100
    assert [e.kind for e in OrderEvent.objects.filter(order=order)][-2:] == [
        "refunded",
        "cancelled",
    ]
    assert DomainEvent.objects.filter(event_type="orders.order.cancelled").count() == 1


def test_a_full_refund_of_a_completed_order_keeps_it_completed(bound):
    order = make_order(bound, status="completed")
    done = services.apply_refund(order, lines=[], amount=order.total, restock=False, reference="R")
    assert (done.status, done.refund_state) == ("completed", "full")


def test_refunds_never_exceed_what_was_paid(paid, shop):
    order, _other = paid
    line = order.lines.get(sku=shop.sku)
    services.apply_refund(
        order, lines=[(line.pk, 2, 3000)], amount=3000, restock=False, reference="R1"
    )
    with pytest.raises(InvalidInput) as exc:
        services.apply_refund(
            order, lines=[(line.pk, 1, 0)], amount=0, restock=False, reference="R2"
        )
    assert "lines.0.quantity" in exc.value.fields
    with pytest.raises(InvalidInput) as exc:
        services.apply_refund(order, lines=[], amount=order.total, restock=False, reference="R3")
    assert "amount" in exc.value.fields
    assert OrderRefund.objects.count() == 1


def test_a_line_of_another_order_is_refused(paid, bound):
    order, _other = paid
    stranger = make_order(bound, status="paid")
    foreign = OrderLine.objects.get(order=stranger)
    with pytest.raises(InvalidInput) as exc:
        services.apply_refund(
            order, lines=[(foreign.pk, 1, 100)], amount=100, restock=True, reference="R"
        )
    assert exc.value.fields == {"lines.0.order_line_id": "Not a line of this order."}


def test_an_unpaid_order_cannot_be_refunded(bound):
    order = make_order(bound)
    with pytest.raises(Conflict) as exc:
        services.apply_refund(order, lines=[], amount=100, restock=False, reference="R")
    assert exc.value.code == "order_not_paid"
    with pytest.raises(InvalidInput):
        services.apply_refund(order, lines=[], amount=100, restock=False, reference="")


# --- cart -----------------------------------------------------------------------------------------------


def test_adding_the_same_sku_adds_up_to_99(shop, customer, bound):
    services.add_to_cart(customer, shop.sku.pk, 2)
    line = services.add_to_cart(customer, shop.sku.pk, 3)
    assert line.quantity == 5
    assert Cart.objects.get(customer=customer).lines.count() == 1
    with pytest.raises(InvalidInput) as exc:
        services.add_to_cart(customer, shop.sku.pk, 95)
    assert exc.value.fields == {"quantity": "At most 99 of one item."}
    assert CartLine.objects.get().quantity == 5


def test_set_and_remove_and_clear(shop, customer, bound):
    assert services.set_cart_quantity(customer, shop.sku.pk, 7).quantity == 7
    assert services.set_cart_quantity(customer, shop.sku.pk, 2).quantity == 2
    with pytest.raises(InvalidInput) as exc:
        services.set_cart_quantity(customer, shop.sku.pk, 0)
    assert exc.value.fields == {"quantity": "At least 1."}
    assert services.remove_from_cart(customer, shop.sku.pk) is True
    assert services.remove_from_cart(customer, shop.sku.pk) is False
    services.add_to_cart(customer, shop.sku.pk, 1)
    assert services.clear_cart(customer) == 1
    assert not CartLine.objects.exists()


@pytest.mark.parametrize("quantity", [0, 100, -1, "3", None])
def test_bad_cart_quantities_are_refused(shop, customer, bound, quantity):
    with pytest.raises(InvalidInput) as exc:
        services.add_to_cart(customer, shop.sku.pk, quantity)
    assert "quantity" in exc.value.fields
    assert not CartLine.objects.exists()


def test_only_sellable_skus_of_the_merchant_go_in_the_cart(shop, customer, bound, other_merchant):
    theirs = make_shop(other_merchant)
    with pytest.raises(InvalidInput) as exc:
        services.add_to_cart(customer, theirs.sku.pk, 1)
    assert exc.value.fields == {"sku_id": "Unknown SKU."}
    Product.objects.filter(pk=shop.product.pk).update(status=Product.Status.OFF_SALE)
    with pytest.raises(InvalidInput) as exc:
        services.add_to_cart(customer, shop.sku.pk, 1)
    assert exc.value.fields == {"sku_id": "No longer on sale."}
    Product.objects.filter(pk=shop.product.pk).update(
        status=Product.Status.ON_SALE, sold_in_all_stores=False
    )
    with pytest.raises(InvalidInput) as exc:
        services.add_to_cart(customer, shop.sku.pk, 1, store_id=make_store(bound).pk)
    assert exc.value.fields == {"sku_id": "Not sold at this store."}
    with pytest.raises(InvalidInput) as exc:
        services.add_to_cart(customer, shop.sku.pk, 1, store_id=10**9)
    assert exc.value.fields == {"store_id": "Unknown store."}
    assert not CartLine.objects.exists()


def test_a_cart_holds_at_most_fifty_lines(shop, customer, bound, monkeypatch):
    monkeypatch.setattr(services, "MAX_CART_LINES", 2)
    services.add_to_cart(customer, shop.sku.pk, 1)
    services.add_to_cart(customer, make_shop(bound, store=shop.store).sku.pk, 1)
    with pytest.raises(InvalidInput) as exc:
        services.add_to_cart(customer, make_shop(bound, store=shop.store).sku.pk, 1)
    assert exc.value.code == "cart_full"
    assert services.MAX_CART_LINES == 2
    assert CartLine.objects.count() == 2


def test_another_merchants_customer_has_no_cart_here(bound, other_merchant, shop):
    stranger = make_customer(other_merchant)
    with pytest.raises(NotFound):
        services.add_to_cart(stranger, shop.sku.pk, 1)


# --- factories -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status",
    [
        "pending_payment",
        "paid",
        "preparing",
        "shipped",
        "ready_for_pickup",
        "completed",
        "cancelled",
    ],
)
def test_make_order_reaches_every_status(merchant, other_merchant, status):
    fulfilment = "delivery" if status == "shipped" else "pickup"
    order = make_order(merchant, status=status, fulfilment=fulfilment)
    assert order.status == status
    with merchant_context(merchant):
        assert Sku.objects.exists()


def test_make_order_refuses_an_unknown_status(merchant):
    with pytest.raises(ValueError, match="lost"):
        make_order(merchant, status="lost")
