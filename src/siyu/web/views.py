"""Console shell: login, logout, merchant switcher, dashboard, health check."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import LoginView, LogoutView
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.static import serve

from siyu.core.middleware import SESSION_MERCHANT_KEY, staff_memberships
from siyu.core.permissions import Perm
from siyu.web import dashboard
from siyu.web.console import console_view


class ConsoleLoginView(LoginView):
    template_name = "console/login.html"
    redirect_authenticated_user = True


class ConsoleLogoutView(LogoutView):
    next_page = "console:login"


@require_POST
def switch_merchant(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return HttpResponseRedirect(reverse("console:login"))
    try:
        wanted = int(request.POST.get("merchant", ""))
    except ValueError:
        wanted = 0
    membership = next(
        (m for m in staff_memberships(request.user.pk) if m.merchant_id == wanted), None
    )
    if membership is None:
        messages.error(request, _("You are not a member of that merchant."))
    else:
        request.session[SESSION_MERCHANT_KEY] = membership.merchant_id
        messages.success(
            request, _("Now working in %(merchant)s.") % {"merchant": membership.merchant.name}
        )
    return HttpResponseRedirect(reverse("console:home"))


@console_view(Perm.DASHBOARD_VIEW)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "console/home.html", dashboard.overview(request.actor))  # type: ignore[attr-defined]


@require_GET
def media(request: HttpRequest, path: str) -> HttpResponseBase:
    """Uploaded files from MEDIA_ROOT (read per request) when Siyu serves media itself."""
    return serve(request, path, document_root=str(settings.MEDIA_ROOT))


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok"})
    except Exception as exc:  # the check reports, it does not crash
        return JsonResponse({"status": "error", "database": str(exc)[:200]}, status=503)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 page: inside the console shell for staff, plain otherwise."""
    if getattr(request, "siyu_actor", None) is not None and request.path.startswith("/console/"):
        return render(request, "console/not_found.html", status=404)
    return render(request, "web/not_found.html", status=404)
