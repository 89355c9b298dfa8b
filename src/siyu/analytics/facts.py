"""The writers of Siyu's facts: set-based upserts from the operational tables (ADR 0007).

Every writer here is one ``INSERT … SELECT … ON CONFLICT DO UPDATE`` statement whose
``SELECT`` reads the operational rows a filter names. The outbox consumers call them for one
order, one membership, one invitee; ``siyu analytics rebuild`` calls them for a whole
merchant. Both paths therefore write the same rows, and because the values always come from
the operational row as it is now (never from an event's payload, never added to what is
there), a replayed or late event changes nothing: the writers are idempotent and
insensitive to the order in which events arrive. ``ON CONFLICT`` makes them safe when two
workers deliver events of the same order at the same moment on PostgreSQL.

Rows an import wrote (``source = "import"``) are never touched: imported sales and spans
carry keys Siyu's rows never have (``external_id``, no ``order_id``), and an imported
referral link keeps its invitee.

* :func:`write_sales` — one :class:`~siyu.analytics.models.Sale` per paid order (``paid_at``
  set, also when it was later refunded and cancelled; a cancelled-unpaid order never is),
  ``day`` the day it was placed in the merchant's time zone, ``refunded`` the order's
  ``refunded_total`` (set, not added).
* :func:`write_active_days` — :class:`~siyu.analytics.models.ActiveDay` flags OR-ed into the
  day's row: ordered (paid orders, on the day placed), joined (group memberships), messaged
  (a customer's message in a group chat). :func:`record_visit` sets the visited flag.
* :func:`write_group_spans` — a :class:`~siyu.analytics.models.GroupSpan` per membership row,
  open until the member leaves.
* :func:`write_referral_links` — a :class:`~siyu.analytics.models.ReferralLink` per invitee:
  the earliest of their registered (not blocked) referral and their first distributor binding.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import TruncDate

from siyu.analytics import rollups
from siyu.analytics.models import ActiveDay, GroupSpan, ReferralLink, Sale, Source
from siyu.core import clock
from siyu.core.models import Merchant

__all__ = [
    "SALE_ATTRIBUTION",
    "record_visit",
    "write_active_days",
    "write_group_spans",
    "write_referral_links",
    "write_sales",
]

# Sale columns copied from the order's column of the same name.
SALE_ATTRIBUTION = (
    "store_id",
    "channel",
    "group_id",
    "guide_id",
    "distributor_id",
    "campaign_id",
    "live_room_id",
)


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _compiled(qs: QuerySet[Any, Any]) -> tuple[str, tuple[Any, ...]]:
    sql, params = qs.query.get_compiler(connection=connection).as_sql()
    return sql, tuple(params)


def _upsert(
    table: str,
    columns: Sequence[str],
    select: str,
    params: Sequence[Any],
    *,
    conflict: str,
    update: str,
) -> int:
    """``INSERT INTO table (columns) SELECT … ON CONFLICT conflict DO UPDATE SET update``;
    the rows written (inserted or updated). The ``SELECT`` must carry a ``WHERE`` (SQLite
    parses ``ON CONFLICT`` after a bare ``FROM`` as a join constraint)."""
    sql = (
        f"INSERT INTO {_qn(table)} ({', '.join(_qn(c) for c in columns)}) "
        f"{select} ON CONFLICT {conflict} DO UPDATE SET {update}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return max(cursor.rowcount, 0)


def _set_excluded(table: str, columns: Sequence[str], *, where: str = "") -> str:
    """``SET`` each column to the new row's value, only where one differs: a rebuild over
    current facts then rewrites no row (no dead tuples, no index churn on PostgreSQL), and
    the count of rows written is the count of rows changed."""
    old = ", ".join(f"{_qn(table)}.{_qn(c)}" for c in columns)
    new = ", ".join(f"excluded.{_qn(c)}" for c in columns)
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    assignments = ", ".join(f"{_qn(c)} = excluded.{_qn(c)}" for c in columns)
    condition = f"({old}) {distinct} ({new})" if len(columns) > 1 else f"{old} {distinct} {new}"
    return f"{assignments} WHERE {where + ' AND ' if where else ''}{condition}"


# --- sales ---------------------------------------------------------------------------------------


def write_sales(merchant: Merchant, *, maintain: bool = True, **order_filter: Any) -> int:
    """Upsert the sales of ``merchant``'s paid orders matching ``order_filter`` (all of them
    when empty; ``pk=…`` for one order); the rows written. The rollups of the customers
    concerned (the orders' and, should an order have changed hands, the sale's before) are
    kept current unless ``maintain`` is off (a whole-merchant rebuild rebuilds them after)."""
    from siyu.orders.models import Order

    if not maintain:
        return _write_sales(merchant, order_filter)
    paid = Order.unscoped.filter(merchant_id=merchant.pk, paid_at__isnull=False, **order_filter)
    customers = set(paid.values_list("customer_id", flat=True))
    customers |= set(
        Sale.unscoped.filter(merchant_id=merchant.pk, order_id__in=paid.values("pk")).values_list(
            "customer_id", flat=True
        )
    )
    with rollups.maintained(merchant, customers):
        return _write_sales(merchant, order_filter)


def _write_sales(merchant: Merchant, order_filter: dict[str, Any]) -> int:
    from siyu.orders.models import Order

    orders = (
        Order.unscoped.filter(merchant_id=merchant.pk, paid_at__isnull=False, **order_filter)
        .order_by()
        .annotate(
            s_merchant=F("merchant_id"),
            s_source=Value(Source.SIYU.value),
            s_order=F("id"),
            s_external=Value(""),
            s_customer=F("customer_id"),
            s_placed=F("placed_at"),
            s_day=TruncDate("placed_at", tzinfo=clock.zone(merchant.time_zone)),
            s_amount=F("total"),
            s_refunded=F("refunded_total"),
            **{f"s_{name}": F(name) for name in SALE_ATTRIBUTION},
        )
    )
    names = [
        "s_merchant",
        "s_source",
        "s_order",
        "s_external",
        "s_customer",
        "s_placed",
        "s_day",
        "s_amount",
        "s_refunded",
        *(f"s_{name}" for name in SALE_ATTRIBUTION),
    ]
    columns = [
        "merchant_id",
        "source",
        "order_id",
        "external_id",
        "customer_id",
        "placed_at",
        "day",
        "amount",
        "refunded",
        *SALE_ATTRIBUTION,
    ]
    select, params = _compiled(orders.values_list(*names))
    return _upsert(
        Sale._meta.db_table,
        columns,
        select,
        params,
        conflict=f"({_qn('merchant_id')}, {_qn('order_id')}) WHERE {_qn('order_id')} IS NOT NULL",
        update=_set_excluded(Sale._meta.db_table, columns[4:]),
    )


# --- active days ---------------------------------------------------------------------------------


def _day_select(
    qs: QuerySet[Any, Any], customer: str, moment: str, flag: int, merchant: Merchant
) -> tuple[str, tuple[Any, ...]]:
    rows = (
        qs.order_by()
        .annotate(
            a_customer=F(customer),
            a_day=TruncDate(moment, tzinfo=clock.zone(merchant.time_zone)),
            a_kind=Value(flag),
        )
        .values_list("a_customer", "a_day", "a_kind")
        .distinct()
    )
    return _compiled(rows)


def write_active_days(
    merchant: Merchant,
    *,
    orders: Q | None = None,
    memberships: Q | None = None,
    messages: Q | None = None,
    maintain: bool = True,
) -> int:
    """OR the ordered, joined and messaged flags into ``merchant``'s active days, from the
    paid orders, group memberships and customers' group-chat messages each filter selects
    (a source whose filter is None is not read; ``Q()`` reads all of it); the rows written.

    One statement: the sources' ``(customer, day, flag)`` rows are combined per customer and
    day (``SUM(DISTINCT flag)`` is their OR, the flags being distinct bits) and OR-ed into the
    stored flags, so a flag once set stays set (a visit, recorded by :func:`record_visit` only,
    survives a rebuild)."""
    from siyu.community.models import Conversation, GroupMember, Message
    from siyu.orders.models import Order

    parts: list[tuple[str, tuple[Any, ...]]] = []
    sources: list[tuple[QuerySet[Any, Any], str]] = []
    if orders is not None:
        paid = Order.unscoped.filter(orders, merchant_id=merchant.pk, paid_at__isnull=False)
        sources.append((paid, "customer_id"))
        parts.append(_day_select(paid, "customer_id", "placed_at", ActiveDay.ORDERED, merchant))
    if memberships is not None:
        joins = GroupMember.unscoped.filter(memberships, merchant_id=merchant.pk)
        sources.append((joins, "customer_id"))
        parts.append(_day_select(joins, "customer_id", "joined_at", ActiveDay.JOINED, merchant))
    if messages is not None:
        said = Message.unscoped.filter(
            messages,
            merchant_id=merchant.pk,
            sender_customer__isnull=False,
            conversation__kind=Conversation.Kind.GROUP,
        )
        sources.append((said, "sender_customer_id"))
        parts.append(
            _day_select(said, "sender_customer_id", "created_at", ActiveDay.MESSAGED, merchant)
        )
    if not parts:
        return 0
    if not maintain:
        return _write_active_days(merchant, parts)
    customers: set[int] = set()
    for qs, column in sources:
        customers.update(i for i in qs.values_list(column, flat=True) if i is not None)
    with rollups.maintained(merchant, customers, sales=False, activity=True):
        return _write_active_days(merchant, parts)


def _write_active_days(merchant: Merchant, parts: list[tuple[str, tuple[Any, ...]]]) -> int:
    union = " UNION ALL ".join(sql for sql, _ in parts)
    params: list[Any] = [merchant.pk]
    for _, part_params in parts:
        params.extend(part_params)
    # Every part names its columns a_customer, a_day, a_kind; a union takes the first's.
    select = (
        "SELECT %s, u.a_customer, u.a_day, SUM(DISTINCT u.a_kind) "  # noqa: S608
        f"FROM ({union}) u WHERE u.a_customer IS NOT NULL GROUP BY u.a_customer, u.a_day"
    )
    table = ActiveDay._meta.db_table
    return _upsert(
        table,
        ["merchant_id", "customer_id", "day", "kinds"],
        select,
        params,
        conflict=f"({_qn('merchant_id')}, {_qn('day')}, {_qn('customer_id')})",
        update=_or_kinds(table),
    )


def _or_kinds(table: str) -> str:
    """OR the new flags into the stored ones, writing only when a flag is new."""
    kinds = f"{_qn(table)}.{_qn('kinds')}"
    return (
        f"{_qn('kinds')} = {kinds} | excluded.{_qn('kinds')} "
        f"WHERE ({kinds} | excluded.{_qn('kinds')}) <> {kinds}"
    )


def record_visit(merchant: Merchant, customer_id: int, day: date) -> None:
    """Set the visited flag of ``customer_id`` on ``day`` (one upsert; the activity rollup
    is kept current when the day is a new one for the customer)."""
    table = ActiveDay._meta.db_table
    seen = ActiveDay.unscoped.filter(merchant_id=merchant.pk, customer_id=customer_id, day=day)
    with rollups.maintained(
        merchant, [] if seen.exists() else [customer_id], sales=False, activity=True
    ):
        _upsert(
            table,
            ["merchant_id", "customer_id", "day", "kinds"],
            "SELECT %s, %s, %s, %s WHERE 1 = 1",
            [merchant.pk, customer_id, day, ActiveDay.VISITED],
            conflict=f"({_qn('merchant_id')}, {_qn('day')}, {_qn('customer_id')})",
            update=_or_kinds(table),
        )


# --- group spans ---------------------------------------------------------------------------------


def write_group_spans(merchant: Merchant, **member_filter: Any) -> int:
    """Upsert a span for each of ``merchant``'s group memberships matching ``member_filter``
    (joined to left, with the join channel); the rows written."""
    from siyu.community.models import GroupMember

    members = (
        GroupMember.unscoped.filter(merchant_id=merchant.pk, **member_filter)
        .order_by()
        .annotate(
            g_merchant=F("merchant_id"),
            g_source=Value(Source.SIYU.value),
            g_customer=F("customer_id"),
            g_group=F("group_id"),
            g_key=Value(""),
            g_joined=F("joined_at"),
            g_left=F("left_at"),
            g_channel=F("state"),
        )
        .values_list(
            "g_merchant",
            "g_source",
            "g_customer",
            "g_group",
            "g_key",
            "g_joined",
            "g_left",
            "g_channel",
        )
    )
    select, params = _compiled(members)
    columns = [
        "merchant_id",
        "source",
        "customer_id",
        "group_id",
        "group_key",
        "joined_at",
        "left_at",
        "channel",
    ]
    return _upsert(
        GroupSpan._meta.db_table,
        columns,
        select,
        params,
        conflict="("
        + ", ".join(_qn(c) for c in ("merchant_id", "customer_id", "group_id", "group_key"))
        + f", {_qn('joined_at')})",
        update=_set_excluded(GroupSpan._meta.db_table, ["left_at", "channel"]),
    )


# --- referral links ------------------------------------------------------------------------------

REFERRAL = "referral"
DISTRIBUTOR = "distributor"


def write_referral_links(merchant: Merchant, invitee_ids: Sequence[int] | None = None) -> int:
    """Upsert the referral link of each invitee (those of ``invitee_ids``, or every one): the
    earliest of their registered referral (``kind = "referral"``; blocked ones are not links)
    and their first distributor binding (``"distributor"``, the inviter being the
    distributor's customer). An imported link of the same invitee is left as it is."""
    from siyu.distribution.models import BindingChange
    from siyu.referrals.models import Referral

    referrals = Referral.unscoped.filter(merchant_id=merchant.pk).exclude(
        status=Referral.Status.BLOCKED
    )
    bindings = BindingChange.unscoped.filter(merchant_id=merchant.pk)
    if invitee_ids is not None:
        referrals = referrals.filter(invitee_id__in=list(invitee_ids))
        bindings = bindings.filter(customer_id__in=list(invitee_ids))
    referral_rows = (
        referrals.order_by()
        .annotate(
            r_inviter=F("inviter_id"),
            r_invitee=F("invitee_id"),
            r_at=F("created_at"),
            r_kind=Value(REFERRAL),
        )
        .values_list("r_inviter", "r_invitee", "r_at", "r_kind")
    )
    binding_rows = (
        bindings.order_by()
        .annotate(
            r_inviter=F("to_distributor__customer_id"),
            r_invitee=F("customer_id"),
            r_at=F("at"),
            r_kind=Value(DISTRIBUTOR),
        )
        .values_list("r_inviter", "r_invitee", "r_at", "r_kind")
    )
    first_sql, first_params = _compiled(referral_rows)
    second_sql, second_params = _compiled(binding_rows)
    select = (
        "SELECT %s, %s, w.r_inviter, w.r_invitee, w.r_at, w.r_kind, NULL FROM ("  # noqa: S608
        "SELECT u.r_inviter, u.r_invitee, u.r_at, u.r_kind, ROW_NUMBER() OVER "
        "(PARTITION BY u.r_invitee ORDER BY u.r_at, u.r_kind) AS r_rank "
        f"FROM ({first_sql} UNION ALL {second_sql}) u "
        "WHERE u.r_inviter <> u.r_invitee) w WHERE w.r_rank = 1"
    )
    table = ReferralLink._meta.db_table
    return _upsert(
        table,
        ["merchant_id", "source", "inviter_id", "invitee_id", "invited_at", "kind", "activity_id"],
        select,
        [merchant.pk, Source.SIYU.value, *first_params, *second_params],
        conflict=f"({_qn('merchant_id')}, {_qn('invitee_id')})",
        # an imported link of the invitee stays (Source values are constants, not input)
        update=_set_excluded(
            table,
            ["inviter_id", "invited_at", "kind", "activity_id"],
            where=f"{_qn(table)}.{_qn('source')} = '{Source.SIYU.value}'",
        ),
    )
