"""Imports as a service: start one (CLI or API), run it, find it, read its report.

:func:`start` checks the request, stores the uploaded file under
``SIYU_DATA_DIR/imports/<merchant>/`` (never in the database, never under the public media
root), creates the ``ImportRun`` and queues :func:`process` after commit.
:func:`process` runs it and records the outcome; the CLI calls :func:`run_now` directly.
Permission: ``Perm.ANALYTICS_IMPORT`` (owner and operator), since an import creates and
updates customers and the sales history.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from siyu.analytics.importer.formats import FORMATS, KINDS, FileProblem, format_of
from siyu.analytics.importer.runner import Options, Outcome, Progress, currency_exponent, run_file
from siyu.analytics.models import ImportRun
from siyu.core import audit
from siyu.core.actors import Actor
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.permissions import Perm
from siyu.core.tenancy import merchant_context

logger = logging.getLogger(__name__)


def storage_dir(merchant_id: int) -> Path:
    return Path(settings.DATA_DIR) / "imports" / str(merchant_id)


def file_path(run: ImportRun) -> Path:
    return storage_dir(run.merchant_id) / f"{run.pk}.{run.file_format or 'csv'}"


def report_path(run: ImportRun) -> Path:
    return storage_dir(run.merchant_id) / f"{run.pk}-report.csv"


def check_options(options: Options, file_name: str, actor: Actor) -> str:
    """The file's format; :class:`InvalidInput` naming the field that is wrong."""
    if options.kind not in KINDS:
        reason = _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(KINDS)}
        raise InvalidInput(reason, fields={"kind": reason})
    if options.file_format and options.file_format not in FORMATS:
        reason = _("The format must be csv or jsonl.")
        raise InvalidInput(reason, fields={"format": reason})
    try:
        currency_exponent(actor.merchant, options.currency)
    except FileProblem as exc:
        raise InvalidInput(str(exc), fields={"currency": str(exc)}) from None
    if not 1 <= options.batch_size <= 100_000:
        reason = _("Between 1 and 100,000 rows.")
        raise InvalidInput(reason, fields={"batch_size": reason})
    return format_of(file_name, options.file_format)


def start(
    actor: Actor, *, file_name: str, chunks: Iterable[bytes], size: int, options: Options
) -> ImportRun:
    """Store the upload and queue the import; the new run (status ``queued``)."""
    actor.require(Perm.ANALYTICS_IMPORT)
    name = (Path(file_name or "import.csv").name or "import.csv")[-200:]
    file_format = check_options(options, name, actor)
    if size <= 0:
        reason = _("The file is empty.")
        raise InvalidInput(reason, fields={"file": reason})
    with merchant_context(actor.merchant), transaction.atomic():
        run = ImportRun.objects.create(
            merchant=actor.merchant,
            kind=options.kind,
            file_name=name,
            file_format=file_format,
            bytes_total=size,
            created_by=actor.label[:150],
        )
        path = file_path(run)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
        audit.record(
            actor,
            "analytics.import.start",
            run,
            after={"kind": run.kind, "file_name": name, "bytes": size, "dry_run": options.dry_run},
        )
        payload = {**asdict(options), "file_format": file_format}
        transaction.on_commit(lambda: _enqueue(run.pk, payload), robust=True)
    return run


def _enqueue(run_id: int, options: dict[str, object]) -> None:
    from siyu.analytics.import_tasks import run_import

    run_import.enqueue(run_id, options)


def process(run_id: int, options: Options) -> str:
    """Run a queued import (the background task); its final status."""
    run = ImportRun.unscoped.select_related("merchant").filter(pk=run_id).first()
    if run is None:
        return "missing"
    if run.status in (ImportRun.Status.DONE, ImportRun.Status.FAILED):
        return run.status
    # a file that cannot be read at all is recorded on the run as failed
    with merchant_context(run.merchant), contextlib.suppress(FileProblem):
        run_now(run, file_path(run), options, report_path(run))
    return run.status


def run_now(
    run: ImportRun | None,
    path: Path,
    options: Options,
    report: Path | None,
    *,
    progress: Progress | None = None,
    actor: Actor | None = None,
) -> Outcome:
    """Import ``path`` now (the merchant bound); records the outcome on ``run`` when given.
    Raises :class:`FileProblem` when the file cannot be read at all."""
    if run is not None:
        ImportRun.unscoped.filter(pk=run.pk).update(
            status=ImportRun.Status.RUNNING, started_at=timezone.now()
        )
    merchant = run.merchant if run is not None else (actor.merchant if actor else None)
    assert merchant is not None
    try:
        outcome = run_file(
            path,
            merchant=merchant,
            options=options,
            report_path=report,
            import_run=run,
            progress=progress,
            file_name=run.file_name if run is not None else path.name,
        )
    except FileProblem as exc:
        _finish(run, ImportRun.Status.FAILED, error=str(exc))
        raise
    except Exception as exc:  # recorded on the run, then raised for the worker's log
        logger.exception("import %s failed", run.pk if run else path)
        _finish(run, ImportRun.Status.FAILED, error=_("The import stopped: %(e)s") % {"e": exc})
        raise
    _finish(run, ImportRun.Status.DONE, outcome=outcome)
    if run is not None:
        audit.record(
            actor or Actor.system(run.merchant, label=f"import {run.file_name}"[:150]),
            "analytics.import.finish",
            run,
            after={
                "rows_read": outcome.rows_read,
                "rows_written": outcome.rows_written,
                "rows_rejected": outcome.rows_rejected,
                "customers_created": outcome.customers_created,
            },
        )
    return outcome


def _finish(
    run: ImportRun | None, status: str, *, error: str = "", outcome: Outcome | None = None
) -> None:
    if run is None:
        return
    changes: dict[str, object] = {
        "status": status,
        "finished_at": timezone.now(),
        "error": error[:400],
    }
    if outcome is not None:
        changes.update(
            rows_read=outcome.rows_read,
            rows_written=outcome.rows_written,
            rows_rejected=outcome.rows_rejected,
            bytes_read=run.bytes_total or 0,
            report=outcome.report,
        )
    elif error:
        changes["report"] = [{"row": 0, "field": "file", "reason": error[:400]}]
    ImportRun.unscoped.filter(pk=run.pk).update(**changes)
    run.refresh_from_db()


def get(actor: Actor, run_id: int) -> ImportRun:
    actor.require(Perm.ANALYTICS_IMPORT)
    with merchant_context(actor.merchant):
        run = ImportRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound(_("No such import."))
    return run


def open_report(actor: Actor, run_id: int) -> IO[bytes] | None:
    """The full report CSV of a run (None while it has none)."""
    run = get(actor, run_id)
    path = report_path(run)
    return path.open("rb") if path.exists() else None


def copy_upload(source: IO[bytes], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        shutil.copyfileobj(source, out)
