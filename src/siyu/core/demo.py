"""What the demo generators of every app share.

``siyu demo`` builds one believable merchant by calling ``seed(ctx)`` in each
app's ``demo.py`` in dependency order (stores before catalog, and so on).
``STEPS`` is an int, or a function of ``ctx.options`` when the amount of work
depends on them (``--customers N``). Generators draw every random choice from ``ctx.rng`` (seeded, so a demo is
reproducible), report progress through ``ctx.advance``, and add the logins
they create to ``ctx.logins`` so the command can print them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, islice
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models
from django.db.models import NOT_PROVIDED

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.models import Merchant

DEMO_PASSWORD = "siyu-demo-2026"  # noqa: S105  (printed on purpose: it is a local demo)


@dataclass
class Login:
    role: str
    username: str
    password: str
    note: str = ""


@dataclass
class DemoContext:
    merchant: Merchant
    owner: Actor
    rng: random.Random
    advance: Callable[[int], None] = lambda n: None
    logins: list[Login] = field(default_factory=list)
    # what one generator leaves for the next (e.g. "stores": [Store, ...])
    shared: dict[str, Any] = field(default_factory=dict)
    # command-line choices, e.g. {"customers": 20000} from `siyu demo --customers N`
    options: dict[str, Any] = field(default_factory=dict)


# --- writing many rows ------------------------------------------------------------------------

ROWS_PER_STATEMENT = 500  # SQLite: rows of one multi-row INSERT (fewer when the columns are many)
COPY_PROGRESS = 5_000  # PostgreSQL: rows copied between two progress reports


class BulkInsert:
    """A prepared bulk INSERT of rows of ``model_class``, for the demo's tens of thousands.

    ``columns`` are the attribute names (``customer_id``) each row gives, as database values;
    times may be ``datetime`` (converted for SQLite here) unless ``times_as_text`` says the
    rows already hold the database's text (faster for millions). Every other concrete field gets its
    default, prepared once (``auto_now``/``auto_now_add``: ``now``); a field with a database
    default is left to the database; a unique field, or one with neither a value nor a
    default (nor NULL), is a programming error, reported before anything runs. Primary keys are not read back.

    PostgreSQL gets ``COPY … FROM STDIN``; SQLite multi-row ``INSERT … VALUES (…), (…)``
    on the driver's own cursor, about a third less CPU than ``executemany`` and several
    times less than ``bulk_create``, and without the debug query log's copy of every value.
    """

    def __init__(
        self,
        model_class: type[models.Model],
        columns: Sequence[str],
        now: datetime | None = None,
        *,
        times_as_text: bool = False,
    ) -> None:
        meta = model_class._meta
        fields = {f.attname: f for f in meta.concrete_fields}
        unknown = [c for c in columns if c not in fields]
        if unknown:
            raise ImproperlyConfigured(f"{model_class.__name__} has no field {unknown}")
        names = list(columns)
        fixed: list[Any] = []
        when = now or clock.now()
        for f in meta.concrete_fields:
            if f.attname in columns or f.primary_key or f.db_default is not NOT_PROVIDED:
                continue
            if f.unique:  # one default for every row would collide
                raise ImproperlyConfigured(
                    f"{model_class.__name__}.{f.name} is unique: the demo must give it a value"
                )
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value: Any = when
            elif f.has_default():
                value = f.get_default()
            elif f.null:
                value = None
            elif f.empty_strings_allowed:  # text without a default: Django's is ""
                value = f.get_default()
            else:
                raise ImproperlyConfigured(
                    f"{model_class.__name__}.{f.name} has no default: the demo must give it a value"
                )
            names.append(f.attname)
            fixed.append(f.get_db_prep_save(value, connection))
        self.table = connection.ops.quote_name(meta.db_table)
        self.column_list = ", ".join(
            connection.ops.quote_name(str(fields[n].column)) for n in names
        )
        self.width = len(names)
        self.fixed = tuple(fixed)
        self.times = [
            i for i, name in enumerate(columns) if isinstance(fields[name], models.DateTimeField)
        ]
        if times_as_text:
            self.times = []

    def write(
        self, rows: Iterable[tuple[Any, ...]], advance: Callable[[int], None] | None = None
    ) -> int:
        """Insert ``rows`` (each with the columns given, in order); answers how many."""
        report = advance or (lambda n: None)
        if connection.vendor == "postgresql":
            return self._copy(rows, report)
        limit = connection.features.max_query_params or 999
        per = max(1, min(ROWS_PER_STATEMENT, limit // self.width))
        statements: dict[int, str] = {}
        written = 0
        rows = iter(rows)
        connection.ensure_connection()
        cursor = connection.connection.cursor()  # the driver's: no per-value debug log
        try:
            while chunk := list(islice(rows, per)):
                sql = statements.get(len(chunk))
                if sql is None:
                    sql = statements[len(chunk)] = self._values_sql(len(chunk))
                if self.times:
                    chunk = [self._with_text_times(row) for row in chunk]
                values = list(chain.from_iterable([row + self.fixed for row in chunk]))
                with connection.wrap_database_errors:
                    cursor.execute(sql, values)
                written += len(chunk)
                report(len(chunk))
        finally:
            cursor.close()
        return written

    def _values_sql(self, count: int) -> str:
        row = "(" + ", ".join(["?"] * self.width) + ")"
        # names from the model's meta, quoted; the values go as parameters
        return f"INSERT INTO {self.table} ({self.column_list}) VALUES " + ", ".join(  # noqa: S608
            [row] * count
        )

    def _with_text_times(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        values = list(row)
        for i in self.times:
            if isinstance(values[i], datetime):
                values[i] = connection.ops.adapt_datetimefield_value(values[i])
        return tuple(values)

    def _copy(self, rows: Iterable[tuple[Any, ...]], report: Callable[[int], None]) -> int:
        """PostgreSQL: ``COPY … FROM STDIN``, several times faster than INSERTs for this much."""
        fixed = self.fixed
        written = 0
        sql = f"COPY {self.table} ({self.column_list}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row + fixed)
                written += 1
                if written % COPY_PROGRESS == 0:
                    report(COPY_PROGRESS)
        report(written % COPY_PROGRESS)
        return written


def insert_rows(
    model_class: type[models.Model], columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """``rows`` of ``model_class`` written in bulk (see :class:`BulkInsert`); how many."""
    return BulkInsert(model_class, columns).write(rows)


@contextmanager
def foreign_keys_checked_once(model_classes: Iterable[type[models.Model]]) -> Iterator[None]:
    """PostgreSQL: the foreign keys of these tables checked once at the end, set-based.

    PostgreSQL checks a foreign key row by row (a trigger per row and key, deferred to the
    commit by Django's ``DEFERRABLE INITIALLY DEFERRED``): for the history's million and a
    half rows that was a quarter of the build. Inside the demo's transaction the keys are
    dropped, then added back with their own definitions (``pg_get_constraintdef``), which
    checks every row in one join per key and fails the build if one does not hold; the
    tables stay locked until the commit, and an error rolls the drop back with the rest.
    Elsewhere (SQLite, whose checks cost little) nothing changes."""
    if connection.vendor != "postgresql":
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("foreign keys are dropped only inside a transaction")
    tables = [m._meta.db_table for m in model_classes]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])"
            " ORDER BY conrelid, conname",
            [tables],
        )
        keys = cursor.fetchall()
        quote = connection.ops.quote_name
        _alter(cursor, [f"DROP CONSTRAINT {quote(name)}" for _t, name, _d in keys], keys)
    yield
    with connection.cursor() as cursor:
        _alter(cursor, [f"ADD CONSTRAINT {quote(name)} {d}" for _t, name, d in keys], keys)


def _alter(cursor: Any, changes: list[str], keys: list[tuple[str, str, str]]) -> None:
    """``ALTER TABLE`` each key's table. The checks still deferred from earlier rows run
    first (a table with pending trigger events cannot be altered); then every constraint is
    deferred again, Django's state (its only deferrable constraints are its foreign keys,
    ``INITIALLY DEFERRED``)."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for (table, _name, _definition), change in zip(keys, changes, strict=True):
        cursor.execute(f"ALTER TABLE {table} {change}")  # names from the catalogue
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
