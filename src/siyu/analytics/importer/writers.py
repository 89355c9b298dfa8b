"""Writing one batch of validated records into the fact tables, set-based.

Each batch goes into a temporary staging table — on PostgreSQL with ``COPY … FROM STDIN``,
on SQLite with one prepared multi-row insert — and then into its fact table with a single
``INSERT … SELECT … ON CONFLICT … DO UPDATE`` (the same statement on both databases). A row
that is already there with the same values is not rewritten, so importing a file twice
changes nothing, and a corrected file updates exactly the rows that changed.

* orders → ``Sale`` (``source = "import"``), keyed by (merchant, external order id); each
  sale also marks its customer active (``ActiveDay.ORDERED``) on its local day.
* memberships → ``GroupSpan``, keyed by (merchant, customer, group key, joined at): the
  batch's spans replace the imported spans with the same key (``group_id`` may be null for a
  group Siyu never had, which a unique constraint cannot match), and mark the customer
  active (``ActiveDay.JOINED``) on the day they joined.
* referrals → ``ReferralLink``, keyed by (merchant, invitee); a link Siyu recorded itself is
  never overwritten by an import.
* customers → ``Customer`` profile fields of matched customers (name, gender, city, home
  store; the join channel where it was blank or "import"; ``created_at`` moved earlier).

Every function returns how many rows it wrote (inserted or changed).

The SQL is assembled from table and column names of this module and the models only; every
value travels as a parameter or through COPY.
"""

# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC
from typing import Any

from django.db import connection

from siyu.analytics import rollups
from siyu.analytics.importer.rows import CustomerRecord, Membership, Order, Referral
from siyu.analytics.models import ActiveDay, GroupSpan, ReferralLink, Sale
from siyu.core.models import Merchant
from siyu.customers.models import Customer

SQLITE_ROWS_PER_STATEMENT = 500


@contextmanager
def keeping_rollups(
    merchant: Merchant, kind: str, customer_ids: Iterable[int], keep: bool
) -> Iterator[None]:
    """Around the write of one batch of an import that keeps the rollups (``keep``, see
    :func:`.runner.maintains_rollups`): the batch's customers' contributions taken out before
    and added back after; after orders, those customers' statistics and order windows
    (segments' ``spent_in_days`` and ``orders_in_days``) refreshed too."""
    if not keep:
        yield
        return
    ids = sorted(set(customer_ids))
    with rollups.maintained(merchant, ids, sales=kind == "orders", activity=True):
        yield
    if kind == "orders":
        from siyu.customers import stats, windows

        stats.refresh_customers(merchant, ids)
        windows.refresh_customers(merchant, ids)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _stage(name: str, columns: Sequence[tuple[str, str]], rows: list[tuple[Any, ...]]) -> None:
    """(Re)fill the temporary table ``name`` with ``rows``."""
    definition = ", ".join(f"{col} {kind}" for col, kind in columns)
    names = ", ".join(col for col, _kind in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({definition})")
        # PostgreSQL never vacuums a temporary table: emptied by DELETE batch after batch it
        # would keep every batch's dead rows (and scan them); TRUNCATE starts it afresh
        empty = "TRUNCATE" if connection.vendor == "postgresql" else "DELETE FROM"
        cursor.execute(f"{empty} {name}")
        if not rows:
            return
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        width = len(columns)
        rows = _adapted(columns, rows)
        for start in range(0, len(rows), SQLITE_ROWS_PER_STATEMENT):
            chunk = rows[start : start + SQLITE_ROWS_PER_STATEMENT]
            marks = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(chunk))
            flat = [value for row in chunk for value in row]
            cursor.execute(f"INSERT INTO {name} ({names}) VALUES {marks}", flat)


def _adapted(
    columns: Sequence[tuple[str, str]], rows: list[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """Times and dates as SQLite stores them through the ORM (UTC text), so staged rows
    compare equal to stored ones."""
    ops = connection.ops
    times = [i for i, (_c, kind) in enumerate(columns) if kind.startswith("timestamp")]
    days = [i for i, (_c, kind) in enumerate(columns) if kind == "date"]
    if not times and not days:
        return rows
    adapted = []
    for row in rows:
        values = list(row)
        for i in times:
            values[i] = ops.adapt_datetimefield_value(values[i])
        for i in days:
            values[i] = ops.adapt_datefield_value(values[i])
        adapted.append(tuple(values))
    return adapted


def _changed(table: str, columns: Sequence[str]) -> str:
    """SQL true when any of ``columns`` differs between ``table`` and the excluded row."""
    return " OR ".join(f"{table}.{c} IS DISTINCT FROM excluded.{c}" for c in columns)


def _execute(sql: str, params: Sequence[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


SALE_STAGE = (
    ("external_id", "varchar(64)"),
    ("customer_id", "bigint"),
    ("placed_at", "timestamp with time zone"),
    ("day", "date"),
    ("amount", "bigint"),
    ("refunded", "bigint"),
    ("store_id", "bigint"),
    ("channel", "varchar(24)"),
    ("group_id", "bigint"),
    ("guide_id", "bigint"),
    ("distributor_id", "bigint"),
    ("campaign_id", "bigint"),
)
SALE_UPDATED = [c for c, _k in SALE_STAGE if c != "external_id"]


def write_orders(merchant_id: int, orders: list[Order], customers: dict[str, int]) -> int:
    rows = [
        (
            o.external_id,
            customers[o.customer],
            o.placed_at.astimezone(UTC),  # PostgreSQL refuses offsets over 15:59
            o.day,
            o.amount,
            o.refunded,
            o.store_id,
            o.channel,
            o.group_id,
            o.guide_id,
            o.distributor_id,
            o.campaign_id,
        )
        for o in orders
    ]
    _stage("siyu_import_sale", SALE_STAGE, rows)
    return write_sales(merchant_id)


def write_sales(merchant_id: int) -> int:
    """Write the batch staged in ``siyu_import_sale`` (customer ids resolved) into ``Sale``
    and mark its customers active on those days; the number of sales inserted or changed.

    The one place the importer writes sales, on both paths (:func:`write_orders` stages
    parsed records, :mod:`.staged` stages what PostgreSQL converted): whatever must follow
    every write of imported sales belongs here."""
    sale = _q(Sale._meta.db_table)
    cols = ", ".join(c for c, _k in SALE_STAGE)
    updates = ", ".join(f"{c} = excluded.{c}" for c in SALE_UPDATED)
    same = " AND ".join(f"t.{c} IS NOT DISTINCT FROM s.{c}" for c in SALE_UPDATED)
    _probe_by_index()
    # A sale already there with the same values is left out before the upsert: ON CONFLICT
    # DO UPDATE locks (writes) every conflicting row even when its WHERE keeps it unchanged,
    # so a re-import would rewrite a page for every row; the probe only reads.
    written = _execute(
        f"INSERT INTO {sale} (merchant_id, source, {cols}) "
        f"SELECT %s, 'import', {', '.join(f's.{c}' for c, _k in SALE_STAGE)} "
        f"FROM siyu_import_sale s WHERE NOT EXISTS (SELECT 1 FROM {sale} t "
        f"WHERE t.merchant_id = %s AND NOT (t.external_id = '') "
        f"AND t.external_id = s.external_id AND {same}) "
        f"ON CONFLICT (merchant_id, external_id) WHERE NOT (external_id = '') "
        f"DO UPDATE SET {updates} WHERE {_changed(sale, SALE_UPDATED)}",
        [merchant_id, merchant_id],
    )
    _mark_active(merchant_id, "siyu_import_sale", "day", ActiveDay.ORDERED)
    _probe_by_index(False)
    return written


def _probe_by_index(on: bool = True) -> None:
    """On PostgreSQL, have the next statements probe the fact tables by index, row by row
    of the batch: with statistics taken while the table was small, the planner may hash the
    merchant's whole table instead, or read it once into memory and compare every batch row
    with every one of its rows (both seen; plans that grow with the table, the second
    quadratic: a minute a batch at 130,000 sales)."""
    if connection.vendor != "postgresql":
        return
    value = "off" if on else "DEFAULT"
    with connection.cursor() as cursor:
        cursor.execute(
            "; ".join(
                f"SET LOCAL enable_{plan} = {value}"
                for plan in ("hashjoin", "mergejoin", "material", "bitmapscan")
            )
        )


def _mark_active(merchant_id: int, stage: str, day_column: str, flag: int) -> None:
    """Mark each (customer, day) of ``stage`` active with ``flag``; days already marked are
    left out first (read only), as unchanged sales are."""
    table = _q(ActiveDay._meta.db_table)
    _execute(
        f"INSERT INTO {table} (merchant_id, customer_id, day, kinds) "
        f"SELECT DISTINCT %s, s.customer_id, s.{day_column}, {flag} FROM {stage} s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} a WHERE a.merchant_id = %s "
        f"AND a.day = s.{day_column} AND a.customer_id = s.customer_id "
        f"AND (a.kinds & {flag}) <> 0) "
        f"ON CONFLICT (merchant_id, day, customer_id) "
        f"DO UPDATE SET kinds = {table}.kinds | {flag} WHERE ({table}.kinds & {flag}) = 0",
        [merchant_id, merchant_id],
    )


SPAN_STAGE = (
    ("customer_id", "bigint"),
    ("group_id", "bigint"),
    ("group_key", "varchar(64)"),
    ("joined_at", "timestamp with time zone"),
    ("left_at", "timestamp with time zone"),
    ("channel", "varchar(60)"),
    ("day", "date"),
)


def write_memberships(
    merchant_id: int, spans: list[Membership], customers: dict[str, int], zone: Any
) -> int:
    rows = [
        (
            customers[s.customer],
            s.group_id,
            s.group_key,
            s.joined_at,
            s.left_at,
            s.channel,
            s.joined_at.astimezone(zone).date(),
        )
        for s in spans
    ]
    _stage("siyu_import_span", SPAN_STAGE, rows)
    table = _q(GroupSpan._meta.db_table)
    cols = ", ".join(c for c, _k in SPAN_STAGE if c != "day")
    same = (
        f"s.customer_id = {table}.customer_id AND s.group_key = {table}.group_key "
        f"AND s.joined_at = {table}.joined_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM siyu_import_span s WHERE EXISTS (SELECT 1 FROM {table} "
            f"WHERE {table}.merchant_id = %s AND {table}.source = 'import' AND {same} "
            f"AND {table}.group_id IS NOT DISTINCT FROM s.group_id "
            f"AND {table}.left_at IS NOT DISTINCT FROM s.left_at AND {table}.channel = s.channel)",
            [merchant_id],
        )
        unchanged = cursor.fetchone()[0]
        cursor.execute(
            f"DELETE FROM {table} WHERE merchant_id = %s AND source = 'import' AND EXISTS "
            f"(SELECT 1 FROM siyu_import_span s WHERE {same})",
            [merchant_id],
        )
        cursor.execute(
            f"INSERT INTO {table} (merchant_id, source, {cols}) "
            f"SELECT %s, 'import', {cols} FROM siyu_import_span",
            [merchant_id],
        )
    _mark_active(merchant_id, "siyu_import_span", "day", ActiveDay.JOINED)
    return len(rows) - unchanged


LINK_STAGE = (
    ("inviter_id", "bigint"),
    ("invitee_id", "bigint"),
    ("invited_at", "timestamp with time zone"),
    ("kind", "varchar(16)"),
)
LINK_UPDATED = ["inviter_id", "invited_at", "kind"]


def write_referrals(merchant_id: int, links: list[Referral], customers: dict[str, int]) -> int:
    rows = [(customers[r.inviter], customers[r.invitee], r.invited_at, r.kind) for r in links]
    _stage("siyu_import_link", LINK_STAGE, rows)
    table = _q(ReferralLink._meta.db_table)
    cols = ", ".join(c for c, _k in LINK_STAGE)
    updates = ", ".join(f"{c} = excluded.{c}" for c in LINK_UPDATED)
    return _execute(
        f"INSERT INTO {table} (merchant_id, source, {cols}) "
        f"SELECT %s, 'import', {cols} FROM siyu_import_link WHERE true "
        f"ON CONFLICT (merchant_id, invitee_id) DO UPDATE SET {updates} "
        f"WHERE {table}.source = 'import' AND ({_changed(table, LINK_UPDATED)})",
        [merchant_id],
    )


PROFILE_STAGE = (
    ("customer_id", "bigint"),
    ("phone", "varchar(20)"),
    ("name", "varchar(80)"),
    ("created_at", "timestamp with time zone"),
    ("join_channel", "varchar(60)"),
    ("home_store_id", "bigint"),
    ("gender", "varchar(8)"),
    ("city", "varchar(40)"),
)


def write_profiles(
    merchant_id: int, records: list[CustomerRecord], customers: dict[str, int]
) -> int:
    """Bring matched customers' profiles in line with the file; the number changed."""
    rows = [
        (
            customers[r.external_id],
            r.phone,
            r.name,
            r.created_at,
            r.join_channel,
            r.home_store_id,
            r.gender,
            r.city,
        )
        for r in records
    ]
    _stage("siyu_import_profile", PROFILE_STAGE, rows)
    table = _q(Customer._meta.db_table)
    c = "c"
    new = {
        "name": f"COALESCE(s.name, {c}.name)",
        "gender": f"COALESCE(s.gender, {c}.gender)",
        "city": f"COALESCE(s.city, {c}.city)",
        "home_store_id": f"COALESCE(s.home_store_id, {c}.home_store_id)",
        "join_channel": (
            f"CASE WHEN s.join_channel IS NOT NULL AND {c}.join_channel IN ('', 'import') "
            f"THEN s.join_channel ELSE {c}.join_channel END"
        ),
        "created_at": (
            f"CASE WHEN s.created_at IS NOT NULL AND s.created_at < {c}.created_at "
            f"THEN s.created_at ELSE {c}.created_at END"
        ),
        "phone": (
            f"CASE WHEN {c}.phone = '' AND s.phone <> '' AND NOT EXISTS (SELECT 1 FROM "
            f"{table} o WHERE o.merchant_id = {c}.merchant_id AND o.phone = s.phone) "
            f"THEN s.phone ELSE {c}.phone END"
        ),
    }
    sets = ", ".join(f"{col} = {expr}" for col, expr in new.items())
    differs = " OR ".join(f"{c}.{col} IS DISTINCT FROM {expr}" for col, expr in new.items())
    return _execute(
        f"UPDATE {table} AS {c} SET {sets} FROM siyu_import_profile s "
        f"WHERE {c}.id = s.customer_id AND {c}.merchant_id = %s AND ({differs})",
        [merchant_id],
    )
