"""Console pages of shopping guides' commission (``/console/distribution/guides/``): the
per-guide summary, the guides' rules (set, edit, remove) and their ledger with its CSV export.

Thin, like :mod:`siyu.distribution.views_console` (whose helpers they share): forms parse,
:mod:`siyu.distribution.guide_commission` changes (and audits), and
:mod:`siyu.distribution.guide_selectors` reads. Viewing needs ``distribution.view``; rules
``distribution.manage``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core.errors import DomainError, NotFound
from siyu.core.permissions import Perm
from siyu.distribution import guide_commission, guide_selectors
from siyu.distribution.forms_console import (
    FIELD_OF_RULE,
    GuideLedgerFilterForm,
    GuideRuleForm,
    percent_text,
)
from siyu.distribution.models import GuideCommissionRule
from siyu.distribution.views_console import _actor, _csv_response, _rule_choices, _show
from siyu.web.console import console_view, paginate, query_without_page

Scope = GuideCommissionRule.Scope


# --- the summary -------------------------------------------------------------------------------


@console_view(Perm.DISTRIBUTION_VIEW)
def guide_summary(request: HttpRequest) -> HttpResponse:
    """Every guide who earned, with what is pending, settled and reversed."""
    rows = guide_selectors.summaries()
    return render(
        request,
        "distribution/console/guides.html",
        {
            "rows": rows,
            "totals": {
                "pending": sum(r.pending for r in rows),
                "settled": sum(r.settled for r in rows),
                "reversed": sum(r.reversed for r in rows),
            },
            "has_rules": GuideCommissionRule.objects.exists(),
            "section": "guides",
            "guide_section": "summary",
        },
    )


# --- rules -------------------------------------------------------------------------------------


def _rule_rows(names: dict[str, dict[int, str]]) -> list[dict[str, Any]]:
    """The guides' rules as the rules table shows them (target named, percentage as text)."""
    rows = []
    for rule in GuideCommissionRule.objects.order_by("scope", "id"):
        target_id = rule.category_id if rule.scope == Scope.CATEGORY else rule.product_id
        target = names.get(rule.scope, {}).get(target_id or 0, f"#{target_id}")
        percent = f"{percent_text(rule.rate_bp)} %" if rule.kind == "percent" else None
        rows.append({"rule": rule, "target": target if target_id else "", "percent": percent})
    return rows


def _edited_rule(request: HttpRequest) -> GuideCommissionRule | None:
    """The rule named by ``?edit=`` (404 when the merchant has no such rule)."""
    raw = request.GET.get("edit", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404
    return get_object_or_404(GuideCommissionRule, pk=int(raw))


def _initial_of(rule: GuideCommissionRule | None) -> dict[str, Any]:
    if rule is None:
        return {"scope": Scope.DEFAULT, "kind": "percent"}
    return {
        "scope": rule.scope,
        "category": rule.category_id,
        "product": rule.product_id,
        "kind": rule.kind,
        "rate": percent_text(rule.rate_bp) if rule.kind == "percent" else "",
        "fixed": f"{rule.fixed_fen / 100:.2f}" if rule.kind == "fixed" else "",
    }


@console_view(Perm.DISTRIBUTION_VIEW)
def guide_rules(request: HttpRequest) -> HttpResponse:
    """The guides' rules and the form that sets one (``?edit=<id>``: change that rule's rate)."""
    actor = _actor(request)
    can_manage = actor.can(Perm.DISTRIBUTION_MANAGE)
    categories, products = _rule_choices()
    editing = _edited_rule(request)
    choices: dict[str, Any] = {
        "categories": categories,
        "products": products,
        "editing": editing is not None,
    }
    if request.method == "POST":
        if not can_manage:
            return render(request, "console/forbidden.html", status=403)
        form = GuideRuleForm(request.POST, initial=_initial_of(editing), **choices)
        if form.is_valid():
            try:
                guide_commission.set_guide_rule(actor, **form.arguments())
            except DomainError as exc:
                _show(form, exc, FIELD_OF_RULE)
            else:
                messages.success(request, _("The guides' commission rule is saved."))
                return redirect("distribution:guide_rules")
    else:
        form = GuideRuleForm(initial=_initial_of(editing), **choices)
    return render(
        request,
        "distribution/console/guide_rules.html",
        {
            "form": form,
            "rules": _rule_rows({"category": dict(categories), "product": dict(products)}),
            "editing": editing,
            "can_manage": can_manage,
            "delete_url": "distribution:guide_rule_delete",
            "edit_url": reverse("distribution:guide_rules"),
            "section": "guides",
            "guide_section": "rules",
        },
        status=422 if request.method == "POST" else 200,
    )


@require_POST
@console_view(Perm.DISTRIBUTION_MANAGE)
def guide_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        guide_commission.delete_guide_rule(_actor(request), pk)
    except NotFound as exc:
        raise Http404 from exc
    messages.success(request, _("The guides' commission rule is removed."))
    return redirect("distribution:guide_rules")


# --- the ledger --------------------------------------------------------------------------------


def _ledger_filters(request: HttpRequest) -> tuple[GuideLedgerFilterForm, dict[str, Any] | None]:
    """The filter form and its filters (``None`` when the form is wrong)."""
    form = GuideLedgerFilterForm(request.GET or None, guides=guide_selectors.guide_choices())
    if not form.is_bound:
        return form, {"guide_id": None, "kind": ""}
    if not form.is_valid():
        return form, None
    return form, {
        "guide_id": form.cleaned_data.get("guide"),
        "kind": form.cleaned_data.get("kind") or "",
    }


@console_view(Perm.DISTRIBUTION_VIEW)
def guide_ledger(request: HttpRequest) -> HttpResponse:
    """The guides' entries by guide and state, with each guide's totals above them."""
    form, filters = _ledger_filters(request)
    rows = guide_selectors.ledger_rows(**filters) if filters else None
    page = paginate(request, rows if rows is not None else [], 50)
    names = guide_selectors.guide_names({e.guide_id for e in page})
    for entry in page:
        entry.guide_name = names.get(entry.guide_id, (f"#{entry.guide_id}", False))[0]
    return render(
        request,
        "distribution/console/guide_ledger.html",
        {
            "form": form,
            "summaries": guide_selectors.summaries(filters["guide_id"]) if filters else [],
            "page": page,
            "query": query_without_page(request),
            "section": "guides",
            "guide_section": "ledger",
        },
        status=200 if filters is not None else 422,
    )


@console_view(Perm.DISTRIBUTION_VIEW)
def guide_ledger_export(request: HttpRequest) -> HttpResponse:
    """The filtered guides' ledger as CSV (streamed), like the distributors' export."""
    _form, filters = _ledger_filters(request)
    if filters is None:
        messages.error(request, _("Correct the filters before exporting."))
        return redirect(f"{reverse('distribution:guide_ledger')}?{request.GET.urlencode()}")
    return _csv_response(  # type: ignore[return-value]
        request, lambda: guide_selectors.ledger_csv(**filters), "guide-commission-ledger"
    )
