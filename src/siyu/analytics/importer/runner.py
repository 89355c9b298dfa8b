"""One import from start to end: read, validate, resolve customers, write, report progress.

:func:`run_file` streams the file in batches of ``batch_size`` rows (10,000 by default):
only one batch is ever in memory. Each batch is one transaction — its customers created,
its facts written and the ``ImportRun``'s progress saved together — so an interrupted import
keeps whole batches, and running it again finishes the job without duplicating anything.

A bad row never stops the import: its problems go to the report and the row is left out.
Only a file that cannot be read at all (encoding, missing required columns) fails, with
:class:`~.formats.FileProblem`.

Two paths: orders on PostgreSQL go to the database as raw text and are converted and
validated there (:mod:`.staged`); SQLite and the other kinds are parsed here, row by row
(:mod:`.rows`). Both report the same problems in the same words.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from siyu.analytics import rollups
from siyu.analytics.importer import parsing, rows, staged, writers
from siyu.analytics.importer.customers import CustomerResolver
from siyu.analytics.importer.formats import FileProblem, Reader, format_of
from siyu.analytics.importer.report import Report
from siyu.analytics.models import ImportRun
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context

BATCH_SIZE = 10_000
# orders on PostgreSQL take the staged path unless Options.staged says otherwise (tests run
# the same cases through both paths by turning this off)
STAGED_ON_POSTGRES = True


@dataclass
class Options:
    kind: str
    file_format: str | None = None  # csv | jsonl; None: from the file name
    currency: str | None = None  # the file's currency; must be the merchant's
    dry_run: bool = False
    batch_size: int = BATCH_SIZE
    # write batches on a second connection while the next one is parsed (PostgreSQL works
    # on the other core); None: on PostgreSQL outside a transaction
    pipelined: bool | None = None
    # orders converted and validated by PostgreSQL (:mod:`.staged`); None: on PostgreSQL.
    # False keeps the Python path, which SQLite and the other kinds always take.
    staged: bool | None = None


@dataclass
class Outcome:
    rows_read: int = 0
    rows_valid: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    customers_created: int = 0
    report_lines: int = 0
    report: list[dict[str, Any]] = field(default_factory=list)


Progress = Callable[[int, Outcome], None]  # (bytes read, counts so far)


def load_known(merchant: Merchant) -> rows.Known:
    """The merchant's stores, groups, guides and distributors an import may name."""
    from siyu.community.models import CommunityGroup
    from siyu.core.models import Membership
    from siyu.distribution.models import Distributor
    from siyu.stores.models import Store

    known = rows.Known()
    for code, pk in Store.objects.values_list("code", "pk"):
        known.stores[code.lower()] = pk
        known.store_ids.add(pk)
    known.groups = set(CommunityGroup.objects.values_list("pk", flat=True))
    for username, pk in Membership.objects.filter(merchant=merchant).values_list(
        "user__username", "pk"
    ):
        known.guides[username.lower()] = pk
        known.guide_ids.add(pk)
    known.distributors = set(Distributor.objects.values_list("pk", flat=True))
    return known


def currency_exponent(merchant: Merchant, currency: str | None) -> int:
    """The decimals of the file's currency, which must be the merchant's (no conversion)."""
    books = (merchant.currency or "CNY").upper()
    given = (currency or books).upper()
    try:
        exponent = parsing.minor_units(given)
    except parsing.Bad as exc:
        raise FileProblem(str(exc)) from None
    if given != books:
        raise FileProblem(
            _(
                "The merchant keeps its books in %(books)s but the file is in %(given)s: "
                "convert the amounts first."
            )
            % {"books": books, "given": given}
        )
    return exponent


class _Batcher:
    def __init__(
        self,
        merchant: Merchant,
        options: Options,
        import_run: ImportRun | None,
        report: Report,
        outcome: Outcome,
        zone: ZoneInfo,
    ) -> None:
        self.merchant = merchant
        self.options = options
        self.run = import_run
        self.report = report
        self.outcome = outcome
        self.zone = zone
        self.resolver = CustomerResolver(merchant)
        self.keep_rollups = False  # maintained batch by batch (set by run_stream)

    def flush(self, batch: list[tuple[int, rows.Record]], bytes_read: int) -> None:
        kept: dict[tuple[Any, ...], tuple[int, rows.Record]] = {}
        for number, record in batch:
            key = rows.identity(record)
            earlier = kept.get(key)
            if earlier is not None:
                self._reject(
                    earlier[0],
                    _key_column(record),
                    _("Row %(row)d has the same id and was imported instead.") % {"row": number},
                )
            kept[key] = (number, record)
        records = [record for _n, record in kept.values()]
        self.outcome.rows_valid += len(records)
        if self.options.dry_run or not records:
            self.save_progress(bytes_read)
            return
        with transaction.atomic():
            written = self._write(records)
            self.outcome.rows_written += written
            self.save_progress(bytes_read)

    def _reject(self, number: int, column: str, reason: str) -> None:
        self.outcome.rows_rejected += 1
        self.report.add(number, column, reason)

    def _write(self, records: list[rows.Record]) -> int:
        merchant_id = self.merchant.pk
        kind = self.options.kind
        first_seen: dict[str, datetime] = {}
        for record in records:
            when = _time_of(record)
            for key in rows.customer_keys(record):
                seen = first_seen.get(key)
                if seen is None or (when is not None and when < seen):
                    first_seen[key] = when or timezone.now()
        before = self.resolver.created
        if kind == "customers":
            customer_records = [r for r in records if isinstance(r, rows.CustomerRecord)]
            self.resolver.known(first_seen)
            existing = {k for k in first_seen if k in self.resolver.ids}
            profiles = {r.external_id: r for r in customer_records}
            ids = self.resolver.resolve(
                first_seen,
                phones={k: r.phone for k, r in profiles.items() if r.phone},
                names={k: r.name for k, r in profiles.items() if r.name},
                channels={k: r.join_channel for k, r in profiles.items() if r.join_channel},
            )
            created = self.resolver.created - before
            self.outcome.customers_created += created
            # new customers got phone, name and channel; every row's other fields follow
            changed = writers.write_profiles(merchant_id, customer_records, ids)
            new_rows = sum(1 for r in customer_records if r.external_id not in existing)
            return max(changed, new_rows)
        ids = self.resolver.resolve(first_seen)
        self.outcome.customers_created += self.resolver.created - before
        keep = self.keep_rollups and kind in ROLLED_UP_KINDS
        with writers.keeping_rollups(self.merchant, kind, ids.values(), keep):
            if kind == "orders":
                orders = [r for r in records if isinstance(r, rows.Order)]
                return writers.write_orders(merchant_id, orders, ids)
            if kind == "memberships":
                spans = [r for r in records if isinstance(r, rows.Membership)]
                return writers.write_memberships(merchant_id, spans, ids, self.zone)
        links = [r for r in records if isinstance(r, rows.Referral)]
        return writers.write_referrals(merchant_id, links, ids)

    def save_progress(self, bytes_read: int) -> None:
        if self.run is None:
            return
        ImportRun.unscoped.filter(pk=self.run.pk).update(
            rows_read=self.outcome.rows_read,
            rows_written=self.outcome.rows_written,
            rows_rejected=self.outcome.rows_rejected,
            bytes_read=bytes_read,
            report=self.report.first,
        )


class _Writer:
    """Flushes batches on a thread of its own (its own database connection), one batch
    behind the parser: at most two batches are in memory. An error in the thread is raised
    in the caller at the next batch or at :meth:`close`."""

    def __init__(self, flush: Callable[[Any, int], None], merchant: Merchant) -> None:
        self.flush = flush
        self.merchant = merchant
        self.queue: queue.Queue[tuple[Any, int] | None] = queue.Queue(1)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="siyu-import-writer", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        try:
            with merchant_context(self.merchant):
                while (item := self.queue.get()) is not None:
                    if self.error is None:
                        try:
                            self.flush(*item)
                        except BaseException as exc:  # handed to the caller
                            self.error = exc
        finally:
            connection.close()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def put(self, batch: Any, bytes_read: int) -> None:
        self._raise()
        self.queue.put((batch, bytes_read))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        self._raise()


def _time_of(record: rows.Record) -> datetime | None:
    if isinstance(record, rows.Order):
        return record.placed_at
    if isinstance(record, rows.Membership):
        return record.joined_at
    if isinstance(record, rows.Referral):
        return record.invited_at
    return record.created_at


def _key_column(record: rows.Record) -> str:
    if isinstance(record, rows.Order):
        return "order_id"
    if isinstance(record, rows.CustomerRecord):
        return "external_id"
    if isinstance(record, rows.Membership):
        return "joined_at"
    return "invitee_id"


def run_stream(
    raw: BinaryIO,
    *,
    file_name: str,
    merchant: Merchant,
    options: Options,
    report: Report,
    import_run: ImportRun | None = None,
    progress: Progress | None = None,
) -> Outcome:
    """Import the rows of ``raw`` (a binary file opened at its start); the merchant must be
    bound. Raises :class:`FileProblem` when the file cannot be read at all."""
    exponent = currency_exponent(merchant, options.currency)
    file_format = format_of(file_name, options.file_format)
    zone = ZoneInfo(merchant.time_zone or "Asia/Shanghai")
    reader = Reader(raw, options.kind, file_format)
    outcome = Outcome()
    ctx = rows.Context(
        kind=options.kind,
        zone=zone,
        exponent=exponent,
        now=timezone.now(),
        known=load_known(merchant),
    )
    # The run starts here and ends after the last batch below: what must happen once per
    # import (around every write of its batches) goes at these two points.
    batcher = _Batcher(merchant, options, import_run, report, outcome, zone)
    report.unknown_columns(reader.unknown)
    reported_unknown = len(reader.unknown)
    use_staged = options.staged
    if use_staged is None:
        use_staged = (
            STAGED_ON_POSTGRES and connection.vendor == "postgresql" and options.kind == "orders"
        )
    if use_staged and (connection.vendor != "postgresql" or options.kind != "orders"):
        raise ValueError("staged imports are for orders on PostgreSQL")
    rolls_up = options.kind in ROLLED_UP_KINDS and not options.dry_run
    batcher.keep_rollups = rolls_up and maintains_rollups(merchant, options.kind, _size(raw))
    flush: Callable[[Any, int], None] = batcher.flush
    if use_staged:
        flush = staged.StagedOrders(
            merchant,
            ctx,
            dry_run=options.dry_run,
            import_run=import_run,
            report=report,
            outcome=outcome,
            save_progress=batcher.save_progress,
            keep_rollups=batcher.keep_rollups,
        ).flush
    if rolls_up and not batcher.keep_rollups:
        rollups.suspend(merchant)  # rebuilt once at the end, not maintained batch by batch
    pipelined = options.pipelined
    if pipelined is None:
        pipelined = connection.vendor == "postgresql" and not connection.in_atomic_block
    writer = _Writer(flush, merchant) if pipelined and not options.dry_run else None
    if writer is not None:
        flush = writer.put
    try:
        if use_staged:
            _read_raw(reader, options, outcome, flush, progress)
        else:
            _read_parsed(reader, options, outcome, report, ctx, flush, progress)
    finally:
        if writer is not None:
            writer.close()
        if rolls_up:
            _after_writes(merchant, options, rebuild=not batcher.keep_rollups)
        if not options.dry_run and outcome.rows_written:
            # the customers' statistics, groups or referrals changed many at once: their
            # auto-tag rules again, as the nightly run would (the events of single changes
            # run them customer by customer; an import emits none)
            from siyu.customers import autotag

            autotag.run_all_rules(merchant)
    # every batch is written (and committed, when not inside the caller's transaction)
    report.unknown_columns(reader.unknown[reported_unknown:])  # keys JSON Lines revealed late
    if progress is not None:
        progress(reader.bytes_read, outcome)
    outcome.report_lines = report.lines
    outcome.report = report.first
    return outcome


ROLLED_UP_KINDS = ("orders", "memberships")  # they write sales or active days
# An order or membership row takes at least this many bytes of a file (an id, a customer, a
# day and an amount): the file's size over it bounds its rows from above.
MIN_ROW_BYTES = 24
# Rollups are kept batch by batch when the merchant already has this many times the file's
# rows at most; otherwise rebuilt once at the end. Keeping them costs a batch its customers'
# whole history twice, a rebuild the merchant's whole history once (docs/import.md).
KEEP_ROLLUPS_FACTOR = 20


def maintains_rollups(merchant: Merchant, kind: str, file_bytes: int | None) -> bool:
    """Whether an import of ``kind`` from a file of ``file_bytes`` keeps the merchant's
    rollups batch by batch (small against its history) rather than rebuilding them at its
    end (the first import, a large one, or rollups already stale)."""
    if file_bytes is None or kind not in ROLLED_UP_KINDS or not rollups.ready(merchant):
        return False
    sales, active_days = rollups.fact_rows(merchant)
    history = sales if kind == "orders" else active_days
    return file_bytes // MIN_ROW_BYTES * KEEP_ROLLUPS_FACTOR <= history


def _size(raw: BinaryIO) -> int | None:
    """The bytes of ``raw`` from where it stands, or None if it cannot tell."""
    try:
        if not raw.seekable():
            return None
        here = raw.tell()
        end = raw.seek(0, io.SEEK_END)
        raw.seek(here)
    except (OSError, ValueError):
        return None
    return end - here


def _after_writes(merchant: Merchant, options: Options, *, rebuild: bool) -> None:
    """Once every batch is written (also after a failure: the batches written are kept).
    After a large import: the daily rollups rebuilt from all the merchant's facts and, after
    orders, every customer's statistics and order windows, which count the imported sales. After orders, the RFM
    quintiles, which the new sales move for everyone."""
    from siyu.customers import stats, windows

    if rebuild:
        rollups.rebuild(merchant)
        if options.kind == "orders":
            stats.recompute_all(merchant)
            if windows.state_day(merchant.pk) is not None:  # built: segments read them
                windows.rebuild(merchant)
    if options.kind == "orders":
        stats.score_rfm(merchant)


def _read_parsed(
    reader: Reader,
    options: Options,
    outcome: Outcome,
    report: Report,
    ctx: rows.Context,
    flush: Callable[[Any, int], None],
    progress: Progress | None,
) -> None:
    """The Python path: each row parsed and validated here, batches of records flushed."""
    batch: list[tuple[int, rows.Record]] = []
    for source in reader:
        outcome.rows_read += 1
        parsed = rows.parse(source, ctx)
        if isinstance(parsed, list):
            outcome.rows_rejected += 1
            for column, reason in parsed:
                report.add(source.number, column, reason)
        else:
            batch.append((source.number, parsed))
        if len(batch) >= options.batch_size:
            flush(batch, reader.bytes_read)
            batch = []
            if progress is not None:
                progress(reader.bytes_read, outcome)
    flush(batch, reader.bytes_read)


def _read_raw(
    reader: Reader,
    options: Options,
    outcome: Outcome,
    flush: Callable[[Any, int], None],
    progress: Progress | None,
) -> None:
    """The staged path: each row's text goes into the batch as it is, for PostgreSQL to
    convert and validate (:mod:`.staged`)."""
    columns = reader.columns or staged.COLUMNS
    batch = staged.Batch(columns)
    for source in reader:
        outcome.rows_read += 1
        batch.add(source.number, source.values)
        if len(batch) >= options.batch_size:
            flush(batch, reader.bytes_read)
            batch = staged.Batch(columns)
            if progress is not None:
                progress(reader.bytes_read, outcome)
    flush(batch, reader.bytes_read)


def run_file(
    path: Path,
    *,
    merchant: Merchant,
    options: Options,
    report_path: Path | None,
    import_run: ImportRun | None = None,
    progress: Progress | None = None,
    file_name: str | None = None,
) -> Outcome:
    """:func:`run_stream` on the file at ``path``, the report written to ``report_path``."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise FileProblem(_("The file cannot be opened: %(error)s") % {"error": exc}) from None
    with raw, Report(report_path) as report:
        try:
            return run_stream(
                raw,
                file_name=file_name or path.name,
                merchant=merchant,
                options=options,
                report=report,
                import_run=import_run,
                progress=progress,
            )
        except FileProblem as exc:
            report.add(0, "file", str(exc))
            raise
