"""Staff API of imports: upload a file of history, follow its progress, read its report.

(No ``from __future__ import annotations``: django-ninja resolves annotations at run time.)

Mounted by the project at ``/api/v1/analytics``: ``POST /imports`` (multipart: ``file``,
``kind``, optional ``format``, ``currency``, ``dry_run``) answers ``202`` with the run;
``GET /imports/{id}`` shows progress, counts and the first 1,000 report lines;
``GET /imports/{id}/report.csv`` the whole report. Whoever may manage customers may import.
"""

from datetime import datetime
from typing import Any, Literal

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from ninja import Field, File, Form, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from siyu.analytics.importer import service
from siyu.analytics.importer.runner import Options
from siyu.analytics.models import ImportRun
from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of
from siyu.core.permissions import Perm
from siyu.core.tenancy import merchant_context

router = Router(tags=["analytics"])


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
