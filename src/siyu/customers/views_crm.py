"""Console pages of the CRM: the customer page's panels and their actions, CSV imports.

Each action parses a form, calls one service and redirects back to the customer
page with a message; a shopping guide reaches only the customers they own (404).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core.actors import Actor
from siyu.core.errors import DomainError, NotFound
from siyu.core.permissions import Perm
from siyu.customers import consent, crm_selectors, imports, profile
from siyu.customers.crm_forms import IdentityForm, ImportForm, NoteForm, ProfileEditForm
from siyu.customers.models import Consent, Customer, CustomerImport, Tag
from siyu.web.console import console_view, is_htmx, paginate

TIMELINE_PER_PAGE = 20
IMPORTS_PER_PAGE = 20


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _customer(actor: Actor, pk: int) -> Customer:
    try:
        return crm_selectors.customer_for(actor, pk)
    except NotFound as exc:
        raise Http404 from exc


def _back(customer: Customer, anchor: str = "") -> HttpResponse:
    response = redirect("customers:customer_detail", pk=customer.pk)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


def _error(request: HttpRequest, exc: DomainError) -> None:
    reasons = [f"{reason}" for reason in exc.fields.values()] or [exc.message]
    messages.error(request, " ".join(reasons))


def detail_context(request: HttpRequest, actor: Actor, customer: Customer) -> dict[str, Any]:
    """Everything of the CRM panels on the customer page."""
    timeline_page = Paginator(crm_selectors.timeline_entries(customer), TIMELINE_PER_PAGE).get_page(
        request.GET.get("tl")
    )
    stores = crm_selectors.store_choices()
    profile_form = ProfileEditForm(
        initial={
            "name": customer.name,
            "gender": customer.gender,
            "birthday": customer.birthday.isoformat() if customer.birthday else "",
            "city": customer.city,
            "home_store": customer.home_store_id or "",
        },
        stores=stores,
    )
    notes = list(crm_selectors.notes(customer).select_related("author"))
    tag_links = list(crm_selectors.customer_tags(customer))
    held = {link.tag_id for link in tag_links}
    can_tag = actor.can(Perm.CUSTOMERS_TAG)
    return {
        "profile_form": profile_form,
        "identity_form": IdentityForm(),
        "note_form": NoteForm(),
        "identities": list(crm_selectors.identities(customer)),
        "consents": crm_selectors.consent_rows(customer),
        "notes": [{"note": n, "may_delete": profile.may_delete_note(actor, n)} for n in notes],
        "timeline_page": timeline_page,
        "timeline": crm_selectors.timeline_lines(timeline_page.object_list),
        "groups": crm_selectors.groups_of(customer),
        "ownership": crm_selectors.ownership_history(customer),
        "owner_guide": crm_selectors.guide_label(customer.owner_guide),
        "tag_links": tag_links,
        "tag_choices": [t for t in Tag.objects.select_related("group") if t.pk not in held]
        if can_tag
        else [],
        "can_tag": can_tag,
    }


@require_POST
@console_view(Perm.CUSTOMERS_MANAGE)
def profile_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    customer = _customer(actor, pk)
    form = ProfileEditForm(request.POST, stores=crm_selectors.store_choices())
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return _back(customer, "profile")
    try:
        profile.update_profile(actor, customer, **form.cleaned_data)
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Profile saved."))
    return _back(customer, "profile")


@require_POST
@console_view(Perm.CUSTOMERS_MANAGE)
def identity_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    customer = _customer(actor, pk)
    form = IdentityForm(request.POST)
    try:
        if not form.is_valid():
            profile.clean_identity(request.POST.get("kind"), request.POST.get("value"))
        profile.add_identity(actor, customer, form.cleaned_data["kind"], form.cleaned_data["value"])
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Identity added."))
    return _back(customer, "identities")


@require_POST
@console_view(Perm.CUSTOMERS_MANAGE)
def identity_remove(request: HttpRequest, pk: int, identity_id: int) -> HttpResponse:
    actor = _actor(request)
    customer = _customer(actor, pk)
    try:
        profile.remove_identity(actor, customer, identity_id)
    except NotFound as exc:
        raise Http404 from exc
    messages.success(request, _("Identity removed."))
    return _back(customer, "identities")


@require_POST
@console_view(Perm.CUSTOMERS_MANAGE)
def consent_set(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    customer = _customer(actor, pk)
    try:
        consent.set_consent(
            customer,
            request.POST.get("channel", ""),
            request.POST.get("status", ""),
            source="console",
            actor=actor,
        )
    except DomainError as exc:
        _error(request, exc)
    else:
        if request.POST.get("status") == Consent.Status.REFUSED:
            messages.success(request, _("Marketing on this channel is now refused."))
        else:
            messages.success(request, _("Marketing on this channel is allowed again."))
    return _back(customer, "consent")


@require_POST
@console_view(Perm.CUSTOMERS_TAG)
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    customer = _customer(actor, pk)
    try:
        profile.add_note(actor, customer, request.POST.get("text", ""))
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Note added."))
    return _back(customer, "notes")


@require_POST
@console_view(Perm.CUSTOMERS_TAG)
def note_delete(request: HttpRequest, pk: int, note_id: int) -> HttpResponse:
    actor = _actor(request)
    customer = _customer(actor, pk)
    try:
        profile.delete_note(actor, customer, note_id)
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Note deleted."))
    return _back(customer, "notes")


@require_POST
@console_view(Perm.CUSTOMERS_TAG)
def tag_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Add (``action=add``) or remove a tag through the tags services."""
    from siyu.customers import tags

    actor = _actor(request)
    customer = _customer(actor, pk)
    raw = request.POST.get("tag", "")
    tag = Tag.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
    if tag is None:
        messages.error(request, _("Choose a tag."))
        return _back(customer, "tags")
    try:
        if request.POST.get("action") == "remove":
            tags.untag_customer(actor, customer, tag)
        else:
            tags.tag_customer(actor, customer, tag)
    except DomainError as exc:
        _error(request, exc)
    return _back(customer, "tags")


# --- imports -----------------------------------------------------------------------------------


@console_view(Perm.SEGMENTS_MANAGE)
def import_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = ImportForm()
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = imports.start_import(
                    actor, file_name=upload.name, content=upload.read(imports.MAX_BYTES + 1)
                )
            except DomainError as exc:
                form.add_error("file", " ".join(exc.fields.values()) or exc.message)
            else:
                return redirect("customers:import_detail", pk=job.pk)
    page = paginate(request, crm_selectors.imports(), IMPORTS_PER_PAGE)
    return render(
        request,
        "customers/import_list.html",
        {"form": form, "page": page, "query": ""},
        status=422 if form.errors else 200,
    )


@console_view(Perm.SEGMENTS_MANAGE)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        job = imports.import_of(pk)
    except NotFound as exc:
        raise Http404 from exc
    running = job.status in (CustomerImport.Status.QUEUED, CustomerImport.Status.RUNNING)
    context = {
        "job": job,
        "running": running,
        "percent": imports.percent_done(job),
        "errors": job.errors[: imports.MAX_REPORTED_ERRORS],
    }
    if is_htmx(request):
        return render(request, "customers/_import_progress.html", context)
    return render(request, "customers/import_detail.html", context)
