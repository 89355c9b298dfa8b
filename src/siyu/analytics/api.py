"""Staff API of analytics: imports of history, and the numbers (overview, cohorts, RFM,
lifetime value).

(No ``from __future__ import annotations``: django-ninja resolves annotations at run time.)

Mounted by the project at ``/api/v1/analytics``: ``POST /imports`` (multipart: ``file``,
``kind``, optional ``format``, ``currency``, ``dry_run``) answers ``202`` with the run;
``GET /imports/{id}`` shows progress, counts and the first 1,000 report lines;
``GET /imports/{id}/report.csv`` the whole report. Whoever may manage customers may import.
"""

from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from siyu.analytics import cohorts, documents, holdout_runs, lifetime, metrics
from siyu.analytics.forms import dimension_labels
from siyu.analytics.importer import service
from siyu.analytics.importer.runner import Options
from siyu.analytics.models import ImportRun, LifetimeRun
from siyu.analytics.reference import Period
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.permissions import Perm
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer

router = Router(tags=["analytics"])
MAX_DAYS = 3 * 366  # the longest period asked for at once (as the console and the report)


class ImportRunOut(Schema):
    id: int
    kind: str = Field(description="`customers`, `orders`, `memberships` or `referrals`.")
    status: str = Field(description="`queued`, `running`, `done` or `failed`.")
    file_name: str
    file_format: str = Field(description="`csv` or `jsonl`.")
    rows_read: int
    rows_written: int = Field(description="Rows inserted or changed (unchanged rows not counted).")
    rows_rejected: int
    bytes_total: int
    bytes_read: int
    progress: float = Field(description="Share of the file read, 0 to 1.")
    report: list[dict[str, Any]] = Field(
        description='The first 1,000 report lines: `[{"row": 3, "field": "amount", "reason": "…"}]`'
        " (rows as a spreadsheet shows them, the header is row 1). The whole report: "
        "`/imports/{id}/report.csv`."
    )
    error: str = Field(description="Why the file could not be read at all (status `failed`).")
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @staticmethod
    def resolve_progress(obj: ImportRun) -> float:
        if obj.status == ImportRun.Status.DONE:
            return 1.0
        return round(min(obj.bytes_read / obj.bytes_total, 1.0), 4) if obj.bytes_total else 0.0


class ImportIn(Schema):
    kind: Literal["customers", "orders", "memberships", "referrals"]
    format: Literal["csv", "jsonl"] | None = Field(
        None, description="Default: from the file's extension (.jsonl → JSON Lines)."
    )
    currency: str | None = Field(
        None,
        max_length=3,
        description="The file's currency, checked against the merchant's (no conversion).",
    )
    dry_run: bool = Field(False, description="Check and report only; write nothing.")


@router.post(
    "/imports",
    response={202: ImportRunOut, **ERROR_RESPONSES},
    summary="Upload a file of history (customers, orders, memberships, referrals); "
    "imported in the background (see docs/import.md)",
)
def start_import(
    request: HttpRequest, file: File[UploadedFile], payload: Form[ImportIn]
) -> Status[ImportRun]:
    actor = actor_of(request, Perm.ANALYTICS_IMPORT)
    options = Options(
        kind=payload.kind,
        file_format=payload.format,
        currency=payload.currency or None,
        dry_run=payload.dry_run,
    )
    run = service.start(
        actor,
        file_name=file.name or "import.csv",
        chunks=file.chunks(),
        size=file.size or 0,
        options=options,
    )
    return Status(202, run)


@router.get(
    "/imports",
    response={200: list[ImportRunOut], **ERROR_RESPONSES},
    summary="Imports, newest first",
)
@paginate(Page)
def list_imports(request: HttpRequest) -> Any:
    actor = actor_of(request, Perm.ANALYTICS_IMPORT)
    with merchant_context(actor.merchant):
        return ImportRun.objects.all()


@router.get(
    "/imports/{run_id}",
    response={200: ImportRunOut, **ERROR_RESPONSES},
    summary="An import's progress, counts and first 1,000 report lines",
)
def get_import(request: HttpRequest, run_id: int) -> ImportRun:
    return service.get(actor_of(request, Perm.ANALYTICS_IMPORT), run_id)


@router.get(
    "/imports/{run_id}/report.csv",
    response={200: None, **ERROR_RESPONSES},
    summary="An import's whole validation report as CSV (row, field, reason)",
)
def import_report(request: HttpRequest, run_id: int) -> HttpResponseBase:
    actor = actor_of(request, Perm.ANALYTICS_IMPORT)
    stream = service.open_report(actor, run_id)
    if stream is None:
        return HttpResponse("row,field,reason\r\n", content_type="text/csv; charset=utf-8")
    return FileResponse(
        stream,
        content_type="text/csv; charset=utf-8",
        as_attachment=True,
        filename=f"import-{run_id}-report.csv",
    )


# --- the numbers (the same documents as `siyu report --json`) -----------------------------------


class PeriodQuery(Schema):
    from_: date = Field(alias="from", description="First local day, YYYY-MM-DD.")
    to: date = Field(description="Last local day, included.")


class OverviewQuery(PeriodQuery):
    by: str | None = Field(
        None,
        description="Group the period's sales by `store`, `group`, `guide`, `distributor`, "
        "`campaign`, `channel` or `source`.",
    )


class CohortQuery(PeriodQuery):
    by: Literal["month", "channel"] = Field("month", description="Acquisition month or channel.")


class BacktestQuery(Schema):
    as_of: date = Field(description="Fit on the history before this day only.")
    end: date | None = Field(None, description="Compare up to this day (default: today).")
    unit: Literal["days", "weeks"] = "weeks"


def _period(query: PeriodQuery) -> Period:
    if (query.to - query.from_).days + 1 > MAX_DAYS:
        reason = _("At most %(n)d days.") % {"n": MAX_DAYS}
        raise InvalidInput(reason, fields={"to": reason})
    return Period.of(query.from_, query.to + timedelta(days=1))


def _viewer(request: HttpRequest) -> Actor:
    return actor_of(request, Perm.ANALYTICS_VIEW)


@router.get(
    "/overview",
    response={200: dict[str, Any], **ERROR_RESPONSES},
    summary="The headline numbers of a period beside the period before it",
    description="GMV, net sales, orders, buyers, AOV, frequency, repurchase rate, new and "
    "returning buyers, refunds, DAU/WAU/MAU, each with its change and definition "
    "(docs/metrics.md), the share of sales by source and, with `by`, the sales per value of "
    "a dimension. Money in fen. The same document as `siyu report --json`.",
)
def overview(request: HttpRequest, query: Query[OverviewQuery]) -> dict[str, Any]:
    merchant = _viewer(request).merchant
    period = _period(query)
    with merchant_context(merchant):
        figures = metrics.overview(merchant, period)
        grouped = metrics.sale_stats(merchant, period, by=query.by) if query.by else {}
        labels = dimension_labels(merchant, query.by, grouped) if query.by else {}
    ordered = sorted(grouped.items(), key=lambda i: (-i[1].net_sales, labels[i[0]]))
    rows = [(labels[k], k, s) for k, s in ordered]
    return documents.overview_document(merchant, period, figures, query.by, rows)


@router.get(
    "/cohorts",
    response={200: dict[str, Any], **ERROR_RESPONSES},
    summary="Customers first buying in the period, month by month since",
    description="Per cohort (acquisition month or join channel) and month since the first "
    "order: customers still counted (`eligible`), buyers, net sales, retention and revenue per "
    "customer.",
)
def cohort_matrix(request: HttpRequest, query: Query[CohortQuery]) -> dict[str, Any]:
    merchant = _viewer(request).merchant
    period = _period(query)
    today = clock.local(clock.now(), merchant.time_zone).date()
    with merchant_context(merchant):
        matrix = cohorts.cohort_matrix(merchant, period, today + timedelta(days=1), by=query.by)
    return documents.cohort_document(matrix)


@router.get(
    "/rfm",
    response={200: dict[str, Any], **ERROR_RESPONSES},
    summary="Buyers per RFM cell and per square of the 5×5 grid, today",
)
def rfm_cells(request: HttpRequest) -> dict[str, Any]:
    merchant = _viewer(request).merchant
    today = clock.local(clock.now(), merchant.time_zone).date()
    with merchant_context(merchant):
        return documents.rfm_document(merchant, today + timedelta(days=1))


@router.get(
    "/lifetime",
    response={200: dict[str, Any], **ERROR_RESPONSES},
    summary="The latest lifetime-value fit: parameters, log-likelihood, holdout check",
    description="`run` is null before the first nightly refresh. `run.cautions` lists why the "
    "predictions deserve less trust (`not_converged`, `few_repeaters`, `no_spend_model`, "
    "`edge_parameters`, each with a sentence), empty for a sound fit. Each customer's scores "
    "are on the customer (`/customers/{id}/value`).",
)
def lifetime_run(request: HttpRequest) -> dict[str, Any]:
    merchant = _viewer(request).merchant
    with merchant_context(merchant):
        run = LifetimeRun.objects.order_by("-created_at", "-id").first()
    return {"run": documents.lifetime_document(run)}


@router.get(
    "/lifetime/backtest",
    response={200: dict[str, Any], **ERROR_RESPONSES},
    summary="Fit as of a past day on the history before it; predicted against actual after it",
    description="The calibration/holdout check of Fader, Hardie and Lee (2005), by number of "
    "repeat purchases before `as_of` (0–6, 7+), with the fitted parameters and "
    "log-likelihood, computed while the request waits; nothing is stored. A history of more "
    "than 1,000,000 sales up to `end` is refused (422, `as_of`): queue the check with "
    "`POST /lifetime/backtests` instead.",
)
def lifetime_backtest(request: HttpRequest, query: Query[BacktestQuery]) -> dict[str, Any]:
    merchant = _viewer(request).merchant
    with merchant_context(merchant):
        end = query.end or clock.local(clock.now(), merchant.time_zone).date() + timedelta(days=1)
        if holdout_runs.sales_before(end, holdout_runs.MAX_SALES) > holdout_runs.MAX_SALES:
            reason = _("More than %(n)s sales: queue the check with POST /lifetime/backtests.") % {
                "n": f"{holdout_runs.MAX_SALES:,}"
            }
            raise InvalidInput(reason, fields={"as_of": reason})
        return lifetime.backtest(merchant, as_of=query.as_of, end=query.end, unit=query.unit)


class BacktestIn(Schema):
    as_of: date = Field(description="fit on the sales before this local day")
    end: date | None = Field(
        None, description="compare with the purchases before this day (default: tomorrow)"
    )
    unit: Literal["weeks", "days"] = "weeks"


@router.post(
    "/lifetime/backtests",
    response={202: dict[str, Any], **ERROR_RESPONSES},
    summary="Queue a holdout check of any length of history",
    description="The same check as `GET /lifetime/backtest`, run by the worker: answers 202 "
    "with the run (`status` `queued`). Asking again for the same check while one is queued "
    "or running answers that one. Poll `GET /lifetime/backtests/{id}`.",
)
def start_backtest(request: HttpRequest, payload: BacktestIn) -> Status[dict[str, Any]]:
    run = holdout_runs.start(
        actor_of(request), as_of=payload.as_of, end=payload.end, unit=payload.unit
    )
    return Status(202, holdout_runs.document(run))


@router.get(
    "/lifetime/backtests/{run_id}",
    response={200: dict[str, Any], **ERROR_RESPONSES},
    summary="A queued holdout check: progress, then its result",
    description="`status` `queued`, `running`, `done` or `failed`; `stage` (`counting`, "
    "`reading`, `fitting`), `progress` (0–1), `sales_read` of `sales_total`; `result` when "
    "done (as `GET /lifetime/backtest` gives it), `error` when failed.",
)
def backtest_run(request: HttpRequest, run_id: int) -> dict[str, Any]:
    return holdout_runs.document(holdout_runs.get(actor_of(request), run_id))


@router.get(
    "/customers/{customer_id}/value",
    response={200: dict[str, Any], **ERROR_RESPONSES},
    summary="A customer's lifetime value and RFM cell",
)
def customer_value(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    merchant = _viewer(request).merchant
    with merchant_context(merchant):
        customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("Not found."))
    return {
        "customer_id": customer.pk,
        "scored_at": customer.clv_scored_at.isoformat() if customer.clv_scored_at else None,
        "chance_active_percent": customer.clv_alive,
        "predicted_value_12_months": customer.clv_value,
        "value_segment": customer.clv_segment,
        "rfm_cell": customer.rfm_cell,
        "currency": merchant.currency,
    }
