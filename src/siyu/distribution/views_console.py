"""Console pages of distribution (``/console/distribution/``): the overview, settings,
distributors, commission rules, the ledger and withdrawals.

Thin: forms parse, services change (and audit), selectors read. Viewing needs
``distribution.view``; settings, rules and decisions on distributors ``distribution.manage``;
withdrawals' approval, rejection and payout ``distribution.payout`` (the finance role).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.catalog.models import Category, Product
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.clock import zone
from siyu.core.errors import DomainError, NotFound
from siyu.core.permissions import Perm
from siyu.core.tenancy import merchant_context
from siyu.distribution import console_charts, selectors, services
from siyu.distribution.forms_console import (
    FIELD_OF_RULE,
    FIELD_OF_SETTING,
    DecisionForm,
    DistributorFilterForm,
    LedgerFilterForm,
    PayWithdrawalForm,
    RejectWithdrawalForm,
    RuleForm,
    SettingsForm,
    WithdrawalFilterForm,
    percent_text,
)
from siyu.distribution.models import (
    Binding,
    CommissionEntry,
    CommissionRule,
    Distributor,
    Withdrawal,
)
from siyu.orders.models import Order
from siyu.web.console import console_view, paginate, query_without_page


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _show(form: Any, error: DomainError, renames: dict[str, str]) -> None:
    """A service's field errors next to the form's fields (renamed where they differ)."""
    if not error.fields:
        form.add_error(None, error.message or error.code)
        return
    for name, reason in error.fields.items():
        field = renames.get(name, name)
        form.add_error(field if field in form.fields else None, reason)


def _run(request: HttpRequest, action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A service from a POST button: a missing row is a 404, a refusal a message."""
    try:
        result = action(_actor(request), *args, **kwargs)
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        reasons = "; ".join(str(r) for r in (exc.fields or {}).values())
        messages.error(request, f"{exc.message} {reasons}".strip() if reasons else exc.message)
        return None
    return result


# --- overview ----------------------------------------------------------------------------------


@console_view(Perm.DISTRIBUTION_VIEW)
def overview(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    numbers = selectors.overview(now)
    months = selectors.commission_by_month(now)
    chart = console_charts.commission_by_month(
        months,
        earned=_("Earned"),
        settled=pgettext_settled(),
        reversed_=_("Reversed by refunds"),
    )
    return render(
        request,
        "distribution/console/overview.html",
        {
            "numbers": numbers,
            "kfactor_days": selectors.KFACTOR_DAYS,
            "chart": chart,
            "chart_has_data": any(m.earned or m.settled or m.reversed for m in months),
            "settings_row": selectors.settings_of(),
            "section": "overview",
        },
    )


def pgettext_settled() -> str:
    return translation.pgettext("commission", "Settled")


# --- settings ----------------------------------------------------------------------------------


@console_view(Perm.DISTRIBUTION_VIEW)
def settings_page(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    row = selectors.settings_of()
    can_manage = actor.can(Perm.DISTRIBUTION_MANAGE)
    if request.method == "POST":
        if not can_manage:
            return render(request, "console/forbidden.html", status=403)
        form = SettingsForm(request.POST)
        if form.is_valid():
            try:
                services.update_settings(actor, form.changes())
            except DomainError as exc:
                _show(form, exc, FIELD_OF_SETTING)
            else:
                messages.success(request, _("The distribution settings are saved."))
                return redirect("distribution:settings")
    else:
        form = SettingsForm(initial=SettingsForm.initial_of(row))
    return render(
        request,
        "distribution/console/settings.html",
        {"form": form, "can_manage": can_manage, "section": "settings"},
        status=422 if request.method == "POST" else 200,
    )


# --- distributors ------------------------------------------------------------------------------


@console_view(Perm.DISTRIBUTION_VIEW)
def distributor_list(request: HttpRequest) -> HttpResponse:
    form = DistributorFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = selectors.distributors(filters.get("q") or "", filters.get("status") or "")
    return render(
        request,
        "distribution/console/distributor_list.html",
        {
            "form": form,
            "page": paginate(request, rows, 30),
            "query": query_without_page(request),
            "section": "distributors",
        },
    )


@console_view(Perm.DISTRIBUTION_VIEW)
def distributor_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    distributor = get_object_or_404(
        Distributor.objects.select_related("customer", "invited_by__customer"), pk=pk
    )
    return render(
        request,
        "distribution/console/distributor_detail.html",
        {
            "distributor": distributor,
            "balances": selectors.balances(distributor),
            "bindings": Binding.objects.filter(distributor=distributor)
            .select_related("customer")
            .order_by("-since", "-id")[:50],
            "bound_count": Binding.objects.filter(distributor=distributor).count(),
            "orders": Order.objects.filter(distributor_id=distributor.pk)
            .select_related("customer")
            .order_by("-placed_at", "-id")[:30],
            "entries": CommissionEntry.objects.filter(distributor=distributor)
            .select_related("order")
            .order_by("-created_at", "-id")[:30],
            "invited": Distributor.objects.filter(invited_by=distributor)
            .select_related("customer")
            .order_by("-applied_at", "-id")[:50],
            "withdrawals": Withdrawal.objects.filter(distributor=distributor).order_by(
                "-requested_at", "-id"
            )[:20],
            "decisions": _decisions(distributor),
            "can_manage": actor.can(Perm.DISTRIBUTION_MANAGE),
            "section": "distributors",
        },
    )


def _decisions(distributor: Distributor) -> list[tuple[str, str]]:
    labels: dict[str, str] = {
        Distributor.Status.APPROVED: _("Approve"),
        Distributor.Status.REJECTED: _("Reject"),
        Distributor.Status.SUSPENDED: _("Suspend"),
    }
    return [
        (status, labels[status])
        for status, sources in services.DECISIONS.items()
        if distributor.status in sources
    ]


@require_POST
@console_view(Perm.DISTRIBUTION_MANAGE)
def distributor_decide(request: HttpRequest, pk: int) -> HttpResponse:
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a decision; a reason has at most 200 characters."))
        return redirect("distribution:distributor_detail", pk=pk)
    status = form.cleaned_data["status"]
    done = _run(request, services.decide, pk, status, reason=form.cleaned_data["reason"])
    if done is not None:
        messages.success(
            request,
            _("The distributor is now %(status)s.") % {"status": done.get_status_display()},
        )
    return redirect("distribution:distributor_detail", pk=pk)


# --- rules -------------------------------------------------------------------------------------


def _rule_choices() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    categories = [(c.pk, str(c)) for c in Category.objects.order_by("name", "pk")[:500]]
    products = [(p.pk, str(p)) for p in Product.objects.order_by("name", "pk")[:1000]]
    return categories, products


@console_view(Perm.DISTRIBUTION_VIEW)
def rule_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    can_manage = actor.can(Perm.DISTRIBUTION_MANAGE)
    categories, products = _rule_choices()
    if request.method == "POST":
        if not can_manage:
            return render(request, "console/forbidden.html", status=403)
        form = RuleForm(request.POST, categories=categories, products=products)
        if form.is_valid():
            try:
                services.set_rule(actor, **form.arguments())
            except DomainError as exc:
                _show(form, exc, FIELD_OF_RULE)
            else:
                messages.success(request, _("The commission rule is saved."))
                return redirect("distribution:rules")
    else:
        form = RuleForm(
            initial={"scope": "default", "kind": "percent"},
            categories=categories,
            products=products,
        )
    names = {
        "category": dict(categories),
        "product": dict(products),
    }
    rules = []
    for rule in CommissionRule.objects.order_by("scope", "id"):
        target = ""
        if rule.scope == CommissionRule.Scope.CATEGORY and rule.category_id:
            target = names["category"].get(rule.category_id, f"#{rule.category_id}")
        elif rule.scope == CommissionRule.Scope.PRODUCT and rule.product_id:
            target = names["product"].get(rule.product_id, f"#{rule.product_id}")
        shown = (
            f"{percent_text(rule.rate_bp)} %"
            if rule.kind == CommissionRule.Kind.PERCENT
            else None  # a fixed amount: the template shows it as money
        )
        rules.append({"rule": rule, "target": target, "percent": shown})
    return render(
        request,
        "distribution/console/rules.html",
        {"form": form, "rules": rules, "can_manage": can_manage, "section": "rules"},
        status=422 if request.method == "POST" else 200,
    )


@require_POST
@console_view(Perm.DISTRIBUTION_MANAGE)
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.delete_rule(_actor(request), pk)
    except NotFound as exc:
        raise Http404 from exc
    messages.success(request, _("The commission rule is removed."))
    return redirect("distribution:rules")


# --- the ledger --------------------------------------------------------------------------------


def _entry_filters(request: HttpRequest) -> tuple[LedgerFilterForm, selectors.EntryFilters | None]:
    """The ledger's filter form and its filters (``None`` when the form is wrong)."""
    form = LedgerFilterForm(request.GET or None)
    if not form.is_bound:
        return form, selectors.EntryFilters()
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    distributor = None
    code = (data.get("distributor") or "").strip().upper()
    if code:
        distributor = Distributor.objects.filter(share_code=code).first()
        if distributor is None:
            form.add_error("distributor", _("No distributor has this share code."))
            return form, None
    return form, selectors.EntryFilters(
        distributor=distributor,
        kind=data.get("kind") or "",
        order_number=data.get("order") or "",
        since=data.get("since"),
        until=data.get("until"),
    )


@console_view(Perm.DISTRIBUTION_VIEW)
def ledger(request: HttpRequest) -> HttpResponse:
    form, filters = _entry_filters(request)
    return render(
        request,
        "distribution/console/ledger.html",
        {
            "form": form,
            "page": paginate(
                request,
                selectors.entries(filters) if filters else CommissionEntry.objects.none(),
                50,
            ),
            "query": query_without_page(request),
            "section": "ledger",
        },
    )


def _csv_response(
    request: HttpRequest, lines: Callable[[], Iterator[str]], name: str
) -> StreamingHttpResponse:
    """Stream ``lines`` with the merchant, its time zone and the language bound (the
    generator runs after the view has returned)."""
    actor = _actor(request)
    language = translation.get_language()
    time_zone = actor.merchant.time_zone

    def rows() -> Iterator[str]:
        with (
            merchant_context(actor.merchant),
            timezone.override(zone(time_zone)),
            translation.override(language),
        ):
            yield "\ufeff"  # so that Excel reads the file as UTF-8
            yield from lines()

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = clock.local(clock.now(), time_zone).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@console_view(Perm.DISTRIBUTION_VIEW)
def ledger_export(request: HttpRequest) -> HttpResponse:
    _form, filters = _entry_filters(request)
    if filters is None:
        messages.error(request, _("Correct the filters before exporting."))
        return redirect(f"{reverse('distribution:ledger')}?{request.GET.urlencode()}")
    # a streamed answer; console_view is typed for plain HttpResponse views
    return _csv_response(  # type: ignore[return-value]
        request, lambda: selectors.entries_csv(filters), "commission-ledger"
    )


# --- withdrawals -------------------------------------------------------------------------------


@console_view(Perm.DISTRIBUTION_VIEW)
def withdrawal_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = WithdrawalFilterForm(request.GET or None)
    status = form.cleaned_data.get("status") if form.is_valid() else ""
    rows = Withdrawal.objects.select_related("distributor__customer").order_by(
        "-requested_at", "-id"
    )
    if status:
        rows = rows.filter(status=status)
    return render(
        request,
        "distribution/console/withdrawals.html",
        {
            "form": form,
            "status": status or "",
            "page": paginate(request, rows, 30),
            "query": query_without_page(request),
            "can_pay": actor.can(Perm.DISTRIBUTION_PAYOUT),
            "reject_form": RejectWithdrawalForm(),
            "pay_form": PayWithdrawalForm(),
            "section": "withdrawals",
        },
    )


@console_view(Perm.DISTRIBUTION_VIEW)
def withdrawal_export(request: HttpRequest) -> HttpResponse:
    form = WithdrawalFilterForm(request.GET or None)
    status = form.cleaned_data.get("status") if form.is_valid() else ""

    def lines() -> Iterator[str]:
        yield selectors.withdrawals_csv(status or None)

    return _csv_response(request, lines, "withdrawals")  # type: ignore[return-value]


def _back(request: HttpRequest) -> HttpResponse:
    query = request.POST.get("back", "")
    target = "distribution:withdrawals"
    response = redirect(target)
    if query and "\n" not in query and "//" not in query:
        response["Location"] += f"?{query}"
    return response


@require_POST
@console_view(Perm.DISTRIBUTION_PAYOUT)
def withdrawal_approve(request: HttpRequest, pk: int) -> HttpResponse:
    if _run(request, services.approve_withdrawal, pk) is not None:
        messages.success(request, _("Withdrawal approved. Pay it and record the reference."))
    return _back(request)


@require_POST
@console_view(Perm.DISTRIBUTION_PAYOUT)
def withdrawal_reject(request: HttpRequest, pk: int) -> HttpResponse:
    form = RejectWithdrawalForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for the rejection (1–200 characters)."))
        return _back(request)
    if _run(request, services.reject_withdrawal, pk, form.cleaned_data["reason"]) is not None:
        messages.success(request, _("Withdrawal rejected; its amount is available again."))
    return _back(request)


@require_POST
@console_view(Perm.DISTRIBUTION_PAYOUT)
def withdrawal_pay(request: HttpRequest, pk: int) -> HttpResponse:
    form = PayWithdrawalForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the bank transfer's reference (1–80 characters)."))
        return _back(request)
    if _run(request, services.pay_withdrawal, pk, reference=form.cleaned_data["reference"]):
        messages.success(request, _("Withdrawal paid; the reference is recorded."))
    return _back(request)
