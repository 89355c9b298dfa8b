"""Console pages of bargains, mounted at ``/console/bargain/``: the list of activities, the
new/edit form, and an activity's page with its status actions (schedule, pause, resume,
end), its results and its bargains."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.bargain import activities, selectors
from siyu.bargain.forms import MAX_SKU_CHOICES, SERVICE_FIELDS, ActivityForm, FilterForm
from siyu.bargain.models import Bargain, BargainActivity
from siyu.core.actors import Actor
from siyu.core.errors import DomainError
from siyu.core.permissions import Perm
from siyu.web.console import console_view, paginate, query_without_page
from siyu.web.console import show_errors as console_show_errors

A = BargainActivity


def actor_of(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _activity(pk: int) -> BargainActivity:
    row = A.objects.select_related("sku__product").filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


def sku_choices() -> list[tuple[int, str]]:
    from siyu.catalog.models import Sku
    from siyu.core.money import format_amount

    rows = (
        Sku.objects.filter(active=True)
        .select_related("product")
        .order_by("product__name", "position", "pk")[:MAX_SKU_CHOICES]
    )
    return [(s.pk, f"{s.product.name} · {s.code} · {format_amount(s.price)}") for s in rows]


@console_view(Perm.PROMOTIONS_VIEW)
def activity_list(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    status = form.cleaned_data.get("status", "") if form.is_valid() else ""
    page = paginate(request, selectors.activities(status), 25)
    rows = [{"activity": a, "status": selectors.shown_status(a)} for a in page]
    for row in rows:
        row["status_label"] = selectors.shown_status_label(row["status"])
    return render(
        request,
        "bargain/console/activity_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query_without_page(request),
            "can_manage": actor_of(request).can(Perm.PROMOTIONS_MANAGE),
        },
    )


def _show_errors(form: ActivityForm, error: DomainError) -> None:
    error.fields = {SERVICE_FIELDS.get(k, k): v for k, v in error.fields.items()}
    console_show_errors(form, error)


def _form_page(request: HttpRequest, row: BargainActivity | None) -> HttpResponse:
    form = ActivityForm(
        request.POST if request.method == "POST" else None,
        skus=sku_choices(),
        activity=row,
        initial=ActivityForm.initial_of(row) if row else {},
    )
    if request.method == "POST" and form.is_valid():
        actor = actor_of(request)
        try:
            if row is None:
                saved = activities.create_activity(actor, form.service_values())
            else:
                saved = activities.update_activity(actor, row.pk, form.service_values())
        except DomainError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("bargain:activity_detail", pk=saved.pk)
    return render(
        request,
        "bargain/console/activity_form.html",
        {"form": form, "activity": row},
        status=422 if request.method == "POST" else 200,
    )


@console_view(Perm.PROMOTIONS_MANAGE)
def activity_new(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@console_view(Perm.PROMOTIONS_MANAGE)
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    row = _activity(pk)
    if row.status == A.Status.ENDED:
        messages.error(request, _("An ended activity cannot change."))
        return redirect("bargain:activity_detail", pk=row.pk)
    return _form_page(request, row)


def _actions(row: BargainActivity) -> list[tuple[str, str]]:
    """``(status, label)`` of the moves the activity can make now."""
    moves: list[tuple[str, str]] = []
    if row.status == A.Status.DRAFT:
        moves.append((A.Status.ACTIVE, _("Schedule")))
    if row.status == A.Status.ACTIVE:
        moves.append((A.Status.PAUSED, _("Pause")))
    if row.status == A.Status.PAUSED:
        moves.append((A.Status.ACTIVE, _("Resume")))
    if row.status != A.Status.ENDED:
        moves.append((A.Status.ENDED, _("End")))
    return moves


@console_view(Perm.PROMOTIONS_VIEW)
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    row = _activity(pk)
    status = selectors.shown_status(row)
    bargains = paginate(
        request,
        Bargain.objects.filter(activity=row).select_related("customer").order_by("-started_at"),
        25,
    )
    return render(
        request,
        "bargain/console/activity_detail.html",
        {
            "activity": row,
            "status": status,
            "status_label": selectors.shown_status_label(status),
            "results": selectors.results(row),
            "page": bargains,
            "query": query_without_page(request),
            "actions": _actions(row) if actor_of(request).can(Perm.PROMOTIONS_MANAGE) else [],
            "can_manage": actor_of(request).can(Perm.PROMOTIONS_MANAGE),
            "share_path": f"/s/{row.merchant.slug}/bargain/{row.pk}/",
        },
    )


@require_POST
@console_view(Perm.PROMOTIONS_MANAGE)
def activity_status(request: HttpRequest, pk: int) -> HttpResponse:
    row = _activity(pk)
    try:
        activities.set_status(actor_of(request), row.pk, request.POST.get("status", ""))
    except DomainError as exc:
        messages.error(request, next(iter(exc.fields.values()), exc.message))
    else:
        messages.success(request, _("Done."))
    return redirect("bargain:activity_detail", pk=row.pk)
