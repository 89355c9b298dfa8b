"""Console pages of join codes (活码): list, create/edit, detail with the QR code, the short
link, poster downloads, counts, recent scans and the groups the code routes to."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from siyu.community import posters, selectors, services
from siyu.community.forms import CodeForm
from siyu.community.models import JoinCode, JoinCodeScan
from siyu.community.views_common import (
    actor_of,
    card_choices,
    fill_percent,
    group_choices,
    show_errors,
    staff_choices,
    store_choices,
    visible_code,
    visible_codes,
)
from siyu.core.errors import DomainError
from siyu.core.permissions import Perm
from siyu.web.console import console_view, paginate, query_without_page

DOWNLOADS = {
    "qr.svg": ("image/svg+xml", "qr-{token}.svg"),
    "qr.png": ("image/png", "qr-{token}.png"),
    "poster.png": ("image/png", "poster-{token}.png"),
    "poster.pdf": ("application/pdf", "poster-{token}.pdf"),
}


def conversion(code: JoinCode) -> int | None:
    """Joins per scan, in per cent (None before the first scan)."""
    return round(100 * code.join_count / code.scan_count) if code.scan_count else None


@console_view(Perm.COMMUNITY_VIEW)
def code_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    kind = request.GET.get("kind", "")
    rows = visible_codes(actor)
    if kind in JoinCode.Kind.values:
        rows = rows.filter(kind=kind)
    page = paginate(request, rows, 25)
    return render(
        request,
        "community/console/code_list.html",
        {
            "page": page,
            "rows": [{"code": c, "conversion": conversion(c)} for c in page],
            "kinds": JoinCode.Kind.choices,
            "kind": kind,
            "query": query_without_page(request),
            "can_manage": actor.can(Perm.COMMUNITY_MANAGE),
            "can_post": actor.can(Perm.COMMUNITY_CHAT),
        },
    )


def _code_form(request: HttpRequest, **kwargs: Any) -> CodeForm:
    actor = actor_of(request)
    return CodeForm(
        request.POST if request.method == "POST" else None,
        stores=store_choices(),
        staff=staff_choices(actor),
        groups=group_choices(actor),
        card_choices=card_choices(),
        **kwargs,
    )


def _positions(form: CodeForm, current: list[int]) -> dict[str, Any]:
    """What the ordered group picker shows: each group, ticked or not, with its position."""
    if form.is_bound:
        ticked = [int(v) for v in form.data.getlist("groups") if str(v).isdigit()]  # type: ignore[attr-defined]
        positions = {pk: form.data.get(f"position-{pk}", "") for pk, _label in _choices(form)}
    else:
        ticked = current
        positions = {
            pk: (current.index(pk) + 1 if pk in current else "") for pk, _l in _choices(form)
        }
    rows = [
        {"pk": pk, "label": label, "ticked": pk in ticked, "position": positions.get(pk, "")}
        for pk, label in _choices(form)
    ]
    # ticked groups first, in their order; then the rest by name
    order = {pk: i for i, pk in enumerate(current)}
    rows.sort(key=lambda r: (not r["ticked"], order.get(r["pk"], 10**6)))
    return {"group_rows": rows}


def _choices(form: CodeForm) -> list[tuple[int, str]]:
    return [(int(pk), str(label)) for pk, label in form.fields["groups"].choices]  # type: ignore[attr-defined]


@console_view(Perm.COMMUNITY_MANAGE)
def code_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    initial = {"kind": JoinCode.Kind.GROUPS, "is_active": True, "new_group_capacity": 200}
    if request.GET.get("kind") in JoinCode.Kind.values:
        initial["kind"] = request.GET["kind"]
    form = _code_form(request, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            code = services.create_code(actor, **form.service_values())
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Join code %(name)s created.") % {"name": code.name})
            return redirect("community:code_detail", pk=code.pk)
    return render(
        request,
        "community/console/code_form.html",
        {"form": form, "code": None, **_positions(form, [])},
        status=422 if request.method == "POST" else 200,
    )


@console_view(Perm.COMMUNITY_MANAGE)
def code_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    code = visible_code(actor, pk)
    current = [g.pk for g in selectors.code_groups(code)]
    form = _code_form(request, initial=CodeForm.initial_of(code, current), editing=True)
    if request.method == "POST" and form.is_valid():
        values = form.service_values()
        values.pop("kind")
        try:
            services.update_code(actor, code, **values)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("community:code_detail", pk=code.pk)
    return render(
        request,
        "community/console/code_form.html",
        {"form": form, "code": code, **_positions(form, current)},
        status=422 if request.method == "POST" else 200,
    )


@console_view(Perm.COMMUNITY_VIEW)
def code_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    code = visible_code(actor, pk)
    groups = selectors.code_groups(code)
    return render(
        request,
        "community/console/code_detail.html",
        {
            "code": code,
            # segno's own SVG of the short link: no user input in it
            "qr_svg": mark_safe(posters.qr_svg(code, scale=5)),  # noqa: S308
            "link": posters.short_link(code),
            "conversion": conversion(code),
            "scans": selectors.recent_scans(code, 20),
            "outcomes": dict(JoinCodeScan.Outcome.choices),
            "groups": [{"group": g, "fill": fill_percent(g)} for g in groups],
            "font_missing": posters.poster_font() is None,
            "can_manage": actor.can(Perm.COMMUNITY_MANAGE),
            "can_post": actor.can(Perm.COMMUNITY_CHAT),
        },
    )


@console_view(Perm.COMMUNITY_VIEW)
def code_download(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    code = visible_code(actor_of(request), pk)
    content_type, filename = DOWNLOADS[name]
    body: bytes | str
    if name == "qr.svg":
        body = posters.qr_svg(code)
    elif name == "qr.png":
        body = posters.qr_png(code)
    elif name == "poster.png":
        body = posters.poster_png(code)
    else:
        body = posters.poster_pdf(code)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename.format(token=code.token)}"'
    return response
