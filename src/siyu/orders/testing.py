"""Factories for order tests, benchmarks and demo data: explicit merchant, real services.

``make_order(merchant, status="paid")`` makes whatever is missing (a customer, a
store with stock, a product) and walks the order through the real services to
the status asked for, so every timeline, reservation and event is as in life.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from siyu.catalog.models import Product, Sku
from siyu.catalog.testing import first_sku, make_product
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.core.testing import next_id
from siyu.customers import services as customer_services
from siyu.customers.models import Customer, CustomerAddress
from siyu.inventory import services as inventory
from siyu.inventory.models import Location
from siyu.orders import services
from siyu.orders.models import Order
from siyu.stores.models import Store
from siyu.stores.testing import make_store

__all__ = [
    "Shop",
    "make_address",
    "make_customer",
    "make_order",
    "make_shop",
    "make_warehouse",
    "stock",
]

# The statuses make_order can produce, and the path to each.
PATHS: dict[str, tuple[str, ...]] = {
    "pending_payment": (),
    "paid": ("pay",),
    "preparing": ("pay", "prepare"),
    "shipped": ("pay", "prepare", "ship"),
    "ready_for_pickup": ("pay", "prepare", "ready"),
    "completed": ("pay", "prepare", "finish"),
    "cancelled": ("cancel",),
}


def make_customer(merchant: Merchant, phone: str | None = None, **fields: Any) -> Customer:
    """A customer made by the customers app (phone +86 138… unless given)."""
    phone = phone or f"+86138{next_id():08d}"
    return customer_services.get_or_create_customer(merchant, phone, **fields)


def make_address(customer: Customer, **fields: Any) -> CustomerAddress:
    values: dict[str, Any] = {
        "recipient": "张三",
        "phone": "+8613800138000",
        "province": "上海市",
        "city": "上海市",
        "district": "静安区",
        "street": f"南京西路{next_id()}号",
    }
    values.update(fields)
    merchant = Merchant.objects.get(pk=customer.merchant_id)
    with merchant_context(merchant):
        return customer_services.add_address(customer, **values)


def stock(location: Location, sku: Sku, quantity: int) -> None:
    """Receive ``quantity`` of ``sku`` at ``location`` (as the system)."""
    merchant = Merchant.objects.get(pk=location.merchant_id)
    with merchant_context(merchant):
        inventory.receive(Actor.system(merchant), location=location, sku=sku, quantity=quantity)


def make_warehouse(merchant: Merchant, *, ships_delivery: bool = True) -> Location:
    """A warehouse that ships delivery orders (made by the inventory app)."""
    n = next_id()
    with merchant_context(merchant):
        return inventory.create_warehouse(
            Actor.system(merchant),
            code=f"WH{n}",
            name=f"Warehouse {n}",
            ships_delivery=ships_delivery,
        )


@dataclass
class Shop:
    """A merchant's store with its stock location, one product on sale and its SKU stocked."""

    merchant: Merchant
    store: Store
    location: Location
    product: Product
    sku: Sku
    warehouse: Location | None = None


def make_shop(
    merchant: Merchant,
    *,
    quantity: int = 100,
    price: int = 1800,
    delivery: bool = False,
    store: Store | None = None,
    **product_fields: Any,
) -> Shop:
    """A store (or ``store``), a product on sale at ``price`` with ``quantity`` in stock there;
    with ``delivery``, also a warehouse that ships, holding ``quantity`` too."""
    from siyu.catalog.services import SkuInput

    store = store or make_store(merchant)
    product_fields.setdefault("status", Product.Status.ON_SALE)
    product = make_product(
        merchant, skus=[SkuInput(code=f"SKU-{next_id()}", price=price)], **product_fields
    )
    sku = first_sku(product)
    with merchant_context(merchant):
        location = inventory.location_for_store(store)
    if quantity:
        stock(location, sku, quantity)
    warehouse = None
    if delivery:
        warehouse = make_warehouse(merchant)
        if quantity:
            stock(warehouse, sku, quantity)
    return Shop(merchant, store, location, product, sku, warehouse)


def make_order(
    merchant: Merchant,
    *,
    status: str = "pending_payment",
    customer: Customer | None = None,
    shop: Shop | None = None,
    fulfilment: str = "pickup",
    items: Sequence[tuple[int, int]] | None = None,
    quantity: int = 1,
    address: CustomerAddress | None = None,
    paid_at: Any = None,
    **checkout_fields: Any,
) -> Order:
    """An order of ``merchant`` in ``status``, through the real services.

    Missing pieces are made: a customer, a shop with 100 in stock (and a delivery
    warehouse for delivery orders), an address. ``items`` default to ``quantity`` of the
    shop's SKU. ``completed`` pickup orders are collected with their code; delivery ones
    shipped and then completed.
    """
    if status not in PATHS:
        raise ValueError(f"make_order cannot make a {status!r} order")
    shop = shop or make_shop(merchant, delivery=fulfilment == "delivery")
    customer = customer or make_customer(merchant)
    if fulfilment == "delivery" and address is None and "address_id" not in checkout_fields:
        address = make_address(customer)
    staff = Actor.system(merchant, label="test staff")
    with merchant_context(merchant):
        order = services.checkout(
            customer,
            fulfilment=fulfilment,
            store_id=checkout_fields.pop("store_id", shop.store.pk),
            address_id=checkout_fields.pop("address_id", address.pk if address else None),
            items=list(items) if items is not None else [(shop.sku.pk, quantity)],
            **checkout_fields,
        )
        for step in PATHS[status]:
            if step == "pay":
                order = services.mark_paid(
                    order,
                    payment_reference=f"test-pay-{order.pk}",
                    paid_at=paid_at or clock.now(),
                )
            elif step == "prepare":
                order = services.start_preparing(staff, order)
            elif step == "ship":
                order = services.mark_shipped(staff, order, "顺丰速运", f"SF{next_id():010d}")
            elif step == "ready":
                order = services.mark_ready_for_pickup(staff, order)
            elif step == "finish" and order.fulfilment == Order.Fulfilment.PICKUP:
                order = services.verify_pickup(staff, order, order.pickup_code)
            elif step == "finish":
                order = services.mark_shipped(staff, order, "顺丰速运", f"SF{next_id():010d}")
                order = services.complete(staff, order)
            elif step == "cancel":
                order = services.cancel(order, actor=None, reason="test")
    return order
