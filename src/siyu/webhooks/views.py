"""Console pages of webhooks: endpoints, their secrets and tests, the delivery log."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core.actors import Actor
from siyu.core.errors import DomainError, NotFound
from siyu.core.permissions import Perm
from siyu.web.console import console_view, paginate, query_without_page, show_errors
from siyu.webhooks import charts, selectors, services
from siyu.webhooks.forms import DeliveryFilterForm, EndpointForm, RotateSecretForm
from siyu.webhooks.models import WebhookDelivery, WebhookEndpoint

SECRET_SESSION_KEY = "webhooks_new_secret"  # noqa: S105  (a session key name)


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _remember_secret(request: HttpRequest, issued: services.IssuedEndpoint) -> None:
    """Keep the new secret for the next page only (it is shown once, then forgotten)."""
    request.session[SECRET_SESSION_KEY] = {"endpoint": issued.endpoint.pk, "secret": issued.secret}


def _pop_secret(request: HttpRequest, endpoint: WebhookEndpoint) -> str | None:
    shown = request.session.get(SECRET_SESSION_KEY)
    if not shown or shown.get("endpoint") != endpoint.pk:
        return None
    del request.session[SECRET_SESSION_KEY]
    return str(shown["secret"])


def _with_rates(endpoints: Any) -> list[WebhookEndpoint]:
    rows = list(endpoints)
    for endpoint in rows:
        rate = selectors.success_rate(endpoint.recent_succeeded, endpoint.recent_failed)
        endpoint.rate_percent = None if rate is None else round(rate * 100)
    return rows


@console_view(Perm.WEBHOOKS_VIEW)
def endpoint_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    return render(
        request,
        "webhooks/endpoint_list.html",
        {
            "endpoints": _with_rates(selectors.endpoints()),
            "can_manage": actor.can(Perm.WEBHOOKS_MANAGE),
        },
    )


@console_view(Perm.WEBHOOKS_MANAGE)
def endpoint_create(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.create_endpoint(
                _actor(request),
                url=form.cleaned_data["url"],
                description=form.cleaned_data["description"],
                event_types=form.chosen_event_types(),
                is_active=form.cleaned_data["is_active"],
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            _remember_secret(request, issued)
            return redirect("webhooks:endpoint_detail", pk=issued.endpoint.pk)
    return render(
        request,
        "webhooks/endpoint_form.html",
        {"form": form, "endpoint": None},
        status=422 if request.method == "POST" else 200,
    )


@console_view(Perm.WEBHOOKS_MANAGE)
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint.objects, pk=pk)
    form = EndpointForm(request.POST or None, endpoint=endpoint)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_endpoint(
                _actor(request),
                endpoint.pk,
                url=form.cleaned_data["url"],
                description=form.cleaned_data["description"],
                event_types=form.chosen_event_types(),
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("webhooks:endpoint_detail", pk=endpoint.pk)
    return render(
        request,
        "webhooks/endpoint_form.html",
        {"form": form, "endpoint": endpoint},
        status=422 if request.method == "POST" else 200,
    )


@console_view(Perm.WEBHOOKS_VIEW)
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    endpoint = get_object_or_404(selectors.endpoints(), pk=pk)
    _with_rates([endpoint])
    days = selectors.daily_counts(actor.merchant, endpoint.pk)
    chart = charts.deliveries_per_day(days, succeeded=_("Succeeded"), failed=_("Failed"))
    return render(
        request,
        "webhooks/endpoint_detail.html",
        {
            "endpoint": endpoint,
            "new_secret": _pop_secret(request, endpoint),
            "areas": _subscribed_areas(endpoint),
            "chart": chart,
            "chart_has_data": any(d.succeeded or d.failed for d in days),
            "recent": selectors.deliveries(actor.merchant, endpoint_id=endpoint.pk)[:10],
            "rotate_form": RotateSecretForm(),
            "can_manage": actor.can(Perm.WEBHOOKS_MANAGE),
        },
    )


def _subscribed_areas(endpoint: WebhookEndpoint) -> list[tuple[str, list[Any]]]:
    if endpoint.subscribes_to_all:
        return []
    chosen = set(endpoint.event_types)
    areas = [
        (area.label, [e for e in area.events if e.name in chosen])
        for area in selectors.event_areas()
    ]
    known = {e.name for _label, events in areas for e in events}
    gone = sorted(chosen - known)  # a type no app registers any more
    result = [(label, events) for label, events in areas if events]
    if gone:
        result.append((_("No longer available"), [selectors.EventChoice(n, n) for n in gone]))
    return result


def _run(request: HttpRequest, action: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a service from a POST button: a missing row is a 404, a refusal a message."""
    try:
        return action(_actor(request), *args, **kwargs)
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, exc.message or exc.code)
        return None


@require_POST
@console_view(Perm.WEBHOOKS_MANAGE)
def endpoint_ping(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = _run(request, services.send_test_event, pk)
    if delivery is not None:
        messages.success(
            request, _("A test event is on its way. Its delivery appears below in a moment.")
        )
    return redirect("webhooks:endpoint_detail", pk=pk)


@require_POST
@console_view(Perm.WEBHOOKS_MANAGE)
def endpoint_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    active = request.POST.get("active") == "1"
    endpoint = _run(request, services.set_endpoint_active, pk, active)
    if endpoint is not None:
        messages.success(
            request,
            _("The endpoint is enabled.")
            if active
            else _("The endpoint is disabled; no events are sent to it."),
        )
    return redirect("webhooks:endpoint_detail", pk=pk)


@require_POST
@console_view(Perm.WEBHOOKS_MANAGE)
def endpoint_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    form = RotateSecretForm(request.POST)
    grace = form.cleaned_data["grace_hours"] if form.is_valid() else 0
    issued = _run(request, services.rotate_secret, pk, grace_hours=grace)
    if issued is not None:
        _remember_secret(request, issued)
    return redirect("webhooks:endpoint_detail", pk=pk)


@require_POST
@console_view(Perm.WEBHOOKS_MANAGE)
def endpoint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _run(request, services.delete_endpoint, pk)
    messages.success(request, _("The endpoint and its delivery log are deleted."))
    return redirect("webhooks:endpoint_list")


@console_view(Perm.WEBHOOKS_VIEW)
def delivery_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    endpoints = list(WebhookEndpoint.objects.order_by("url"))
    form = DeliveryFilterForm(request.GET or None, endpoints=endpoints)
    filters = form.cleaned_data if form.is_valid() else {}
    deliveries = selectors.deliveries(
        actor.merchant,
        endpoint_id=filters.get("endpoint") or None,
        status=filters.get("status") or "",
        event_type=filters.get("event_type") or "",
        since=filters.get("since"),
        until=filters.get("until"),
    )
    return render(
        request,
        "webhooks/delivery_list.html",
        {
            "form": form,
            "page": paginate(request, deliveries, 30),
            "query": query_without_page(request),
            "can_manage": actor.can(Perm.WEBHOOKS_MANAGE),
        },
    )


@console_view(Perm.WEBHOOKS_VIEW)
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = selectors.delivery_with_attempts(pk)
    if delivery is None:
        raise Http404
    return render(
        request,
        "webhooks/delivery_detail.html",
        {
            "delivery": delivery,
            "payload": _parsed(delivery.body),
            "attempts": list(delivery.attempt_log.all()),
            "replays": list(delivery.replays.order_by("-created_at")),
            "can_manage": _actor(request).can(Perm.WEBHOOKS_MANAGE),
        },
    )


def _parsed(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


@require_POST
@console_view(Perm.WEBHOOKS_MANAGE)
def delivery_replay(request: HttpRequest, pk: int) -> HttpResponse:
    replay: WebhookDelivery | None = _run(request, services.replay_delivery, pk)
    if replay is None:
        return redirect("webhooks:delivery_detail", pk=pk)
    messages.success(request, _("Replayed: the same body was sent again as a new delivery."))
    return redirect("webhooks:delivery_detail", pk=replay.pk)
