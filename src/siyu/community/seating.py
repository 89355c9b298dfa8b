"""A join-code scan's common case on PostgreSQL, in one statement (``community.services_codes``
calls it; everything it cannot settle takes the ORM path there).

See :func:`seat_statement` for what the statement does, and docs/benchmarks.md for why: a scan
went from 13 statements to 5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import F

from siyu.community.models import (
    CommunityGroup,
    Conversation,
    GroupMember,
    JoinCode,
    JoinCodeGroup,
    JoinCodeScan,
)
from siyu.customers.models import Customer

# The rows the statement reads and writes, as the ORM loads them (JSON is decoded by the
# field: Django's psycopg connection hands jsonb over as text).
_LOADED = (GroupMember, CommunityGroup, Conversation)
_SEAT_SQL: dict[str, str] = {}


def _columns(model: type[Any], alias: str, prefix: str = "") -> str:
    qn = connection.ops.quote_name
    return ", ".join(
        f"{alias}.{qn(f.column)}" + (f" AS {prefix}{f.column}" if prefix else "")
        for f in model._meta.concrete_fields
    )


def seat_statement() -> str:
    """One statement: the customer's membership through the code's routes if there is one
    (a re-scan); otherwise a seat in the first route with room (the conditional UPDATE:
    ``member_count < capacity``, re-checked on the locked row) and the membership
    (``ON CONFLICT DO NOTHING``: the active-membership constraint decides a concurrent
    join); then the scan row and the customer's join channel when the code brought them.
    One row comes back: the seat's group id (even if the membership was not written), the
    scan's id, the membership (``m_*``, ``joined``), its group (``g_*``) and the group's
    chat. The code's counters are moved at the end of the scan, so its row is locked last."""
    sql = _SEAT_SQL.get(connection.vendor)
    if sql is not None:
        return sql
    member_table = GroupMember._meta.db_table
    group_table = CommunityGroup._meta.db_table
    sql = f"""
WITH existing AS (
    SELECT {_columns(GroupMember, "m", "m_")}, false AS joined,
           {_columns(CommunityGroup, "g", "g_")}
    FROM {member_table} m JOIN {group_table} g ON g.id = m.group_id
    WHERE m.customer_id = %(customer)s AND m.left_at IS NULL AND m.group_id IN (
        SELECT r.group_id FROM {JoinCodeGroup._meta.db_table} r WHERE r.code_id = %(code)s)
    ORDER BY m.joined_at DESC, m.id DESC
    LIMIT 1
), seat AS (
    UPDATE {group_table} g SET member_count = g.member_count + 1
    WHERE g.id = (
        SELECT r.group_id
        FROM {JoinCodeGroup._meta.db_table} r JOIN {group_table} o ON o.id = r.group_id
        WHERE r.code_id = %(code)s AND o.status = 'active' AND o.member_count < o.capacity
        ORDER BY r.position, r.id
        LIMIT 1
    ) AND g.status = 'active' AND g.member_count < g.capacity
      AND NOT EXISTS (SELECT 1 FROM existing)
    RETURNING {_columns(CommunityGroup, "g", "g_")}
), joined AS (
    INSERT INTO {member_table} (merchant_id, group_id, customer_id, source_code_id, state,
                                joined_at, left_at, leave_reason, muted_until, welcomed_at)
    SELECT s.g_merchant_id, s.g_id, %(customer)s, %(code)s, %(state)s, %(now)s, NULL, '', NULL,
           CASE WHEN %(welcome)s OR s.g_welcome <> '{{}}'::jsonb THEN %(now)s END
    FROM seat s
    ON CONFLICT DO NOTHING
    RETURNING {_columns(GroupMember, member_table, "m_")}
), found AS (
    SELECT j.*, true AS joined, s.* FROM joined j CROSS JOIN seat s
    UNION ALL
    SELECT * FROM existing
), scan AS (
    INSERT INTO {JoinCodeScan._meta.db_table}
        (merchant_id, code_id, customer_id, group_id, outcome, scanned_at)
    SELECT %(merchant)s, %(code)s, %(customer)s, f.m_group_id,
           CASE WHEN f.joined THEN %(outcome_joined)s ELSE %(outcome_member)s END, %(now)s
    FROM found f
    RETURNING id
), channel AS (
    UPDATE {Customer._meta.db_table} SET join_channel = %(state)s
    WHERE id = %(customer)s AND join_channel = %(channel)s AND %(acquire)s
      AND EXISTS (SELECT 1 FROM found)
)
SELECT (SELECT g_id FROM seat), (SELECT id FROM scan), f.*, {_columns(Conversation, "c")}
FROM (SELECT 1) AS one
LEFT JOIN found f ON true
LEFT JOIN {Conversation._meta.db_table} c ON c.group_id = f.g_id
"""  # noqa: S608 (table and column names come from the models; values are parameters)
    _SEAT_SQL[connection.vendor] = sql
    return sql


def _load(model: type[Any], values: Sequence[Any]) -> Any:
    fields = model._meta.concrete_fields
    converted = [
        f.from_db_value(v, None, connection) if v is not None and hasattr(f, "from_db_value") else v
        for f, v in zip(fields, values, strict=True)
    ]
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


@dataclass
class Seated:
    member: GroupMember
    joined: bool
    scan: JoinCodeScan
    conversation: Conversation | None


def seat_in_one_statement(
    code: JoinCode, customer: Customer, now: datetime, acquire: bool
) -> Seated | None:
    """The common case of a groups code on PostgreSQL (see :func:`seat_statement`).

    None when it did not settle the scan — every route full, the first one filled up
    under us, or the customer joined it concurrently (the seat is given back): the caller
    takes the general path, which writes the scan row itself."""
    with connection.cursor() as cursor:
        cursor.execute(
            seat_statement(),
            {
                "customer": customer.pk,
                "code": code.pk,
                "merchant": code.merchant_id,
                "state": code.state,
                "now": now,
                "welcome": bool(code.welcome),
                "outcome_joined": JoinCodeScan.Outcome.JOINED.value,
                "outcome_member": JoinCodeScan.Outcome.ALREADY_MEMBER.value,
                "channel": customer.join_channel,
                "acquire": acquire,
            },
        )
        row = cursor.fetchone()
    seat_group_id, scan_id = row[0], row[1]
    member_size = len(GroupMember._meta.concrete_fields)
    group_size = len(CommunityGroup._meta.concrete_fields)
    member_values = row[2 : 2 + member_size]
    if member_values[0] is None:
        if seat_group_id is not None:  # a concurrent scan of this customer won: give it back
            CommunityGroup.unscoped.filter(pk=seat_group_id).update(
                member_count=F("member_count") - 1
            )
        return None
    joined = bool(row[2 + member_size])
    rest = row[3 + member_size :]
    member = _load(GroupMember, member_values)
    member.group = _load(CommunityGroup, rest[:group_size])
    conversation = _load(Conversation, rest[group_size:]) if rest[group_size] else None
    outcome = JoinCodeScan.Outcome.JOINED if joined else JoinCodeScan.Outcome.ALREADY_MEMBER
    scan_row = JoinCodeScan(
        pk=scan_id,
        merchant_id=code.merchant_id,
        code=code,
        customer=customer,
        group=member.group,
        outcome=outcome,
        scanned_at=now,
    )
    scan_row._state.adding, scan_row._state.db = False, connection.alias
    if acquire:
        customer.join_channel = code.state
    return Seated(member, joined, scan_row, conversation)
