"""Console pages of history imports: upload a file, watch it run, read its report.

Thin views over ``analytics.importer.service`` (the same service as ``siyu import`` and
``POST /api/v1/analytics/imports``): the upload is stored and imported in the background;
the run's page shows the progress and refreshes itself until the import is done.
"""

from __future__ import annotations

from django import forms
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from siyu.analytics.importer import service
from siyu.analytics.importer.runner import Options
from siyu.analytics.models import ImportRun
from siyu.core.actors import Actor
from siyu.core.errors import DomainError
from siyu.core.permissions import Perm
from siyu.web.console import console_view, paginate, show_errors

REPORT_SHOWN = 50


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportRun.Kind.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or GB18030) or JSON Lines; see the formats below."),
    )
    currency = forms.CharField(
        label=_("Currency of the amounts"),
        max_length=3,
        required=False,
        help_text=_("Leave empty for the shop's currency."),
    )
    dry_run = forms.BooleanField(label=_("Only check the file, import nothing"), required=False)


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


@require_http_methods(["GET", "POST"])
@console_view(Perm.ANALYTICS_IMPORT)
def import_list(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            options = Options(
                kind=form.cleaned_data["kind"],
                currency=form.cleaned_data["currency"].upper() or None,
                dry_run=form.cleaned_data["dry_run"],
            )
            try:
                run = service.start(
                    _actor(request),
                    file_name=upload.name or "import.csv",
                    chunks=upload.chunks(),
                    size=upload.size or 0,
                    options=options,
                )
            except DomainError as exc:
                show_errors(form, exc)
                status = 400
            else:
                return redirect("analytics:import_detail", pk=run.pk)
        else:
            status = 400
    page = paginate(request, ImportRun.objects.all(), 20)
    return render(
        request,
        "analytics/imports/import_list.html",
        {"form": form, "page": page, "tab": "imports"},
        status=status,
    )


@require_safe
@console_view(Perm.ANALYTICS_IMPORT)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = service.get(_actor(request), pk)
    running = run.status in (ImportRun.Status.QUEUED, ImportRun.Status.RUNNING)
    share = round(100 * run.bytes_read / run.bytes_total) if run.bytes_total else 0
    return render(
        request,
        "analytics/imports/import_detail.html",
        {
            "run": run,
            "running": running,
            "share": min(share, 100) if running else 100,
            "report": (run.report or [])[:REPORT_SHOWN],
            "more_report": max(0, run.rows_rejected - REPORT_SHOWN),
            "tab": "imports",
        },
    )


@require_safe
@console_view(Perm.ANALYTICS_IMPORT)
def import_report(request: HttpRequest, pk: int) -> HttpResponse:
    stream = service.open_report(_actor(request), pk)
    if stream is None:
        return HttpResponse("row,field,reason\r\n", content_type="text/csv; charset=utf-8")
    # streamed: the report of a large file may be long
    return FileResponse(  # type: ignore[return-value]
        stream,
        content_type="text/csv; charset=utf-8",
        as_attachment=True,
        filename=f"import-{pk}-report.csv",
    )
