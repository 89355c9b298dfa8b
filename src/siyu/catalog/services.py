"""State changes of the catalog. Every function: permission → validate → lock → change → audit → event.

Locks: product-level changes lock the product row (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite transactions are IMMEDIATE, so writers queue). Category
moves lock the moved category. Uniqueness (SKU codes, barcodes, sibling
category names) is checked first for a clear message and kept by database
constraints; a race that slips between the check and the write answers 409.

Validation collects every problem before anything is written and raises one
``InvalidInput`` naming each field (``skus.1.price``), so a request is applied
whole or not at all.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max, ProtectedError
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from siyu.catalog import events as catalog_events
from siyu.catalog import imaging, rules
from siyu.catalog import options as opts
from siyu.catalog.models import (
    MAX_CATEGORY_DEPTH,
    Category,
    Product,
    ProductImage,
    ProductStore,
    Sku,
)
from siyu.core import audit, events
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.permissions import Perm
from siyu.stores.models import Store

MAX_SKUS_PER_PRODUCT = 200
MAX_IMAGES_PER_PRODUCT = 12
MAX_BULK = 200
MAX_NAME = 120
MAX_SUBTITLE = 200
MAX_DESCRIPTION = 5000
MAX_CATEGORY_NAME = 60
MAX_ALT = 200

PRODUCT_FIELDS = [
    "name",
    "subtitle",
    "description",
    "status",
    "category",
    "option_names",
    "position",
    "sold_in_all_stores",
]
SKU_FIELDS = [
    "code",
    "options",
    "barcode",
    "price",
    "list_price",
    "weight_grams",
    "active",
    "position",
]
CATEGORY_FIELDS = ["name", "parent", "position", "active", "depth"]


class _Unset(enum.Enum):
    token = 0


UNSET: Final = _Unset.token


def _given(value: object) -> bool:
    return value is not UNSET


@dataclass
class SkuInput:
    """One SKU as a caller describes it (``id`` set: an existing SKU of the product)."""

    code: str = ""
    price: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    list_price: int | None = None
    barcode: str = ""
    weight_grams: int | None = None
    active: bool = True
    id: int | None = None


@dataclass(frozen=True)
class ImageUpload:
    data: bytes
    alt: str = ""


@contextmanager
def _unique_or_conflict(message: str) -> Iterator[None]:
    """Turn a uniqueness race (another request won between check and write) into a 409."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        raise Conflict(message) from exc


def _text_problem(value: str, *, required: bool, limit: int) -> str | None:
    if required and not value.strip():
        return _("This field is required.")
    if len(value) > limit:
        return _("At most %(n)d characters.") % {"n": limit}
    return None


# --- categories ---------------------------------------------------------------------


def _category_snapshot(category: Category) -> dict[str, Any]:
    return audit.snapshot(category, CATEGORY_FIELDS)


def _emit_category(actor: Actor, category: Category, action: str) -> None:
    events.emit(
        actor.merchant,
        catalog_events.CATEGORY_CHANGED,
        {
            "id": category.pk,
            "action": action,
            "name": category.name,
            "parent_id": category.parent_id,
            "active": category.active,
        },
        aggregate=category,
    )


def _sibling_name_taken(name: str, parent_id: int | None, exclude_pk: int | None = None) -> bool:
    siblings = Category.objects.annotate(lname=Lower("name")).filter(
        parent_id=parent_id, lname=name.casefold()
    )
    if exclude_pk is not None:
        siblings = siblings.exclude(pk=exclude_pk)
    return siblings.exists()


def _subtree_height(category: Category) -> int:
    """0: no children; 1: children; 2: grandchildren (the tree has at most three levels)."""
    if Category.objects.filter(parent__parent=category).exists():
        return 2
    if Category.objects.filter(parent=category).exists():
        return 1
    return 0


def _next_category_position(parent_id: int | None) -> int:
    top = Category.objects.filter(parent_id=parent_id).aggregate(m=Max("position"))["m"]
    return 0 if top is None else top + 1


@transaction.atomic
def create_category(
    actor: Actor,
    *,
    name: str,
    parent_id: int | None = None,
    position: int | None = None,
    active: bool = True,
) -> Category:
    actor.require(Perm.CATALOG_MANAGE)
    name = " ".join(name.split())
    errors: dict[str, str] = {}
    problem = _text_problem(name, required=True, limit=MAX_CATEGORY_NAME)
    if problem:
        errors["name"] = problem
    parent: Category | None = None
    if parent_id is not None:
        parent = Category.objects.filter(pk=parent_id).first()
        if parent is None:
            errors["parent_id"] = _("Unknown category.")
        elif parent.depth >= MAX_CATEGORY_DEPTH:
            errors["parent_id"] = _("Categories go at most %(n)d levels deep.") % {
                "n": MAX_CATEGORY_DEPTH
            }
    if position is not None and position < 0:
        errors["position"] = _("Cannot be negative.")
    if "name" not in errors and "parent_id" not in errors and _sibling_name_taken(name, parent_id):
        errors["name"] = _("Another category here has this name.")
    if errors:
        raise InvalidInput(_("The category could not be created."), fields=errors)
    with _unique_or_conflict(_("Another category here has this name.")):
        category = Category.objects.create(
            merchant=actor.merchant,
            parent=parent,
            name=name,
            position=_next_category_position(parent_id) if position is None else position,
            active=active,
            depth=parent.depth + 1 if parent else 1,
        )
    audit.record(actor, "catalog.category.create", category, after=_category_snapshot(category))
    _emit_category(actor, category, "created")
    return category


@transaction.atomic
def update_category(
    actor: Actor,
    category: Category,
    *,
    name: str | _Unset = UNSET,
    parent_id: int | _Unset | None = UNSET,
    position: int | _Unset = UNSET,
    active: bool | _Unset = UNSET,
) -> Category:
    """Rename, move (under another parent or to the top), reorder or switch a category on/off."""
    actor.require(Perm.CATALOG_MANAGE)
    category = Category.objects.select_for_update().get(pk=category.pk)
    before = _category_snapshot(category)
    errors: dict[str, str] = {}
    new_name = category.name
    if _given(name):
        assert isinstance(name, str)
        new_name = " ".join(name.split())
        problem = _text_problem(new_name, required=True, limit=MAX_CATEGORY_NAME)
        if problem:
            errors["name"] = problem
    new_parent: Category | None = category.parent
    moving = _given(parent_id) and parent_id != category.parent_id
    if moving:
        if not isinstance(parent_id, int):
            new_parent = None
        else:
            new_parent = Category.objects.filter(pk=parent_id).first()
            if new_parent is None:
                errors["parent_id"] = _("Unknown category.")
            elif new_parent.pk == category.pk or category.pk in _ancestor_ids(new_parent):
                errors["parent_id"] = _("A category cannot move under itself or its subcategories.")
        if "parent_id" not in errors:
            depth = (new_parent.depth + 1) if new_parent else 1
            if depth + _subtree_height(category) > MAX_CATEGORY_DEPTH:
                errors["parent_id"] = _(
                    "There it would be more than %(n)d levels deep (with its subcategories)."
                ) % {"n": MAX_CATEGORY_DEPTH}
    if _given(position) and isinstance(position, int) and position < 0:
        errors["position"] = _("Cannot be negative.")
    new_parent_id = new_parent.pk if new_parent else None
    if (
        "name" not in errors
        and "parent_id" not in errors
        and (new_name.casefold() != category.name.casefold() or moving)
        and _sibling_name_taken(new_name, new_parent_id, exclude_pk=category.pk)
    ):
        errors["name"] = _("Another category here has this name.")
    if errors:
        raise InvalidInput(_("The category could not be saved."), fields=errors)

    category.name = new_name
    if _given(active):
        category.active = bool(active)
    if moving:
        category.parent = new_parent
        category.depth = (new_parent.depth + 1) if new_parent else 1
        category.position = (
            _next_category_position(new_parent_id) if not _given(position) else int(position)  # type: ignore[arg-type]
        )
    elif _given(position):
        category.position = int(position)  # type: ignore[arg-type]
    with _unique_or_conflict(_("Another category here has this name.")):
        category.save()
        if moving:
            Category.objects.filter(parent=category).update(depth=category.depth + 1)
            Category.objects.filter(parent__parent=category).update(depth=category.depth + 2)
    after = _category_snapshot(category)
    if audit.changed(before, after):
        audit.record(actor, "catalog.category.update", category, before=before, after=after)
        _emit_category(actor, category, "moved" if moving else "updated")
    return category


def _ancestor_ids(category: Category) -> set[int]:
    ids: set[int] = set()
    node: Category | None = category
    while node is not None and node.parent_id is not None:
        ids.add(node.parent_id)
        node = Category.objects.filter(pk=node.parent_id).first()
    return ids


@transaction.atomic
def delete_category(actor: Actor, category: Category) -> None:
    """Delete an empty category; refuse while products or subcategories are in it."""
    actor.require(Perm.CATALOG_MANAGE)
    category = Category.objects.select_for_update().get(pk=category.pk)
    reasons: dict[str, str] = {}
    children = Category.objects.filter(parent=category).count()
    if children:
        reasons["children"] = ngettext(
            "It has %(n)d subcategory: move or delete it first.",
            "It has %(n)d subcategories: move or delete them first.",
            children,
        ) % {"n": children}
    products = Product.objects.filter(category=category).count()
    if products:
        reasons["products"] = ngettext(
            "%(n)d product is in it: move it to another category first.",
            "%(n)d products are in it: move them to another category first.",
            products,
        ) % {"n": products}
    if reasons:
        raise Conflict(
            _("The category “%(name)s” cannot be deleted.") % {"name": category.name},
            fields=reasons,
            code="category_not_empty",
        )
    before = _category_snapshot(category)
    pk = category.pk
    _emit_category(actor, category, "deleted")
    audit.record(actor, "catalog.category.delete", category, before=before)
    category.delete()
    category.pk = pk


# --- SKU validation -------------------------------------------------------------------


def _sku_problems(
    prefix: str, sku: SkuInput, option_names: Sequence[str], *, code_required: bool = False
) -> dict[str, str]:
    errors: dict[str, str] = {}
    code = (sku.code or "").strip()
    if code or code_required:
        problem = rules.sku_code_problem(code)
        if problem:
            errors[f"{prefix}code"] = problem
    problem = rules.price_problem(sku.price)
    if problem:
        errors[f"{prefix}price"] = problem
    else:
        problem = rules.list_price_problem(sku.price, sku.list_price)
        if problem:
            errors[f"{prefix}list_price"] = problem
    problem = rules.barcode_problem((sku.barcode or "").strip())
    if problem:
        errors[f"{prefix}barcode"] = problem
    problem = rules.weight_problem(sku.weight_grams)
    if problem:
        errors[f"{prefix}weight_grams"] = problem
    if not isinstance(sku.options, Mapping):
        errors[f"{prefix}options"] = _("Give the options as name → value.")
    else:
        problem = opts.option_mismatch(option_names, opts.normalize_options(sku.options))
        if problem:
            errors[f"{prefix}options"] = problem
    return errors


def _check_unique_codes(
    rows: Sequence[tuple[str, SkuInput]], *, exclude_ids: Sequence[int] = ()
) -> dict[str, str]:
    """Codes and barcodes must be unique among ``rows`` and among the merchant's other SKUs."""
    errors: dict[str, str] = {}
    for attr, message in (
        ("code", _("Another SKU has this code.")),
        ("barcode", _("Another SKU has this barcode.")),
    ):
        wanted: dict[str, str] = {}
        for prefix, sku in rows:
            value = (getattr(sku, attr) or "").strip()
            if not value or f"{prefix}{attr}" in errors:
                continue
            if value in wanted:
                errors[f"{prefix}{attr}"] = message
            else:
                wanted[value] = prefix
        if wanted:
            taken = (
                Sku.objects.filter(**{f"{attr}__in": list(wanted)})
                .exclude(pk__in=list(exclude_ids))
                .values_list(attr, flat=True)
            )
            for value in taken:
                errors[f"{wanted[value]}{attr}"] = message
    return errors


def _duplicate_option_errors(
    rows: Sequence[tuple[str, Mapping[str, Any]]], option_names: Sequence[str]
) -> dict[str, str]:
    normalized = [opts.normalize_options(values) for _prefix, values in rows]
    errors: dict[str, str] = {}
    for index in opts.duplicate_indexes(option_names, normalized):
        prefix = rows[index][0]
        errors[f"{prefix}options"] = (
            _("Another SKU has the same options.")
            if option_names
            else _("A product without options has one SKU; add option names for more.")
        )
    return errors


def _sku_snapshot(sku: Sku) -> dict[str, Any]:
    return {"id": sku.pk, **audit.snapshot(sku, SKU_FIELDS)}


def _sku_payload(sku: Sku) -> dict[str, Any]:
    return {
        "id": sku.pk,
        "product_id": sku.product_id,
        "code": sku.code,
        "options": sku.options,
        "barcode": sku.barcode,
        "price": sku.price,
        "list_price": sku.list_price,
        "active": sku.active,
    }


def _apply_sku(sku: Sku, data: SkuInput, option_names: Sequence[str], position: int) -> None:
    values = opts.normalize_options(data.options)
    sku.code = data.code.strip()
    # a SKU left out of a change of options keeps blanks until it is given values again
    sku.options = {name: values.get(name, "") for name in option_names}
    sku.barcode = (data.barcode or "").strip()
    assert data.price is not None
    sku.price = data.price
    sku.list_price = data.list_price
    sku.weight_grams = data.weight_grams
    sku.active = bool(data.active)
    sku.position = position


def _fill_codes(product: Product, skus: Sequence[Sku]) -> None:
    """Give SKUs saved without a code one derived from the product id: ``P42-1``, ``P42-2``…"""
    blank = [sku for sku in skus if not sku.code]
    if not blank:
        return
    stem = f"P{product.pk}-"
    taken = set(Sku.objects.filter(code__startswith=stem).values_list("code", flat=True))
    taken.update(sku.code for sku in skus)
    n = 1
    for sku in blank:
        while f"{stem}{n}" in taken:
            n += 1
        sku.code = f"{stem}{n}"
        taken.add(sku.code)


# --- products -------------------------------------------------------------------------


def _product_snapshot(product: Product, *, with_skus: bool = False) -> dict[str, Any]:
    data = audit.snapshot(product, PRODUCT_FIELDS)
    if with_skus:
        data["skus"] = [_sku_snapshot(s) for s in Sku.objects.filter(product=product)]
    return data


def _product_payload(product: Product) -> dict[str, Any]:
    return {
        "id": product.pk,
        "name": product.name,
        "status": product.status,
        "category_id": product.category_id,
        "option_names": product.option_names,
        "sold_in_all_stores": product.sold_in_all_stores,
    }


def _sellable_problem(skus: Sequence[Sku | SkuInput]) -> str | None:
    if any(s.active and (s.price or 0) > 0 for s in skus):
        return None
    return _("To go on sale a product needs an active SKU with a price above ¥0.")


def _resolve_category(category_id: int | None, errors: dict[str, str]) -> Category | None:
    if category_id is None:
        return None
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        errors["category_id"] = _("Unknown category.")
    return category


def _resolve_stores(
    sold_in_all_stores: bool, store_ids: Sequence[int], errors: dict[str, str]
) -> list[Store]:
    if sold_in_all_stores:
        return []
    wanted = list(dict.fromkeys(store_ids))
    if not wanted:
        errors["store_ids"] = _("Choose at least one store, or sell in all stores.")
        return []
    stores = {s.pk: s for s in Store.objects.filter(pk__in=wanted)}
    for index, store_id in enumerate(wanted):
        if store_id not in stores:
            errors[f"store_ids.{index}"] = _("Unknown store.")
    return [stores[pk] for pk in wanted if pk in stores]


def _option_names_or_error(names: Sequence[str], errors: dict[str, str]) -> list[str]:
    try:
        return opts.normalize_option_names(names)
    except opts.OptionError as exc:
        errors["option_names"] = str(exc)
        return []


def _product_text_errors(
    *, name: str | None = None, subtitle: str | None = None, description: str | None = None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    for key, value, required, limit in (
        ("name", name, True, MAX_NAME),
        ("subtitle", subtitle, False, MAX_SUBTITLE),
        ("description", description, False, MAX_DESCRIPTION),
    ):
        if value is None:
            continue
        problem = _text_problem(value, required=required, limit=limit)
        if problem:
            errors[key] = problem
    return errors


def _validate_new_images(images: Sequence[ImageUpload], errors: dict[str, str]) -> list[Any]:
    infos = []
    for index, upload in enumerate(images):
        try:
            infos.append(
                imaging.inspect_image(upload.data, max_bytes=settings.MAX_IMAGE_UPLOAD_BYTES)
            )
        except imaging.ImageRejected as exc:
            errors[f"images.{index}"] = str(exc)
        if len(upload.alt) > MAX_ALT:
            errors[f"images.{index}.alt"] = _("At most %(n)d characters.") % {"n": MAX_ALT}
    return infos


@transaction.atomic
def create_product(
    actor: Actor,
    *,
    name: str,
    skus: Sequence[SkuInput],
    category_id: int | None = None,
    subtitle: str = "",
    description: str = "",
    status: str = Product.Status.DRAFT,
    option_names: Sequence[str] = (),
    position: int = 0,
    sold_in_all_stores: bool = True,
    store_ids: Sequence[int] = (),
    images: Sequence[ImageUpload] = (),
) -> Product:
    """Create a product with its SKUs (and optionally images and store list) in one step."""
    actor.require(Perm.CATALOG_MANAGE)
    name = name.strip()
    errors = _product_text_errors(name=name, subtitle=subtitle, description=description)
    category = _resolve_category(category_id, errors)
    names = _option_names_or_error(option_names, errors)
    if status not in (Product.Status.DRAFT, Product.Status.ON_SALE, Product.Status.OFF_SALE):
        errors["status"] = _("A new product is a draft, on sale or off sale.")
    if position < 0:
        errors["position"] = _("Cannot be negative.")
    if not skus:
        errors["skus"] = _("Add at least one SKU.")
    elif len(skus) > MAX_SKUS_PER_PRODUCT:
        errors["skus"] = _("At most %(n)d SKUs.") % {"n": MAX_SKUS_PER_PRODUCT}
    rows = [(f"skus.{i}.", sku) for i, sku in enumerate(skus)]
    if "option_names" not in errors:
        for prefix, sku in rows:
            if sku.id is not None:
                errors[f"{prefix}id"] = _("A new product has no SKUs yet.")
            errors.update(_sku_problems(prefix, sku, names))
        errors.update(
            {
                k: v
                for k, v in _duplicate_option_errors(
                    [(p, s.options) for p, s in rows if s.active], names
                ).items()
                if k not in errors
            }
        )
    errors.update({k: v for k, v in _check_unique_codes(rows).items() if k not in errors})
    if status == Product.Status.ON_SALE and skus and "skus" not in errors:
        problem = _sellable_problem(skus)
        if problem:
            errors["status"] = problem
    stores = _resolve_stores(sold_in_all_stores, store_ids, errors)
    if len(images) > MAX_IMAGES_PER_PRODUCT:
        errors["images"] = _("At most %(n)d images.") % {"n": MAX_IMAGES_PER_PRODUCT}
    infos = _validate_new_images(images, errors)
    if errors:
        raise InvalidInput(_("The product could not be created."), fields=errors)

    with _unique_or_conflict(_("A SKU code or barcode was just taken by another change.")):
        product = Product.objects.create(
            merchant=actor.merchant,
            category=category,
            name=name,
            subtitle=subtitle.strip(),
            description=description.strip(),
            status=status,
            option_names=names,
            position=position,
            sold_in_all_stores=sold_in_all_stores,
        )
        created: list[Sku] = []
        for index, data in enumerate(skus):
            new_sku = Sku(merchant=actor.merchant, product=product)
            _apply_sku(new_sku, data, names, index)
            created.append(new_sku)
        _fill_codes(product, created)
        Sku.objects.bulk_create(created)
        ProductStore.objects.bulk_create(
            [ProductStore(merchant=actor.merchant, product=product, store=s) for s in stores]
        )
    saved_images = [
        _store_image(actor, product, upload, info, index)
        for index, (upload, info) in enumerate(zip(images, infos, strict=True))
    ]
    after = _product_snapshot(product, with_skus=True)
    after["store_ids"] = [s.pk for s in stores]
    after["images"] = [img.file.name for img in saved_images]
    audit.record(actor, "catalog.product.create", product, after=after)
    events.emit(
        actor.merchant,
        catalog_events.PRODUCT_CREATED,
        {
            **_product_payload(product),
            "store_ids": [s.pk for s in stores],
            "skus": [_sku_payload(s) for s in Sku.objects.filter(product=product)],
        },
        aggregate=product,
    )
    return product


def lock_product(product: Product | int) -> Product:
    """The product row, locked for the rest of the transaction (404 when not this merchant's)."""
    pk = product if isinstance(product, int) else product.pk
    locked = Product.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise NotFound(_("Not found."))
    return locked


@transaction.atomic
def update_product(
    actor: Actor,
    product: Product,
    *,
    name: str | _Unset = UNSET,
    subtitle: str | _Unset = UNSET,
    description: str | _Unset = UNSET,
    category_id: int | _Unset | None = UNSET,
    option_names: Sequence[str] | _Unset = UNSET,
    position: int | _Unset = UNSET,
    status: str | _Unset = UNSET,
    skus: Sequence[SkuInput] | _Unset = UNSET,
) -> Product:
    """Change a product's details, and when ``skus`` is given, its whole SKU list.

    With ``skus``: an item with ``id`` updates that SKU, one without creates a SKU, and the
    product's SKUs not listed are deactivated (never deleted: orders and stock refer to them).
    Renaming options in place (same number) carries every SKU's values over. A ``status``
    is applied after the SKU changes, so "on sale" is checked against the new SKU list.
    """
    actor.require(Perm.CATALOG_MANAGE)
    product = lock_product(product)
    before = _product_snapshot(product, with_skus=True)
    errors = _product_text_errors(
        name=name.strip() if isinstance(name, str) else None,
        subtitle=subtitle if isinstance(subtitle, str) else None,
        description=description if isinstance(description, str) else None,
    )
    category = product.category
    if _given(category_id):
        category = _resolve_category(category_id, errors)  # type: ignore[arg-type]
    names = list(product.option_names)
    if _given(option_names):
        names = _option_names_or_error(option_names, errors)  # type: ignore[arg-type]
    if _given(position) and int(position) < 0:  # type: ignore[arg-type]
        errors["position"] = _("Cannot be negative.")
    if _given(status) and status not in Product.Status.values:
        errors["status"] = _("Unknown status.")

    existing = list(Sku.objects.filter(product=product))
    rows = _planned_skus(product, existing, names, skus, errors)
    if rows and "skus" not in errors:
        errors.update(_planned_sku_errors(rows, existing, names))
    new_status = status if _given(status) else product.status
    if new_status == Product.Status.ON_SALE and "skus" not in errors:
        skus_after: Sequence[Sku | SkuInput] = [row.data for row in rows] if rows else existing
        problem = _sellable_problem(skus_after)
        if problem:
            errors["status" if _given(status) else "skus"] = problem
    if errors:
        raise InvalidInput(_("The product could not be saved."), fields=errors)

    if isinstance(name, str):
        product.name = name.strip()
    if isinstance(subtitle, str):
        product.subtitle = subtitle.strip()
    if isinstance(description, str):
        product.description = description.strip()
    if _given(category_id):
        product.category = category
    if isinstance(position, int):
        product.position = position
    product.option_names = names
    old_status = product.status
    product.status = new_status  # type: ignore[assignment]
    changed_skus: list[Sku] = []
    created_skus: list[Sku] = []
    with _unique_or_conflict(_("A SKU code or barcode was just taken by another change.")):
        product.save()
        # listed SKUs take the order given; the ones left out follow them, in their old order
        listed_count = sum(1 for row in rows if row.listed)
        listed_position, kept_position = 0, listed_count
        for row in rows:
            target = row.sku or Sku(merchant=actor.merchant, product=product)
            snapshot = _sku_snapshot(target) if row.sku else None
            if row.listed:
                position_of, listed_position = listed_position, listed_position + 1
            elif skus is UNSET:
                position_of = target.position
            else:
                position_of, kept_position = kept_position, kept_position + 1
            _apply_sku(target, row.data, names, position_of)
            if row.sku is None:
                created_skus.append(target)
            elif _sku_snapshot(target) != snapshot:
                changed_skus.append(target)
        _fill_codes(product, created_skus)
        for sku in changed_skus:
            sku.save()
        for sku in created_skus:
            sku.save()
    after = _product_snapshot(product, with_skus=True)
    if audit.changed(before, after):
        audit.record(actor, "catalog.product.update", product, before=before, after=after)
        changed = sorted(k for k in after if k not in ("status",) and before.get(k) != after.get(k))
        if changed:
            events.emit(
                actor.merchant,
                catalog_events.PRODUCT_UPDATED,
                {**_product_payload(product), "changed": changed},
                aggregate=product,
            )
        for sku in changed_skus:
            events.emit(
                actor.merchant, catalog_events.SKU_UPDATED, _sku_payload(sku), aggregate=sku
            )
        for sku in created_skus:
            events.emit(
                actor.merchant, catalog_events.SKU_CREATED, _sku_payload(sku), aggregate=sku
            )
    if old_status != product.status:
        _emit_status(actor, product, old_status)
    return product


@dataclass
class _PlannedSku:
    """A SKU as it will be after ``update_product``: listed by the caller, or kept."""

    prefix: str  # "skus.3." for listed rows (error field names); "sku.<id>." for kept ones
    data: SkuInput
    sku: Sku | None  # None: to be created
    listed: bool


def _planned_skus(
    product: Product,
    existing: Sequence[Sku],
    names: list[str],
    skus: Sequence[SkuInput] | _Unset,
    errors: dict[str, str],
) -> list[_PlannedSku]:
    """What the SKU list becomes; empty when the SKUs do not change."""
    if "option_names" in errors:
        return []
    renamed_in_place = names != product.option_names and len(names) == len(product.option_names)

    def carried(sku: Sku) -> dict[str, str]:
        if renamed_in_place:
            return opts.rename_options(product.option_names, names, sku.options)
        return dict(sku.options)

    if not isinstance(skus, Sequence):
        if names == product.option_names:
            return []
        if not renamed_in_place:
            errors["option_names"] = _(
                "Adding or removing options changes every SKU: send the SKUs with their new option values."
            )
            return []
        return [
            _PlannedSku(f"sku.{s.pk}.", _input_of(s, carried(s)), s, listed=False) for s in existing
        ]
    if not skus:
        errors["skus"] = _("Add at least one SKU.")
    elif len(skus) > MAX_SKUS_PER_PRODUCT:
        errors["skus"] = _("At most %(n)d SKUs.") % {"n": MAX_SKUS_PER_PRODUCT}
    by_id = {s.pk: s for s in existing}
    seen: set[int] = set()
    rows: list[_PlannedSku] = []
    for index, data in enumerate(skus):
        prefix = f"skus.{index}."
        sku = None
        if data.id is not None:
            sku = by_id.get(data.id)
            if sku is None:
                errors[f"{prefix}id"] = _("This product has no such SKU.")
                continue
            if data.id in seen:
                errors[f"{prefix}id"] = _("Listed twice.")
                continue
            seen.add(data.id)
            if not (data.code or "").strip():
                data.code = sku.code  # a blank code keeps the SKU's code
        rows.append(_PlannedSku(prefix, data, sku, listed=True))
    # SKUs the caller left out are deactivated, never deleted
    rows += [
        _PlannedSku(f"sku.{s.pk}.", _input_of(s, carried(s), active=False), s, listed=False)
        for s in existing
        if s.pk not in seen
    ]
    return rows


def _planned_sku_errors(
    rows: Sequence[_PlannedSku], existing: Sequence[Sku], names: list[str]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    for row in rows:
        if row.listed or row.data.active:
            errors.update(_sku_problems(row.prefix, row.data, names))
    duplicates = _duplicate_option_errors(
        [(row.prefix, row.data.options) for row in rows if row.data.active], names
    )
    errors.update({k: v for k, v in duplicates.items() if k not in errors})
    listed = [(row.prefix, row.data) for row in rows if row.listed]
    taken = _check_unique_codes(listed, exclude_ids=[s.pk for s in existing])
    errors.update({k: v for k, v in taken.items() if k not in errors})
    # within the product: a listed code must not be the code of a SKU kept as it is
    kept = {row.sku.code: row.sku.pk for row in rows if not row.listed and row.sku}
    for row in rows:
        code = (row.data.code or "").strip()
        if row.listed and code in kept and (row.sku is None or row.sku.pk != kept[code]):
            errors.setdefault(f"{row.prefix}code", _("Another SKU has this code."))
    return errors


def _input_of(
    sku: Sku, option_values: Mapping[str, Any], *, active: bool | None = None
) -> SkuInput:
    return SkuInput(
        id=sku.pk,
        code=sku.code,
        price=sku.price,
        options=option_values,
        list_price=sku.list_price,
        barcode=sku.barcode,
        weight_grams=sku.weight_grams,
        active=sku.active if active is None else (sku.active and active),
    )


def _emit_status(actor: Actor, product: Product, old_status: str) -> None:
    events.emit(
        actor.merchant,
        catalog_events.PRODUCT_STATUS_CHANGED,
        {**_product_payload(product), "from": old_status, "to": product.status},
        aggregate=product,
    )


def _status_problem(product: Product, status: str, skus: Sequence[Sku]) -> str | None:
    if status not in Product.Status.values:
        return _("Unknown status.")
    if status == Product.Status.ON_SALE:
        return _sellable_problem(skus)
    return None


@transaction.atomic
def set_product_status(actor: Actor, product: Product, status: str) -> Product:
    """Put a product on sale, take it off sale, back to draft, or archive it."""
    actor.require(Perm.CATALOG_MANAGE)
    product = lock_product(product)
    problem = _status_problem(product, status, list(Sku.objects.filter(product=product)))
    if problem:
        raise InvalidInput(problem, fields={"status": problem})
    _apply_status(actor, product, status)
    return product


def _apply_status(actor: Actor, product: Product, status: str) -> None:
    """Change a locked, already validated product's status; audit and emit when it changed."""
    if product.status == status:
        return
    old = product.status
    product.status = status
    product.save(update_fields=["status", "updated_at"])
    audit.record(
        actor,
        "catalog.product.status",
        product,
        before={"status": old},
        after={"status": status},
    )
    _emit_status(actor, product, old)


@transaction.atomic
def bulk_set_status(actor: Actor, product_ids: Sequence[int], status: str) -> list[Product]:
    """Set the status of many products: all of them, or none with each one's reason."""
    actor.require(Perm.CATALOG_MANAGE)
    wanted = list(dict.fromkeys(product_ids))
    if not wanted:
        raise InvalidInput(
            _("Choose at least one product."),
            fields={"product_ids": _("Choose at least one product.")},
        )
    if len(wanted) > MAX_BULK:
        raise InvalidInput(
            _("At most %(n)d products at once.") % {"n": MAX_BULK},
            fields={"product_ids": _("At most %(n)d products at once.") % {"n": MAX_BULK}},
        )
    if status not in Product.Status.values:
        raise InvalidInput(_("Unknown status."), fields={"status": _("Unknown status.")})
    products = {
        p.pk: p
        for p in Product.objects.select_for_update()
        .filter(pk__in=wanted)
        .order_by("pk")  # locks in primary-key order
    }
    missing = {
        f"product_ids.{i}": _("Not found.") for i, pk in enumerate(wanted) if pk not in products
    }
    if missing:
        raise NotFound(_("Some products were not found."), fields=missing)
    skus_of: dict[int, list[Sku]] = {pk: [] for pk in products}
    for sku in Sku.objects.filter(product_id__in=list(products)):
        skus_of[sku.product_id].append(sku)
    errors: dict[str, str] = {}
    for pk in wanted:
        problem = _status_problem(products[pk], status, skus_of[pk])
        if problem:
            errors[f"products.{pk}"] = f"{products[pk].name}: {problem}"
    if errors:
        raise InvalidInput(
            ngettext(
                "%(n)d product cannot change; nothing was changed.",
                "%(n)d products cannot change; nothing was changed.",
                len(errors),
            )
            % {"n": len(errors)},
            fields=errors,
        )
    result = []
    for pk in wanted:
        _apply_status(actor, products[pk], status)
        result.append(products[pk])
    return result


@transaction.atomic
def delete_product(actor: Actor, product: Product) -> None:
    """Delete a product with its SKUs and images; refused while it is on sale."""
    actor.require(Perm.CATALOG_MANAGE)
    product = lock_product(product)
    if product.status == Product.Status.ON_SALE:
        raise Conflict(
            _("Take the product off sale (or archive it) before deleting it."),
            fields={"status": _("The product is on sale.")},
            code="product_on_sale",
        )
    before = _product_snapshot(product, with_skus=True)
    files = [
        name
        for image in ProductImage.objects.filter(product=product)
        for name in (image.file.name or "", image.thumbnail.name or "")
    ]
    pk = product.pk
    audit.record(actor, "catalog.product.delete", product, before=before)
    events.emit(
        actor.merchant,
        catalog_events.PRODUCT_DELETED,
        {**_product_payload(product), "sku_ids": [s["id"] for s in before["skus"]]},
        aggregate=product,
    )
    try:
        product.delete()
    except ProtectedError as exc:  # its SKUs were sold or moved stock: that history stays
        reason = _(
            "This product has sales or stock history, so it cannot be deleted: archive it instead."
        )
        raise Conflict(
            reason,
            fields={"product": reason},
            code="product_has_history",
        ) from exc
    product.pk = pk
    transaction.on_commit(lambda: _delete_files(files))


def _delete_files(names: Sequence[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


# --- SKUs -----------------------------------------------------------------------------


@transaction.atomic
def add_sku(actor: Actor, product: Product, data: SkuInput) -> Sku:
    actor.require(Perm.CATALOG_MANAGE)
    product = lock_product(product)
    existing = list(Sku.objects.filter(product=product))
    errors = _sku_problems("", data, product.option_names)
    if len(existing) >= MAX_SKUS_PER_PRODUCT:
        errors["skus"] = _("At most %(n)d SKUs.") % {"n": MAX_SKUS_PER_PRODUCT}
    if "options" not in errors and data.active:
        rows = [(f"sku.{s.pk}.", s.options) for s in existing if s.active]
        dup = _duplicate_option_errors([*rows, ("", data.options)], product.option_names)
        if "options" in dup:
            errors["options"] = dup["options"]
    errors.update({k: v for k, v in _check_unique_codes([("", data)]).items() if k not in errors})
    if errors:
        raise InvalidInput(_("The SKU could not be added."), fields=errors)
    sku = Sku(merchant=actor.merchant, product=product)
    top = max((s.position for s in existing), default=-1)
    _apply_sku(sku, data, product.option_names, top + 1)
    _fill_codes(product, [sku, *existing])
    with _unique_or_conflict(_("A SKU code or barcode was just taken by another change.")):
        sku.save()
    product.save(update_fields=["updated_at"])
    audit.record(actor, "catalog.sku.create", sku, after=_sku_snapshot(sku))
    events.emit(actor.merchant, catalog_events.SKU_CREATED, _sku_payload(sku), aggregate=sku)
    return sku


@transaction.atomic
def update_sku(
    actor: Actor,
    sku: Sku,
    *,
    code: str | _Unset = UNSET,
    options: Mapping[str, Any] | _Unset = UNSET,
    barcode: str | _Unset = UNSET,
    price: int | _Unset = UNSET,
    list_price: int | _Unset | None = UNSET,
    weight_grams: int | _Unset | None = UNSET,
    active: bool | _Unset = UNSET,
    position: int | _Unset = UNSET,
) -> Sku:
    """Change one SKU. A product on sale keeps at least one active SKU priced above ¥0."""
    actor.require(Perm.CATALOG_MANAGE)
    product = lock_product(sku.product_id)
    sku = Sku.objects.get(pk=sku.pk)
    siblings = [s for s in Sku.objects.filter(product=product) if s.pk != sku.pk]
    data = _input_of(sku, sku.options)
    if isinstance(code, str):
        data.code = code
    if isinstance(options, Mapping):
        data.options = options
    if isinstance(barcode, str):
        data.barcode = barcode
    if _given(price):
        data.price = price  # type: ignore[assignment]
    if _given(list_price):
        data.list_price = list_price  # type: ignore[assignment]
    if _given(weight_grams):
        data.weight_grams = weight_grams  # type: ignore[assignment]
    if _given(active):
        data.active = bool(active)
    errors = _sku_problems("", data, product.option_names, code_required=True)
    if _given(position) and int(position) < 0:  # type: ignore[arg-type]
        errors["position"] = _("Cannot be negative.")
    if "options" not in errors and data.active:
        rows = [(f"sku.{s.pk}.", s.options) for s in siblings if s.active]
        dup = _duplicate_option_errors([*rows, ("", data.options)], product.option_names)
        if "options" in dup:
            errors["options"] = dup["options"]
    errors.update(
        {
            k: v
            for k, v in _check_unique_codes([("", data)], exclude_ids=[sku.pk]).items()
            if k not in errors
        }
    )
    if product.status == Product.Status.ON_SALE and not errors:
        problem = _sellable_problem([*siblings, data])
        if problem:
            field_name = "active" if not data.active else "price"
            errors[field_name] = _(
                "The product is on sale and this is its last SKU that can be sold: take the product off sale first."
            )
    if errors:
        raise InvalidInput(_("The SKU could not be saved."), fields=errors)
    before = _sku_snapshot(sku)
    _apply_sku(sku, data, product.option_names, int(position) if _given(position) else sku.position)  # type: ignore[arg-type]
    after = _sku_snapshot(sku)
    if not audit.changed(before, after):
        return sku
    with _unique_or_conflict(_("A SKU code or barcode was just taken by another change.")):
        sku.save()
    product.save(update_fields=["updated_at"])
    audit.record(actor, "catalog.sku.update", sku, before=before, after=after)
    events.emit(
        actor.merchant,
        catalog_events.SKU_UPDATED,
        {**_sku_payload(sku), "changed": sorted(k for k in after if before.get(k) != after[k])},
        aggregate=sku,
    )
    return sku


def deactivate_sku(actor: Actor, sku: Sku) -> Sku:
    """Stop selling a SKU. It is kept (orders and stock refer to it) and can be reactivated."""
    return update_sku(actor, sku, active=False)


# --- images ---------------------------------------------------------------------------


def _store_image(
    actor: Actor, product: Product, upload: ImageUpload, info: imaging.ImageInfo, position: int
) -> ProductImage:
    """Write the original and its thumbnail to storage and the row to the database."""
    image = ProductImage(
        merchant=actor.merchant,
        product=product,
        width=info.width,
        height=info.height,
        format=info.format,
        byte_size=info.byte_size,
        alt=upload.alt.strip(),
        position=position,
        key=uuid.uuid4(),
    )
    thumb = imaging.make_thumbnail(upload.data)
    written: list[str] = []
    try:
        image.file.save(f"{image.key.hex}.{info.extension}", ContentFile(upload.data), save=False)
        written.append(image.file.name or "")
        image.thumbnail.save(
            f"{image.key.hex}-thumb.{imaging.thumbnail_extension()}",
            ContentFile(thumb),
            save=False,
        )
        written.append(image.thumbnail.name or "")
        image.save()
    except BaseException:
        _delete_files(written)
        raise
    return image


@transaction.atomic
def add_images(
    actor: Actor, product: Product, uploads: Sequence[ImageUpload]
) -> list[ProductImage]:
    """Add pictures to a product (validated by decoding them; thumbnails are made)."""
    actor.require(Perm.CATALOG_MANAGE)
    product = lock_product(product)
    errors: dict[str, str] = {}
    if not uploads:
        errors["images"] = _("Choose an image file.")
    count = ProductImage.objects.filter(product=product).count()
    if count + len(uploads) > MAX_IMAGES_PER_PRODUCT:
        errors["images"] = _("A product has at most %(n)d images.") % {"n": MAX_IMAGES_PER_PRODUCT}
    infos = _validate_new_images(uploads, errors)
    if errors:
        raise InvalidInput(_("The image could not be added."), fields=errors)
    top = ProductImage.objects.filter(product=product).aggregate(m=Max("position"))["m"]
    start = 0 if top is None else top + 1
    saved = [
        _store_image(actor, product, upload, info, start + index)
        for index, (upload, info) in enumerate(zip(uploads, infos, strict=True))
    ]
    product.save(update_fields=["updated_at"])
    for image in saved:
        audit.record(
            actor,
            "catalog.image.add",
            image,
            after={
                "product": product.pk,
                "file": image.file.name,
                "width": image.width,
                "height": image.height,
                "position": image.position,
            },
        )
    events.emit(
        actor.merchant,
        catalog_events.PRODUCT_UPDATED,
        {**_product_payload(product), "changed": ["images"]},
        aggregate=product,
    )
    return saved


def add_image(actor: Actor, product: Product, data: bytes, *, alt: str = "") -> ProductImage:
    return add_images(actor, product, [ImageUpload(data=data, alt=alt)])[0]


@transaction.atomic
def remove_images(actor: Actor, product: Product, image_ids: Sequence[int]) -> None:
    """Remove pictures of one product; the files are deleted once the change commits."""
    actor.require(Perm.CATALOG_MANAGE)
    product = lock_product(product)
    images = list(ProductImage.objects.filter(product=product, pk__in=list(image_ids)))
    found = {img.pk for img in images}
    missing = {
        f"image_ids.{i}": _("Not found.") for i, pk in enumerate(image_ids) if pk not in found
    }
    if missing:
        raise NotFound(_("Not found."), fields=missing)
    files: list[str] = []
    for image in images:
        files += [image.file.name or "", image.thumbnail.name or ""]
        audit.record(
            actor,
            "catalog.image.remove",
            image,
            before={"product": product.pk, "file": image.file.name, "position": image.position},
        )
    ProductImage.objects.filter(pk__in=list(found)).delete()
    product.save(update_fields=["updated_at"])
    events.emit(
        actor.merchant,
        catalog_events.PRODUCT_UPDATED,
        {**_product_payload(product), "changed": ["images"]},
        aggregate=product,
    )
    transaction.on_commit(lambda: _delete_files(files))


def remove_image(actor: Actor, image: ProductImage) -> None:
    remove_images(actor, image.product, [image.pk])


@transaction.atomic
def reorder_images(actor: Actor, product: Product, image_ids: Sequence[int]) -> list[ProductImage]:
    """Put the product's images in the given order (the first is the cover)."""
    actor.require(Perm.CATALOG_MANAGE)
    product = lock_product(product)
    images = {img.pk: img for img in ProductImage.objects.filter(product=product)}
    if sorted(image_ids) != sorted(images) or len(set(image_ids)) != len(image_ids):
        raise InvalidInput(
            _("List every image of the product exactly once."),
            fields={"image_ids": _("List every image of the product exactly once.")},
        )
    before = {
        "order": [img.pk for img in sorted(images.values(), key=lambda i: (i.position, i.pk))]
    }
    for position, pk in enumerate(image_ids):
        image = images[pk]
        if image.position != position:
            image.position = position
            image.save(update_fields=["position"])
    after = {"order": list(image_ids)}
    if audit.changed(before, after):
        product.save(update_fields=["updated_at"])
        audit.record(actor, "catalog.image.reorder", product, before=before, after=after)
        events.emit(
            actor.merchant,
            catalog_events.PRODUCT_UPDATED,
            {**_product_payload(product), "changed": ["images"]},
            aggregate=product,
        )
    return [images[pk] for pk in image_ids]


# --- availability -----------------------------------------------------------------------


@transaction.atomic
def set_availability(
    actor: Actor, product: Product, *, all_stores: bool, store_ids: Sequence[int] = ()
) -> Product:
    """Sell a product in every store, or only in the listed stores of the merchant."""
    actor.require(Perm.CATALOG_MANAGE)
    product = lock_product(product)
    errors: dict[str, str] = {}
    stores = _resolve_stores(all_stores, store_ids, errors)
    if errors:
        raise InvalidInput(_("The stores could not be saved."), fields=errors)
    current = sorted(
        ProductStore.objects.filter(product=product).values_list("store_id", flat=True)
    )
    before = {"sold_in_all_stores": product.sold_in_all_stores, "store_ids": current}
    wanted = sorted(s.pk for s in stores)
    after = {"sold_in_all_stores": all_stores, "store_ids": wanted}
    if before == after:
        return product
    ProductStore.objects.filter(product=product).exclude(store_id__in=wanted).delete()
    ProductStore.objects.bulk_create(
        [
            ProductStore(merchant=actor.merchant, product=product, store=s)
            for s in stores
            if s.pk not in set(current)
        ]
    )
    product.sold_in_all_stores = all_stores
    product.save(update_fields=["sold_in_all_stores", "updated_at"])
    audit.record(actor, "catalog.product.availability", product, before=before, after=after)
    events.emit(
        actor.merchant,
        catalog_events.PRODUCT_AVAILABILITY_CHANGED,
        {**_product_payload(product), "store_ids": wanted},
        aggregate=product,
    )
    return product
