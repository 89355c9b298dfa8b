"""Checkout's context: everything a checkout needs, loaded once and validated as a whole.

:func:`load` reads the SKUs with their products, the store and whether it sells
them, the stock location, the address and the merchant's shipping rule in a
handful of queries regardless of the number of lines, checks every rule, and
raises one ``InvalidInput`` naming every bad field (``items.2.sku_id``,
``store_id``, ``address_id``...) before anything is written. The result is a
:class:`CheckoutContext` that prices itself with :mod:`siyu.orders.pricing`;
``services.checkout`` places the order from it and ``selectors.checkout_preview``
shows the same figures without placing anything. Reads only: no writes here
(a store's stock location is created on first use by the inventory app).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _

from siyu.catalog.models import Product, ProductStore, Sku
from siyu.core.errors import Forbidden, InvalidInput, NotFound
from siyu.core.tenancy import current_merchant
from siyu.inventory import services as inventory
from siyu.orders import pricing
from siyu.orders.models import CartLine, ShippingSettings
from siyu.orders.pricing import PricedCart, PricingLine, ShippingRule
from siyu.stores.models import Store

if TYPE_CHECKING:
    from siyu.core.models import Merchant
    from siyu.customers.models import Customer, CustomerAddress
    from siyu.inventory.models import Location

MAX_LINES = 50
MAX_QUANTITY = pricing.MAX_QUANTITY
MAX_NOTE = 200
ATTRIBUTION_IDS = (
    "group_id",
    "guide_id",
    "join_code_id",
    "distributor_id",
    "campaign_id",
    "live_room_id",
)
MAX_EXTRA_ATTRIBUTION = 20
CHANNEL_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,23}$")
MAX_ID = 2**63 - 1


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def quantity_problem(quantity: object) -> str | None:
    if not _is_int(quantity):
        return _("Give a whole number.")
    assert isinstance(quantity, int)
    if quantity < 1:
        return _("At least 1.")
    if quantity > MAX_QUANTITY:
        return _("At most %(n)d.") % {"n": MAX_QUANTITY}
    return None


def shipping_rule(merchant: Merchant | None = None) -> ShippingRule:
    """The merchant's delivery fee rule (free delivery when none is set)."""
    merchant = merchant or current_merchant()
    row = ShippingSettings.unscoped.filter(merchant_id=merchant.pk).first()
    if row is None:
        return ShippingRule()
    return ShippingRule(flat_fee=row.flat_fee, free_over=row.free_over)


def sellable_problem(
    sku: Sku | None, store: Store | None, sold_in_store: set[int] | None
) -> str | None:
    """Why ``sku`` cannot be bought (at ``store``), or None. ``sku.product`` must be loaded."""
    if sku is None:
        return _("Unknown SKU.")
    if not sku.active or sku.product.status != Product.Status.ON_SALE:
        return _("No longer on sale.")
    if (
        store is not None
        and not sku.product.sold_in_all_stores
        and (sold_in_store is None or sku.product_id not in sold_in_store)
    ):
        return _("Not sold at this store.")
    return None


def load_skus(sku_ids: Sequence[int]) -> dict[int, Sku]:
    """The merchant's SKUs with their products, by id (one query)."""
    ids = [i for i in sku_ids if _is_int(i) and 0 < i <= MAX_ID]
    if not ids:
        return {}
    return {sku.pk: sku for sku in Sku.objects.select_related("product").filter(pk__in=ids)}


def products_sold_at(store: Store, products: Sequence[Product]) -> set[int]:
    """Which of ``products`` ``store`` sells (one query, only for store-limited products)."""
    limited = [p.pk for p in products if not p.sold_in_all_stores]
    sold = {p.pk for p in products if p.sold_in_all_stores}
    if limited:
        sold |= set(
            ProductStore.objects.filter(store=store, product_id__in=limited).values_list(
                "product_id", flat=True
            )
        )
    return sold


def store_location(store: Store) -> Location:
    """The store's stock location: read with the store when it exists (no extra query),
    else created by the inventory app on first use."""
    try:
        return store.stock_location
    except ObjectDoesNotExist:
        return inventory.location_for_store(store)


def pickup_store_problem(store: Store | None) -> str | None:
    if store is None:
        return _("Unknown store.")
    if store.status != Store.Status.OPEN:
        return _("This store is closed.")
    if not store.pickup_enabled:
        return _("This store does not offer pickup.")
    return None


@dataclass
class CheckoutContext:
    customer: Customer
    merchant: Merchant
    fulfilment: str
    items: list[tuple[int, int]]  # (sku_id, quantity) in the customer's order
    skus: dict[int, Sku]
    store: Store | None
    location: Location
    address: CustomerAddress | None
    shipping: ShippingRule
    note: str = ""
    attribution: dict[str, Any] = field(default_factory=dict)
    from_cart: bool = False
    adjusters: Sequence[pricing.Adjuster] = ()

    def pricing_lines(self) -> list[PricingLine]:
        return [
            PricingLine(
                sku_id=sku_id,
                quantity=quantity,
                unit_price=self.skus[sku_id].price,
                product_id=self.skus[sku_id].product_id,
                list_price=self.skus[sku_id].list_price,
            )
            for sku_id, quantity in self.items
        ]

    def price(self) -> PricedCart:
        return pricing.price_cart(
            self.pricing_lines(),
            fulfilment=self.fulfilment,
            shipping=self.shipping,
            adjustments=self.adjusters,
            currency=self.merchant.currency,
        )

    def address_snapshot(self) -> dict[str, str] | None:
        if self.address is None:
            return None
        a = self.address
        return {
            "recipient": a.recipient,
            "phone": a.phone,
            "province": a.province,
            "city": a.city,
            "district": a.district,
            "street": a.street,
            "postal_code": a.postal_code,
        }


def clean_attribution(raw: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, str]]:
    """Columns (``channel``, ``*_id``) and extra keys (into ``Order.attribution``), with problems."""
    values: dict[str, Any] = {"attribution": {}}
    errors: dict[str, str] = {}
    if raw is None:
        return values, errors
    if not isinstance(raw, Mapping):
        return values, {"attribution": _("Give the attribution as name → value.")}
    extra: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"attribution.{key}"
        if key == "channel":
            if not isinstance(value, str) or not CHANNEL_RE.match(value):
                errors[name] = _("1–24 lowercase letters, digits, dots, dashes or underscores.")
            else:
                values["channel"] = value
        elif key in ATTRIBUTION_IDS:
            if value is None:
                continue
            if not _is_int(value) or not 0 < value <= MAX_ID:
                errors[name] = _("Give a positive whole number.")
            else:
                values[key] = value
        elif not isinstance(key, str) or not 0 < len(key) <= 40:
            errors["attribution"] = _("Names of at most 40 characters.")
        elif (
            isinstance(value, bool)
            or not isinstance(value, (str, int))
            or (isinstance(value, str) and len(value) > 200)
        ):
            errors[name] = _("A number or a text of at most 200 characters.")
        else:
            extra[key] = value
    if len(extra) > MAX_EXTRA_ATTRIBUTION:
        errors["attribution"] = _("At most %(n)d extra values.") % {"n": MAX_EXTRA_ATTRIBUTION}
    values["attribution"] = extra
    return values, errors


def _cart_items(customer: Customer) -> list[tuple[int, int]]:
    return list(
        CartLine.objects.filter(cart__customer=customer)
        .order_by("added_at", "id")
        .values_list("sku_id", "quantity")
    )


def _check_customer(customer: Customer) -> Merchant:
    merchant = current_merchant()
    if customer.merchant_id != merchant.pk:
        raise NotFound(_("Not found."))
    if customer.status != customer.Status.ACTIVE:
        raise Forbidden(_("This account cannot place orders."), code="customer_blocked")
    return merchant


def load(
    customer: Customer,
    *,
    fulfilment: str,
    store_id: int | None,
    address_id: int | None,
    items: Sequence[tuple[int, int]] | None = None,
    note: str = "",
    attribution: Mapping[str, Any] | None = None,
    adjusters: Sequence[pricing.Adjuster] = (),
) -> CheckoutContext:
    """Load and check everything a checkout needs; one ``InvalidInput`` lists every problem."""
    from siyu.customers.models import CustomerAddress

    merchant = _check_customer(customer)
    errors: dict[str, str] = {}
    from_cart = items is None
    raw_items: Sequence[Any] = _cart_items(customer) if items is None else items

    if fulfilment not in pricing.FULFILMENTS:
        errors["fulfilment"] = _("Choose delivery or pickup.")

    # items: shape and quantities first, then what the catalog says
    cleaned: list[tuple[int, int]] = []
    positions: dict[int, int] = {}
    if isinstance(raw_items, (str, bytes)) or not isinstance(raw_items, Sequence):
        errors["items"] = _("Give the items as a list of SKU and quantity.")
        raw_items = []
    if not raw_items and "items" not in errors:
        errors["items"] = _("The cart is empty.") if from_cart else _("Add at least one item.")
    if len(raw_items) > MAX_LINES:
        errors["items"] = _("At most %(n)d different items in one order.") % {"n": MAX_LINES}
        raw_items = []
    for n, item in enumerate(raw_items):
        try:
            sku_id, quantity = item
        except (TypeError, ValueError):
            errors[f"items.{n}"] = _("Expected a SKU id and a quantity.")
            continue
        if not _is_int(sku_id) or not 0 < sku_id <= MAX_ID:
            errors[f"items.{n}.sku_id"] = _("Unknown SKU.")
            continue
        problem = quantity_problem(quantity)
        if problem:
            errors[f"items.{n}.quantity"] = problem
        if sku_id in positions:
            errors[f"items.{n}.sku_id"] = _("Listed twice: change the quantity of item %(n)d.") % {
                "n": positions[sku_id] + 1
            }
            continue
        positions[sku_id] = n
        cleaned.append((sku_id, quantity))

    skus = load_skus([sku_id for sku_id, _q in cleaned])

    # the store: required for pickup, optional attribution for delivery
    store: Store | None = None
    if store_id is not None:
        store = (
            Store.objects.select_related("stock_location").filter(pk=store_id).first()
            if _is_int(store_id)
            else None
        )
        if store is None:
            errors["store_id"] = _("Unknown store.")
        elif fulfilment == pricing.PICKUP:
            problem = pickup_store_problem(store)
            if problem:
                errors["store_id"] = problem
    elif fulfilment == pricing.PICKUP:
        errors["store_id"] = _("Choose the store to pick up from.")

    pickup_store = store if fulfilment == pricing.PICKUP and "store_id" not in errors else None
    products = list({sku.product_id: sku.product for sku in skus.values()}.values())
    sold = products_sold_at(pickup_store, products) if pickup_store is not None else None
    for sku_id, n in positions.items():
        problem = sellable_problem(skus.get(sku_id), pickup_store, sold)
        if problem:
            errors[f"items.{n}.sku_id"] = problem

    # where the stock comes from, and where it goes
    address: CustomerAddress | None = None
    location: Location | None = None
    if fulfilment == pricing.DELIVERY:
        if address_id is None:
            errors["address_id"] = _("Choose a delivery address.")
        else:
            address = (
                CustomerAddress.objects.filter(pk=address_id, customer=customer).first()
                if _is_int(address_id)
                else None
            )
            if address is None:
                errors["address_id"] = _("Unknown address.")
        location = inventory.delivery_location(merchant)
        if location is None:
            errors["fulfilment"] = _("This shop does not deliver yet: choose pickup.")
    elif pickup_store is not None:
        location = store_location(pickup_store)
        if not location.active:
            errors["store_id"] = _("This store cannot take orders now.")

    if not isinstance(note, str):
        errors["note"] = _("Give the note as text.")
        note = ""
    note = note.strip()
    if len(note) > MAX_NOTE:
        errors["note"] = _("At most %(n)d characters.") % {"n": MAX_NOTE}
    attribution_values, problems = clean_attribution(attribution)
    errors.update(problems)

    if errors:
        raise InvalidInput(_("The order could not be placed."), fields=errors)
    assert location is not None
    return CheckoutContext(
        customer=customer,
        merchant=merchant,
        fulfilment=fulfilment,
        items=cleaned,
        skus=skus,
        store=store,
        location=location,
        address=address,
        # pickup never pays shipping: no need to read the rule
        shipping=shipping_rule(merchant) if fulfilment == pricing.DELIVERY else ShippingRule(),
        note=note,
        attribution=attribution_values,
        from_cart=from_cart,
        adjusters=adjusters,
    )
