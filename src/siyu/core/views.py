"""Console pages of the core: API keys, audit log, merchant settings."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core import selectors, services
from siyu.core.errors import DomainError
from siyu.core.forms import ApiKeyForm, AuditFilterForm, MerchantForm
from siyu.core.models import ApiKey
from siyu.core.permissions import GRANTABLE_ROLES, Perm
from siyu.web.console import console_view, paginate, query_without_page, show_errors


@console_view(Perm.APIKEYS_MANAGE)
def apikey_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form = ApiKeyForm(request.POST or None, grantable=GRANTABLE_ROLES[actor.role])
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.create_api_key(
                actor, name=form.cleaned_data["name"], role=form.cleaned_data["role"]
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            form = ApiKeyForm(grantable=GRANTABLE_ROLES[actor.role])
    return render(
        request,
        "core/apikey_list.html",
        {"form": form, "issued": issued, "keys": selectors.api_keys()},
        status=422 if request.method == "POST" and issued is None else 200,
    )


@require_POST
@console_view(Perm.APIKEYS_MANAGE)
def apikey_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    api_key = get_object_or_404(ApiKey.objects, pk=pk)
    services.revoke_api_key(request.actor, api_key)  # type: ignore[attr-defined]
    messages.success(
        request,
        _("The key %(name)s is revoked; requests with it now fail.") % {"name": api_key.name},
    )
    return redirect("core:apikey_list")


@console_view(Perm.AUDIT_VIEW)
def audit_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = selectors.audit_entries(
        actor.merchant,
        q=filters.get("q") or "",
        action=filters.get("action") or "",
        since=filters.get("since"),
        until=filters.get("until"),
        object_type=request.GET.get("object_type", ""),
        object_id=request.GET.get("object_id", ""),
    )
    return render(
        request,
        "core/audit_list.html",
        {
            "form": form,
            "page": paginate(request, entries, 30),
            "query": query_without_page(request),
        },
    )


@console_view(Perm.MERCHANT_MANAGE)
def merchant_settings(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    merchant = actor.merchant
    initial = {
        "name": merchant.name,
        "legal_name": merchant.legal_name,
        "time_zone": merchant.time_zone,
    }
    form = MerchantForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_merchant(actor, **form.cleaned_data)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("core:merchant_settings")
    return render(request, "core/merchant_settings.html", {"form": form})
