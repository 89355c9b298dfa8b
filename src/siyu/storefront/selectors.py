"""Reads of the storefront: what the shop pages and the customer API show.

The storefront has no tables. These functions compose the catalog, stores,
inventory, orders and payments selectors into what a customer sees — products
on sale with their stock at the chosen store, the store chooser, the priced
cart, the customer's orders with what they may do next — so pages and the API
answer the same. Everything reads the bound merchant (``StorefrontMiddleware``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from siyu.catalog import selectors as catalog_selectors
from siyu.catalog.models import Category, Product, ProductImage, Sku
from siyu.core import clock
from siyu.core.tenancy import current_merchant
from siyu.inventory import services as inventory
from siyu.orders import pricing, states
from siyu.orders.models import Order
from siyu.orders.states import ActorKind, Transition
from siyu.stores import hours
from siyu.stores import selectors as store_selectors
from siyu.stores.models import Store

if TYPE_CHECKING:
    from django.utils.functional import Promise

    from siyu.inventory.models import Location
    from siyu.orders.pricing import PricedCart

# Available at or below this many units (or the location's own low-stock threshold, when it
# is higher) shows as "only N left" to customers.
LOW_STOCK_AT_LEAST = 5
HOME_PRODUCTS = 8
NEAREST_STORES = 5
STORE_LIST_MAX = 200

IN_STOCK = "in_stock"
LOW = "low"
SOLD_OUT = "sold_out"


# --- stock as customers see it ---------------------------------------------------------------


@dataclass(frozen=True)
class Stock:
    """A SKU's stock at a place: ``in_stock``, ``low`` (with how many are left) or ``sold_out``."""

    state: str
    left: int | None = None  # only when low

    @property
    def buyable(self) -> bool:
        return self.state != SOLD_OUT


def stock_state(available: int, threshold: int = 0) -> Stock:
    if available <= 0:
        return Stock(SOLD_OUT)
    if available <= max(threshold, LOW_STOCK_AT_LEAST):
        return Stock(LOW, available)
    return Stock(IN_STOCK)


def stock_location(store: Store | None) -> Location | None:
    """Where a customer's order would take its stock from: the store's location (pickup), or
    the location that ships delivery orders when no store is chosen. Never created here."""
    if store is None:
        return inventory.delivery_location(current_merchant())
    try:
        return store.stock_location
    except ObjectDoesNotExist:
        return None


def delivers() -> bool:
    """Whether the shop ships delivery orders (a location is marked to ship them)."""
    return inventory.delivery_location(current_merchant()) is not None


def stock_of(location: Location | None, sku_ids: Sequence[int]) -> dict[int, Stock]:
    """``{sku_id: Stock}`` at ``location`` (one query); empty without a location."""
    if location is None or not sku_ids:
        return {}
    threshold = location.low_stock_threshold
    return {
        sku_id: stock_state(n, threshold)
        for sku_id, n in inventory.available(location, list(sku_ids)).items()
    }


# --- stores ------------------------------------------------------------------------------------


def pickup_stores() -> QuerySet[Store]:
    """Open stores with pickup on, by city, district and name (the manual chooser's order)."""
    return (
        store_selectors.stores(status=Store.Status.OPEN, pickup=True)
        .select_related("stock_location")
        .order_by("city", "district", "name", "id")
    )


def pickup_store(store_id: object) -> Store | None:
    """The open pickup store ``store_id`` of the bound merchant, or None."""
    if not isinstance(store_id, int) or isinstance(store_id, bool) or store_id <= 0:
        return None
    return pickup_stores().filter(pk=store_id).first()


def store_cities() -> list[str]:
    return sorted(set(pickup_stores().values_list("city", flat=True)))


@dataclass(frozen=True)
class StoreChoice:
    """A store offered to the customer, with its distance when their position is known."""

    store: Store
    distance_m: int | None = None
    open_now: bool = False

    @property
    def distance_text(self) -> str:
        from siyu.stores.geo import format_distance

        return format_distance(self.distance_m) if self.distance_m is not None else ""

    @property
    def hours_text(self) -> str:
        return hours.summary_text(self.store.opening_hours)


def _open_now(store: Store) -> bool:
    moment = clock.local(clock.now(), current_merchant().time_zone)
    return store.status == Store.Status.OPEN and hours.is_open_at(store.opening_hours, moment)


def nearest_stores(
    lat: float, lng: float, *, limit: int = NEAREST_STORES, pickup: bool = True
) -> list[StoreChoice]:
    """The stores nearest to the customer, nearest first (``pickup``: open, with pickup on)."""
    found = store_selectors.nearest_stores(lat, lng, limit=limit, pickup_only=pickup)
    return [StoreChoice(n.store, n.distance_m, _open_now(n.store)) for n in found]


def listed_pickup_stores(city: str = "", limit: int = STORE_LIST_MAX) -> list[StoreChoice]:
    """The manual chooser: pickup stores (of ``city``) by city, district and name."""
    stores = pickup_stores()
    if city:
        stores = stores.filter(city=city)
    return [StoreChoice(s, None, _open_now(s)) for s in stores[:limit]]


# --- categories and products ---------------------------------------------------------------------


@dataclass
class CategoryNode:
    category: Category
    children: list[CategoryNode] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.category.pk

    @property
    def name(self) -> str:
        return self.category.name


def category_tree() -> list[CategoryNode]:
    """The active categories as a tree (one query); an inactive one hides its branch."""
    rows = list(Category.objects.filter(active=True).order_by("depth", "position", "name", "id"))
    nodes: dict[int, CategoryNode] = {}
    roots: list[CategoryNode] = []
    for row in rows:  # parents (lower depth) come first
        node = CategoryNode(row)
        if row.parent_id is None:
            nodes[row.pk] = node
            roots.append(node)
        elif row.parent_id in nodes:
            nodes[row.pk] = node
            nodes[row.parent_id].children.append(node)
    return roots


def flat_categories(tree: Iterable[CategoryNode]) -> list[Category]:
    """The tree depth-first (parents before their children)."""
    out: list[Category] = []
    for node in tree:
        out.append(node.category)
        out.extend(flat_categories(node.children))
    return out


def find_node(
    tree: Iterable[CategoryNode], category_id: int
) -> tuple[CategoryNode, CategoryNode] | None:
    """``(root, node)`` of ``category_id`` in the tree, or None."""
    for root in tree:
        stack = [root]
        while stack:
            node = stack.pop()
            if node.id == category_id:
                return root, node
            stack.extend(node.children)
    return None


def products_on_sale(
    *, q: str = "", category_id: int | None = None, store: Store | None = None
) -> QuerySet[Product]:
    """Products on sale with at least one active SKU (sold at ``store`` when given), in the
    merchant's order, with SKUs and images prefetched."""
    return catalog_selectors.products(
        q=q[:100],
        category_id=category_id,
        status=Product.Status.ON_SALE,
        store_id=store.pk if store is not None else None,
    ).filter(Exists(Sku.objects.filter(product=OuterRef("pk"), active=True)))


def image_url(image: ProductImage | None, *, thumbnail: bool = True) -> str | None:
    if image is None:
        return None
    chosen = image.thumbnail if thumbnail and image.thumbnail else image.file
    return chosen.url if chosen else None


@dataclass
class ProductCard:
    product: Product
    price_from: int
    price_to: int
    list_price: int | None  # the highest list price above the lowest price, for a strike-through
    thumbnail: str | None
    stock: Stock | None  # at the chosen store (None: no place to take stock from)

    @property
    def sold_out(self) -> bool:
        return self.stock is not None and not self.stock.buyable


def product_cards(products: Iterable[Product], location: Location | None) -> list[ProductCard]:
    """Cards of products whose SKUs and images are prefetched; stock in one query."""
    products = list(products)
    skus = {p.pk: [s for s in p.skus.all() if s.active] for p in products}
    stock = stock_of(location, [s.pk for rows in skus.values() for s in rows])
    cards: list[ProductCard] = []
    for product in products:
        active = skus[product.pk]
        prices = [s.price for s in active] or [0]
        lowest = min(prices)
        list_prices = [s.list_price for s in active if s.list_price and s.list_price > lowest]
        states_here = [stock[s.pk] for s in active if s.pk in stock]
        card_stock: Stock | None = None
        if location is not None:
            buyable = [s for s in states_here if s.buyable]
            card_stock = buyable[0] if buyable else Stock(SOLD_OUT)
            if any(s.state == IN_STOCK for s in buyable):
                card_stock = Stock(IN_STOCK)
        cards.append(
            ProductCard(
                product=product,
                price_from=lowest,
                price_to=max(prices),
                list_price=max(list_prices) if list_prices else None,
                thumbnail=image_url(product.cover),
                stock=card_stock,
            )
        )
    return cards


@dataclass
class SkuChoice:
    sku: Sku
    values: list[str]  # one per option name, in the product's order
    stock: Stock | None

    @property
    def label(self) -> str:
        return " / ".join(self.values)


@dataclass
class ProductDetail:
    product: Product
    images: list[ProductImage]
    skus: list[SkuChoice]
    options: list[tuple[str, list[str]]]  # (option name, its values in SKU order)
    store: Store | None
    sold_here: bool  # the chosen store sells it (always True without a store)
    location: Location | None

    def sku(self, sku_id: object) -> SkuChoice | None:
        return next((c for c in self.skus if c.sku.pk == sku_id), None)

    def match(self, values: Sequence[str]) -> SkuChoice | None:
        """The SKU with these option values (in the product's option order)."""
        wanted = [v.strip() for v in values]
        return next((c for c in self.skus if c.values == wanted), None)

    @property
    def default(self) -> SkuChoice | None:
        """The SKU shown first: the first that is in stock here, else the first."""
        return next((c for c in self.skus if c.stock is None or c.stock.buyable), None) or (
            self.skus[0] if self.skus else None
        )


def product_detail(product_id: int, store: Store | None) -> ProductDetail | None:
    """A product on sale with its active SKUs and their stock at ``store``; None otherwise."""
    product = catalog_selectors.product(product_id)
    if product is None or product.status != Product.Status.ON_SALE:
        return None
    active = [s for s in product.skus.all() if s.active]
    if not active:
        return None
    sold_here = (
        store is None
        or product.sold_in_all_stores
        or any(link.store_id == store.pk for link in product.store_links.all())
    )
    location = stock_location(store)
    stock = stock_of(location, [s.pk for s in active])
    names = [str(n) for n in product.option_names or []]
    choices = [
        SkuChoice(
            s,
            [str((s.options or {}).get(name, "")) for name in names],
            (stock.get(s.pk) if sold_here else Stock(SOLD_OUT)) if location else None,
        )
        for s in active
    ]
    options: list[tuple[str, list[str]]] = []
    for i, name in enumerate(names):
        values: list[str] = []
        for choice in choices:
            if choice.values[i] not in values:
                values.append(choice.values[i])
        options.append((name, values))
    return ProductDetail(
        product, list(product.images.all()), choices, options, store, sold_here, location
    )


def skus_with_products(sku_ids: Iterable[int]) -> dict[int, Sku]:
    """The merchant's SKUs with their products, by id (one query)."""
    ids = sorted({i for i in sku_ids if 0 < i < 2**63})
    if not ids:
        return {}
    return {s.pk: s for s in Sku.objects.select_related("product").filter(pk__in=ids)}


def cover_thumbnails(product_ids: Iterable[int]) -> dict[int, str]:
    """``{product_id: thumbnail url}`` of each product's first image (one query)."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    found: dict[int, str] = {}
    for image in ProductImage.objects.filter(product_id__in=ids).order_by(
        "product_id", "position", "id"
    ):
        if image.product_id not in found:
            url = image_url(image)
            if url:
                found[image.product_id] = url
    return found


# --- pricing explained -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One figure of a price, explained in the active language."""

    name: str  # line.0, discount.<code>, subtotal, shipping, total
    amount: int
    text: str


def figures(explanation: Mapping[str, Any], currency: str = "CNY") -> list[Figure]:
    """The figures of a pricing explanation (``PricedCart.explanation()`` or ``Order.pricing``)."""
    out: list[Figure] = []
    for n, line in enumerate(explanation.get("lines", [])):
        out.append(
            Figure(
                f"line.{n}", line.get("gross", 0), pricing.describe(line.get("note", {}), currency)
            )
        )
    for discount in explanation.get("discounts", []):
        out.append(
            Figure(
                f"discount.{discount.get('code', '')}",
                -discount.get("amount", 0),
                pricing.describe(discount.get("note", {}), currency),
            )
        )
    for name in ("subtotal", "shipping", "total"):
        entry = explanation.get(name)
        if entry:
            out.append(
                Figure(
                    name, entry.get("amount", 0), pricing.describe(entry.get("note", {}), currency)
                )
            )
    return out


def priced_figures(priced: PricedCart | None) -> list[Figure]:
    if priced is None:
        return []
    return figures(priced.explanation(), priced.currency)


# --- orders as the customer sees them ------------------------------------------------------------------

# Tabs of "my orders": name → the statuses it shows.
ORDER_TABS: dict[str, tuple[str, ...]] = {
    "all": (),
    "to_pay": (states.PENDING_PAYMENT,),
    "in_progress": (states.PAID, states.PREPARING, states.SHIPPED, states.READY_FOR_PICKUP),
    "completed": (states.COMPLETED,),
    "cancelled": (states.CANCELLED,),
}

ORDER_TAB_LABELS: dict[str, Promise] = {
    "all": _("All"),
    "to_pay": _("To pay"),
    "in_progress": _("In progress"),
    "completed": _("Completed"),
    "cancelled": _("Cancelled"),
}

# The customer's words for a status (pickup orders read differently from delivery ones).
STATUS_LABELS: dict[str, Promise] = {
    states.PENDING_PAYMENT: _("To pay"),
    states.PAID: _("Paid"),
    states.PREPARING: _("Being prepared"),
    states.SHIPPED: _("On its way"),
    states.READY_FOR_PICKUP: _("Ready for pickup"),
    states.COMPLETED: _("Completed"),
    states.CANCELLED: _("Cancelled"),
}
PICKUP_STATUS_LABELS: dict[str, Promise] = {
    states.PAID: _("Paid · to pick up"),
    states.COMPLETED: _("Picked up"),
}


def status_label(order: Order) -> str:
    if order.fulfilment == Order.Fulfilment.PICKUP and order.status in PICKUP_STATUS_LABELS:
        return str(PICKUP_STATUS_LABELS[order.status])
    return str(STATUS_LABELS.get(order.status, order.status))


def status_hint(order: Order) -> str:
    """One sentence under the status: what happens next."""
    pickup = order.fulfilment == Order.Fulfilment.PICKUP
    if order.status == states.PENDING_PAYMENT:
        if not payable(order) or order.payment_deadline is None:
            return str(_("The time to pay has passed: the order will be cancelled."))
        deadline = clock.local(order.payment_deadline, current_merchant().time_zone)
        return str(_("Pay by %(time)s, or the order is cancelled.") % {"time": f"{deadline:%H:%M}"})
    if order.status in (states.PAID, states.PREPARING, states.READY_FOR_PICKUP) and pickup:
        if order.status == states.READY_FOR_PICKUP:
            return str(_("Your order is ready: show the pickup code at the counter."))
        return str(_("Show the pickup code at the counter when you collect your order."))
    if order.status in (states.PAID, states.PREPARING):
        return str(_("We are getting your parcel ready."))
    if order.status == states.SHIPPED:
        return str(_("Your parcel is with the carrier."))
    if order.status == states.COMPLETED:
        return str(_("Thank you for your order."))
    if order.status == states.CANCELLED:
        return order.cancel_reason
    return ""


def payable(order: Order) -> bool:
    return order.status == states.PENDING_PAYMENT and (
        order.payment_deadline is None or order.payment_deadline > clock.now()
    )


def shows_pickup_code(order: Order) -> bool:
    """The code is shown once paid, while the order can still be collected."""
    return (
        order.fulfilment == Order.Fulfilment.PICKUP
        and bool(order.pickup_code)
        and order.paid_at is not None
        and order.status in states.OPEN_PICKUP
    )


def can_request_refund(order: Order) -> bool:
    return order.paid_at is not None and order.refund_state != Order.RefundState.FULL


def customer_actions(order: Order) -> list[str]:
    """What the customer may do with ``order`` now: ``pay``, ``cancel``, ``request_refund``."""
    actions: list[str] = []
    if payable(order):
        actions.append("pay")
    if states.can(Transition.CANCEL, order, ActorKind.CUSTOMER):
        actions.append("cancel")
    if can_request_refund(order):
        actions.append("request_refund")
    return actions


def pickup_qr_svg(code: str) -> str:
    """The pickup code as an inline SVG QR code (segno), for the counter's scanner."""
    import segno

    qr = segno.make_qr(code, error="m")
    svg: str = qr.svg_inline(scale=6, border=2, dark="#1f2328", omitsize=True)
    return svg
