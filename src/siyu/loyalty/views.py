"""Console pages of points and tiers (``/console/loyalty/``): results with members per tier,
settings, tiers (create, edit, order, remove), and one customer's points with staff
adjustments. Views parse forms and call :mod:`services` / :mod:`tiers`; nothing else."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core.actors import Actor
from siyu.core.errors import DomainError
from siyu.core.permissions import Perm
from siyu.customers.models import Customer
from siyu.loyalty import selectors, services, tiers
from siyu.loyalty.forms import AdjustForm, FindCustomerForm, SettingsForm, TierForm
from siyu.loyalty.models import MemberTier, PointsAccount
from siyu.web.console import console_view, paginate, show_errors


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


@console_view(Perm.PROMOTIONS_VIEW)
def overview(request: HttpRequest) -> HttpResponse:
    found = selectors.results()
    form = FindCustomerForm(request.GET or None)
    matches: list[Customer] = []
    if form.is_valid() and form.cleaned_data["q"].strip():
        q = form.cleaned_data["q"].strip()
        matches = list(
            Customer.objects.filter(Q(phone__contains=q) | Q(name__icontains=q)).order_by("pk")[:20]
        )
    top = list(
        PointsAccount.objects.filter(balance__gt=0)
        .select_related("customer")
        .order_by("-balance", "pk")[:10]
    )
    return render(
        request,
        "loyalty/console/overview.html",
        {
            "results": found,
            "settings": selectors.settings_for(),
            "chart": selectors.members_chart(found.members, _("Customers")),
            "has_members": any(n for _name, n in found.members),
            "form": form,
            "matches": matches,
            "searched": bool(form.is_bound and form.is_valid() and form.cleaned_data["q"]),
            "top": top,
            "can_manage": _actor(request).can(Perm.PROMOTIONS_MANAGE),
        },
    )


@console_view(Perm.PROMOTIONS_MANAGE)
def settings_page(request: HttpRequest) -> HttpResponse:
    row = selectors.settings_for()
    form = SettingsForm.of(row, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tiers.save_settings(_actor(request), form.values())
        except DomainError as exc:
            if "max_redeem_bp" in exc.fields:
                form.add_error("max_redeem_percent", exc.fields["max_redeem_bp"])
            show_errors(form, exc)
        else:
            messages.success(request, _("Points settings saved."))
            return redirect("loyalty:overview")
    return render(request, "loyalty/console/settings.html", {"form": form})


@console_view(Perm.PROMOTIONS_VIEW)
def tier_list(request: HttpRequest) -> HttpResponse:
    found = selectors.results().members
    rows = [
        {"tier": t, "members": n, "benefits": selectors.benefits_text(t)}
        for t, (_name, n) in zip(selectors.tiers(), found, strict=True)
    ]
    return render(
        request,
        "loyalty/console/tier_list.html",
        {
            "rows": list(reversed(rows)),
            "can_manage": _actor(request).can(Perm.PROMOTIONS_MANAGE),
        },
    )


def _tier_form(request: HttpRequest, tier: MemberTier | None) -> HttpResponse:
    form = TierForm.of(tier, request.POST or None)
    if request.method == "POST" and form.is_valid():
        values = form.values()
        try:
            if tier is None:
                tiers.create_tier(_actor(request), values)
            else:
                tiers.update_tier(_actor(request), tier.pk, values)
        except DomainError as exc:
            renamed = {
                "discount_bp": "discount_percent",
                "points_multiplier_bp": "points_multiplier",
            }
            for name, reason in exc.fields.items():
                form.add_error(
                    renamed.get(name, name) if renamed.get(name, name) in form.fields else None,
                    reason,
                )
        else:
            messages.success(
                request, _("Tier saved. Customers move on their next order or tonight.")
            )
            return redirect("loyalty:tier_list")
    return render(request, "loyalty/console/tier_form.html", {"form": form, "tier": tier})


@console_view(Perm.PROMOTIONS_MANAGE)
def tier_create(request: HttpRequest) -> HttpResponse:
    return _tier_form(request, None)


@console_view(Perm.PROMOTIONS_MANAGE)
def tier_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tier = MemberTier.objects.filter(pk=pk).first()
    if tier is None:
        raise Http404
    return _tier_form(request, tier)


@require_POST
@console_view(Perm.PROMOTIONS_MANAGE)
def tier_move(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        tiers.move_tier(_actor(request), pk, request.POST.get("direction", ""))
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from None
        messages.error(request, exc.message)
    return redirect("loyalty:tier_list")


@require_POST
@console_view(Perm.PROMOTIONS_MANAGE)
def tier_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        tiers.delete_tier(_actor(request), pk)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from None
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Tier removed; its members were placed again."))
    return redirect("loyalty:tier_list")


@console_view(Perm.PROMOTIONS_VIEW)
def customer_points(request: HttpRequest, pk: int) -> HttpResponse:
    customer = Customer.objects.filter(pk=pk).first()
    if customer is None:
        raise Http404
    actor = _actor(request)
    form = AdjustForm(request.POST or None, initial={"client_key": secrets.token_hex(12)})
    if request.method == "POST":
        if not actor.can(Perm.PROMOTIONS_MANAGE):
            return render(request, "console/forbidden.html", status=403)
        if form.is_valid():
            try:
                services.adjust(
                    actor,
                    customer,
                    form.cleaned_data["points"],
                    reason=form.cleaned_data["reason"],
                    client_key=form.cleaned_data["client_key"] or "",
                )
            except DomainError as exc:
                show_errors(form, exc)
            else:
                messages.success(request, _("Points adjusted."))
                return redirect("loyalty:customer", pk=customer.pk)
    view = selectors.points_overview(customer)
    page = paginate(request, selectors.history(customer), 25)
    return render(
        request,
        "loyalty/console/customer.html",
        {
            "customer": customer,
            "view": view,
            "page": page,
            "rows": [{"entry": e, "label": selectors.entry_label(e)} for e in page.object_list],
            "form": form,
            "can_manage": actor.can(Perm.PROMOTIONS_MANAGE),
        },
    )


@console_view(Perm.PROMOTIONS_VIEW)
def review_list(request: HttpRequest) -> HttpResponse:
    from siyu.loyalty.models import ProductReview

    found = ProductReview.objects.select_related("customer", "order_line").order_by(
        "-created_at", "-id"
    )
    rating = request.GET.get("rating", "")
    if rating in {"1", "2", "3", "4", "5"}:
        found = found.filter(rating=int(rating))
    page = paginate(request, found, 25)
    return render(
        request,
        "loyalty/console/review_list.html",
        {
            "page": page,
            "rating": rating,
            "query": f"rating={rating}" if rating else "",
            "can_manage": _actor(request).can(Perm.PROMOTIONS_MANAGE),
        },
    )


@require_POST
@console_view(Perm.PROMOTIONS_MANAGE)
def review_hide(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.set_review_hidden(_actor(request), pk, request.POST.get("hidden") == "1")
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from None
        messages.error(request, exc.message)
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("loyalty:review_list")
