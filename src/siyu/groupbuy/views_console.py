"""Console pages of group-buys (``/console/groupbuy/``): the list, create (choose the product,
then prices and stock per SKU), edit, schedule/pause/resume/end, and the results view (numbers,
an ECharts chart of teams per day, the teams with their members)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.catalog.models import Product
from siyu.core.actors import Actor
from siyu.core.errors import DomainError, NotFound
from siyu.core.permissions import Perm
from siyu.groupbuy import activities, charts, selectors
from siyu.groupbuy.forms import ActivityForm, SkuRow, sku_rows, skus_data
from siyu.groupbuy.models import GroupBuy, Team
from siyu.web.console import console_view, paginate, query_without_page

MAX_PRODUCTS = 500


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _activity(pk: int) -> GroupBuy:
    found = GroupBuy.objects.select_related("product").filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


@console_view(Perm.PROMOTIONS_VIEW)
def activity_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    found = selectors.activity_list(status if status in GroupBuy.Status.values else None)
    page = paginate(request, found)
    return render(
        request,
        "groupbuy/console/activity_list.html",
        {
            "page": page,
            "rows": [(a, selectors.phase(a)) for a in page.object_list],
            "status": status,
            "statuses": GroupBuy.Status.choices,
            "query": query_without_page(request),
            "can_manage": _actor(request).can(Perm.PROMOTIONS_MANAGE),
        },
    )


def _show_errors(
    form: ActivityForm, rows: list[SkuRow], sent: list[SkuRow], exc: DomainError
) -> str:
    """Put the service's errors next to their fields and SKU rows; the rest as one message."""
    left: list[str] = []
    for name, reason in exc.fields.items():
        parts = name.split(".")
        if (
            parts[0] == "skus"
            and len(parts) == 3
            and parts[1].isdigit()
            and int(parts[1]) < len(sent)
        ):
            row = sent[int(parts[1])]
            if parts[2] == "group_price":
                row.price_error = row.price_error or reason
            elif parts[2] == "stock":
                row.stock_error = reason
            else:
                left.append(reason)
        elif name in form.fields:
            form.add_error(name, reason)
        else:
            left.append(reason)
    return " ".join(left) or (exc.message if not exc.fields else "")


def _form_page(
    request: HttpRequest,
    form: ActivityForm,
    product: Product,
    rows: list[SkuRow],
    activity: GroupBuy | None,
    message: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "groupbuy/console/activity_form.html",
        {
            "form": form,
            "product": product,
            "rows": rows,
            "activity": activity,
            "message": message,
        },
        status=status,
    )


def _save(request: HttpRequest, product: Product, activity: GroupBuy | None) -> HttpResponse:
    initial = _initial(activity) if activity is not None else None
    form = ActivityForm(request.POST, initial=initial, activity=activity)
    rows = sku_rows(product, activity, request.POST)
    skus, sent = skus_data(rows)
    message = ""
    if form.is_valid() and not any(r.price_error for r in rows):
        data: dict[str, Any] = {
            name: value
            for name, value in form.cleaned_data.items()
            if not form.fields[name].disabled
        }
        data["skus"] = skus
        try:
            if activity is None:
                data["product_id"] = product.pk
                saved = activities.create(_actor(request), data)
                messages.success(request, _("Saved as a draft: schedule it to publish."))
            else:
                saved = activities.update(_actor(request), activity.pk, data)
                messages.success(request, _("Saved."))
        except NotFound as exc:
            raise Http404 from exc
        except DomainError as exc:
            message = _show_errors(form, rows, sent, exc)
        else:
            return redirect("groupbuy:activity_detail", pk=saved.pk)
    return _form_page(request, form, product, rows, activity, message, status=422)


@console_view(Perm.PROMOTIONS_MANAGE)
def activity_create(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("product") or request.GET.get("product") or ""
    product = (
        Product.objects.filter(pk=int(raw), status=Product.Status.ON_SALE).first()
        if raw.isdigit()
        else None
    )
    if product is None:
        products = Product.objects.filter(status=Product.Status.ON_SALE).order_by("name", "pk")
        return render(
            request,
            "groupbuy/console/choose_product.html",
            {"products": products[:MAX_PRODUCTS], "wrong": bool(raw)},
        )
    if request.method == "POST":
        return _save(request, product, None)
    return _form_page(request, ActivityForm(), product, sku_rows(product, None), None)


def _initial(activity: GroupBuy) -> dict[str, Any]:
    """The form's values of ``activity`` (what disabled fields of a started one keep)."""
    return {
        name: getattr(activity, name)
        for name in (
            "name",
            "description",
            "team_size",
            "fill_hours",
            "starts_at",
            "ends_at",
            "per_customer_limit",
            "new_customers_only",
            "allow_coupons",
        )
    }


@console_view(Perm.PROMOTIONS_MANAGE)
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(pk)
    if activity.status == GroupBuy.Status.ENDED:
        messages.error(request, _("An ended group-buy cannot change."))
        return redirect("groupbuy:activity_detail", pk=pk)
    if request.method == "POST":
        return _save(request, activity.product, activity)
    form = ActivityForm(initial=_initial(activity), activity=activity)
    return _form_page(
        request, form, activity.product, sku_rows(activity.product, activity), activity
    )


@console_view(Perm.PROMOTIONS_VIEW)
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(pk)
    status = request.GET.get("team_status", "")
    teams = selectors.teams(activity, status if status in Team.Status.values else None)
    page = paginate(request, teams, per_page=20)
    members = selectors.team_members([t.pk for t in page.object_list])
    figures = selectors.results(activity)
    chart = charts.teams_per_day(
        figures,
        opened=_("Teams opened"),
        succeeded=_("Succeeded"),
        failed=_("Failed"),
    )
    return render(
        request,
        "groupbuy/console/activity_detail.html",
        {
            "activity": activity,
            "phase": selectors.phase(activity),
            "items": selectors.items(activity),
            "figures": figures,
            "success_percent": None
            if figures.success_rate is None
            else round(figures.success_rate * 100, 1),
            "k_factor": None if figures.k_factor is None else round(figures.k_factor, 2),
            "chart": chart,
            "chart_has_data": bool(figures.days),
            "page": page,
            "teams": [(t, members.get(t.pk, [])) for t in page.object_list],
            "team_status": status,
            "team_statuses": Team.Status.choices,
            "query": query_without_page(request),
            "can_manage": _actor(request).can(Perm.PROMOTIONS_MANAGE),
            "share_path": f"/s/{activity.merchant.slug}/groupbuy/{activity.pk}/",
        },
    )


@require_POST
@console_view(Perm.PROMOTIONS_MANAGE)
def activity_status(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        activities.set_status(_actor(request), pk, request.POST.get("action", ""))
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, " ".join(exc.fields.values()) or exc.message)
    else:
        messages.success(request, _("Done."))
    return redirect("groupbuy:activity_detail", pk=pk)
