"""Console page of one targeted message: the content as the customer sees it, status and
progress (polled while it sends), the funnel, skips by reason, the delivery log (filters,
pages, CSV), and the cancel / send-now actions."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from siyu.core import clock
from siyu.core.errors import DomainError
from siyu.core.permissions import Perm
from siyu.customers import phones
from siyu.marketing import policy, selectors, services
from siyu.marketing.forms import DELIVERY_STATUS, FUNNEL_STEPS, DeliveryFilterForm
from siyu.marketing.models import Broadcast, Delivery
from siyu.marketing.views import actor_of, broadcast_or_404
from siyu.web.console import console_view, is_htmx, paginate, query_without_page

CANCELLABLE = (Broadcast.Status.DRAFT, Broadcast.Status.SCHEDULED, Broadcast.Status.SENDING)
SENDABLE = services.SENDABLE
TOTAL_CACHE_SECONDS = 60


def preview_cards(row: Broadcast) -> list[dict[str, Any]]:
    """The cards as the customer sees them (built now, without attribution); a card whose
    product or store is gone is left out."""
    from siyu.community.cards import build_card

    built = []
    for card in row.cards or []:
        try:
            made = build_card(card)
        except DomainError:
            continue
        if made is not None:
            built.append(made)
    return built


def progress_of(row: Broadcast) -> dict[str, Any]:
    """Customers processed so far out of the audience (counted once a minute while sending)."""
    total: int | None = row.targeted_count
    if row.status == Broadcast.Status.SENDING:
        key = f"marketing:audience-total:{row.merchant_id}:{row.pk}"
        total = cache.get(key)
        if total is None:
            total = selectors.audience_count(
                {
                    "audience": row.audience,
                    "group_ids": row.group_ids,
                    "tag_id": row.tag_id,
                    "segment_id": row.segment_id,
                }
            )
            cache.set(key, total, TOTAL_CACHE_SECONDS)
    done = row.progress
    total = max(int(total or 0), done)
    percent = 100 if not total else min(100, round(100 * done / total))
    due = (
        row.status == Broadcast.Status.SCHEDULED
        and row.scheduled_at is not None
        and row.scheduled_at <= clock.now()
    )
    return {"done": done, "total": total, "percent": percent, "due": due}


def funnel_rows(funnel: selectors.Funnel) -> list[dict[str, Any]]:
    steps = funnel.steps()
    widths = policy.funnel([n for _key, _label, n in steps])
    rows = []
    previous = None
    for (key, label, n), width in zip(steps, widths, strict=True):
        rows.append(
            {
                "key": key,
                "label": FUNNEL_STEPS.get(key, label),
                "count": n,
                "width": width,
                "of_targeted": round(100 * n / funnel.targeted, 1) if funnel.targeted else 0,
                "of_previous": round(100 * n / previous, 1) if previous else None,
            }
        )
        previous = n
    return rows


def reason_rows(funnel: selectors.Funnel) -> list[dict[str, Any]]:
    labels = dict(Delivery.SkipReason.choices)
    return [
        {"reason": reason, "label": labels.get(reason, reason), "count": n}
        for reason, n in funnel.reasons.items()
    ]


FINAL = (Broadcast.Status.SENT, Broadcast.Status.CANCELLED, Broadcast.Status.FAILED)
FUNNEL_CACHE_SECONDS = 30


def _funnel(row: Broadcast) -> selectors.Funnel:
    """The funnel; once the send is over, kept for half a minute (reads and taps trickle in,
    and counting reads over a large log is the page's dearest query)."""
    if row.status not in FINAL:
        return selectors.funnel(row)
    key = f"marketing:funnel:{row.merchant_id}:{row.pk}"
    found = cache.get(key)
    if isinstance(found, selectors.Funnel):
        return found
    funnel = selectors.funnel(row)
    cache.set(key, funnel, FUNNEL_CACHE_SECONDS)
    return funnel


def _status_context(row: Broadcast) -> dict[str, Any]:
    return {"broadcast": row, "progress": progress_of(row)}


@console_view(Perm.MARKETING_VIEW)
def broadcast_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    row = broadcast_or_404(pk)
    form = DeliveryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    log = selectors.deliveries(
        row, status=filters.get("status", ""), reason=filters.get("reason", "")
    )
    page = paginate(request, log, 25)
    funnel = _funnel(row)
    can_send = actor.can(Perm.MARKETING_SEND)
    full_phone = actor.can(Perm.CUSTOMERS_MANAGE)
    return render(
        request,
        "marketing/broadcast_detail.html",
        {
            **_status_context(row),
            "reach": selectors.reach_label(row),
            "cards": preview_cards(row),
            "funnel": funnel,
            "funnel_rows": funnel_rows(funnel),
            "reasons": reason_rows(funnel),
            "form": form,
            "page": page,
            "deliveries": [
                {
                    "delivery": d,
                    "phone": d.customer.phone
                    if full_phone
                    else phones.masked_e164(d.customer.phone),
                }
                for d in page
            ],
            "query": query_without_page(request),
            "can_send": can_send,
            "can_cancel": can_send and row.status in CANCELLABLE,
            "can_send_now": can_send and row.status in SENDABLE,
            "can_edit": can_send and row.status in services.EDITABLE,
        },
    )


@console_view(Perm.MARKETING_VIEW)
def broadcast_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The status and progress block, polled every second while the message sends; once the
    send ends, htmx reloads the page (the funnel and the log are complete then)."""
    row = broadcast_or_404(pk)
    context = _status_context(row)
    response = render(request, "marketing/_progress.html", context)
    running = row.status == Broadcast.Status.SENDING or context["progress"]["due"]
    if is_htmx(request) and not running:
        response["HX-Refresh"] = "true"
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


@console_view(Perm.MARKETING_VIEW)
def delivery_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The delivery log as CSV (UTF-8 with a BOM, so Excel reads Chinese), with the page's
    filters, streamed."""
    actor = actor_of(request)
    row = broadcast_or_404(pk)
    form = DeliveryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = selectors.deliveries(
        row, status=filters.get("status", ""), reason=filters.get("reason", "")
    )
    full_phone = actor.can(Perm.CUSTOMERS_MANAGE)
    statuses = DELIVERY_STATUS
    reasons = dict(Delivery.SkipReason.choices)
    zone = timezone.get_current_timezone()
    writer = csv.writer(_Echo())
    header = [
        _("customer id"),
        _("phone"),
        pgettext("a person's name", "name"),
        _("status"),
        _("skip reason"),
        _("sent at"),
        _("read"),
        _("clicked at"),
        _("order id"),
    ]

    def when(value: Any) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if value else ""

    def lines() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(header)
        for d in rows.iterator(chunk_size=2000):
            phone = d.customer.phone if full_phone else phones.masked_e164(d.customer.phone)
            yield writer.writerow(
                [
                    d.customer_id,
                    phone,
                    d.customer.name,
                    str(statuses.get(d.status, d.status)),
                    str(reasons.get(d.skip_reason, d.skip_reason)),
                    when(d.sent_at),
                    _("yes") if getattr(d, "was_read", False) else _("no"),
                    when(d.clicked_at),
                    d.order_id or "",
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="message-{row.pk}-deliveries.csv"'
    return response  # type: ignore[return-value]  # a streamed answer is still a response


@require_POST
@console_view(Perm.MARKETING_SEND)
def broadcast_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    row = broadcast_or_404(pk)
    try:
        services.cancel_broadcast(actor_of(request), row)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The message is cancelled."))
    return redirect("marketing:broadcast_detail", pk=row.pk)


@require_POST
@console_view(Perm.MARKETING_SEND)
def broadcast_send(request: HttpRequest, pk: int) -> HttpResponse:
    row = broadcast_or_404(pk)
    try:
        services.send_now(actor_of(request), row)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Sending: the progress shows below."))
    return redirect("marketing:broadcast_detail", pk=row.pk)
