"""Console page of customer lifetime value: the distribution, the top customers, the
high-value customers who are probably leaving, the latest fit of the models and the
calibration/holdout check.

Reads what the lifetime-value refresh stored on each customer (``Customer.clv_value``: the
predicted value of the next 12 months in fen; ``clv_alive``: the chance still active in per
cent; ``clv_segment``; ``clv_scored_at``), so the page costs a few indexed reads however large
the history is. Every table and the chart download as CSV or XLSX
(``?export=csv|xlsx&table=NAME``).

*The fit* is the latest :class:`~siyu.analytics.models.LifetimeRun`: BG/NBD's r, α, a, b,
Gamma-Gamma's p, q, γ, the log-likelihood, whether the fit converged, the customers scored.
*The holdout check* (``?as_of=DAY&to=DAY&unit=weeks|days``, :class:`~siyu.analytics.forms.
BacktestForm`) fits BG/NBD on the sales before ``as_of`` only and compares its predicted
purchases per customer in ``[as_of, to]`` with what happened, by repeat purchases before
``as_of`` (0–6, 7+; ``lifetime.backtest``, the same as the API and ``siyu analytics
backtest``). It runs while the page waits, so it is bounded: a history of more than
:data:`MAX_SALES` sales is refused with a pointer to the command line. Without a form the page
shows the check stored with the latest run, if any, and computes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Max, Min, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.analytics import charts, holdout_runs, lifetime
from siyu.analytics.forms import UNIT_LABELS, BacktestForm, local_today
from siyu.analytics.models import HoldoutRun, LifetimeRun, Sale
from siyu.analytics.views_console import (
    TableBuilder,
    actor_of,
    amount,
    analytics_view,
    export_response,
)
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.models import Merchant
from siyu.core.money import format_amount
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.customers.rules import VALUE_SEGMENTS, rfm_and_value_labels
from siyu.web.console import show_errors
from siyu.web.tables import Table

# Bucket edges of predicted value in whole units of the currency (yuan): [0, 50), [50, 100), ...
EDGES = (0, 50, 100, 200, 500, 1000, 2000, 5000)
TOP = 20
# The holdout check runs while the page waits: at most this many sales up to its last day.
# Measured (docs/clv.md): 1.18 M sales took 25–74 s on the busy 2-core machine (SQLite; read
# 17–30 s, fit 10–12 s), so a million keeps the wait near a minute at worst.
# Parameters in the order and with the names of the papers (Gamma-Gamma's γ is stored as v).
PARAMETERS = {
    "bgnbd": ("BG/NBD", (("r", "r"), ("alpha", "α"), ("a", "a"), ("b", "b"))),
    "gamma_gamma": ("Gamma-Gamma", (("p", "p"), ("q", "q"), ("v", "γ"))),
}


def _buckets(merchant: Merchant, scored: Any) -> list[tuple[str, int]]:
    """Scored customers per bucket of predicted value, in one counting query."""
    unit = 100  # minor units per yuan (the bucket labels are in the currency's whole units)
    aggregates = {}
    labels = []
    for i, low in enumerate(EDGES):
        high = EDGES[i + 1] if i + 1 < len(EDGES) else None
        condition = Q(clv_value__gte=low * unit)
        if high is not None:
            condition &= Q(clv_value__lt=high * unit)
            labels.append(f"{low}–{high}")
        else:
            labels.append(f"≥{low}")
        aggregates[f"b{i}"] = Count("pk", filter=condition)
    counts = scored.aggregate(**aggregates)
    return [(label, int(counts[f"b{i}"] or 0)) for i, label in enumerate(labels)]


def _customer_rows(merchant: Merchant, rows: Any, labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.pk,
            "name": c.name or c.phone or f"#{c.pk}",
            "value": c.clv_value,
            "value_shown": format_amount(c.clv_value, merchant.currency),
            "alive": c.clv_alive,
            "segment": labels.get(c.clv_segment, c.clv_segment),
            "orders": c.order_count,
        }
        for c in rows
    ]


def _customer_table(merchant: Merchant, title: str, rows: list[dict[str, Any]]) -> Table:
    return Table(
        title=title,
        headings=[
            _("Customer"),
            _("Predicted value, next 12 months"),
            _("Chance still active (%)"),
            _("Value segment"),
            _("Orders"),
        ],
        rows=[
            [r["name"], amount(merchant, r["value"]), r["alive"], r["segment"], r["orders"]]
            for r in rows
        ],
    )


def _fit_rows(params: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Fitted parameters (as a run stores them: ``{"bgnbd": {...}, "gamma_gamma": {...}}``)
    in the papers' order and names."""
    rows: list[dict[str, Any]] = []
    params = params or {}
    for key, (model, names) in PARAMETERS.items():
        fitted = params.get(key) or {}
        for stored, name in names:
            if fitted.get(stored) is not None:
                value = float(fitted[stored])
                rows.append({"model": model, "name": name, "value": value, "shown": _g(value)})
    return rows


def _g(value: float) -> str:
    """A fitted parameter with four significant digits, without an exponent up to 10⁹."""
    return f"{value:,.0f}" if 1e4 <= abs(value) < 1e9 else f"{value:.4g}"


def _last_day(check: dict[str, Any] | None) -> str:
    """The last day of a check's holdout period (its ``holdout_end`` is the day after)."""
    if not check:
        return ""
    return (date.fromisoformat(check["holdout_end"]) - timedelta(days=1)).isoformat()


def _check_rows(check: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The check's rows with a customer's actual and predicted purchases shown and their
    difference in per cent of the actual."""
    rows = []
    for row in (check or {}).get("rows", []):
        actual, predicted = row["actual"], row["predicted"]
        gap = None
        if actual and predicted is not None:
            gap = f"{(predicted - actual) / actual * 100:+.1f}%"
        rows.append(
            {
                **row,
                "actual_shown": "—" if actual is None else f"{actual:.3f}",
                "predicted_shown": "—" if predicted is None else f"{predicted:.3f}",
                "gap": gap or "—",
            }
        )
    return rows


@dataclass
class _Check:
    """The holdout part of the page: the form, and the check to show (or why none)."""

    form: BacktestForm
    check: dict[str, Any] | None = None
    seconds: float | None = None
    offer: bool = False  # too long a history to wait for: offer a background run
    background: HoldoutRun | None = None  # the background run followed (``?check=ID``)


def _followed(request: HttpRequest, merchant: Merchant) -> _Check | None:
    """The background run ``?check=ID`` names, with the form set to its request."""
    raw = request.GET.get("check")
    if raw is None:
        return None
    if not raw.isdigit():
        raise InvalidInput(_("Not a holdout check."), fields={"check": _("Not a number.")})
    try:
        run = holdout_runs.get(actor_of(request), int(raw))
    except NotFound:
        raise Http404(_("No such holdout check.")) from None
    today = local_today(merchant)
    initial = {"as_of": run.as_of, "to": run.end - timedelta(days=1), "unit": run.unit}
    done = run.status == HoldoutRun.Status.DONE
    return _Check(
        BacktestForm(None, today=today, initial=initial),
        check=run.result if done else None,
        seconds=run.seconds if done else None,
        background=run,
    )


def _backtest(request: HttpRequest, merchant: Merchant) -> _Check:
    """The holdout check the query string asks for: the form (its errors beside the fields),
    the check or None, and the seconds it took. Without ``as_of`` in the query string: an
    unbound form, and the check stored with the latest run is shown instead; nor is it run
    when another table of the page is downloaded (its link carries the form's fields)."""
    followed = _followed(request, merchant)
    if followed is not None:
        return followed
    today = local_today(merchant)
    other_export = "export" in request.GET and request.GET.get("table") != "holdout"
    if "as_of" not in request.GET or other_export:
        initial = {"as_of": today - timedelta(weeks=26), "to": today, "unit": "weeks"}
        return _Check(BacktestForm(None, today=today, initial=initial))
    form = BacktestForm(request.GET, today=today)
    if not form.is_valid():
        return _Check(form)
    as_of = form.cleaned_data["as_of"]
    with merchant_context(merchant):
        first = Sale.objects.aggregate(first=Min("day"))["first"]
        if first is None or first >= as_of:
            form.add_error(
                "as_of",
                _("No sales before this day: the history starts on %(day)s.")
                % {"day": first.isoformat()}
                if first is not None
                else _("There are no sales yet."),
            )
            return _Check(form)
        # Counted up to one past the bound only: an index range however long the history.
        inline = holdout_runs.INLINE_SALES
        if holdout_runs.sales_before(form.end, inline) > inline:
            return _Check(form, offer=True)
        started = time.perf_counter()
        try:
            check = lifetime.backtest(
                merchant, as_of=as_of, end=form.end, unit=form.cleaned_data["unit"]
            )
        except InvalidInput as error:
            show_errors(form, error)
            return _Check(form)
    return _Check(form, check, time.perf_counter() - started)


@require_POST
@analytics_view
def holdout_start(request: HttpRequest) -> HttpResponse:
    """Queue the holdout check of the posted form in the background, then follow it."""
    actor = actor_of(request)
    form = BacktestForm(request.POST, today=local_today(actor.merchant))
    if not form.is_valid():
        reasons = {name: "; ".join(str(e) for e in errs) for name, errs in form.errors.items()}
        raise InvalidInput(_("Some fields are not valid."), fields=reasons)
    run = holdout_runs.start(
        actor, as_of=form.cleaned_data["as_of"], end=form.end, unit=form.cleaned_data["unit"]
    )
    return redirect(f"{reverse('analytics:value')}?check={run.pk}#an-backtest")


def _check_table(check: dict[str, Any] | None) -> Table:
    return Table(
        title=_("Holdout check"),
        headings=[
            _("Repeat purchases before"),
            _("Customers"),
            _("Actual purchases per customer"),
            _("Predicted purchases per customer"),
        ],
        rows=[
            [
                r["x"],
                r["customers"],
                None if r["actual"] is None else round(r["actual"], 4),
                None if r["predicted"] is None else round(r["predicted"], 4),
            ]
            for r in (check or {}).get("rows", [])
        ],
    )


def _fit_table(run: LifetimeRun | None, rows: list[dict[str, Any]]) -> Table:
    extra: list[list[Any]] = []
    if run is not None:
        extra = [
            ["BG/NBD", _("Log-likelihood"), run.log_likelihood],
            ["", _("Converged"), _("Yes") if run.converged else _("No")],
            ["", _("Customers scored"), run.customers],
            ["", _("As of"), run.as_of.isoformat()],
            ["", _("Time unit"), run.unit],
            *(["", _("Caution"), sentence] for _code, sentence in lifetime.cautions(run)),
        ]
    return Table(
        title=_("Latest fit"),
        headings=[_("Model"), _("Parameter"), _("Value")],
        rows=[[r["model"], r["name"], r["value"]] for r in rows] + extra,
    )


@analytics_view
def value_page(request: HttpRequest) -> HttpResponse:
    merchant = actor_of(request).merchant
    labels = rfm_and_value_labels()
    with merchant_context(merchant):
        scored = Customer.objects.filter(clv_scored_at__isnull=False)
        summary = scored.aggregate(n=Count("pk"), total=Sum("clv_value"), at=Max("clv_scored_at"))
        buckets = _buckets(merchant, scored)
        by_segment = {
            r["clv_segment"]: r["n"]
            for r in scored.values("clv_segment").annotate(n=Count("pk")).order_by()
        }
        fields = ("pk", "name", "phone", "clv_value", "clv_alive", "clv_segment", "order_count")
        top = _customer_rows(
            merchant, scored.only(*fields).order_by("-clv_value", "pk")[:TOP], labels
        )
        leaving = _customer_rows(
            merchant,
            scored.filter(clv_segment="high_value_leaving")
            .only(*fields)
            .order_by("-clv_value", "pk")[:TOP],
            labels,
        )
        run = LifetimeRun.objects.order_by("-created_at", "-id").first()
    part = _backtest(request, merchant)
    form, check, seconds = part.form, part.check, part.seconds
    stored = (
        check is None
        and not form.is_bound
        and part.background is None
        and run is not None
        and bool(run.holdout)
    )
    if stored and run is not None:
        check = run.holdout
    fit_rows = _fit_rows(run.params if run is not None else None)
    check_rows = _check_rows(check)
    total = int(summary["n"] or 0)
    segments = [
        {
            "key": key,
            "label": labels[key],
            "count": by_segment.get(key, 0),
            "share": f"{by_segment.get(key, 0) / total * 100:.1f}%" if total else "—",
        }
        for key in VALUE_SEGMENTS
    ]
    tables: dict[str, TableBuilder] = {
        "distribution": lambda: Table(
            title=_("Predicted value distribution"),
            headings=[
                _("Predicted value (%(currency)s)") % {"currency": merchant.currency},
                _("Customers"),
            ],
            rows=[[label, n] for label, n in buckets],
        ),
        "segments": lambda: Table(
            title=_("Value segments"),
            headings=[_("Value segment"), _("Customers")],
            rows=[[s["label"], s["count"]] for s in segments],
        ),
        "top": lambda: _customer_table(merchant, _("Top customers by predicted value"), top),
        "leaving": lambda: _customer_table(merchant, _("High value, probably leaving"), leaving),
        "fit": lambda: _fit_table(run, fit_rows),
        "holdout": lambda: _check_table(check),
    }
    scored_day = summary["at"].date().isoformat() if summary["at"] else "unscored"
    if request.GET.get("export") and request.GET.get("table") == "holdout":
        if form.errors:
            reasons = {name: "; ".join(str(e) for e in errs) for name, errs in form.errors.items()}
            raise InvalidInput(_("Some query parameters are not valid."), fields=reasons)
        if check is None:
            raise InvalidInput(
                _("No holdout check to download."),
                fields={"as_of": _("Give the day to fit as of.")},
            )
        scored_day = f"{check['calibration_end']}-{check['holdout_end']}"
    exported = export_response(request, scored_day, tables)
    if exported is not None:
        return exported
    return render(
        request,
        "analytics/console/value.html",
        {
            "tab": "value",
            "total": total,
            "predicted_total": format_amount(int(summary["total"] or 0), merchant.currency),
            "predicted_mean": format_amount(
                round(int(summary["total"] or 0) / total) if total else 0, merchant.currency
            ),
            "scored_at": summary["at"],
            "segments": segments,
            "top": top,
            "leaving": leaving,
            "run": run,
            "cautions": lifetime.cautions(run) if run is not None else [],
            "fit_rows": fit_rows,
            "form": form,
            "check": check,
            "check_rows": check_rows,
            "check_stored": stored,
            "check_seconds": seconds,
            "check_last": _last_day(check),
            "check_params": _fit_rows({"bgnbd": check["params"]}) if check else [],
            "check_error": "—"
            if not check or check.get("relative_error") is None
            else f"{check['relative_error'] * 100:+.1f}%",
            "run_unit": UNIT_LABELS.get(run.unit, run.unit) if run else "",
            "check_chart": charts.holdout_check(
                [r["x"] for r in check_rows],
                [r["actual"] for r in check_rows],
                [r["predicted"] for r in check_rows],
                actual_name=_("Actual"),
                predicted_name=_("Predicted"),
                x_name=_("Repeat purchases before"),
                y_name=_("Purchases per customer"),
            ),
            "inline_sales": holdout_runs.INLINE_SALES,
            "offer": part.offer,
            "background": part.background,
            "background_active": part.background is not None
            and part.background.status in holdout_runs.ACTIVE,
            "background_share": holdout_runs.share(part.background) if part.background else 0,
            "chart": charts.histogram(
                [label for label, _n in buckets],
                [n for _label, n in buckets],
                name=_("Customers"),
            ),
        },
        status=400 if form.errors else 200,
    )
