"""Lean INSERTs for hot paths: rows of one model in one statement, its SQL built once.

``Model.objects.create`` and ``bulk_create`` compile their INSERT on every call (about
0.4 ms of CPU for one small row on the development machine, more than PostgreSQL's
round trip). :func:`insert` builds the statement once per model, database and number of
rows, converts each value with its field (``pre_save``: ``auto_now_add``;
``get_db_prep_save``: JSON, dates) and sets the new primary keys on the instances.

It keeps ``MerchantOwned.save``'s rule (a row of another merchant than the bound one is
refused; an unset merchant takes the bound one) but sends no ``pre_save``/``post_save``
signals, so it is meant for append-only rows nothing listens to: outbox events, timeline
entries, scans.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, router, transaction
from django.db.models import NOT_PROVIDED, Field, Model

from siyu.core import tenancy

_STATEMENTS: dict[tuple[str, type[Model], int], str] = {}
# The model's columns but its primary key; None when one has a database default.
_FIELDS: dict[type[Model], list[Field[Any, Any]] | None] = {}


def _fields(model: type[Model]) -> list[Field[Any, Any]] | None:
    try:
        return _FIELDS[model]
    except KeyError:
        pk = model._meta.pk
        fields: list[Field[Any, Any]] | None = [
            f for f in model._meta.concrete_fields if f is not pk
        ]
        if any(f.db_default is not NOT_PROVIDED for f in fields or []):
            fields = None  # the ORM's own INSERT knows database defaults
        _FIELDS[model] = fields
        return fields


def _statement(
    alias: str, model: type[Model], fields: list[Field[Any, Any]], rows: int, skip: bool
) -> str:
    key = (alias, model, -rows if skip else rows)
    sql = _STATEMENTS.get(key)
    if sql is None:
        qn = connections[alias].ops.quote_name
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        pk = model._meta.pk
        assert pk is not None
        sql = (
            f"INSERT INTO {qn(model._meta.db_table)} "  # noqa: S608 (names from the model)
            f"({', '.join(qn(_column(f)) for f in fields)}) "
            f"VALUES {', '.join([row] * rows)} "
            f"{'ON CONFLICT DO NOTHING ' if skip else ''}RETURNING {qn(_column(pk))}"
        )
        _STATEMENTS[key] = sql
    return sql


def _column(field: Field[Any, Any]) -> str:
    assert field.column is not None
    return field.column


def _check_merchant(obj: Model) -> None:
    bound = tenancy.bound_merchant()
    if bound is None:
        return
    merchant_id = getattr(obj, "merchant_id", None)
    if merchant_id is None:
        obj.merchant = bound  # type: ignore[attr-defined]
    elif merchant_id != bound.pk:
        raise tenancy.CrossMerchantWrite(
            f"{type(obj).__name__} of merchant {merchant_id} saved while merchant "
            f"{bound.pk} is bound"
        )


def insert(objs: Sequence[Model], *, skip_conflict: bool = False) -> bool:
    """INSERT ``objs`` (new rows of one model, primary key unset) in one statement.

    ``skip_conflict``: one row, written unless it breaks a unique constraint
    (``ON CONFLICT DO NOTHING``: no error, no savepoint needed); whether it was written."""
    if not objs:
        return True
    if skip_conflict and len(objs) != 1:
        raise ValueError("skip_conflict inserts one row")
    model = type(objs[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    fields = _fields(model)
    if fields is None or not connection.features.can_return_rows_from_bulk_insert:
        model._default_manager.bulk_create(objs, ignore_conflicts=skip_conflict)  # pragma: no cover
        return objs[0].pk is not None  # pragma: no cover - not on our databases
    merchant_owned = isinstance(objs[0], tenancy.MerchantOwned)
    params: list[Any] = []
    for obj in objs:
        if merchant_owned:
            _check_merchant(obj)
        params += [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    sql = _statement(alias, model, fields, len(objs), skip_conflict)
    with transaction.mark_for_rollback_on_error(alias), connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = cursor.fetchall()
    if not ids and skip_conflict:
        return False
    for obj, (pk,) in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = alias
    return True
