"""Console pages of referrals: results (with the K-factor and a chart), the programme's
settings with run/pause, the referrals (blocked attempts with their reasons) and a customer's
referral tree."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.errors import DomainError
from siyu.core.permissions import Perm
from siyu.customers.models import Customer
from siyu.promotions.models import CouponTemplate
from siyu.referrals import selectors, services, services_programme
from siyu.referrals.forms import ProgrammeForm, ReferralFilterForm, TreeForm
from siyu.referrals.services import running
from siyu.web.console import console_view, paginate, query_without_page, show_errors

PERIODS = {"30": 30, "90": 90, "365": 365}


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


@require_safe
@console_view(Perm.PROMOTIONS_VIEW)
def overview(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("days", "365")
    days = PERIODS.get(period, 365)
    end = clock.now()
    found = selectors.results(end - timedelta(days=days), end)
    current = services_programme.programme()
    return render(
        request,
        "referrals/console/overview.html",
        {
            "tab": "overview",
            "results": found,
            "chart": selectors.results_chart(found),
            "period": str(days),
            "periods": [("30", _("30 days")), ("90", _("90 days")), ("365", _("A year"))],
            "programme": current,
            "running": running(current, end),
            "invitee_reward": selectors.reward_text(current, "invitee"),
            "inviter_reward": selectors.reward_text(current, "inviter"),
        },
    )


def _templates() -> list[tuple[int, str]]:
    rows = CouponTemplate.objects.filter(
        status__in=[CouponTemplate.Status.ACTIVE, CouponTemplate.Status.PAUSED]
    ).order_by("name", "pk")
    return [(t.pk, f"{t.name} · {t.get_status_display()}") for t in rows]


def _initial(current: Any) -> dict[str, Any]:
    names = [
        "starts_at",
        "ends_at",
        "message",
        "invitee_reward",
        "invitee_template_id",
        "invitee_points",
        "inviter_reward",
        "inviter_template_id",
        "inviter_points",
        "cap_per_month",
        "cap_total",
        "guard_phone",
        "guard_device",
        "guard_address",
        "code_entry_days",
    ]
    return {name: getattr(current, name) for name in names}


@require_http_methods(["GET", "HEAD", "POST"])
@console_view(Perm.PROMOTIONS_VIEW)
def settings_page(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    current = services_programme.programme()
    can_manage = actor.can(Perm.PROMOTIONS_MANAGE)
    form = ProgrammeForm(
        request.POST if request.method == "POST" else None,
        initial=_initial(current),
        templates=_templates(),
    )
    status = 200
    if request.method == "POST":
        if not can_manage:
            return render(request, "console/forbidden.html", status=403)
        status = 422
        if form.is_valid():
            try:
                services_programme.update_programme(actor, form.changes())
            except DomainError as exc:
                show_errors(form, exc)
            else:
                messages.success(request, _("The referral programme is saved."))
                return redirect("referrals:settings")
    return render(
        request,
        "referrals/console/settings.html",
        {
            "tab": "settings",
            "form": form,
            "programme": current,
            "running": running(current, clock.now()),
            "can_manage": can_manage,
            "points_available": services_programme.points_available(),
        },
        status=status,
    )


@require_POST
@console_view(Perm.PROMOTIONS_MANAGE)
def set_status(request: HttpRequest) -> HttpResponse:
    try:
        current = services_programme.set_status(_actor(request), request.POST.get("status"))
    except DomainError as exc:
        reasons = "; ".join(exc.fields.values()) or exc.message
        messages.error(request, _("The programme cannot run: %(why)s") % {"why": reasons})
    else:
        if current.status == "active":
            messages.success(request, _("The referral programme is running."))
        else:
            messages.success(request, _("The referral programme is paused."))
    return redirect("referrals:settings")


@require_safe
@console_view(Perm.PROMOTIONS_VIEW)
def referral_list(request: HttpRequest, blocked: bool = False) -> HttpResponse:
    form = ReferralFilterForm(request.GET or None)
    status, reason, failed = ("blocked" if blocked else ""), "", False
    if form.is_valid():
        status = status or form.cleaned_data["status"]
        reason = form.cleaned_data["reason"]
        failed = form.cleaned_data["reward_failed"]
    rows = selectors.referrals(status=status or None, reason=reason or None, reward_failed=failed)
    page = paginate(request, rows, 50)
    return render(
        request,
        "referrals/console/referral_list.html",
        {
            "tab": "blocked" if blocked else "referrals",
            "blocked": blocked,
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "show_phones": _actor(request).can(Perm.CUSTOMERS_VIEW),
            "can_manage": _actor(request).can(Perm.PROMOTIONS_MANAGE),
        },
    )


@require_POST
@console_view(Perm.PROMOTIONS_MANAGE)
def retry_reward(request: HttpRequest, pk: int) -> HttpResponse:
    """Try a reward that could not be issued again, and come back to the list."""
    try:
        reward = services.retry_reward(_actor(request), pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if reward.status == reward.Status.ISSUED:
            messages.success(request, _("The reward was issued."))
        else:
            problem = reward.problem
            messages.error(request, _("Still not issued: %(why)s") % {"why": problem})
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/console/referrals/") else "referrals:list")


def _find_customer(text: str) -> Customer | None:
    from siyu.customers.services_accounts import normalise_phone

    text = text.strip()
    if text.isdigit() and len(text) < 11:
        return Customer.objects.filter(pk=int(text)).first()
    try:
        phone = normalise_phone(text)
    except DomainError:
        return None
    return Customer.objects.filter(phone=phone).first()


@require_safe
@console_view(Perm.PROMOTIONS_VIEW)
def tree_page(request: HttpRequest) -> HttpResponse:
    form = TreeForm(request.GET or None)
    view = None
    status = 200
    if form.is_valid():
        root = _find_customer(form.cleaned_data["customer"])
        if root is None:
            form.add_error("customer", _("No customer has this number or phone."))
            status = 404
        else:
            view = selectors.tree_of(root)
    return render(
        request,
        "referrals/console/tree.html",
        {
            "tab": "tree",
            "form": form,
            "view": view,
            "show_phones": _actor(request).can(Perm.CUSTOMERS_VIEW),
            "chart": _tree_chart(view) if view is not None and view.rows else None,
        },
        status=status,
    )


def _tree_chart(view: selectors.TreeView) -> dict[str, Any]:
    """An ECharts tree of the first levels (at most 300 friends, so it stays readable)."""

    def label(customer: Customer) -> str:
        return customer.name or f"#{customer.pk}"

    nodes: dict[int, dict[str, Any]] = {view.root.pk: {"name": label(view.root), "children": []}}
    for row in view.rows[:300]:
        node = {"name": label(row["customer"]), "children": []}
        parent = nodes.get(row["parent_id"])
        if parent is not None:
            parent["children"].append(node)
            nodes[row["customer"].pk] = node
    return {
        "tooltip": {"trigger": "item"},
        "series": [
            {
                "type": "tree",
                "data": [nodes[view.root.pk]],
                "top": 20,
                "left": 60,
                "bottom": 20,
                "right": 100,
                "symbolSize": 8,
                "initialTreeDepth": 3,
                "label": {"position": "left", "verticalAlign": "middle", "align": "right"},
                "leaves": {"label": {"position": "right", "align": "left"}},
            }
        ],
    }
