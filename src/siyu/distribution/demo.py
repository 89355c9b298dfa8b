"""Demo data of distribution: settings and rules, about thirty distributors (some waiting for
approval, one rejected, one suspended), their bound customers, the past year's orders of those
customers attributed to them as checkout would have, the commission ledger of those orders, the
withdrawals in every state, and shopping guides' commission.

The ledger is what the real code would have written, computed by the same pure calculator
(:mod:`siyu.distribution.commission`) with the merchant's rules, replaying each order's history:
``pending`` when it was paid, a ``reversed`` entry per applied refund (keyed by the refund's
reference, as the consumer keys it), ``settled`` once the order completed more than the
settlement delay ago (refunds after that are ``from_settled``). Guides earn under their own rules
from the day those rules were set (:data:`GUIDE_RULES_DAYS` ago; a rule never reaches back).
Everything is written in bulk (:class:`siyu.core.demo.BulkInsert`).

The demo's first named customer (the storefront login the command prints) is an approved
distributor with customers, settled money and withdrawals: ``/s/<slug>/distributor/``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction

from siyu.catalog.models import Category, Product
from siyu.core import clock
from siyu.core.demo import BulkInsert, DemoContext, Login
from siyu.core.tenancy import merchant_context
from siyu.customers import phones
from siyu.customers.models import Customer
from siyu.distribution import commission, guide_commission, guide_selectors, selectors, services
from siyu.distribution.models import (
    Binding,
    BindingChange,
    CommissionEntry,
    Distributor,
    GuideCommissionEntry,
    Withdrawal,
)
from siyu.orders.models import Order, OrderLine, OrderRefund

STEPS = 8
DISTRIBUTORS = 30
APPLIED = 3  # waiting for approval
REJECTED = 1
SUSPENDED = 1
BOUND_MIN, BOUND_MAX = 15, 70  # customers per approved distributor
GUIDE_RULES_DAYS = 90
SETTLE_LAG = timedelta(minutes=30)  # the hourly job runs some time after the delay passed
ALPHABET = services.SHARE_CODE_ALPHABET


# --- the ledger, replayed ---------------------------------------------------------------------


@dataclass(frozen=True)
class PaidOrder:
    pk: int
    earner: int  # distributor id or guide membership id
    status: str
    paid_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True)
class LineRow:
    pk: int
    order_id: int
    product_id: int
    quantity: int
    paid: int


@dataclass(frozen=True)
class AppliedRefund:
    order_id: int
    reference: str
    lines: list[tuple[int, int]]  # (order line, amount)
    at: datetime


def replay(
    order: PaidOrder,
    lines: Sequence[LineRow],
    refunds: Sequence[AppliedRefund],
    rules: commission.RuleSet,
    paths: dict[int, tuple[int, ...]],
    settle_after: timedelta,
    now: datetime,
) -> list[tuple[int, str, int, bool, commission.Basis | None, str | None, datetime]]:
    """The entries the consumer and the settle job would have written for ``order``:
    ``(line, kind, amount, from_settled, basis of pending, key, created at)``."""
    bases = commission.bases(
        [
            commission.Line(x.pk, x.product_id, x.quantity, x.paid, paths.get(x.product_id, ()))
            for x in lines
        ],
        rules,
    )
    if not bases:
        return []
    settle_at = None
    if (
        order.status == Order.Status.COMPLETED
        and order.completed_at is not None
        and order.completed_at + settle_after <= now
    ):
        settle_at = min(order.completed_at + settle_after + SETTLE_LAG, now)
    out: list[tuple[int, str, int, bool, commission.Basis | None, str | None, datetime]] = []
    accrued: dict[int, int] = {}
    refunded: dict[int, int] = defaultdict(int)
    for basis in bases:
        amount = commission.commission(basis, 0)
        accrued[basis.line_id] = amount
        out.append((basis.line_id, "pending", amount, False, basis, "paid", order.paid_at))
    settled = False
    for refund in sorted(refunds, key=lambda r: r.at):
        if settle_at is not None and not settled and refund.at > settle_at:
            out += _settled(accrued, settle_at)
            settled = True
        for line_id, amount in refund.lines:
            refunded[line_id] += amount
        for basis in bases:
            delta = commission.adjustment(basis, refunded[basis.line_id], accrued[basis.line_id])
            if delta < 0:
                accrued[basis.line_id] += delta
                key = f"refund:{refund.reference}"[:100]
                out.append((basis.line_id, "reversed", delta, settled, None, key, refund.at))
    if settle_at is not None and not settled:
        out += _settled(accrued, settle_at)
    return out


def _settled(
    accrued: dict[int, int], at: datetime
) -> list[tuple[int, str, int, bool, commission.Basis | None, str | None, datetime]]:
    return [
        (line_id, "settled", amount, False, None, None, at) for line_id, amount in accrued.items()
    ]


def _history(
    orders: list[PaidOrder],
) -> tuple[dict[int, list[LineRow]], dict[int, list[AppliedRefund]], dict[int, tuple[int, ...]]]:
    ids = [o.pk for o in orders]
    lines: dict[int, list[LineRow]] = defaultdict(list)
    refunds: dict[int, list[AppliedRefund]] = defaultdict(list)
    products: set[int] = set()
    for chunk in _chunks(ids, 5000):
        for row in OrderLine.objects.filter(order_id__in=chunk).values_list(
            "pk", "order_id", "product_id_snapshot", "quantity", "line_total"
        ):
            lines[row[1]].append(LineRow(*row))
            products.add(row[2])
        for order_id, reference, parts, at in OrderRefund.objects.filter(
            order_id__in=chunk
        ).values_list("order_id", "reference", "lines", "created_at"):
            parts = json.loads(parts) if isinstance(parts, str) else parts
            refunds[order_id].append(
                AppliedRefund(order_id, reference, [(p[0], p[2]) for p in parts or []], at)
            )
    return lines, refunds, selectors.category_paths(products)


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write_ledger(
    ctx: DemoContext,
    model: type[CommissionEntry] | type[GuideCommissionEntry],
    earner_column: str,
    orders: list[PaidOrder],
    rules: commission.RuleSet,
    settle_after: timedelta,
    now: datetime,
) -> dict[int, tuple[int, int]]:
    """Write the replayed entries of ``orders``; answers each earner's ``(earned, settled)``."""
    lines, refunds, paths = _history(orders)
    merchant = ctx.merchant.pk
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    rows: list[tuple[Any, ...]] = []
    for order in orders:
        for line_id, kind, amount, from_settled, basis, key, at in replay(
            order, lines[order.pk], refunds[order.pk], rules, paths, settle_after, now
        ):
            if kind != "settled":
                sums[order.earner][0] += amount
            if kind == "settled" or from_settled:
                sums[order.earner][1] += amount
            b = basis
            row = (
                merchant,
                order.earner,
                order.pk,
                line_id,
                kind,
                amount,
                from_settled,
                b.kind if b else "",
                b.rate_bp if b else 0,
                b.fixed_fen if b else 0,
                b.quantity if b else 0,
                b.paid if b else 0,
                key,
                at,
            )
            rows.append(row if model is GuideCommissionEntry else (*row, 1))
    columns = [
        "merchant_id",
        earner_column,
        "order_id",
        "order_line_id",
        "kind",
        "amount",
        "from_settled",
        "rule_kind",
        "rate_bp",
        "fixed_fen",
        "quantity",
        "base_amount",
        "key",
        "created_at",
    ]
    if model is not GuideCommissionEntry:
        columns.append("level")
    rows.sort(key=lambda r: r[13])
    BulkInsert(model, columns, now).write(rows)
    return {k: (v[0], v[1]) for k, v in sums.items()}


# --- the generator ----------------------------------------------------------------------------


def seed(ctx: DemoContext) -> None:
    with merchant_context(ctx.merchant), transaction.atomic():
        _seed(ctx)


def _seed(ctx: DemoContext) -> None:
    now = clock.now()
    owner = ctx.owner
    services.update_settings(
        owner,
        {
            "enrolment": "approval",
            "binding_policy": "first_link",
            "protection_days": 30,
            "settlement_delay_days": 7,
            "minimum_withdrawal": 1000,
        },
    )
    services.set_rule(owner, scope="default", kind="percent", rate_bp=500)
    guide_commission.set_guide_rule(owner, scope="default", kind="percent", rate_bp=200)
    categories = list(Category.objects.filter(parent__isnull=True).order_by("pk")[:2])
    for category, rate in zip(categories, (800, 300), strict=False):
        services.set_rule(
            owner, scope="category", kind="percent", rate_bp=rate, category_id=category.pk
        )
    if categories:
        guide_commission.set_guide_rule(
            owner, scope="category", kind="percent", rate_bp=400, category_id=categories[0].pk
        )
    product = Product.objects.filter(status=Product.Status.ON_SALE).order_by("pk").first()
    if product is not None:
        services.set_rule(
            owner, scope="product", kind="fixed", fixed_fen=300, product_id=product.pk
        )
    ctx.advance(1)

    distributors = _distributors(ctx, now)
    ctx.advance(1)
    approved = [d for d in distributors if d.status == Distributor.Status.APPROVED]
    suspended = [d for d in distributors if d.status == Distributor.Status.SUSPENDED]
    _bindings(ctx, approved + suspended, {d.customer_id for d in distributors}, now)
    ctx.advance(1)
    _attribute(ctx.merchant.pk)
    ctx.advance(1)

    settings_row = selectors.settings_of()
    delay = timedelta(days=settings_row.settlement_delay_days)
    paid = _paid_orders(
        Order.objects.filter(distributor_id__isnull=False, paid_at__isnull=False), "distributor_id"
    )
    sums = write_ledger(
        ctx, CommissionEntry, "distributor_id", paid, selectors.rule_set(), delay, now
    )
    ctx.advance(1)
    _withdrawals(ctx, approved, sums, settings_row.minimum_withdrawal, now)
    ctx.advance(1)

    since = now - timedelta(days=GUIDE_RULES_DAYS)
    _backdate_guide_rules(since)
    guided = _paid_orders(
        Order.objects.filter(guide_id__isnull=False, paid_at__gte=since), "guide_id"
    )
    write_ledger(
        ctx, GuideCommissionEntry, "guide_id", guided, guide_selectors.rule_set(), delay, now
    )
    ctx.advance(1)
    ctx.shared["distribution_summary"] = {
        "distributors": len(distributors),
        "attributed_orders": len(paid),
        "guide_orders": len(guided),
    }
    ctx.advance(1)


def _paid_orders(orders: Any, earner: str) -> list[PaidOrder]:
    found: list[PaidOrder] = []
    for pk, who, status, paid_at, completed_at in orders.order_by("pk").values_list(
        "pk", earner, "status", "paid_at", "completed_at"
    ):
        if who is not None and paid_at is not None:
            found.append(PaidOrder(pk, who, status, paid_at, completed_at))
    return found


def _backdate_guide_rules(since: datetime) -> None:
    """The guides' rules were set :data:`GUIDE_RULES_DAYS` ago (their orders since earn)."""
    from siyu.distribution.models import GuideCommissionRule

    GuideCommissionRule.objects.update(updated_at=since)


def _share_code(taken: set[str], rng: Any) -> str:
    while True:
        code = "".join(rng.choice(ALPHABET) for _n in range(services.SHARE_CODE_LENGTH))
        if code not in taken:
            taken.add(code)
            return code


def _distributors(ctx: DemoContext, now: datetime) -> list[Distributor]:
    """About thirty: the first named customer and customers who buy often; the last few are
    waiting for approval, one was rejected, one suspended. Some were invited by another."""
    rng = ctx.rng
    named = [c.pk for c in ctx.shared.get("customers", [])[:1]]
    frequent = list(
        Customer.objects.filter(order_count__gte=3)
        .exclude(pk__in=named)
        .order_by("-order_count", "pk")
        .values_list("pk", flat=True)[:300]
    )
    rng.shuffle(frequent)
    chosen = (named + frequent)[:DISTRIBUTORS]
    if not chosen:
        return []
    taken: set[str] = set()
    made: list[Distributor] = []
    count = len(chosen)
    for index, customer_id in enumerate(chosen):
        if index >= count - APPLIED:
            status = Distributor.Status.APPLIED
            applied_at = now - timedelta(days=rng.randrange(0, 4), hours=rng.randrange(24))
        else:
            applied_at = now - timedelta(days=rng.randrange(300, 360), hours=rng.randrange(24))
            status = Distributor.Status.APPROVED
            if index == count - APPLIED - 1:
                status = Distributor.Status.REJECTED
            elif index == count - APPLIED - 1 - REJECTED:
                status = Distributor.Status.SUSPENDED
        decided = None if status == Distributor.Status.APPLIED else applied_at + timedelta(hours=5)
        if status == Distributor.Status.SUSPENDED:
            decided = applied_at + timedelta(days=60)  # sold for two months, then suspended
        reason = {
            Distributor.Status.REJECTED: "资料不完整 / incomplete profile",
            Distributor.Status.SUSPENDED: "违规刷单 / fake orders",
        }.get(status, "")
        made.append(
            Distributor(
                merchant=ctx.merchant,
                customer_id=customer_id,
                status=status,
                share_code=_share_code(taken, rng),
                applied_at=applied_at,
                decided_at=decided,
                decided_by="" if decided is None else str(ctx.owner.label)[:150],
                reason=reason,
            )
        )
    Distributor.objects.bulk_create(made)
    made = list(Distributor.objects.order_by("pk"))
    inviters = [d for d in made if d.status == Distributor.Status.APPROVED]
    invited = [d for d in made[1:] if rng.random() < 0.3]
    for d in invited:
        d.invited_by = inviters[0] if rng.random() < 0.6 else rng.choice(inviters)
        if d.invited_by_id == d.pk:
            d.invited_by = inviters[0]
    Distributor.objects.bulk_update(invited, ["invited_by"])
    if named and ctx.shared.get("customers"):
        ctx.logins.append(
            Login(
                "customer",
                phones.display(ctx.shared["customers"][0].phone),
                "",
                f"storefront distributor centre (/s/{ctx.merchant.slug}/distributor/)",
            )
        )
    return made


def _bindings(
    ctx: DemoContext, earners: list[Distributor], distributor_customers: set[int], now: datetime
) -> None:
    """Each distributor's customers, bound through their links at some time of the year."""
    rng = ctx.rng
    pool = list(
        Customer.objects.filter(order_count__gte=1)
        .exclude(pk__in=distributor_customers)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    rng.shuffle(pool)
    rows: list[tuple[Any, ...]] = []
    changes: list[tuple[Any, ...]] = []
    merchant = ctx.merchant.pk
    at = 0
    for distributor in sorted(earners, key=lambda d: d.pk):
        start = max(distributor.applied_at + timedelta(days=1), now - timedelta(days=340))
        span = max(int((now - start).total_seconds()), 3600)
        for customer_id in pool[at : at + rng.randrange(BOUND_MIN, BOUND_MAX + 1)]:
            since = start + timedelta(seconds=int(span * rng.random() ** 1.5))
            if distributor.status == Distributor.Status.SUSPENDED and distributor.decided_at:
                since = min(since, distributor.applied_at + timedelta(days=30))
            rows.append((merchant, customer_id, distributor.pk, since, "link"))
            changes.append((merchant, customer_id, distributor.pk, "link", since))
            at += 1
        at = min(at, len(pool))
    columns = ["merchant_id", "customer_id", "distributor_id", "since", "source"]
    BulkInsert(Binding, columns).write(rows)
    BulkInsert(
        BindingChange, ["merchant_id", "customer_id", "to_distributor_id", "source", "at"]
    ).write(changes)


def _attribute(merchant_id: int) -> None:
    """Orders placed by a bound customer since the binding go to the distributor, as checkout's
    attribution does (``Order.distributor_id``); a suspended distributor's only until then."""
    qn = connection.ops.quote_name
    orders = qn(Order._meta.db_table)
    bindings = qn(Binding._meta.db_table)
    distributors = qn(Distributor._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(  # table names from the models' metadata, values as parameters
            f"""
            UPDATE {orders} SET distributor_id = b.distributor_id
            FROM {bindings} b JOIN {distributors} d ON d.id = b.distributor_id
            WHERE {orders}.merchant_id = %s AND b.customer_id = {orders}.customer_id
              AND {orders}.placed_at >= b.since AND {orders}.distributor_id IS NULL
              AND (d.status = 'approved'
                   OR (d.status = 'suspended' AND {orders}.placed_at < d.decided_at))
            """,  # noqa: S608
            [merchant_id],
        )


def _withdrawals(
    ctx: DemoContext,
    approved: list[Distributor],
    sums: dict[int, tuple[int, int]],
    minimum: int,
    now: datetime,
) -> None:
    """Paid ones in the past, one rejected, some approved and some requested lately, never more
    than a distributor's settled money."""
    rng = ctx.rng
    made: list[Withdrawal] = []
    states = ["paid", "paid", "approved", "requested", "rejected"]
    for index, distributor in enumerate(sorted(approved, key=lambda d: d.pk)):
        available = sums.get(distributor.pk, (0, 0))[1]
        plan = states if index == 0 else [s for s in states if rng.random() < 0.5]
        for n, status in enumerate(plan):
            if available < minimum * 2:
                break
            amount = max(minimum, (available // 3) // 100 * 100)
            requested = now - timedelta(days=(len(plan) - n) * 20 + rng.randrange(5))
            if status in ("requested", "approved"):
                requested = now - timedelta(days=rng.randrange(0, 3), hours=rng.randrange(20))
            w = Withdrawal(
                merchant=ctx.merchant,
                distributor=distributor,
                amount=amount,
                status=status,
                requested_at=requested,
            )
            if status != "requested":
                w.decided_at = requested + timedelta(hours=rng.randrange(2, 30))
                w.decided_by = "finance"
            if status == "rejected":
                w.reason = "收款信息有误 / wrong bank details"
            else:
                available -= amount
            if status == "paid":
                w.payout_method = "manual_bank_transfer"
                w.reference = f"ICBC-{requested:%Y%m%d}-{rng.randrange(10**6):06d}"
                w.paid_at = (w.decided_at or requested) + timedelta(days=1)
            made.append(w)
    Withdrawal.objects.bulk_create(made)
