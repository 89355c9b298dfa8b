"""Reads of the catalog shared by the console pages and the API (all scoped to the bound merchant)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from siyu.catalog.models import Category, Product, ProductImage, ProductStore, Sku
from siyu.stores.models import Store

BARCODE_QUERY_RE = re.compile(r"^[A-Za-z0-9\-._/]{1,64}$")


@dataclass
class CategoryNode:
    category: Category
    depth: int
    product_count: int = 0
    children: list[CategoryNode] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.category.pk

    @property
    def total_count(self) -> int:
        """Products in this category and its subcategories."""
        return self.product_count + sum(child.total_count for child in self.children)


def categories() -> list[Category]:
    """Every category with its product count, depth-first in tree order (parents before children)."""
    rows = list(
        Category.objects.annotate(product_count=Count("products")).order_by(
            "position", "name", "id"
        )
    )
    by_parent: dict[int | None, list[Category]] = {}
    for row in rows:
        by_parent.setdefault(row.parent_id, []).append(row)
    ordered: list[Category] = []

    def walk(parent_id: int | None) -> None:
        for row in by_parent.get(parent_id, []):
            ordered.append(row)
            walk(row.pk)

    walk(None)
    return ordered


def category_tree() -> list[CategoryNode]:
    """The category tree as nested nodes (roots first, each level by position)."""
    nodes: dict[int, CategoryNode] = {}
    roots: list[CategoryNode] = []
    for category in categories():  # parents come before their children
        node = CategoryNode(category, category.depth, getattr(category, "product_count", 0))
        nodes[category.pk] = node
        if category.parent_id is None:
            roots.append(node)
        elif category.parent_id in nodes:
            nodes[category.parent_id].children.append(node)
    return roots


def category_paths(rows: list[Category] | None = None) -> dict[int, str]:
    """``{id: "Coffee / Espresso"}`` for choosers and labels."""
    rows = categories() if rows is None else rows
    by_id = {c.pk: c for c in rows}
    paths: dict[int, str] = {}
    for c in rows:
        parts = [c.name]
        parent = by_id.get(c.parent_id) if c.parent_id else None
        while parent is not None:
            parts.append(parent.name)
            parent = by_id.get(parent.parent_id) if parent.parent_id else None
        paths[c.pk] = " / ".join(reversed(parts))
    return paths


def descendant_ids(category_id: int) -> list[int]:
    """The category and everything below it (the tree has at most three levels)."""
    return list(
        Category.objects.filter(
            Q(pk=category_id) | Q(parent_id=category_id) | Q(parent__parent_id=category_id)
        ).values_list("pk", flat=True)
    )


def products(
    *,
    q: str = "",
    category_id: int | None = None,
    uncategorized: bool = False,
    status: str = "",
    store_id: int | None = None,
    order: str = "",
) -> QuerySet[Product]:
    """Products for lists, with category, SKUs (for the price range) and images prefetched.

    ``q`` matches the name (case-insensitive) or a SKU's barcode or code (exact or prefix).
    ``category_id`` includes its subcategories. ``status`` "" hides archived products;
    ``store_id`` keeps products sold there (in all stores, or listed for it).
    """
    qs = Product.objects.select_related("category").prefetch_related(
        Prefetch("skus", queryset=Sku.objects.order_by("position", "id")),
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
    )
    q = q.strip()
    if q:
        match = Q(name__icontains=q)
        if BARCODE_QUERY_RE.match(q):
            match |= Q(
                Exists(
                    Sku.objects.filter(product=OuterRef("pk")).filter(
                        Q(barcode__startswith=q) | Q(code__startswith=q)
                    )
                )
            )
        qs = qs.filter(match)
    if category_id is not None:
        qs = qs.filter(category_id__in=descendant_ids(category_id))
    elif uncategorized:
        qs = qs.filter(category__isnull=True)
    qs = qs.filter(status=status) if status else qs.exclude(status=Product.Status.ARCHIVED)
    if store_id is not None:
        qs = qs.filter(
            Q(sold_in_all_stores=True)
            | Exists(ProductStore.objects.filter(product=OuterRef("pk"), store_id=store_id))
        )
    if order == "recent":
        return qs.order_by("-updated_at", "-id")
    if order == "name":
        return qs.order_by("name", "id")
    return qs.order_by("position", "-id")


def product(pk: int) -> Product | None:
    """One product with everything its page and API answer show, or ``None``."""
    return (
        Product.objects.select_related("category")
        .prefetch_related(
            Prefetch("skus", queryset=Sku.objects.order_by("position", "id")),
            Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
            Prefetch("store_links", queryset=ProductStore.objects.select_related("store")),
        )
        .filter(pk=pk)
        .first()
    )


def stores() -> list[Store]:
    """The merchant's stores, for availability choosers."""
    return list(Store.objects.order_by("code"))


def status_counts() -> dict[str, int]:
    counts = dict(
        Product.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    return {value: counts.get(value, 0) for value in Product.Status.values}
