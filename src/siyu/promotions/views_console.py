"""Console pages of coupons, mounted at ``/console/promotions/``.

* the templates list: status, what each gives, claimed / used / left;
* the create and edit form (every field, category and product pickers; a started template
  only its safe fields);
* one template's page: its results (participants, uses, orders, sales, discount given, new
  customers, K-factor where it means something), claims and uses per day, the claim link and
  its QR for posters, schedule / start / pause / resume / end, issue to a customer, post as a
  coupon card to groups, and the coupons issued.

Views are thin: every change goes through ``templates_admin`` (audited) or the community's
``post_to_groups``.
"""

from __future__ import annotations

import io
import secrets
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from siyu.core.actors import Actor
from siyu.core.errors import DomainError, InvalidInput, NotFound
from siyu.core.permissions import Perm
from siyu.customers import phones
from siyu.customers.models import Customer
from siyu.promotions import charts, results, selectors, templates_admin
from siyu.promotions.forms import IssueForm, ScheduleForm, TemplateForm, template_form
from siyu.promotions.models import Coupon, CouponTemplate
from siyu.web.console import console_view, paginate, query_without_page

T = CouponTemplate
QR_BORDER = 2


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _template(pk: int) -> CouponTemplate:
    template = (
        CouponTemplate.objects.select_related("merchant", "audience_tag", "audience_segment")
        .filter(pk=pk)
        .first()
    )
    if template is None:
        raise Http404
    return template


def claim_link(template: CouponTemplate) -> str:
    """The absolute claim page address printed on posters and put in QR codes."""
    path = reverse(
        "shop_promotions:claim", kwargs={"merchant_slug": template.merchant.slug, "pk": template.pk}
    )
    return f"{settings.PUBLIC_URL}{path}"


def _qr(template: CouponTemplate) -> segno.QRCode:
    return segno.make(claim_link(template), error="m", micro=False)


# --- list ----------------------------------------------------------------------------------------


@console_view(Perm.PROMOTIONS_VIEW)
def template_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    status = request.GET.get("status", "")
    found = CouponTemplate.objects.select_related("merchant").order_by("-created_at", "-id")
    if status in T.Status.values:
        found = found.filter(status=status)
    page = paginate(request, found)
    currency = actor.merchant.currency
    return render(
        request,
        "promotions/console/template_list.html",
        {
            "page": page,
            "rows": [{"t": t, "summary": selectors.summary(t, currency)} for t in page],
            "statuses": T.Status.choices,
            "status": status,
            "query": query_without_page(request),
            "can_manage": actor.can(Perm.PROMOTIONS_MANAGE),
        },
    )


# --- create and edit -----------------------------------------------------------------------------


def _show_service_errors(form: TemplateForm, error: DomainError) -> None:
    if not error.fields:
        form.add_error(None, error.message or error.code)
        return
    for name, reason in error.fields.items():
        form.add_error(form.service_field(name), reason)


def _form_page(
    request: HttpRequest, form: TemplateForm, template: CouponTemplate | None
) -> HttpResponse:
    return render(
        request,
        "promotions/console/template_form.html",
        {"form": form, "template": template, "kinds": T.Kind, "started": form.started},
        status=422 if request.method == "POST" else 200,
    )


@console_view(Perm.PROMOTIONS_MANAGE)
def template_create(request: HttpRequest) -> HttpResponse:
    form = template_form(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            template = templates_admin.create_template(_actor(request), form.service_data())
        except DomainError as exc:
            _show_service_errors(form, exc)
        else:
            messages.success(request, _("The coupon is saved as a draft: start it when ready."))
            return redirect("promotions:template_detail", pk=template.pk)
    return _form_page(request, form, None)


@console_view(Perm.PROMOTIONS_MANAGE)
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template(pk)
    if template.status == T.Status.ENDED:
        messages.error(request, _("An ended coupon cannot be changed."))
        return redirect("promotions:template_detail", pk=pk)
    form = template_form(request.POST if request.method == "POST" else None, template=template)
    if request.method == "POST" and form.is_valid():
        try:
            templates_admin.update_template(_actor(request), pk, form.service_data())
        except NotFound as exc:
            raise Http404 from exc
        except DomainError as exc:
            _show_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("promotions:template_detail", pk=pk)
    return _form_page(request, form, template)


# --- one template --------------------------------------------------------------------------------


def _group_choices(actor: Actor) -> list[tuple[int, str]]:
    """Active community groups the actor may post in (empty without the chat permission)."""
    if not actor.can(Perm.COMMUNITY_CHAT):
        return []
    from siyu.community import selectors as community_selectors
    from siyu.community.models import CommunityGroup

    rows = community_selectors.groups(staff=actor.membership).filter(
        status=CommunityGroup.Status.ACTIVE
    )
    return [(g.pk, g.name) for g in rows.order_by("name", "pk")[:200]]


@console_view(Perm.PROMOTIONS_VIEW)
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    template = _template(pk)
    merchant = actor.merchant
    figures = results.template_results(template)
    days = results.daily(template, merchant.time_zone)
    chart = charts.claims_and_uses(days, claimed=_("Claimed"), used=_("Used"))
    buffer = io.BytesIO()
    _qr(template).save(buffer, kind="svg", scale=4, border=QR_BORDER, xmldecl=False)
    coupons = paginate(
        request,
        Coupon.objects.filter(template=template)
        .select_related("customer", "order")
        .order_by("-claimed_at", "-id"),
        per_page=20,
    )
    sources = dict(Coupon.Source.choices)
    return render(
        request,
        "promotions/console/template_detail.html",
        {
            "template": template,
            "summary": selectors.summary(template, merchant.currency),
            "figures": figures,
            "sources": [(sources.get(s, s), n) for s, n in sorted(figures.by_source.items())],
            "chart": chart,
            "chart_has_data": bool(days),
            # segno's own SVG of the claim link: no user input in it
            "qr_svg": mark_safe(buffer.getvalue().decode()),  # noqa: S308
            "link": claim_link(template),
            "coupons": coupons,
            "query": query_without_page(request),
            "coupon_statuses": dict(Coupon.Status.choices),
            "can_manage": actor.can(Perm.PROMOTIONS_MANAGE),
            "schedule_form": ScheduleForm(),
            "issue_form": IssueForm(),
            "issue_key": secrets.token_urlsafe(16),  # a double submit issues once
            "groups": _group_choices(actor) if template.status == T.Status.ACTIVE else [],
        },
    )


@console_view(Perm.PROMOTIONS_VIEW)
def template_qr(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The claim link's QR code for posters (``svg`` or ``png``)."""
    template = _template(pk)
    buffer = io.BytesIO()
    if kind == "png":
        _qr(template).save(buffer, kind="png", scale=12, border=QR_BORDER)
        content_type = "image/png"
    else:
        _qr(template).save(buffer, kind="svg", scale=10, border=QR_BORDER)
        content_type = "image/svg+xml"
    response = HttpResponse(buffer.getvalue(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="coupon-{template.pk}-qr.{kind}"'
    return response


def _run(request: HttpRequest, action: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a service from a POST button: a missing row is a 404, a refusal a message."""
    try:
        return action(_actor(request), *args, **kwargs)
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        reasons = "; ".join(dict.fromkeys(exc.fields.values())) if exc.fields else ""
        messages.error(request, reasons or exc.message or exc.code)
        return None


STATUS_DONE: dict[str, Any] = {
    T.Status.ACTIVE: lambda: _("Started: customers can claim it now."),
    T.Status.PAUSED: lambda: _("Paused: no claims, and its coupons cannot be used meanwhile."),
    T.Status.ENDED: lambda: _("Ended: no more claims. Coupons already issued stay usable."),
    T.Status.DRAFT: lambda: _("Unscheduled: it is a draft again."),
}


@require_POST
@console_view(Perm.PROMOTIONS_MANAGE)
def template_status(request: HttpRequest, pk: int) -> HttpResponse:
    status = request.POST.get("status", "")
    if status not in STATUS_DONE:
        messages.error(request, _("Unknown action."))
    elif _run(request, templates_admin.set_status, pk, status) is not None:
        messages.success(request, STATUS_DONE[status]())
    return redirect("promotions:template_detail", pk=pk)


@require_POST
@console_view(Perm.PROMOTIONS_MANAGE)
def template_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    form = ScheduleForm(request.POST)
    if not form.is_valid() or form.cleaned_data["starts_at"] is None:
        messages.error(request, _("Give the date and time it starts."))
    elif _run(request, templates_admin.schedule, pk, form.cleaned_data["starts_at"]) is not None:
        messages.success(request, _("Scheduled: it starts by itself at that time."))
    return redirect("promotions:template_detail", pk=pk)


def find_customer(text: str) -> Customer | None:
    """A customer of the bound merchant by mobile number or customer number."""
    text = text.strip()
    if text.isdigit() and len(text) < 11:
        return Customer.objects.filter(pk=int(text)).first()
    phone = phones.parse(text)
    if not isinstance(phone, str):
        return None
    return Customer.objects.filter(phone=phone).first()


@require_POST
@console_view(Perm.PROMOTIONS_MANAGE)
def template_issue(request: HttpRequest, pk: int) -> HttpResponse:
    _template(pk)
    form = IssueForm(request.POST)
    customer = find_customer(form.data.get("customer", "")) if form.is_valid() else None
    if customer is None:
        messages.error(request, _("No customer has that mobile number or customer number."))
        return redirect("promotions:template_detail", pk=pk)
    key = request.POST.get("client_key", "")[:64]
    coupon = _run(request, templates_admin.issue, pk, customer.pk, client_key=key)
    if coupon is not None:
        messages.success(
            request,
            _("Coupon %(code)s given to %(who)s.")
            % {"code": coupon.code, "who": customer.name or phones.display(customer.phone)},
        )
    return redirect("promotions:template_detail", pk=pk)


@require_POST
@console_view(Perm.COMMUNITY_CHAT)
def template_post(request: HttpRequest, pk: int) -> HttpResponse:
    """Post the template as a coupon card (opening its claim page) to the groups chosen."""
    from siyu.community import chat
    from siyu.community.models import CommunityGroup

    template = _template(pk)
    actor = _actor(request)
    allowed = {g for g, _name in _group_choices(actor)}
    wanted = [int(v) for v in request.POST.getlist("groups") if v.isdigit()]
    chosen = [g for g in wanted if g in allowed]
    if not chosen:
        messages.error(request, _("Choose at least one group."))
        return redirect("promotions:template_detail", pk=pk)
    groups = list(CommunityGroup.objects.filter(pk__in=chosen).order_by("pk"))
    text = request.POST.get("text", "").strip()[:500]
    try:
        sent = chat.post_to_groups(
            actor, groups, text=text, card={"type": "coupon", "id": template.pk}
        )
    except InvalidInput as exc:
        messages.error(request, "; ".join(exc.fields.values()) or exc.message)
    except DomainError as exc:
        messages.error(request, exc.message or exc.code)
    else:
        messages.success(
            request,
            ngettext("Posted in %(n)d group.", "Posted in %(n)d groups.", len(sent))
            % {"n": len(sent)},
        )
    return redirect("promotions:template_detail", pk=pk)
