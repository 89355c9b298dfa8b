"""``siyu import customers|orders|memberships|referrals FILE --merchant SLUG``.

Streams the file into the merchant's history (see ``docs/import.md``), with a progress bar
on the terminal (bytes read of the file's size), a summary at the end and the full
validation report as a CSV beside the file (``<file>.report.csv``, or ``--report PATH``).

Exit status: 0 when rows were imported (or, with ``--dry-run``, would be), 1 when the file
was read but no row could be imported, 2 when the file could not be read at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from siyu.analytics.importer import service
from siyu.analytics.importer.formats import FORMATS, KINDS, FileProblem, format_of
from siyu.analytics.importer.runner import BATCH_SIZE, Options, Outcome
from siyu.analytics.models import ImportRun
from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context


class Command(BaseCommand):
    help = "Import customers, orders, group memberships or referrals from a CSV or JSONL file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file")
        parser.add_argument("--merchant", required=True, help="the merchant's slug")
        parser.add_argument("--format", choices=FORMATS, help="default: from the extension")
        parser.add_argument(
            "--currency", help="the file's currency (must be the merchant's; a safety check)"
        )
        parser.add_argument("--dry-run", action="store_true", help="check only; write nothing")
        parser.add_argument("--report", help="where to write the report CSV")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **opts: Any) -> None:
        merchant = Merchant.objects.filter(slug=opts["merchant"]).first()
        if merchant is None:
            raise CommandError(_("No merchant “%(slug)s”.") % {"slug": opts["merchant"]})
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(_("No file %(path)s.") % {"path": path}, returncode=2)
        report = (
            Path(opts["report"]) if opts["report"] else path.with_name(path.name + ".report.csv")
        )
        options = Options(
            kind=opts["kind"],
            file_format=opts["format"],
            currency=opts["currency"],
            dry_run=opts["dry_run"],
            batch_size=opts["batch_size"],
        )
        actor = Actor.system(merchant, label=f"siyu import {path.name}"[:150])
        with merchant_context(merchant):
            try:
                service.check_options(options, path.name, actor)
            except Exception as exc:  # InvalidInput: name the option
                raise CommandError(str(exc), returncode=2) from None
            run = None
            if not options.dry_run:
                run = ImportRun.objects.create(
                    merchant=merchant,
                    kind=options.kind,
                    file_name=path.name[-200:],
                    file_format=format_of(path.name, options.file_format),
                    bytes_total=path.stat().st_size,
                    created_by=actor.label,
                )
            outcome = self._run(run, path, options, report, actor, quiet=opts["no_progress"])
        self._summary(outcome, options, report, run)
        if outcome.rows_valid == 0:
            raise CommandError(_("Nothing was imported."), returncode=1)

    def _run(
        self,
        run: ImportRun | None,
        path: Path,
        options: Options,
        report: Path,
        actor: Actor,
        *,
        quiet: bool,
    ) -> Outcome:
        from tqdm import tqdm

        total = path.stat().st_size
        with tqdm(
            total=total, unit="B", unit_scale=True, desc=options.kind, disable=quiet, leave=False
        ) as bar:

            def progress(bytes_read: int, outcome: Outcome) -> None:
                bar.update(bytes_read - bar.n)
                bar.set_postfix(rows=outcome.rows_read, rejected=outcome.rows_rejected)

            try:
                return service.run_now(run, path, options, report, progress=progress, actor=actor)
            except FileProblem as exc:
                raise CommandError(
                    _("The file cannot be imported: %(reason)s") % {"reason": exc}, returncode=2
                ) from None

    def _summary(
        self, outcome: Outcome, options: Options, report: Path, run: ImportRun | None
    ) -> None:
        verb = _("would be written") if options.dry_run else _("written")
        self.stdout.write(
            _(
                "%(kind)s: %(read)d rows read, %(valid)d valid, %(written)d %(verb)s, "
                "%(rejected)d rejected; %(created)d customers created."
            )
            % {
                "kind": options.kind,
                "read": outcome.rows_read,
                "valid": outcome.rows_valid,
                "written": outcome.rows_valid if options.dry_run else outcome.rows_written,
                "verb": verb,
                "rejected": outcome.rows_rejected,
                "created": outcome.customers_created,
            }
        )
        if outcome.report_lines:
            self.stdout.write(
                _("Report: %(n)d lines in %(path)s") % {"n": outcome.report_lines, "path": report}
            )
            for line in outcome.report[:10]:
                self.stdout.write(f"  row {line['row']}, {line['field']}: {line['reason']}")
        if run is not None:
            self.stdout.write(_("Import run %(id)d.") % {"id": run.pk})
