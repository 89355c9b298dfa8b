"""Console pages of targeted messages: the list, the new/edit form with its live audience
count, and the messaging policy. The detail page, its progress, delivery log and actions are
in :mod:`siyu.marketing.views_detail`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.errors import DomainError, NotFound
from siyu.core.permissions import Perm
from siyu.marketing import policy, selectors, services
from siyu.marketing.forms import (
    SCOPE_STORE,
    SERVICE_FIELDS,
    WHEN_NOW,
    BroadcastFilterForm,
    BroadcastForm,
    PolicyForm,
)
from siyu.marketing.models import Broadcast, MessagingPolicy
from siyu.web.console import console_view, paginate, query_without_page
from siyu.web.console import show_errors as console_show_errors

MAX_PRODUCT_CHOICES = 500


def actor_of(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def broadcast_or_404(pk: int) -> Broadcast:
    try:
        return selectors.broadcast(pk)
    except NotFound:
        raise Http404 from None


# --- choices of the form (the bound merchant's rows) -------------------------------------


def store_choices() -> list[tuple[int, str]]:
    from siyu.stores.models import Store

    rows = Store.objects.exclude(status=Store.Status.CLOSED).order_by("code", "pk")
    return list(rows.values_list("pk", "name"))


def group_choices() -> list[tuple[str, list[tuple[int, str]]]]:
    """Active groups grouped by store (brand-wide groups first), with their member counts."""
    from siyu.community.models import CommunityGroup

    rows = (
        CommunityGroup.objects.filter(status=CommunityGroup.Status.ACTIVE)
        .select_related("store")
        .order_by("store__code", "name", "pk")
    )
    grouped: dict[str, list[tuple[int, str]]] = {}
    for group in rows:
        store = group.store.name if group.store else str(_("Whole brand"))
        label = _("%(name)s (%(n)d members)") % {"name": group.name, "n": group.member_count}
        grouped.setdefault(store, []).append((group.pk, label))
    return list(grouped.items())


def tag_choices() -> list[tuple[str, list[tuple[int, str]]]]:
    from siyu.customers.models import Tag

    grouped: dict[str, list[tuple[int, str]]] = {}
    for tag in Tag.objects.select_related("group").order_by("group__name", "name", "pk"):
        label = _("%(name)s (%(n)d customers)") % {"name": tag.name, "n": tag.customer_count}
        grouped.setdefault(tag.group.name, []).append((tag.pk, label))
    return list(grouped.items())


def segment_choices() -> list[tuple[int, str]]:
    from siyu.customers.models import Segment

    return list(Segment.objects.order_by("name", "pk").values_list("pk", "name"))


def product_choices() -> list[tuple[int, str]]:
    from siyu.catalog.models import Product

    rows = Product.objects.filter(status=Product.Status.ON_SALE).order_by("name", "pk")
    return list(rows.values_list("pk", "name")[:MAX_PRODUCT_CHOICES])


def store_group_ids(store_id: int | None) -> list[int]:
    from siyu.community.models import CommunityGroup

    if not store_id:
        return []
    rows = CommunityGroup.objects.filter(store_id=store_id, status=CommunityGroup.Status.ACTIVE)
    return list(rows.order_by("pk").values_list("pk", flat=True))


def quiet_hours_now(merchant: Any) -> MessagingPolicy | None:
    """The policy when now is inside its quiet hours (for the form's warning), else None."""
    rules = services.messaging_policy(merchant.pk)
    zone = clock.zone(merchant.time_zone)
    if policy.quiet_now(clock.now(), rules.quiet_start, rules.quiet_end, zone):
        return rules
    return None


def show_errors(form: BroadcastForm, error: DomainError, values: dict[str, Any]) -> None:
    """The service's field errors next to the form's fields (``cards.N`` by the card's type)."""
    fields: dict[str, str] = {}
    cards = values.get("cards") or []
    for name, reason in error.fields.items():
        if name.startswith("cards."):
            index = name.split(".", 1)[1]
            card = cards[int(index)] if index.isdigit() and int(index) < len(cards) else {}
            fields["store_card" if card.get("type") == "store" else "product"] = reason
        elif name == "group_ids" and form.cleaned_data.get("group_scope") == SCOPE_STORE:
            fields["group_store"] = reason
        else:
            fields[SERVICE_FIELDS.get(name, name)] = reason
    error.fields = fields
    console_show_errors(form, error)


# --- list --------------------------------------------------------------------------------


@console_view(Perm.MARKETING_VIEW)
def broadcast_list(request: HttpRequest) -> HttpResponse:
    form = BroadcastFilterForm(request.GET or None)
    status = form.cleaned_data.get("status", "") if form.is_valid() else ""
    page = paginate(request, selectors.broadcasts(status=status), 25)
    return render(
        request,
        "marketing/broadcast_list.html",
        {
            "form": form,
            "page": page,
            "rows": [{"broadcast": row, "reach": selectors.reach_label(row)} for row in page],
            "query": query_without_page(request),
            "can_send": actor_of(request).can(Perm.MARKETING_SEND),
        },
    )


# --- new and edit ------------------------------------------------------------------------


def _form(request: HttpRequest, **kwargs: Any) -> BroadcastForm:
    return BroadcastForm(
        request.POST if request.method == "POST" else None,
        groups=group_choices(),
        stores=store_choices(),
        tags=tag_choices(),
        segments=segment_choices(),
        products=product_choices(),
        **kwargs,
    )


def _save(request: HttpRequest, form: BroadcastForm, row: Broadcast | None) -> Broadcast | None:
    """Create or update from a valid form, then send now when asked; None on a field error
    (shown on the form, nothing written)."""
    actor = actor_of(request)
    data = form.cleaned_data
    group_ids = (
        store_group_ids(data.get("group_store"))
        if data.get("group_scope") == SCOPE_STORE
        else list(data.get("groups") or [])
    )
    if data["audience"] == Broadcast.Audience.GROUPS and not group_ids:
        form.add_error(
            "group_store" if data.get("group_scope") == SCOPE_STORE else "groups",
            _("This store has no active groups."),
        )
        return None
    values = form.service_values(group_ids)
    try:
        with transaction.atomic():
            if row is None:
                row = services.create_broadcast(actor, values)
            else:
                row = services.update_broadcast(actor, row, values)
            if data["when"] == WHEN_NOW:
                row = services.send_now(actor, row)
    except DomainError as exc:
        show_errors(form, exc, values)
        return None
    return row


def _form_page(request: HttpRequest, row: Broadcast | None) -> HttpResponse:
    initial = BroadcastForm.initial_of(row) if row else {}
    form = _form(request, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, row)
        if saved is not None:
            if saved.status == Broadcast.Status.SCHEDULED and form.cleaned_data["when"] != "now":
                messages.success(request, _("Scheduled."))
            elif form.cleaned_data["when"] == WHEN_NOW:
                messages.success(request, _("Sending: the progress shows below."))
            else:
                messages.success(request, _("Saved as a draft."))
            return redirect("marketing:broadcast_detail", pk=saved.pk)
    return render(
        request,
        "marketing/broadcast_form.html",
        {
            "form": form,
            "broadcast": row,
            "quiet": quiet_hours_now(actor_of(request).merchant),
        },
        status=422 if request.method == "POST" else 200,
    )


@console_view(Perm.MARKETING_SEND)
def broadcast_new(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@console_view(Perm.MARKETING_SEND)
def broadcast_edit(request: HttpRequest, pk: int) -> HttpResponse:
    row = broadcast_or_404(pk)
    if row.status not in services.EDITABLE:
        messages.error(request, _("Only drafts and scheduled messages can be changed."))
        return redirect("marketing:broadcast_detail", pk=row.pk)
    return _form_page(request, row)


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


@console_view(Perm.MARKETING_VIEW)
def audience_count(request: HttpRequest) -> HttpResponse:
    """The live count of the form's audience: an HTML fragment (htmx), ``data-count`` on it."""
    from siyu.customers.segments import RuleError

    params = request.GET
    audience = params.get("audience", "")
    if params.get("group_scope") == SCOPE_STORE:
        group_store = params.get("group_store", "")
        group_ids = store_group_ids(int(group_store)) if group_store.isdigit() else []
    else:
        group_ids = _ids(params.getlist("groups"))
    tag, segment = params.get("tag", ""), params.get("segment", "")
    values = {
        "audience": audience,
        "group_ids": group_ids,
        "tag_id": int(tag) if tag.isdigit() else None,
        "segment_id": int(segment) if segment.isdigit() else None,
    }
    error = ""
    try:
        count = selectors.audience_count(values)
    except RuleError as exc:
        count, error = None, exc.message
    return render(
        request,
        "marketing/_audience_count.html",
        {"count": count, "error": error, "audience": audience},
    )


# --- the messaging policy ----------------------------------------------------------------


@console_view(Perm.MARKETING_VIEW)
def policy_page(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    row = services.messaging_policy(actor.merchant.pk)
    can_send = actor.can(Perm.MARKETING_SEND)
    form = PolicyForm(
        request.POST if request.method == "POST" else None, initial=PolicyForm.initial_of(row)
    )
    if request.method == "POST":
        if not can_send:
            return render(request, "console/forbidden.html", status=403)
        if form.is_valid():
            try:
                services.update_policy(actor, **form.cleaned_data)
            except DomainError as exc:
                console_show_errors(form, exc)
            else:
                messages.success(request, _("The messaging policy is saved."))
                return redirect("marketing:policy")
    return render(
        request,
        "marketing/policy.html",
        {"form": form, "policy": row, "can_send": can_send},
        status=422 if request.method == "POST" else 200,
    )
