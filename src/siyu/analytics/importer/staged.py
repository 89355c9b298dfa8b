"""Orders on PostgreSQL: the raw text COPYed in, converted and validated by the database.

The per-row work in Python is only reading the file (the C ``csv`` module) and writing each
row's text into a COPY buffer; PostgreSQL does the rest set-based, one statement per step
and batch (see ``docs/import.md``, "How it works"):

1. ``COPY siyu_import_raw FROM STDIN (FORMAT csv)`` — the row number and every column as text.
2. One ``INSERT … SELECT`` converts the rows it can prove valid into ``siyu_import_order``:
   times (ISO 8601, ``YYYY-MM-DD HH:MM[:SS]``, with ``/``, a bare date; naive ones in the
   merchant's zone), amounts in minor units (exactly: ``numeric``, at most the currency's
   decimals, trailing zeros allowed), refunds, lengths, and the store, group, guide and
   distributor looked up in ``siyu_import_known`` (the merchant's ids, loaded once).
   Every test is a strict pattern checked before any cast, so a bad value never raises.
3. The rows it could not prove valid — bad ones, but also rare forms such as ``¥12`` or
   ``1,280.00``, a store named by a zero-padded id, a local time in a daylight-saving
   change — come back to Python and go through :func:`.rows.parse`, the very validator of
   the SQLite path: a bad row gets the same report line (row, field, reason) word for word,
   a good one joins the batch. A file of clean rows sends none back.
4. Within the batch the later row with the same order id wins (the earlier is reported);
   the customers are matched by external identity and the missing ones created, with their
   identities, in one statement; the sales are staged in ``siyu_import_sale`` and written
   by :func:`.writers.write_sales`, the one function that writes sales.

SQL is assembled from this module's constants and the models' table names only; values travel
as parameters or through COPY.
"""

# ruff: noqa: S608

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from siyu.analytics.importer import parsing, rows, writers
from siyu.analytics.importer.formats import SourceRow
from siyu.analytics.importer.report import Report
from siyu.analytics.models import ImportRun
from siyu.core.models import Merchant
from siyu.customers.models import Customer, CustomerIdentity

# the file's columns of an order, in the raw table's order (``group`` is a keyword in SQL)
COLUMNS = (
    "order_id",
    "customer_id",
    "placed_at",
    "amount",
    "refunded",
    "store",
    "channel",
    "group",
    "guide",
    "distributor",
    "campaign",
    "lines",
)
RAW = {column: ("grp" if column == "group" else column) for column in COLUMNS}
ORDER_STAGE = (
    ("num", "integer"),
    ("external_id", "text"),
    ("customer_key", "text"),
    ("placed_at", "timestamp with time zone"),
    ("day", "date"),
    ("amount", "bigint"),
    ("refunded", "bigint"),
    ("store_id", "bigint"),
    ("channel", "text"),
    ("group_id", "bigint"),
    ("guide_id", "bigint"),
    ("distributor_id", "bigint"),
    ("campaign_id", "bigint"),
)

# A time the database may convert itself: what ``parsing.timestamp`` reads, minus the rare
# forms (other separators, 7+ fractional digits, years outside 1900–2999) that go to Python.
TIME_PATTERN = (
    r"^(19|2[0-9])[0-9]{2}[-/](0[1-9]|1[0-2])[-/](0[1-9]|[12][0-9]|3[01])"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"([zZ]|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)?)?$"  # PostgreSQL's offsets end at 15:59
)
ID_PATTERN = r"^[1-9][0-9]{0,17}$"
KNOWN_KINDS = {"store": "s", "group": "g", "guide": "u", "distributor": "d"}


def _create_tables(cursor: Any) -> None:
    raw = ", ".join(f"{RAW[c]} text" for c in COLUMNS)
    order = ", ".join(f"{c} {kind}" for c, kind in ORDER_STAGE)
    sale = ", ".join(f"{c} {kind}" for c, kind in writers.SALE_STAGE)
    for statement in (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS siyu_import_raw (num integer, {raw})",
        f"CREATE TEMPORARY TABLE IF NOT EXISTS siyu_import_order ({order})",
        "CREATE TEMPORARY TABLE IF NOT EXISTS siyu_import_cust "
        "(key text, first_seen timestamp with time zone, customer_id bigint)",
        f"CREATE TEMPORARY TABLE IF NOT EXISTS siyu_import_sale ({sale})",
        "CREATE TEMPORARY TABLE IF NOT EXISTS siyu_import_known "
        "(kind char(1), key text, id bigint, PRIMARY KEY (kind, key))",
    ):
        cursor.execute(statement)
    # emptied with TRUNCATE, not DELETE: temporary tables are never vacuumed, and a table
    # deleted from batch after batch would grow by every batch's rows
    cursor.execute(
        "TRUNCATE siyu_import_raw, siyu_import_order, siyu_import_cust, siyu_import_sale"
    )


def _date(column: str) -> str:
    """SQL true when the date of a text matching TIME_PATTERN exists (30 February does not)."""
    year = f"substr({column}, 1, 4)::int"
    day = f"substr({column}, 9, 2)::int"
    month = f"substr({column}, 6, 2)"
    leap = f"(mod({year}, 4) = 0 AND (mod({year}, 100) <> 0 OR mod({year}, 400) = 0))"
    return (
        f"({day} <= 28 OR {day} <= CASE {month} WHEN '02' THEN CASE WHEN {leap} THEN 29 "
        f"ELSE 28 END WHEN '04' THEN 30 WHEN '06' THEN 30 WHEN '09' THEN 30 WHEN '11' THEN 30 "
        f"ELSE 31 END)"
    )


def classify_sql(columns: tuple[str, ...], exponent: int) -> str:
    """The statement that converts the provably valid raw rows into ``siyu_import_order``
    and returns the others (row number and raw text, in file order) for Python.
    Parameters: ``zone`` (the merchant's time zone), ``now`` (the import's start) and
    ``shifts`` (local dates near a change of the zone's UTC offset, see :func:`offset_days`)."""
    scale = 10**exponent
    t = "replace(r.placed_at, '/', '-')"
    tail = "substr(r.placed_at, 11)"
    offset = (
        f"(right(r.placed_at, 1) IN ('Z', 'z') OR strpos({tail}, '+') > 0 "
        f"OR strpos({tail}, '-') > 0)"
    )
    placed = (
        f"CASE WHEN r.placed_at ~ '{TIME_PATTERN}' THEN CASE WHEN {_date('r.placed_at')} THEN "
        f"CASE WHEN {offset} THEN {t}::timestamptz "
        # a local time around a change of the zone's offset (daylight saving) is left to
        # Python, whose reading of a repeated hour PostgreSQL does not share
        f"WHEN NOT (left({t}, 10) = ANY(%(shifts)s::text[])) "
        f"THEN {t}::timestamp AT TIME ZONE %(zone)s END END END"
    )

    def money(column: str) -> str:
        # digits with at most one dot (translate is several times cheaper than a regular
        # expression), a whole part, at most ``exponent`` decimals before trailing zeros
        whole = f"split_part({column}, '.', 1)"
        fraction = f"rtrim(split_part({column}, '.', 2), '0')"
        return (
            f"CASE WHEN translate({column}, '0123456789', '') IN ('', '.') THEN "
            f"CASE WHEN {whole} <> '' AND length({whole}) <= 13 "
            f"AND length({fraction}) <= {exponent} "
            f"THEN ({column}::numeric * {scale})::bigint END END"
        )

    has = set(columns)
    known: list[str] = []
    lookups: list[str] = []
    checks: list[str] = [
        "y.order_id IS NOT NULL",
        "y.customer_id IS NOT NULL",
        "y.placed_minor IS NOT NULL",
        "y.amount_minor IS NOT NULL",
        "char_length(y.order_id) <= 64",
        "char_length(y.customer_id) <= 64",
        "y.placed_minor >= '1990-01-01T00:00:00Z'::timestamptz",
        "y.placed_minor <= %(now)s",
        f"y.amount_minor <= {parsing.MAX_AMOUNT}",
    ]
    for column, kind in KNOWN_KINDS.items():
        if column not in has:
            lookups.append(f"NULL::bigint AS {column}_id")
            continue
        raw = f"r.{RAW[column]}"
        key = f"lower({raw})" if column in ("store", "guide") else raw
        known.append(
            f"LEFT JOIN siyu_import_known k_{kind} ON k_{kind}.kind = '{kind}' "
            f"AND k_{kind}.key = {key}"
        )
        lookups.append(f"k_{kind}.id AS {column}_id")
        checks.append(f"(y.{RAW[column]} IS NULL OR y.{column}_id IS NOT NULL)")
    if "refunded" in has:
        lookups.append(
            f"CASE WHEN r.refunded IS NULL THEN 0 ELSE {money('r.refunded')} END AS refunded_minor"
        )
        checks.append("y.refunded_minor <= y.amount_minor")
    else:
        lookups.append("0 AS refunded_minor")
    if "channel" in has:
        checks.append("(y.channel IS NULL OR char_length(y.channel) <= 24)")
    if "campaign" in has:
        lookups.append(
            f"CASE WHEN r.campaign ~ '{ID_PATTERN}' THEN r.campaign::bigint END AS campaign_id"
        )
        checks.append("(y.campaign IS NULL OR y.campaign_id IS NOT NULL)")
    else:
        lookups.append("NULL::bigint AS campaign_id")
    if "lines" in has:
        checks.append("(y.lines IS NULL OR y.lines ~ '^[0-9]+$')")
    raw_columns = ", ".join(f"r.{RAW[c]}" for c in columns)
    raw_out = ", ".join(f"x.{RAW[c]}" for c in columns)
    order_columns = ", ".join(c for c, _k in ORDER_STAGE)
    channel = "coalesce(x.channel, '')" if "channel" in has else "''"
    # Each row converted once (OFFSET 0 keeps the planner from pasting the conversions into
    # every check that uses them) and kept with its verdict (MATERIALIZED); CASE guards every
    # cast, since the order in which PostgreSQL evaluates a condition's parts is not defined.
    return (
        f"WITH x AS MATERIALIZED (SELECT y.*, coalesce({' AND '.join(checks)}, false) AS good "
        f"FROM (SELECT r.num, {raw_columns}, {placed} AS placed_minor, "
        f"{money('r.amount')} AS amount_minor, {', '.join(lookups)} "
        f"FROM siyu_import_raw r {' '.join(known)} OFFSET 0) y), "
        f"ins AS (INSERT INTO siyu_import_order ({order_columns}) "
        f"SELECT x.num, x.order_id, x.customer_id, x.placed_minor, "
        f"(x.placed_minor AT TIME ZONE %(zone)s)::date, x.amount_minor, x.refunded_minor, "
        f"x.store_id, {channel}, x.group_id, x.guide_id, x.distributor_id, x.campaign_id "
        f"FROM x WHERE x.good) "
        f"SELECT x.num, {raw_out} FROM x WHERE NOT x.good ORDER BY x.num"
    )


def offset_days(zone: tzinfo, until: date) -> list[str]:
    """Local dates (ISO text) on which, or the day after which, the zone's UTC offset
    changed since 1990: local times on them are converted by Python (:func:`classify_sql`)."""
    days: set[str] = set()
    day = date(1989, 12, 30)
    previous = datetime.combine(day, time(), tzinfo=zone).utcoffset()
    while day <= until:
        day += timedelta(days=1)
        current = datetime.combine(day, time(), tzinfo=zone).utcoffset()
        if current != previous:
            for near in (-1, 0, 1):
                days.add((day + timedelta(days=near)).isoformat())
            previous = current
    return sorted(days)


def _storable(text: str) -> tuple[bytes, list[tuple[int, str, str]]]:
    """The rows of ``text`` (COPY's CSV) that PostgreSQL can store, and a problem for each
    of the others."""
    out = io.StringIO()
    write = csv.writer(out, lineterminator="\n").writerow
    problems: list[tuple[int, str, str]] = []
    for cells in csv.reader(io.StringIO(text)):
        line = "".join(cells)
        try:
            line.encode()
        except UnicodeEncodeError:
            line = "\x00"
        if "\x00" in line:
            reason = _("The row holds a character that cannot be stored (NUL or a lone surrogate).")
            problems.append((int(cells[0]), "line", reason))
        else:
            write(cells)
    return out.getvalue().encode(), problems


@dataclass
class Batch:
    """One batch of raw rows: CSV text for COPY, and the lines the reader could not read."""

    columns: tuple[str, ...]
    buffer: io.StringIO = field(default_factory=io.StringIO)
    count: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row, reason)

    def __post_init__(self) -> None:
        self._write = csv.writer(self.buffer, lineterminator="\n").writerow
        self._pick = list(self.columns)

    def add(self, number: int, values: dict[str, str]) -> None:
        error = values.get("__error__")
        if error is not None:
            self.errors.append((number, error))
            return
        self.count += 1
        self._write((number, *map(values.get, self._pick)))

    def __len__(self) -> int:
        return self.count + len(self.errors)


class StagedOrders:
    """Writes batches of raw order rows (one connection: the caller's or the writer
    thread's). ``flush`` has the signature of the Python path's batcher."""

    def __init__(
        self,
        merchant: Merchant,
        ctx: rows.Context,
        *,
        dry_run: bool,
        import_run: ImportRun | None,
        report: Report,
        outcome: Any,
        save_progress: Any,
        keep_rollups: bool = False,
    ) -> None:
        self.merchant = merchant
        self.ctx = ctx
        self.dry_run = dry_run
        self.run = import_run
        self.report = report
        self.outcome = outcome
        self.save_progress = save_progress
        self.keep_rollups = keep_rollups
        self.zone = str(ctx.zone)
        self.shifts = offset_days(ctx.zone, ctx.now.date() + timedelta(days=2))
        self._sql: dict[tuple[str, ...], str] = {}
        self._known_loaded = False

    # -- one batch --------------------------------------------------------------------------

    def flush(self, batch: Batch, bytes_read: int) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")  # a lost batch is re-imported
            _create_tables(cursor)
            if not self._known_loaded:
                self._load_known(cursor)
            problems: list[tuple[int, str, str]] = [(n, "line", r) for n, r in batch.errors]
            if batch.count:
                problems += self._copy(cursor, batch)
                problems += self._classify(cursor, batch.columns)
            for number, column, reason in sorted(problems, key=lambda p: p[0]):
                self.report.add(number, column, reason)
            self.outcome.rows_rejected += len({p[0] for p in problems})
            if batch.count:
                self._drop_duplicates(cursor)
                cursor.execute("SELECT count(*) FROM siyu_import_order")
                valid = cursor.fetchone()[0]
                self.outcome.rows_valid += valid
                if valid and not self.dry_run:
                    self.outcome.customers_created += self._resolve_customers(cursor)
                    self._stage_sales(cursor)
                    customers: list[int] = []
                    if self.keep_rollups:
                        cursor.execute(
                            "SELECT customer_id FROM siyu_import_cust WHERE customer_id IS NOT NULL"
                        )
                        customers = [row[0] for row in cursor.fetchall()]
                    with writers.keeping_rollups(
                        self.merchant, "orders", customers, self.keep_rollups
                    ):
                        self.outcome.rows_written += writers.write_sales(self.merchant.pk)
            self.save_progress(bytes_read)

    def _copy(self, cursor: Any, batch: Batch) -> list[tuple[int, str, str]]:
        """COPY the batch in; the rows that text cannot hold (a NUL character, half of a
        surrogate pair from a JSON escape) are left out as problems."""
        names = ", ".join(RAW[c] for c in batch.columns)
        text = batch.buffer.getvalue()
        problems: list[tuple[int, str, str]] = []
        try:
            data = text.encode()
        except UnicodeEncodeError:
            data = b"\x00"  # sorted out row by row below
        if b"\x00" in data:
            data, problems = _storable(text)
        with cursor.cursor.copy(
            f"COPY siyu_import_raw (num, {names}) FROM STDIN (FORMAT csv)"
        ) as c:
            c.write(data)
        return problems

    def _classify(self, cursor: Any, columns: tuple[str, ...]) -> list[tuple[int, str, str]]:
        sql = self._sql.get(columns)
        if sql is None:
            sql = self._sql[columns] = classify_sql(columns, self.ctx.exponent)
        cursor.execute(sql, {"zone": self.zone, "now": self.ctx.now, "shifts": self.shifts})
        returned = cursor.fetchall()
        problems: list[tuple[int, str, str]] = []
        good: list[tuple[Any, ...]] = []
        for number, *texts in returned:
            values = {c: v for c, v in zip(columns, texts, strict=True) if v is not None}
            parsed = rows.parse(SourceRow(number, values), self.ctx)
            if isinstance(parsed, list):
                problems += [(number, column, reason) for column, reason in parsed]
                continue
            assert isinstance(parsed, rows.Order)
            good.append(
                (
                    number,
                    parsed.external_id,
                    parsed.customer,
                    parsed.placed_at.astimezone(UTC),  # PostgreSQL refuses offsets over 15:59
                    parsed.day,
                    parsed.amount,
                    parsed.refunded,
                    parsed.store_id,
                    parsed.channel,
                    parsed.group_id,
                    parsed.guide_id,
                    parsed.distributor_id,
                    parsed.campaign_id,
                )
            )
        if good:
            names = ", ".join(c for c, _k in ORDER_STAGE)
            with cursor.cursor.copy(f"COPY siyu_import_order ({names}) FROM STDIN") as copy:
                for row in good:
                    copy.write_row(row)
        return problems

    def _drop_duplicates(self, cursor: Any) -> None:
        """The later row with the same order id wins; the earlier is reported."""
        cursor.execute(
            "WITH d AS (SELECT external_id FROM siyu_import_order GROUP BY external_id "
            "HAVING count(*) > 1) SELECT * FROM (SELECT o.num, lead(o.num) OVER "
            "(PARTITION BY o.external_id ORDER BY o.num) AS later FROM siyu_import_order o "
            "JOIN d USING (external_id)) s WHERE later IS NOT NULL ORDER BY num"
        )
        earlier = cursor.fetchall()
        if not earlier:
            return
        for number, later in earlier:
            reason = _("Row %(row)d has the same id and was imported instead.") % {"row": later}
            self.report.add(number, "order_id", reason)
        self.outcome.rows_rejected += len(earlier)
        cursor.execute(
            "DELETE FROM siyu_import_order WHERE num = ANY(%s)", [[n for n, _l in earlier]]
        )

    def _load_known(self, cursor: Any) -> None:
        """The merchant's stores, groups, guides and distributors, keyed as the file names
        them (a code or username in lower case wins over an id, as in :mod:`.rows`)."""
        known = self.ctx.known
        entries: dict[tuple[str, str], int] = {}
        for pk in known.store_ids:
            entries["s", str(pk)] = pk
        for code, pk in known.stores.items():
            entries["s", code] = pk
        for pk in known.guide_ids:
            entries["u", str(pk)] = pk
        for username, pk in known.guides.items():
            entries["u", username] = pk
        for pk in known.groups:
            entries["g", str(pk)] = pk
        for pk in known.distributors:
            entries["d", str(pk)] = pk
        cursor.execute("TRUNCATE siyu_import_known")
        with cursor.cursor.copy("COPY siyu_import_known (kind, key, id) FROM STDIN") as copy:
            for (kind, key), pk in entries.items():
                copy.write_row((kind, key, pk))
        cursor.execute("ANALYZE siyu_import_known")
        self._known_loaded = True

    # -- customers and sales ----------------------------------------------------------------

    def _resolve_customers(self, cursor: Any) -> int:
        """Every customer key of the batch with its customer id; the number created."""
        identity = connection.ops.quote_name(CustomerIdentity._meta.db_table)
        merchant_id = self.merchant.pk
        external = str(CustomerIdentity.Kind.EXTERNAL)
        cursor.execute(
            "INSERT INTO siyu_import_cust (key, first_seen, customer_id) "
            "SELECT o.key, o.first_seen, i.customer_id FROM (SELECT customer_key AS key, "
            "min(placed_at) AS first_seen FROM siyu_import_order GROUP BY customer_key) o "
            f"LEFT JOIN {identity} i ON i.merchant_id = %s AND i.kind = %s AND i.value = o.key",
            [merchant_id, external],
        )
        cursor.execute("SELECT count(*) FROM siyu_import_cust WHERE customer_id IS NULL")
        missing = cursor.fetchone()[0]
        if not missing:
            return 0
        insert, params = self._customer_insert()
        cursor.execute(
            "WITH new AS MATERIALIZED (SELECT key, first_seen, nextval(%s::regclass) AS id "
            "FROM siyu_import_cust WHERE customer_id IS NULL), "
            f"made AS ({insert}), "
            f"linked AS (INSERT INTO {identity} (merchant_id, customer_id, kind, value, "
            "created_at) SELECT %s, new.id, %s, new.key, %s FROM new "
            "ON CONFLICT (merchant_id, kind, value) DO NOTHING RETURNING value, customer_id) "
            "UPDATE siyu_import_cust c SET customer_id = linked.customer_id FROM linked "
            "WHERE c.key = linked.value",
            [self._sequence(cursor), *params, merchant_id, external, self.ctx.now],
        )
        if cursor.rowcount < missing:
            # another import created some of these ids meanwhile: theirs are the customers
            cursor.execute(
                f"UPDATE siyu_import_cust c SET customer_id = i.customer_id FROM {identity} i "
                "WHERE c.customer_id IS NULL AND i.merchant_id = %s AND i.kind = %s "
                "AND i.value = c.key",
                [merchant_id, external],
            )
        return int(missing)

    def _sequence(self, cursor: Any) -> str:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Customer._meta.db_table])
        return str(cursor.fetchone()[0])

    def _customer_insert(self) -> tuple[str, list[Any]]:
        """``INSERT INTO customer … SELECT … FROM new``: every column its default, as a new
        ``Customer`` of the ORM would have it (see :mod:`.customers`), created at the first
        time the batch saw the customer."""
        from siyu.analytics.importer.customers import IMPORT_CHANNEL

        proto = Customer(
            merchant=self.merchant, join_channel=IMPORT_CHANNEL, created_at=self.ctx.now
        )
        fields = [f for f in Customer._meta.concrete_fields if not f.primary_key]
        names = ["id"]
        values = ["new.id"]
        params: list[Any] = []
        for f in fields:
            names.append(connection.ops.quote_name(f.column or f.attname))
            if f.attname == "created_at":
                values.append("new.first_seen")
                continue
            values.append(f"CAST(%s AS {f.cast_db_type(connection)})")
            params.append(f.get_db_prep_save(getattr(proto, f.attname), connection))
        table = connection.ops.quote_name(Customer._meta.db_table)
        return (
            f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} FROM new",
            params,
        )

    def _stage_sales(self, cursor: Any) -> None:
        columns = ", ".join(c for c, _k in writers.SALE_STAGE)
        cursor.execute(
            f"INSERT INTO siyu_import_sale ({columns}) SELECT o.external_id, c.customer_id, "
            "o.placed_at, o.day, o.amount, o.refunded, o.store_id, o.channel, o.group_id, "
            "o.guide_id, o.distributor_id, o.campaign_id FROM siyu_import_order o "
            "JOIN siyu_import_cust c ON c.key = o.customer_key"
        )
