"""API of the catalog: categories, products with SKUs, images and per-store availability.

Money is integer fen (``1800`` is ¥18.00). Handlers parse, call a service or a
selector, and answer; the rules live in ``siyu.catalog.services``.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate
from pydantic import ConfigDict

from siyu.catalog import selectors, services
from siyu.catalog.models import Category, Product, ProductImage, Sku
from siyu.catalog.rules import MAX_PRICE
from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of, get_or_404
from siyu.core.errors import InvalidInput
from siyu.core.permissions import Perm

router = Router(tags=["catalog"])

Fen = Annotated[
    int,
    Field(strict=True, ge=0, le=MAX_PRICE, description="An amount in fen (1800 = ¥18.00)."),
]
ProductStatus = Literal["draft", "on_sale", "off_sale", "archived"]


# --- schemas ------------------------------------------------------------------------


class CategoryOut(Schema):
    id: int
    name: str
    parent_id: int | None
    position: int
    active: bool
    depth: int = Field(description="1 for a top-level category, at most 3.")
    path: str = Field(description="The names from the top, e.g. `Coffee / Espresso`.")
    product_count: int = Field(description="Products directly in this category.")


class CategoryNodeOut(Schema):
    id: int
    name: str
    position: int
    active: bool
    depth: int
    product_count: int
    children: list["CategoryNodeOut"]


class CategoryIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Espresso drinks", "parent_id": 12}]}
    )

    name: str = Field(max_length=60)
    parent_id: int | None = Field(None, description="Leave out for a top-level category.")
    position: int | None = Field(None, ge=0, description="Leave out to add at the end.")
    active: bool = True


class CategoryPatch(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Pour-over"}, {"parent_id": None}]}
    )

    name: str | None = Field(None, max_length=60)
    parent_id: int | None = Field(
        None, description="Move under this category; `null` moves it to the top level."
    )
    position: int | None = Field(None, ge=0)
    active: bool | None = None


class SkuIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "LAT-L-ICED",
                    "options": {"Size": "Large", "Temperature": "Iced"},
                    "price": 3200,
                    "list_price": 3600,
                    "barcode": "6901234567892",
                    "weight_grams": 450,
                }
            ]
        }
    )

    code: str = Field(
        "", max_length=64, description="Unique per merchant; left blank, one is assigned."
    )
    options: dict[str, str] = Field(
        default_factory=dict, description="One value per option name of the product."
    )
    price: Fen
    list_price: Fen | None = Field(None, description="The struck-through price; ≥ price.")
    barcode: str = Field("", max_length=32, description="EAN/UPC (check digit verified) or own.")
    weight_grams: int | None = Field(None, strict=True, ge=0, le=1_000_000)
    active: bool = True


class SkuItemIn(SkuIn):
    id: int | None = Field(None, description="An existing SKU of the product; leave out to add.")


class SkuPatch(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"price": 2800}, {"active": True}]})

    code: str | None = Field(None, max_length=64)
    options: dict[str, str] | None = None
    price: Fen | None = None
    list_price: Fen | None = None
    barcode: str | None = Field(None, max_length=32)
    weight_grams: int | None = Field(None, strict=True, ge=0, le=1_000_000)
    active: bool | None = None
    position: int | None = Field(None, ge=0)


class SkuOut(Schema):
    id: int
    product_id: int
    code: str
    options: dict[str, str]
    barcode: str
    price: int = Field(description="Fen.")
    list_price: int | None
    weight_grams: int | None
    active: bool
    position: int


class ImageOut(Schema):
    id: int
    url: str
    thumbnail_url: str
    width: int
    height: int
    alt: str
    position: int


class ProductIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Iced Latte",
                    "subtitle": "Double shot, whole milk",
                    "category_id": 12,
                    "status": "on_sale",
                    "option_names": ["Size", "Sugar"],
                    "skus": [
                        {
                            "code": "ILAT-M-0",
                            "options": {"Size": "M", "Sugar": "None"},
                            "price": 2600,
                        },
                        {
                            "code": "ILAT-L-0",
                            "options": {"Size": "L", "Sugar": "None"},
                            "price": 3000,
                        },
                    ],
                    "all_stores": True,
                }
            ]
        }
    )

    name: str = Field(max_length=120)
    subtitle: str = Field("", max_length=200)
    description: str = Field("", max_length=5000)
    category_id: int | None = None
    status: Literal["draft", "on_sale", "off_sale"] = "draft"
    option_names: list[str] = Field(
        default_factory=list, max_length=3, description='e.g. `["Size", "Temperature"]`.'
    )
    position: int = Field(0, ge=0)
    skus: list[SkuIn] = Field(min_length=1, max_length=services.MAX_SKUS_PER_PRODUCT)
    all_stores: bool = Field(True, description="Sold in every store; false: only in `store_ids`.")
    store_ids: list[int] = Field(default_factory=list)


class ProductPatch(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "Iced Latte (oat)"},
                {"status": "off_sale"},
                {
                    "option_names": ["Size"],
                    "skus": [
                        {"id": 31, "options": {"Size": "M"}, "price": 2600},
                        {"options": {"Size": "XL"}, "price": 3400},
                    ],
                },
            ]
        }
    )

    name: str | None = Field(None, max_length=120)
    subtitle: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=5000)
    category_id: int | None = Field(None, description="`null` leaves the product uncategorised.")
    status: ProductStatus | None = None
    option_names: list[str] | None = Field(None, max_length=3)
    position: int | None = Field(None, ge=0)
    skus: list[SkuItemIn] | None = Field(
        None,
        max_length=services.MAX_SKUS_PER_PRODUCT,
        description=(
            "The whole SKU list: items with `id` update that SKU, items without add one, "
            "and SKUs left out are deactivated (kept for orders and stock)."
        ),
    )


class ProductListItem(Schema):
    id: int
    name: str
    subtitle: str
    status: str
    category_id: int | None
    category_name: str | None
    price_min: int | None = Field(description="Lowest price of the active SKUs, fen.")
    price_max: int | None
    sku_count: int = Field(description="Active SKUs.")
    thumbnail_url: str | None
    sold_in_all_stores: bool
    updated_at: datetime

    @staticmethod
    def resolve_category_name(obj: Product) -> str | None:
        return obj.category.name if obj.category else None

    @staticmethod
    def resolve_price_min(obj: Product) -> int | None:
        prices = obj.price_range
        return prices[0] if prices else None

    @staticmethod
    def resolve_price_max(obj: Product) -> int | None:
        prices = obj.price_range
        return prices[1] if prices else None

    @staticmethod
    def resolve_sku_count(obj: Product) -> int:
        return obj.active_sku_count

    @staticmethod
    def resolve_thumbnail_url(obj: Product) -> str | None:
        cover = obj.cover
        return cover.thumbnail.url if cover else None


class ProductOut(Schema):
    id: int
    name: str
    subtitle: str
    description: str
    status: str
    category_id: int | None
    option_names: list[str]
    position: int
    sold_in_all_stores: bool
    store_ids: list[int]
    price_min: int | None
    price_max: int | None
    skus: list[SkuOut]
    images: list[ImageOut]
    created_at: datetime
    updated_at: datetime


class ProductFilter(Schema):
    q: str = Field("", description="Name (contains), or barcode / SKU code (exact or prefix).")
    category_id: int | None = Field(None, description="Includes its subcategories.")
    status: ProductStatus | None = Field(None, description="Left out: every status but archived.")
    store_id: int | None = Field(None, description="Only products sold in this store.")
    order: Literal["position", "recent", "name"] = "position"


class BulkStatusIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"product_ids": [3, 4, 9], "status": "on_sale"}]}
    )

    product_ids: list[int] = Field(min_length=1, max_length=services.MAX_BULK)
    status: ProductStatus


class BulkStatusOut(Schema):
    items: list[ProductListItem]


class ImageOrderIn(Schema):
    image_ids: list[int] = Field(description="Every image of the product, cover first.")


class AvailabilityIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"all_stores": True}, {"all_stores": False, "store_ids": [1, 4]}]
        }
    )

    all_stores: bool
    store_ids: list[int] = Field(default_factory=list, max_length=2000)


class AvailabilityOut(Schema):
    product_id: int
    all_stores: bool
    store_ids: list[int]


# --- answers ------------------------------------------------------------------------


def _category_out(category: Category, paths: dict[int, str]) -> dict[str, Any]:
    return {
        "id": category.pk,
        "name": category.name,
        "parent_id": category.parent_id,
        "position": category.position,
        "active": category.active,
        "depth": category.depth,
        "path": paths.get(category.pk, category.name),
        "product_count": getattr(category, "product_count", 0),
    }


def _node_out(node: selectors.CategoryNode) -> dict[str, Any]:
    c = node.category
    return {
        "id": c.pk,
        "name": c.name,
        "position": c.position,
        "active": c.active,
        "depth": c.depth,
        "product_count": node.product_count,
        "children": [_node_out(child) for child in node.children],
    }


def _sku_out(sku: Sku) -> dict[str, Any]:
    return {
        "id": sku.pk,
        "product_id": sku.product_id,
        "code": sku.code,
        "options": sku.options,
        "barcode": sku.barcode,
        "price": sku.price,
        "list_price": sku.list_price,
        "weight_grams": sku.weight_grams,
        "active": sku.active,
        "position": sku.position,
    }


def _image_out(image: ProductImage) -> dict[str, Any]:
    return {
        "id": image.pk,
        "url": image.file.url,
        "thumbnail_url": image.thumbnail.url,
        "width": image.width,
        "height": image.height,
        "alt": image.alt,
        "position": image.position,
    }


def _product_out(pk: int) -> dict[str, Any]:
    product = selectors.product(pk)
    assert product is not None
    prices = product.price_range
    return {
        "id": product.pk,
        "name": product.name,
        "subtitle": product.subtitle,
        "description": product.description,
        "status": product.status,
        "category_id": product.category_id,
        "option_names": product.option_names,
        "position": product.position,
        "sold_in_all_stores": product.sold_in_all_stores,
        "store_ids": sorted(link.store_id for link in product.store_links.all()),
        "price_min": prices[0] if prices else None,
        "price_max": prices[1] if prices else None,
        "skus": [_sku_out(s) for s in product.skus.all()],
        "images": [_image_out(i) for i in product.images.all()],
        "created_at": product.created_at,
        "updated_at": product.updated_at,
    }


def _sku_input(item: SkuIn) -> services.SkuInput:
    return services.SkuInput(
        id=getattr(item, "id", None),
        code=item.code,
        options=item.options,
        price=item.price,
        list_price=item.list_price,
        barcode=item.barcode,
        weight_grams=item.weight_grams,
        active=item.active,
    )


def _changes(payload: Schema, *names: str) -> dict[str, Any]:
    """The fields the client actually sent (``null`` included), for PATCH."""
    sent = payload.model_fields_set
    return {name: getattr(payload, name) for name in names if name in sent}


# --- categories -----------------------------------------------------------------------


@router.get(
    "/categories",
    response={200: list[CategoryOut], **ERROR_RESPONSES},
    summary="Categories, flat, in tree order",
)
def category_list(request: HttpRequest) -> list[dict[str, Any]]:
    actor_of(request, Perm.CATALOG_VIEW)
    rows = selectors.categories()
    paths = selectors.category_paths(rows)
    return [_category_out(c, paths) for c in rows]


@router.get(
    "/categories/tree",
    response={200: list[CategoryNodeOut], **ERROR_RESPONSES},
    summary="Categories as a tree",
)
def category_tree(request: HttpRequest) -> list[dict[str, Any]]:
    actor_of(request, Perm.CATALOG_VIEW)
    return [_node_out(node) for node in selectors.category_tree()]


@router.post(
    "/categories",
    response={201: CategoryOut, **ERROR_RESPONSES},
    summary="Create a category",
)
def category_create(request: HttpRequest, payload: CategoryIn) -> Status:
    actor = actor_of(request, Perm.CATALOG_MANAGE)
    category = services.create_category(
        actor,
        name=payload.name,
        parent_id=payload.parent_id,
        position=payload.position,
        active=payload.active,
    )
    return Status(201, _category_out(category, selectors.category_paths()))


@router.patch(
    "/categories/{int:category_id}",
    response={200: CategoryOut, **ERROR_RESPONSES},
    summary="Rename, move, reorder or switch a category on/off",
)
def category_update(
    request: HttpRequest, category_id: int, payload: CategoryPatch
) -> dict[str, Any]:
    actor = actor_of(request, Perm.CATALOG_MANAGE)
    category = get_or_404(Category.objects, pk=category_id)
    changes = _changes(payload, "name", "parent_id", "position", "active")
    for name in ("name", "position", "active"):
        if name in changes and changes[name] is None:
            raise InvalidInput(_("The request is not valid."), fields={name: _("May not be null.")})
    category = services.update_category(actor, category, **changes)
    return _category_out(category, selectors.category_paths())


@router.delete(
    "/categories/{int:category_id}",
    response={204: None, **ERROR_RESPONSES},
    summary="Delete an empty category",
)
def category_delete(request: HttpRequest, category_id: int) -> Status:
    actor = actor_of(request, Perm.CATALOG_MANAGE)
    services.delete_category(actor, get_or_404(Category.objects, pk=category_id))
    return Status(204, None)


# --- products ---------------------------------------------------------------------------


@router.get(
    "/products",
    response={200: list[ProductListItem], **ERROR_RESPONSES},
    summary="Products (search by name or barcode, filter by category, status, store)",
)
@paginate(Page)
def product_list(request: HttpRequest, filters: Query[ProductFilter]) -> Any:
    actor_of(request, Perm.CATALOG_VIEW)
    qs = selectors.products(
        q=filters.q,
        category_id=filters.category_id,
        status=filters.status or "",
        store_id=filters.store_id,
        order="" if filters.order == "position" else filters.order,
    )
    return qs


@router.post(
    "/products",
    response={201: ProductOut, **ERROR_RESPONSES},
    summary="Create a product with its SKUs",
)
def product_create(request: HttpRequest, payload: ProductIn) -> Status:
    actor = actor_of(request, Perm.CATALOG_MANAGE)
    product = services.create_product(
        actor,
        name=payload.name,
        subtitle=payload.subtitle,
        description=payload.description,
        category_id=payload.category_id,
        status=payload.status,
        option_names=payload.option_names,
        position=payload.position,
        skus=[_sku_input(item) for item in payload.skus],
        sold_in_all_stores=payload.all_stores,
        store_ids=payload.store_ids,
    )
    return Status(201, _product_out(product.pk))


@router.post(
    "/products/bulk-status",
    response={200: BulkStatusOut, **ERROR_RESPONSES},
    summary="Set the status of many products: all of them, or none",
    description=(
        "All-or-nothing. When one product cannot take the status (e.g. no SKU with a price "
        "to go on sale), nothing changes and `fields` names each such product as "
        "`products.<id>` with the reason."
    ),
)
def product_bulk_status(request: HttpRequest, payload: BulkStatusIn) -> dict[str, Any]:
    actor = actor_of(request, Perm.CATALOG_MANAGE)
    changed = services.bulk_set_status(actor, payload.product_ids, payload.status)
    fresh = selectors.products(status=payload.status).in_bulk([p.pk for p in changed])
    return {"items": [fresh[p.pk] for p in changed]}


@router.get(
    "/products/{int:product_id}",
    response={200: ProductOut, **ERROR_RESPONSES},
    summary="A product with its SKUs, images and stores",
)
def product_get(request: HttpRequest, product_id: int) -> dict[str, Any]:
    actor_of(request, Perm.CATALOG_VIEW)
    get_or_404(Product.objects, pk=product_id)
    return _product_out(product_id)


@router.patch(
    "/products/{int:product_id}",
    response={200: ProductOut, **ERROR_RESPONSES},
    summary="Change a product (and optionally its whole SKU list or status)",
)
def product_update(request: HttpRequest, product_id: int, payload: ProductPatch) -> dict[str, Any]:
    actor = actor_of(request, Perm.CATALOG_MANAGE)
    product = get_or_404(Product.objects, pk=product_id)
    changes = _changes(
        payload,
        "name",
        "subtitle",
        "description",
        "category_id",
        "status",
        "option_names",
        "position",
        "skus",
    )
    nulls = [k for k, v in changes.items() if v is None and k != "category_id"]
    if nulls:
        raise InvalidInput(
            _("The request is not valid."), fields={k: _("May not be null.") for k in nulls}
        )
    if "skus" in changes:
        changes["skus"] = [_sku_input(item) for item in payload.skus or []]
    services.update_product(actor, product, **changes)
    return _product_out(product_id)


@router.delete(
    "/products/{int:product_id}",
    response={204: None, **ERROR_RESPONSES},
    summary="Delete a product that is not on sale",
)
def product_delete(request: HttpRequest, product_id: int) -> Status:
    actor = actor_of(request, Perm.CATALOG_MANAGE)
    services.delete_product(actor, get_or_404(Product.objects, pk=product_id))
    return Status(204, None)


# --- SKUs -------------------------------------------------------------------------------


@router.post(
    "/products/{int:product_id}/skus",
    response={201: SkuOut, **ERROR_RESPONSES},
    summary="Add a SKU to a product",
)
def sku_create(request: HttpRequest, product_id: int, payload: SkuIn) -> Status:
    actor = actor_of(request, Perm.CATALOG_MANAGE)
    product = get_or_404(Product.objects, pk=product_id)
    sku = services.add_sku(actor, product, _sku_input(payload))
    return Status(201, _sku_out(sku))


@router.patch(
    "/skus/{int:sku_id}",
    response={200: SkuOut, **ERROR_RESPONSES},
    summary="Change a SKU (price, code, barcode, options, active...)",
)
def sku_update(request: HttpRequest, sku_id: int, payload: SkuPatch) -> dict[str, Any]:
    actor = actor_of(request, Perm.CATALOG_MANAGE)
    sku = get_or_404(Sku.objects, pk=sku_id)
    changes = _changes(
        payload,
        "code",
        "options",
        "price",
        "list_price",
        "barcode",
        "weight_grams",
        "active",
        "position",
    )
    nulls = [k for k, v in changes.items() if v is None and k not in ("list_price", "weight_grams")]
    if nulls:
        raise InvalidInput(
            _("The request is not valid."), fields={k: _("May not be null.") for k in nulls}
        )
    sku = services.update_sku(actor, sku, **changes)
    return _sku_out(sku)


@router.delete(
    "/skus/{int:sku_id}",
    response={200: SkuOut, **ERROR_RESPONSES},
    summary="Deactivate a SKU",
    description=(
        "SKUs are never removed, because orders and stock refer to them: this deactivates the "
        'SKU (reactivate with `PATCH {"active": true}`). A product on sale keeps at least one '
        "active SKU with a price."
    ),
)
def sku_delete(request: HttpRequest, sku_id: int) -> dict[str, Any]:
    actor = actor_of(request, Perm.CATALOG_MANAGE)
    sku = services.deactivate_sku(actor, get_or_404(Sku.objects, pk=sku_id))
    return _sku_out(sku)


# --- images ----------------------------------------------------------------------------


@router.post(
    "/products/{int:product_id}/images",
    response={201: list[ImageOut], **ERROR_RESPONSES},
    summary="Upload images (multipart: one or more `files`)",
    description=(
        "JPEG, PNG, WebP or GIF, recognised by their content (not the file name), at most "
        "8 MB and 40 megapixels each; a square thumbnail (WebP) is made for each."
    ),
)
def image_upload(
    request: HttpRequest,
    product_id: int,
    files: File[list[UploadedFile]],
    alt: Form[str] = "",
) -> Status:
    actor = actor_of(request, Perm.CATALOG_MANAGE)
    product = get_or_404(Product.objects, pk=product_id)
    limit = settings.MAX_IMAGE_UPLOAD_BYTES
    too_big = {
        f"files.{i}": _("The file is larger than %(mb)s MB.") % {"mb": f"{limit / 1024 / 1024:g}"}
        for i, f in enumerate(files)
        if (f.size or 0) > limit
    }
    if too_big:
        raise InvalidInput(_("The image could not be added."), fields=too_big)
    uploads = [services.ImageUpload(data=f.read(), alt=alt) for f in files]
    try:
        images = services.add_images(actor, product, uploads)
    except InvalidInput as exc:
        # the service names uploads "images.<n>"; this endpoint's field is "files"
        raise InvalidInput(
            exc.message,
            fields={k.replace("images", "files", 1): v for k, v in exc.fields.items()},
        ) from exc
    return Status(201, [_image_out(i) for i in images])


@router.delete(
    "/images/{int:image_id}",
    response={204: None, **ERROR_RESPONSES},
    summary="Remove an image",
)
def image_delete(request: HttpRequest, image_id: int) -> Status:
    actor = actor_of(request, Perm.CATALOG_MANAGE)
    services.remove_image(actor, get_or_404(ProductImage.objects, pk=image_id))
    return Status(204, None)


@router.put(
    "/products/{int:product_id}/images/order",
    response={200: list[ImageOut], **ERROR_RESPONSES},
    summary="Reorder a product's images (the first is the cover)",
)
def image_reorder(
    request: HttpRequest, product_id: int, payload: ImageOrderIn
) -> list[dict[str, Any]]:
    actor = actor_of(request, Perm.CATALOG_MANAGE)
    product = get_or_404(Product.objects, pk=product_id)
    images = services.reorder_images(actor, product, payload.image_ids)
    return [_image_out(i) for i in images]


# --- availability ---------------------------------------------------------------------


@router.put(
    "/products/{int:product_id}/availability",
    response={200: AvailabilityOut, **ERROR_RESPONSES},
    summary="Sell a product in all stores or only in some",
)
def availability_set(
    request: HttpRequest, product_id: int, payload: AvailabilityIn
) -> dict[str, Any]:
    actor = actor_of(request, Perm.CATALOG_MANAGE)
    product = get_or_404(Product.objects, pk=product_id)
    product = services.set_availability(
        actor, product, all_stores=payload.all_stores, store_ids=payload.store_ids
    )
    out = _product_out(product.pk)
    return {
        "product_id": product.pk,
        "all_stores": out["sold_in_all_stores"],
        "store_ids": out["store_ids"],
    }
