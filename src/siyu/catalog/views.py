"""Console pages of the catalog: product list and form, category tree."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from siyu.catalog import forms as catalog_forms
from siyu.catalog import selectors, services
from siyu.catalog.models import MAX_CATEGORY_DEPTH, Category, Product
from siyu.core.errors import DomainError
from siyu.core.permissions import Perm
from siyu.web.console import console_view, paginate, query_without_page

PER_PAGE = 25


def _store_choices() -> list[tuple[int, str]]:
    return [(s.pk, f"{s.name} · {s.city}") for s in selectors.stores()]


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "console/forbidden.html", status=403)


# --- products ---------------------------------------------------------------------------


@console_view(Perm.CATALOG_VIEW)
def product_list(request: HttpRequest) -> HttpResponse:
    paths = selectors.category_paths()
    form = catalog_forms.ProductFilterForm(
        request.GET or None, category_paths=paths, stores=_store_choices()
    )
    filters = form.cleaned_data if form.is_valid() else {}
    category = filters.get("category") or ""
    store = filters.get("store") or ""
    products = selectors.products(
        q=filters.get("q") or "",
        category_id=int(category) if category.isdigit() else None,
        uncategorized=category == "none",
        status=filters.get("status") or "",
        store_id=int(store) if store.isdigit() else None,
    )
    return render(
        request,
        "catalog/product_list.html",
        {
            "form": form,
            "page": paginate(request, products, PER_PAGE),
            "query": query_without_page(request),
            "paths": paths,
            "can_manage": request.actor.can(Perm.CATALOG_MANAGE),  # type: ignore[attr-defined]
            "filtered": any(filters.values()),
        },
    )


@require_POST
@console_view(Perm.CATALOG_MANAGE)
def product_bulk_status(request: HttpRequest) -> HttpResponse:
    ids = [int(v) for v in request.POST.getlist("product") if v.isdigit()]
    status = request.POST.get("status", "")
    back = reverse("catalog:product_list")
    if request.POST.get("next", "").startswith(back):
        back = request.POST["next"]
    if not ids:
        messages.warning(request, _("Tick the products to change first."))
        return redirect(back)
    try:
        changed = services.bulk_set_status(request.actor, ids, status)  # type: ignore[attr-defined]
    except DomainError as exc:
        messages.error(request, exc.message)
        for reason in exc.fields.values():
            messages.error(request, reason)
    else:
        label = Product.Status(status).label
        messages.success(
            request,
            ngettext(
                "%(n)d product is now “%(status)s”.",
                "%(n)d products are now “%(status)s”.",
                len(changed),
            )
            % {"n": len(changed), "status": label},
        )
    return redirect(back)


def _uploads(request: HttpRequest) -> list[services.ImageUpload]:
    return [services.ImageUpload(data=f.read()) for f in request.FILES.getlist("images")]


def _form_context(
    form: catalog_forms.ProductForm,
    rows: list[catalog_forms.SkuRow],
    option_names: list[str],
    *,
    product: Product | None = None,
    extra_errors: dict[str, str] | None = None,
    can_manage: bool = True,
) -> dict[str, Any]:
    return {
        "form": form,
        "product": product,
        "images": list(product.images.all()) if product else [],
        "sku_state": {
            "optionNames": option_names,
            "rows": [row.as_state() for row in rows],
        },
        "extra_errors": extra_errors or {},
        "can_manage": can_manage,
        "max_images": services.MAX_IMAGES_PER_PRODUCT,
    }


def _split_form_errors(
    form: catalog_forms.ProductForm, rows: list[catalog_forms.SkuRow], error: DomainError
) -> dict[str, str]:
    """Service errors: SKU rows get theirs, form fields theirs; images and the SKU list are
    answered (shown in their sections); anything else goes to the top of the form."""
    rest = catalog_forms.spread_errors(rows, error.fields)
    aliases = {"category_id": "category", "store_ids": "stores"}
    extra: dict[str, str] = {}
    for name, reason in rest.items():
        head = name.split(".")[0]
        target = aliases.get(head, head)
        if target in form.fields:
            form.add_error(target, reason)
        elif head in ("images", "skus"):
            extra.setdefault(head, reason)
        else:
            form.add_error(None, reason)
    if not error.fields:
        form.add_error(None, error.message)
    return extra


def _save_product(
    request: HttpRequest, form: catalog_forms.ProductForm, product: Product | None
) -> tuple[Product | None, list[catalog_forms.SkuRow], list[str], dict[str, str]]:
    """Validate and save the posted product form; answers the product or the rows and errors."""
    actor = request.actor  # type: ignore[attr-defined]
    valid = form.is_valid()
    option_names = _posted_option_names(request, form)
    rows, inputs = catalog_forms.parse_sku_rows(request.POST, len(option_names))
    catalog_forms.attach_options(inputs, rows, option_names)
    if not valid or any(row.errors for row in rows):
        return None, rows, option_names, {}
    data = form.cleaned_data
    uploads = _uploads(request)
    remove_ids = [int(v) for v in request.POST.getlist("remove_image") if v.isdigit()]
    try:
        with transaction.atomic():
            if product is None:
                product = services.create_product(
                    actor,
                    name=data["name"],
                    subtitle=data["subtitle"],
                    description=data["description"],
                    category_id=data["category"],
                    status=data["status"],
                    option_names=option_names,
                    skus=inputs,
                    sold_in_all_stores=data["all_stores"],
                    store_ids=data["stores"],
                    images=uploads,
                )
            else:
                services.update_product(
                    actor,
                    product,
                    name=data["name"],
                    subtitle=data["subtitle"],
                    description=data["description"],
                    category_id=data["category"],
                    status=data["status"],
                    option_names=option_names,
                    skus=inputs,
                )
                services.set_availability(
                    actor, product, all_stores=data["all_stores"], store_ids=data["stores"]
                )
                if remove_ids:
                    services.remove_images(actor, product, remove_ids)
                if uploads:
                    services.add_images(actor, product, uploads)
    except DomainError as exc:
        extra = _split_form_errors(form, rows, exc)
        return None, rows, option_names, extra
    return product, rows, option_names, {}


def _posted_option_names(request: HttpRequest, form: catalog_forms.ProductForm) -> list[str]:
    """The option names of a validated form; when they are invalid, as typed (to keep the rows)."""
    if "option_names" in form.cleaned_data:
        return list(form.cleaned_data["option_names"])
    return catalog_forms.opts.split_list(request.POST.get("option_names", ""))[:3]


@console_view(Perm.CATALOG_MANAGE)
def product_create(request: HttpRequest) -> HttpResponse:
    paths = selectors.category_paths()
    form = catalog_forms.ProductForm(
        request.POST or None, category_paths=paths, stores=_store_choices()
    )
    rows: list[catalog_forms.SkuRow] = [catalog_forms.SkuRow()]
    option_names: list[str] = []
    extra: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "generate":
            return _generate(request, form, None)
        saved, rows, option_names, extra = _save_product(request, form, None)
        if saved is not None:
            messages.success(request, _("“%(name)s” is created.") % {"name": saved.name})
            return redirect("catalog:product_list")
        status = 422
    if not request.POST:
        category = request.GET.get("category", "")
        if category.isdigit():
            form.initial["category"] = category
    return render(
        request,
        "catalog/product_form.html",
        _form_context(form, rows, option_names, extra_errors=extra),
        status=status,
    )


def _generate(
    request: HttpRequest, form: catalog_forms.ProductForm, product: Product | None
) -> HttpResponse:
    """Add rows for every combination of the typed option values (nothing is saved)."""
    form.is_valid()
    option_names = _posted_option_names(request, form)
    rows, _inputs = catalog_forms.parse_sku_rows(request.POST, len(option_names))
    for row in rows:
        row.errors.clear()
    extra: dict[str, str] = {}
    if not option_names:
        extra["generate"] = _("Name the options first, e.g. “Size, Temperature”.")
    else:
        generated, problem = catalog_forms.generated_rows(option_names, request.POST, rows)
        if problem:
            extra["generate"] = problem
        else:
            rows = generated
    form.errors.clear()  # nothing was submitted for saving: do not shout about fields
    return render(
        request,
        "catalog/product_form.html",
        _form_context(form, rows, option_names, product=product, extra_errors=extra),
    )


def _product_or_404(pk: int) -> Product:
    product = selectors.product(pk)
    if product is None:
        raise Http404
    return product


@console_view(Perm.CATALOG_VIEW)
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    product = _product_or_404(pk)
    can_manage = actor.can(Perm.CATALOG_MANAGE)
    if request.method == "POST" and not can_manage:
        return _forbidden(request)
    paths = selectors.category_paths()
    initial = {
        "name": product.name,
        "subtitle": product.subtitle,
        "description": product.description,
        "category": str(product.category_id or ""),
        "status": product.status,
        "option_names": ", ".join(product.option_names),
        "all_stores": "1" if product.sold_in_all_stores else "0",
        "stores": [link.store_id for link in product.store_links.all()],
    }
    form = catalog_forms.ProductForm(
        request.POST or None,
        initial=initial,
        category_paths=paths,
        stores=_store_choices(),
        editing=True,
    )
    rows = catalog_forms.rows_from_skus(list(product.skus.all()), product.option_names)
    option_names = list(product.option_names)
    extra: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "generate":
            return _generate(request, form, product)
        saved, rows, option_names, extra = _save_product(request, form, product)
        if saved is not None:
            messages.success(request, _("“%(name)s” is saved.") % {"name": saved.name})
            return redirect("catalog:product_list")
        status = 422
        product = _product_or_404(pk)
    return render(
        request,
        "catalog/product_form.html",
        _form_context(
            form,
            rows,
            option_names,
            product=product,
            extra_errors=extra,
            can_manage=can_manage,
        ),
        status=status,
    )


@require_POST
@console_view(Perm.CATALOG_MANAGE)
def product_delete(request: HttpRequest, pk: int) -> HttpResponse:
    product = _product_or_404(pk)
    try:
        services.delete_product(request.actor, product)  # type: ignore[attr-defined]
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("catalog:product_edit", pk=pk)
    messages.success(request, _("“%(name)s” is deleted.") % {"name": product.name})
    return redirect("catalog:product_list")


# --- categories -------------------------------------------------------------------------


def _parent_choices(exclude: Category | None = None) -> dict[int, str]:
    """Categories that can take a child (not at the deepest level, not ``exclude``'s subtree)."""
    rows = selectors.categories()
    paths = selectors.category_paths(rows)
    blocked: set[int] = set()
    if exclude is not None:
        blocked = {exclude.pk}
        for row in rows:  # rows come parents first, so one pass collects the subtree
            if row.parent_id in blocked:
                blocked.add(row.pk)
    return {c.pk: paths[c.pk] for c in rows if c.depth < MAX_CATEGORY_DEPTH and c.pk not in blocked}


@console_view(Perm.CATALOG_VIEW)
def category_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    can_manage = actor.can(Perm.CATALOG_MANAGE)
    form = catalog_forms.CategoryForm(
        request.POST or None, category_paths=_parent_choices(), initial={"active": True}
    )
    status = 200
    if request.method == "POST":
        if not can_manage:
            return _forbidden(request)
        if form.is_valid():
            try:
                category = services.create_category(
                    actor,
                    name=form.cleaned_data["name"],
                    parent_id=form.cleaned_data["parent"],
                    position=form.cleaned_data["position"],
                    active=form.cleaned_data["active"],
                )
            except DomainError as exc:
                _category_errors(form, exc)
            else:
                messages.success(request, _("“%(name)s” is added.") % {"name": category.name})
                return redirect("catalog:category_list")
        status = 422
    tree = selectors.category_tree()
    nodes = _flatten(tree)
    for node in nodes:
        node.form = catalog_forms.CategoryForm(  # type: ignore[attr-defined]
            initial={
                "name": node.category.name,
                "parent": str(node.category.parent_id or ""),
                "position": node.category.position,
                "active": node.category.active,
            },
            category_paths=_parent_choices(node.category),
            prefix=f"c{node.category.pk}",
        )
    return render(
        request,
        "catalog/category_list.html",
        {"form": form, "tree": tree, "count": len(nodes), "can_manage": can_manage},
        status=status,
    )


def _flatten(nodes: list[selectors.CategoryNode]) -> list[selectors.CategoryNode]:
    out: list[selectors.CategoryNode] = []
    for node in nodes:
        out.append(node)
        out.extend(_flatten(node.children))
    return out


def _category_errors(form: catalog_forms.CategoryForm, error: DomainError) -> None:
    aliases = {"parent_id": "parent"}
    if not error.fields:
        form.add_error(None, error.message)
    for name, reason in error.fields.items():
        target = aliases.get(name, name)
        form.add_error(target if target in form.fields else None, reason)


@require_POST
@console_view(Perm.CATALOG_MANAGE)
def category_update(request: HttpRequest, pk: int) -> HttpResponse:
    category = Category.objects.filter(pk=pk).first()
    if category is None:
        raise Http404
    form = catalog_forms.CategoryForm(
        request.POST, category_paths=_parent_choices(category), prefix=f"c{pk}"
    )
    if not form.is_valid():
        for name, field_errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            for reason in field_errors:
                messages.error(request, f"{label}: {reason}" if label else str(reason))
        return redirect("catalog:category_list")
    data = form.cleaned_data
    changes: dict[str, Any] = {
        "name": data["name"],
        "parent_id": data["parent"],
        "active": data["active"],
    }
    if data["position"] is not None:
        changes["position"] = data["position"]
    try:
        services.update_category(request.actor, category, **changes)  # type: ignore[attr-defined]
    except DomainError as exc:
        messages.error(request, "; ".join(exc.fields.values()) or exc.message)
    else:
        messages.success(request, _("“%(name)s” is saved.") % {"name": data["name"]})
    return redirect("catalog:category_list")


@require_POST
@console_view(Perm.CATALOG_MANAGE)
def category_delete(request: HttpRequest, pk: int) -> HttpResponse:
    category = Category.objects.filter(pk=pk).first()
    if category is None:
        raise Http404
    try:
        services.delete_category(request.actor, category)  # type: ignore[attr-defined]
    except DomainError as exc:
        messages.error(request, " ".join([exc.message, *exc.fields.values()]))
    else:
        messages.success(request, _("“%(name)s” is deleted.") % {"name": category.name})
    return redirect("catalog:category_list")
