"""Segments: the rule language (:mod:`siyu.customers.rules`) compiled to one database query.

``matching_customers(rule)`` answers one ``QuerySet`` of the bound merchant's customers,
a single SQL statement: profile and statistics clauses are conditions on ``Customer``
columns; tags, groups and consent are ``EXISTS`` / ``NOT EXISTS`` on their indexed
tables; order-window clauses are ``id IN (SELECT customer_id … GROUP BY customer_id
HAVING …)`` — or ``NOT IN`` the customers who fail, when a customer with no orders (a
value of 0) passes. No join multiplies customer rows and nothing is filtered in Python.
The window is a range of the paid orders' ``order_paid_window`` index and a category's
lines come from ``order_line_product``, both read without their tables (index-only
scans); docs/segments.md has the plans and figures at Luckin's scale.

``validate_rule(rule)`` raises :class:`RuleError` (HTTP 422) naming the clause at fault
(``fields={"rule": reason, "path": "all[2].any[0].value"}``), including ids of tags,
groups, stores, guides and categories that are not this merchant's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from siyu.catalog.models import MAX_CATEGORY_DEPTH, Category, Product
from siyu.community.models import CommunityGroup, GroupMember
from siyu.core import clock
from siyu.core.models import Membership
from siyu.core.tenancy import current_merchant
from siyu.customers import windows
from siyu.customers.models import Consent, Customer, CustomerTag, OrderWindow, Segment, Tag
from siyu.customers.rules import (
    DAYS_SINCE,
    FIELDS,
    NUMBER,
    WINDOW,
    CustomerFacts,
    OrderFact,
    Reference,
    RuleError,
    check_structure,
    compare,
    evaluate,
    local_month,
    window_start,
)
from siyu.orders.models import Order, OrderLine
from siyu.stores.models import Store

__all__ = [
    "CustomerFacts",
    "RuleError",
    "count_matching",
    "customer_facts",
    "evaluate",
    "matching_customers",
    "segment_customers",
    "validate_rule",
]

EVERYONE: dict[str, Any] = {"all": []}

_DAYS_COLUMN = {
    "days_since_last_order": "last_order_at",
    "first_order_days_ago": "first_order_at",
    "customer_days": "created_at",
}
_NUMERIC_LOOKUP = {"gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}


# --- validation -----------------------------------------------------------------------


def _known_ids(kind: str, ids: set[int]) -> set[int]:
    """Which of ``ids`` are rows of the bound merchant."""
    if kind == "tag":
        qs: Any = Tag.objects.filter(pk__in=ids)
    elif kind == "group":
        qs = CommunityGroup.objects.filter(pk__in=ids)
    elif kind == "store":
        qs = Store.objects.filter(pk__in=ids)
    elif kind == "category":
        qs = Category.objects.filter(pk__in=ids)
    elif kind == "guide":
        qs = Membership.objects.filter(merchant=current_merchant(), pk__in=ids)
    else:  # pragma: no cover - the kinds are rules.REFERENCE_KINDS and "category"
        raise ValueError(kind)
    return set(qs.values_list("pk", flat=True))


def _unknown_message(kind: str, rid: int) -> str:
    if kind == "tag":
        return _("no tag with id %(id)d.") % {"id": rid}
    if kind == "group":
        return _("no community group with id %(id)d.") % {"id": rid}
    if kind == "store":
        return _("no store with id %(id)d.") % {"id": rid}
    if kind == "guide":
        return _("no staff member with id %(id)d.") % {"id": rid}
    return _("no category with id %(id)d.") % {"id": rid}


def validate_rule(rule: Any) -> None:
    """Raise :class:`RuleError` naming the first clause at fault; the merchant must be bound."""
    references = check_structure(rule)
    by_kind: dict[str, list[Reference]] = defaultdict(list)
    for ref in references:
        by_kind[ref.kind].append(ref)
    for kind, refs in by_kind.items():
        known = _known_ids(kind, {r.id for r in refs})
        for ref in refs:
            if ref.id not in known:
                raise RuleError(_unknown_message(kind, ref.id), ref.path)


# --- compiling ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    now: datetime
    this_month: int
    merchant_id: int
    as_of: date | None  # the day the kept order windows describe


def _numeric_q(column: str, op: str, value: Any) -> Q:
    if op == "eq":
        return Q(**{column: value})
    if op == "ne":
        return ~Q(**{column: value})
    if op == "between":
        return Q(**{f"{column}__gte": value[0], f"{column}__lte": value[1]})
    return Q(**{f"{column}__{_NUMERIC_LOOKUP[op]}": value})


def _days_q(column: str, op: str, value: Any, now: datetime) -> Q:
    """Whole days since ``column`` OP value; a missing moment never matches.

    floor((now − t) / 1 day) ≥ n  ⇔  t ≤ now − n days;  ≤ n  ⇔  t > now − (n + 1) days.
    """

    def at_least(n: int) -> Q:
        return Q(**{f"{column}__lte": now - timedelta(days=n)})

    def at_most(n: int) -> Q:
        return Q(**{f"{column}__gt": now - timedelta(days=n + 1)})

    present = Q(**{f"{column}__isnull": False})
    if op == "eq":
        condition = at_least(value) & at_most(value)
    elif op == "ne":
        condition = ~(at_least(value) & at_most(value))
    elif op == "gt":
        condition = at_least(value + 1)
    elif op == "gte":
        condition = at_least(value)
    elif op == "lt":
        condition = at_most(value - 1)
    elif op == "lte":
        condition = at_most(value)
    else:  # between
        condition = at_least(value[0]) & at_most(value[1])
    return present & condition


def _having(op: str, value: Any) -> Q:
    return _numeric_q("amount", op, value)


def _window_q(clause: Mapping[str, Any], ctx: _Context) -> Q:
    """An aggregate over paid orders per customer, compared; no orders counts as 0."""
    name, op, value = clause["field"], clause["op"], clause["value"]
    days = clause.get("days")
    per_customer: Any
    if windows.kept(days, ctx.now, ctx.as_of):
        # the kept windows: one index range of order_window_orders / order_window_spent
        column = "spent" if name == "spent_in_days" else "orders"
        per_customer = OrderWindow.unscoped.filter(
            merchant_id=ctx.merchant_id,
            days=days or windows.ALL_TIME,
            category_id=clause.get("category", 0),
        ).annotate(amount=F(column))
    else:
        per_customer = _grouped_orders(name, clause, ctx.now, days)
    if compare(op, 0, value):  # a customer without orders passes: exclude those who fail
        failing = per_customer.filter(~_having(op, value)).values("customer_id")
        return ~Q(pk__in=failing)
    passing = per_customer.filter(_having(op, value)).values("customer_id")
    return Q(pk__in=passing)


def imported_sales(customer_ids: Iterable[int]) -> list[tuple[int, datetime, int, int]]:
    """(customer, placed at, amount, refunded) of the bound merchant's imported sales of
    ``customer_ids``: orders from the old system, which count in the order windows and the
    rules as paid orders without lines (``siyu import orders``, docs/import.md)."""
    from siyu.analytics.models import Sale, Source

    return list(
        Sale.objects.filter(customer_id__in=list(customer_ids), source=Source.IMPORT).values_list(
            "customer_id", "placed_at", "amount", "refunded"
        )
    )


def _with_imported(name: str, orders: Any, start: datetime | None) -> Any:
    """The window's value per customer from the orders and the imported sales together:
    each customer with both sums as correlated subqueries (only for a merchant that has
    imported sales; the others keep the one ``GROUP BY`` over the orders)."""
    from siyu.analytics.models import Sale, Source

    sales = Sale.objects.filter(customer_id=OuterRef("pk"), source=Source.IMPORT)
    mine = orders.filter(customer_id=OuterRef("pk"))
    if start is not None:
        sales = sales.filter(placed_at__gte=start)
    if name == "spent_in_days":
        from_orders = _per_customer(mine, Sum(F("total") - F("refunded_total")))
        from_sales = _per_customer(sales, Sum(F("amount") - F("refunded")))
    else:
        from_orders = _per_customer(mine.exclude(refund_state=Order.RefundState.FULL), Count("pk"))
        kept = Q(refunded=0) | Q(refunded__lt=F("amount"))
        from_sales = _per_customer(sales.filter(kept), Count("pk"))
    return Customer.objects.annotate(customer_id=F("pk"), amount=from_orders + from_sales).values(
        "customer_id", "amount"
    )


def _per_customer(rows: Any, aggregate: Any) -> Coalesce:
    """``aggregate`` over the outer customer's ``rows``, 0 without any."""
    grouped = rows.order_by().values("customer_id").annotate(v=aggregate).values("v")[:1]
    return Coalesce(
        Subquery(grouped, output_field=BigIntegerField()),
        Value(0, output_field=BigIntegerField()),
        output_field=BigIntegerField(),
    )


def _grouped_orders(name: str, clause: Mapping[str, Any], now: datetime, days: int | None) -> Any:
    """The window's value per customer from the orders themselves (any window, any day),
    with the merchant's imported sales for the money and the count of orders."""
    from siyu.analytics.models import Sale, Source

    orders = Order.objects.filter(paid_at__isnull=False)
    start = None
    if days is not None:
        start = window_start(now, days, current_merchant().time_zone)
        orders = orders.filter(placed_at__gte=start)
    if name != "category_orders" and Sale.objects.filter(source=Source.IMPORT).exists():
        return _with_imported(name, orders, start)
    if name == "spent_in_days":
        return (
            orders.order_by()
            .values("customer_id")
            .annotate(amount=Sum(F("total") - F("refunded_total")))
        )
    if name == "orders_in_days":
        return (
            orders.exclude(refund_state=Order.RefundState.FULL)
            .order_by()
            .values("customer_id")
            .annotate(amount=Count("pk"))
        )
    # category_orders: orders with a line from the category's subtree
    category = clause["category"]
    subtree = Q(category_id=category)
    prefix = "category__parent"
    for _level in range(1, MAX_CATEGORY_DEPTH):
        subtree |= Q(**{f"{prefix}_id": category})
        prefix += "__parent"
    products = Product.objects.filter(subtree).values("pk")
    # Lines through ``order_line_product`` alone (an index-only scan): the orders
    # are the bound merchant's, so the lines' own merchant column adds nothing.
    lines = OrderLine.unscoped.filter(
        product_id_snapshot__in=products, refunded_quantity__lt=F("quantity")
    ).values("order_id")
    return (
        orders.exclude(refund_state=Order.RefundState.FULL)
        .filter(pk__in=lines)
        .order_by()
        .values("customer_id")
        .annotate(amount=Count("pk"))
    )


def _exists(model: Any, **conditions: Any) -> Exists:
    """A correlated ``EXISTS`` on ``model``'s rows of the customer.

    Tags and group members are read through ``unscoped``: the customer is the bound
    merchant's, so their rows' merchant column would only be one more filter, and
    without it ``customer_tag_by_tag`` / ``group_member_active`` answer alone (index-only
    scans). Consents keep it: ``consent_refused`` starts with the merchant.
    """
    manager = model.objects if model is Consent else model.unscoped
    return Exists(manager.filter(customer_id=OuterRef("pk"), **conditions))


def _leaf_q(clause: Mapping[str, Any], ctx: _Context) -> Q:
    name, op = clause["field"], clause["op"]
    value: Any = clause.get("value")
    spec = FIELDS[name]
    if spec.kind == NUMBER:
        return _numeric_q(name, op, value)
    if spec.kind == DAYS_SINCE:
        return _days_q(_DAYS_COLUMN[name], op, value, ctx.now)
    if spec.kind == WINDOW:
        return _window_q(clause, ctx)
    if name == "has_ordered":
        return Q(order_count__gt=0) if value else Q(order_count=0)
    if name == "tag":
        if op == "has_any":
            return Q(_exists(CustomerTag, tag_id__in=value))
        if op == "has_none":
            return ~Q(_exists(CustomerTag, tag_id__in=value))
        q = Q()
        for tag_id in sorted(set(value)):
            q &= Q(_exists(CustomerTag, tag_id=tag_id))
        return q
    if name == "group":
        active = {"left_at__isnull": True}
        if op == "in_any_group":
            q = Q(_exists(GroupMember, **active))
            return q if value else ~q
        if op == "member_of_any":
            return Q(_exists(GroupMember, group_id__in=value, **active))
        if op == "member_of_none":
            return ~Q(_exists(GroupMember, group_id__in=value, **active))
        q = Q()
        for group_id in sorted(set(value)):
            q &= Q(_exists(GroupMember, group_id=group_id, **active))
        return q
    if name in ("home_store", "owner_guide"):
        column = f"{name}_id"
        if op == "is_empty":
            return Q(**{f"{column}__isnull": value})
        inside = Q(**{f"{column}__in": value})
        return inside if op == "in" else ~inside
    if name in ("city", "join_channel"):
        if op == "is_empty":
            return Q(**{name: ""}) if value else ~Q(**{name: ""})
        inside = Q(**{f"{name}__in": value})
        return inside if op == "in" else ~inside
    if name in ("gender", "status", "rfm_cell", "clv_segment"):
        return Q(**{name: value}) if op == "eq" else Q(**{f"{name}__in": value})
    if name == "birthday_month":
        months = [ctx.this_month] if op == "this_month" else value
        return Q(birth_month__in=months)
    if name == "consent":
        refused = Q(_exists(Consent, channel=clause["channel"], status=Consent.Status.REFUSED))
        return refused if value else ~refused
    raise ValueError(name)  # pragma: no cover - validate_rule knows every field


def _compile(rule: Mapping[str, Any], ctx: _Context) -> Q:
    if "all" in rule:
        q = Q(pk__isnull=False)  # everyone; a bare Q() would not negate to "no one"
        for clause in rule["all"]:
            q &= _compile(clause, ctx)
        return q
    if "any" in rule:
        if not rule["any"]:
            return Q(pk__isnull=True)  # no one
        q = _compile(rule["any"][0], ctx)
        for clause in rule["any"][1:]:
            q |= _compile(clause, ctx)
        return q
    if "not" in rule:
        return ~_compile(rule["not"], ctx)
    return _leaf_q(rule, ctx)


def _has_window(rule: Mapping[str, Any]) -> bool:
    if "all" in rule or "any" in rule:
        return any(_has_window(c) for c in rule.get("all", rule.get("any", [])))
    if "not" in rule:
        return _has_window(rule["not"])
    return FIELDS[rule["field"]].kind == WINDOW


def rule_filter(rule: Mapping[str, Any], *, now: datetime | None = None) -> Q:
    """The rule as a ``Q`` on ``Customer`` (valid rules only; the merchant must be bound).

    A rule with an order window first reads which day the kept windows describe (one
    small query), so that its clauses can read them (:mod:`siyu.customers.windows`)."""
    merchant = current_merchant()
    now = now or clock.now()
    as_of = windows.state_day(merchant.pk) if _has_window(rule) else None
    ctx = _Context(now, local_month(now, merchant.time_zone), merchant.pk, as_of)
    return _compile(rule, ctx)


def matching_customers(rule: Mapping[str, Any], *, now: datetime | None = None) -> QuerySet:
    """The bound merchant's customers matching ``rule``: one SQL statement. Validates first."""
    validate_rule(rule)
    return Customer.objects.filter(rule_filter(rule, now=now))


def count_matching(rule: Mapping[str, Any]) -> int:
    return matching_customers(rule).count()


def segment_customers(segment: Segment) -> QuerySet:
    return matching_customers(segment.rule)


# --- facts (the tests' oracle input, and the console's "why does this customer match") --


def customer_facts(
    customer_ids: Iterable[int], *, now: datetime | None = None
) -> dict[int, CustomerFacts]:
    """:class:`CustomerFacts` of the bound merchant's customers, a few queries in all."""
    now = now or clock.now()
    tz = current_merchant().time_zone
    ids = list(customer_ids)
    tags: dict[int, set[int]] = defaultdict(set)
    for cid, tid in CustomerTag.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "tag_id"
    ):
        tags[cid].add(tid)
    groups: dict[int, set[int]] = defaultdict(set)
    for cid, gid in GroupMember.objects.filter(
        customer_id__in=ids, left_at__isnull=True
    ).values_list("customer_id", "group_id"):
        groups[cid].add(gid)
    refused: dict[int, set[str]] = defaultdict(set)
    for cid, channel in Consent.objects.filter(
        customer_id__in=ids, status=Consent.Status.REFUSED
    ).values_list("customer_id", "channel"):
        refused[cid].add(channel)
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    product_category = dict(
        Product.objects.filter(category__isnull=False).values_list("pk", "category_id")
    )

    def with_ancestors(category_id: int | None) -> set[int]:
        found: set[int] = set()
        while category_id is not None and category_id not in found:
            found.add(category_id)
            category_id = parents.get(category_id)
        return found

    line_categories: dict[int, set[int]] = defaultdict(set)
    for order_id, product_id in OrderLine.objects.filter(
        order__customer_id__in=ids,
        order__paid_at__isnull=False,
        refunded_quantity__lt=F("quantity"),
    ).values_list("order_id", "product_id_snapshot"):
        line_categories[order_id] |= with_ancestors(product_category.get(product_id))
    orders: dict[int, list[OrderFact]] = defaultdict(list)
    for oid, cid, placed_at, total, refunded, state in Order.objects.filter(
        customer_id__in=ids, paid_at__isnull=False
    ).values_list("pk", "customer_id", "placed_at", "total", "refunded_total", "refund_state"):
        orders[cid].append(
            OrderFact(
                placed_at=placed_at,
                net_total=total - refunded,
                fully_refunded=state == Order.RefundState.FULL,
                category_ids=frozenset(line_categories.get(oid, ())),
            )
        )
    for cid, placed_at, amount, refunded in imported_sales(ids):
        orders[cid].append(
            OrderFact(
                placed_at=placed_at,
                net_total=amount - refunded,
                fully_refunded=not (refunded == 0 or refunded < amount),
                category_ids=frozenset(),  # an imported order has no lines
            )
        )
    facts: dict[int, CustomerFacts] = {}
    for c in Customer.objects.filter(pk__in=ids):
        facts[c.pk] = CustomerFacts(
            id=c.pk,
            now=now,
            time_zone=tz,
            status=c.status,
            created_at=c.created_at,
            order_count=c.order_count,
            total_spent=c.total_spent,
            average_order_value=c.average_order_value,
            first_order_at=c.first_order_at,
            last_order_at=c.last_order_at,
            rfm_recency=c.rfm_recency,
            rfm_frequency=c.rfm_frequency,
            rfm_monetary=c.rfm_monetary,
            rfm_cell=c.rfm_cell,
            clv_alive=c.clv_alive,
            clv_value=c.clv_value,
            clv_segment=c.clv_segment,
            birth_month=c.birth_month,
            city=c.city,
            gender=c.gender,
            join_channel=c.join_channel,
            home_store_id=c.home_store_id,
            owner_guide_id=c.owner_guide_id,
            tag_ids=frozenset(tags.get(c.pk, ())),
            group_ids=frozenset(groups.get(c.pk, ())),
            refused_channels=frozenset(refused.get(c.pk, ())),
            orders=tuple(orders.get(c.pk, ())),
        )
    return facts
