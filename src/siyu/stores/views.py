"""Console pages of stores and staff: parse, call a selector or service, render."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core.actors import Actor
from siyu.core.errors import DomainError
from siyu.core.models import Membership
from siyu.core.permissions import GRANTABLE_ROLES, Perm, Role
from siyu.stores import hours, roles, selectors, services, staff
from siyu.stores.forms import (
    NearestForm,
    PasswordResetForm,
    StaffAddForm,
    StaffEditForm,
    StaffFilterForm,
    StoreFilterForm,
    StoreForm,
    StoreManagerForm,
    yes_no,
)
from siyu.stores.models import Store
from siyu.web.console import console_view, paginate, query_without_page, show_errors


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "console/forbidden.html", status=403)


def _store_choices() -> list[tuple[int, str]]:
    return [
        (pk, f"{code} · {name}")
        for pk, code, name in selectors.stores()
        .exclude(status=Store.Status.CLOSED)
        .values_list("pk", "code", "name")
    ]


# --- stores ------------------------------------------------------------------------------


@console_view(Perm.STORES_VIEW)
def store_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = StoreFilterForm(
        request.GET or None,
        cities=selectors.cities(),
        districts=selectors.districts(request.GET.get("city", "")),
    )
    filters = form.cleaned_data if form.is_valid() else {}
    stores = selectors.stores_with_staff_count(
        q=filters.get("q") or "",
        city=filters.get("city") or "",
        district=filters.get("district") or "",
        status=filters.get("status") or "",
        pickup=yes_no(filters.get("pickup")),
    )
    page = paginate(request, stores, 25)
    moment = selectors.local_now(actor.merchant)
    rows = [
        {
            "store": store,
            "open_now": store.status == Store.Status.OPEN
            and hours.is_open_at(store.opening_hours, moment),
        }
        for store in page
    ]
    can_manage = actor.can(Perm.STORES_MANAGE)
    editable = set() if can_manage else selectors.assigned_store_ids(actor.membership)
    return render(
        request,
        "stores/store_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query_without_page(request),
            "can_manage": can_manage,
            "editable_ids": editable,
        },
    )


@console_view(Perm.STORES_VIEW)
def store_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    store = get_object_or_404(Store.objects, pk=pk)
    moment = selectors.local_now(actor.merchant)
    is_open = store.status == Store.Status.OPEN and hours.is_open_at(store.opening_hours, moment)
    change = hours.next_change(store.opening_hours, moment)
    return render(
        request,
        "stores/store_detail.html",
        {
            "store": store,
            "is_open": is_open,
            "next_change": change if store.status == Store.Status.OPEN else None,
            "next_change_days": (change.date() - moment.date()).days if change else None,
            "summary": hours.summary(store.opening_hours),
            "today": hours.DAYS[moment.weekday()],
            "week": [
                (hours.DAY_NAMES[day], store.opening_hours.get(day) or [], day)
                for day in hours.DAYS
            ],
            "staff": selectors.store_staff(store),
            "can_edit": services.can_edit(actor, store),
            "can_close": actor.can(Perm.STORES_MANAGE) and store.status != Store.Status.CLOSED,
            "can_manage_staff": actor.can(Perm.STAFF_MANAGE),
            "can_see_audit": actor.can(Perm.AUDIT_VIEW),
        },
    )


def _store_values(form: StoreManagerForm) -> dict[str, Any]:
    return dict(form.cleaned_data)


@console_view(Perm.STORES_MANAGE)
def store_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = StoreForm(
        request.POST or None, initial={"status": Store.Status.OPEN, "pickup_enabled": True}
    )
    if request.method == "POST" and form.is_valid():
        try:
            store = services.create_store(actor, **_store_values(form))
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Store %(name)s created.") % {"name": store.name})
            return redirect("stores:store_detail", pk=store.pk)
    return render(
        request,
        "stores/store_form.html",
        {"form": form, "store": None},
        status=422 if request.method == "POST" else 200,
    )


@console_view(Perm.STORES_VIEW)
def store_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    store = get_object_or_404(Store.objects, pk=pk)
    if not services.can_edit(actor, store):
        return _forbidden(request)
    full = actor.can(Perm.STORES_MANAGE)
    initial = {name: getattr(store, name) for name in services.STORE_FIELDS}
    initial["phone"] = services.display_phone(store.phone)
    data = request.POST if request.method == "POST" else None
    form: StoreManagerForm = (
        StoreForm(data, initial=initial, allow_closed=store.status == Store.Status.CLOSED)
        if full
        else StoreManagerForm(data, initial=initial)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_store(actor, store, _store_values(form))
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("stores:store_detail", pk=store.pk)
    return render(
        request,
        "stores/store_form.html",
        {"form": form, "store": store, "full": full},
        status=422 if request.method == "POST" else 200,
    )


@require_POST
@console_view(Perm.STORES_MANAGE)
def store_close(request: HttpRequest, pk: int) -> HttpResponse:
    store = get_object_or_404(Store.objects, pk=pk)
    services.close_store(_actor(request), store)
    messages.success(
        request,
        _("%(name)s is closed for good; it no longer appears in store search.")
        % {"name": store.name},
    )
    return redirect("stores:store_detail", pk=store.pk)


@console_view(Perm.STORES_VIEW)
def store_nearest(request: HttpRequest) -> HttpResponse:
    form = NearestForm(request.GET or None)
    results = None
    if form.is_valid():
        radius_km: Decimal | None = form.cleaned_data["radius_km"]
        results = selectors.nearest_stores(
            form.cleaned_data["lat"],
            form.cleaned_data["lng"],
            limit=form.cleaned_data["limit"] or 10,
            pickup_only=form.cleaned_data["pickup"],
            open_only=form.cleaned_data["open_now"],
            radius_m=float(radius_km * 1000) if radius_km is not None else None,
        )
    return render(
        request,
        "stores/store_nearest.html",
        {"form": form, "results": results},
        status=422 if request.GET and not form.is_valid() else 200,
    )


# --- staff ------------------------------------------------------------------------------


@console_view(Perm.STAFF_VIEW)
def staff_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = StaffFilterForm(request.GET or None, stores=_store_choices())
    filters = form.cleaned_data if form.is_valid() else {}
    members = selectors.staff_members(
        actor.merchant,
        q=filters.get("q") or "",
        role=filters.get("role") or "",
        store_id=filters.get("store"),
        active=yes_no(filters.get("active")),
    )
    return render(
        request,
        "stores/staff_list.html",
        {
            "form": form,
            "page": paginate(request, members, 30),
            "query": query_without_page(request),
            "can_manage": actor.can(Perm.STAFF_MANAGE),
            "roles": [
                (value, label, roles.ROLE_DESCRIPTIONS.get(value, ""), roles.ROLE_BADGES[value])
                for value, label in Role.choices
            ],
            "matrix": roles.role_matrix(),
        },
    )


@console_view(Perm.STAFF_MANAGE)
def staff_add(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = StaffAddForm(
        request.POST or None,
        grantable=GRANTABLE_ROLES.get(actor.role, ()),
        stores=_store_choices(),
        initial={"mode": "new", "role": Role.SHOPPING_GUIDE},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("mode")
        try:
            membership = staff.add_staff(actor, **data)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(
                request, _("%(name)s is now on the staff.") % {"name": membership.user}
            )
            return redirect("stores:staff_list")
    return render(
        request,
        "stores/staff_add.html",
        {"form": form},
        status=422 if request.method == "POST" else 200,
    )


def _membership_or_404(actor: Actor, pk: int) -> Membership:
    membership = selectors.staff_member(actor.merchant, pk)
    if membership is None:
        raise Http404
    return membership


def _edit_form(actor: Actor, membership: Membership, data: Any = None) -> StaffEditForm:
    assignments = membership.store_assignments.all()
    form = StaffEditForm(
        data,
        grantable=GRANTABLE_ROLES.get(actor.role, ()),
        stores=_store_choices(),
        initial={
            "role": membership.role,
            "stores": sorted(a.store_id for a in assignments),
            "is_active": membership.is_active,
        },
    )
    if _is_self(actor, membership):
        form.fields["role"].disabled = True
        form.fields["is_active"].disabled = True
    return form


def _is_self(actor: Actor, membership: Membership) -> bool:
    return actor.user is not None and membership.user_id == actor.user.pk


def _edit_page(
    request: HttpRequest,
    membership: Membership,
    form: StaffEditForm,
    password_form: PasswordResetForm,
    status: int,
) -> HttpResponse:
    return render(
        request,
        "stores/staff_edit.html",
        {
            "form": form,
            "member": membership,
            "is_self": _is_self(_actor(request), membership),
            "password_form": password_form,
        },
        status=status,
    )


@console_view(Perm.STAFF_MANAGE)
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    membership = _membership_or_404(actor, pk)
    form = _edit_form(actor, membership, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            staff.update_staff(
                actor,
                membership,
                role=form.cleaned_data["role"],
                stores=form.cleaned_data["stores"],
                is_active=form.cleaned_data["is_active"],
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("stores:staff_list")
    status = 422 if request.method == "POST" else 200
    return _edit_page(request, membership, form, PasswordResetForm(), status)


@require_POST
@console_view(Perm.STAFF_MANAGE)
def staff_password(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    membership = _membership_or_404(actor, pk)
    form = PasswordResetForm(request.POST)
    if form.is_valid():
        try:
            staff.reset_password(actor, membership, form.cleaned_data["password"])
        except DomainError as exc:
            show_errors(form, exc)
        else:
            if _is_self(actor, membership):
                update_session_auth_hash(request, membership.user)  # stay logged in
            messages.success(
                request,
                _("The password of %(name)s is changed; their other sessions have ended.")
                % {"name": membership.user},
            )
            return redirect("stores:staff_edit", pk=membership.pk)
    return _edit_page(request, membership, _edit_form(actor, membership), form, 422)
