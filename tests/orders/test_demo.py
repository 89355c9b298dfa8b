"""The demo's year of history in the database: every rule the services keep holds.

History is written in bulk, past the services; these tests check, row by row, what
the services would have guaranteed (totals, refunds, statuses and times, payments,
the timeline, tenancy) on the generator's own small shops here, and on the whole small demo
built by the real ``siyu demo`` code in ``tests/test_whole_demo.py`` (``check_invariants``).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import phonenumbers
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Count, Q, Sum
from django.utils import timezone

from siyu.catalog.models import Sku
from siyu.catalog.testing import make_product, make_store
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.demo import BulkInsert, DemoContext
from siyu.core.management.commands.demo import build_demo, planned_steps
from siyu.core.models import DomainEvent, Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_staff
from siyu.customers.models import Customer, CustomerAddress
from siyu.inventory.models import StockMovement
from siyu.orders import demo, numbers, states
from siyu.orders.models import Order, OrderEvent, OrderLine, OrderRefund, ShippingSettings
from siyu.orders.pricing import PricingLine, ShippingRule, price_cart
from siyu.payments.models import Payment, Refund, RefundLine, SandboxRefund, SandboxTransaction

pytestmark = pytest.mark.django_db

# The transition behind each timeline entry that changes the status.
TRANSITIONS = {
    "paid": {states.Transition.PAY},
    "preparing": {states.Transition.START_PREPARING},
    "shipped": {states.Transition.SHIP},
    "ready_for_pickup": {states.Transition.MARK_READY},
    "collected": {states.Transition.COLLECT},
    "completed": {states.Transition.COMPLETE},
    "cancelled": {states.Transition.CANCEL, states.Transition.CANCEL_REFUNDED},
}


def check_invariants(merchant: Merchant) -> None:
    now = timezone.now()
    with merchant_context(merchant):
        orders = {o.pk: o for o in Order.objects.all()}
        lines = defaultdict(list)
        for line in OrderLine.objects.order_by("pk"):
            lines[line.order_id].append(line)
        payments = defaultdict(list)
        for payment in Payment.objects.all():
            payments[payment.order_id].append(payment)
        refunds = defaultdict(list)
        for refund in Refund.objects.all():
            refunds[refund.order_id].append(refund)
        refund_lines = defaultdict(list)
        for refund_line in RefundLine.objects.all():
            refund_lines[refund_line.refund_id].append(refund_line)
        events = defaultdict(list)
        for event in OrderEvent.objects.order_by("created_at", "pk"):
            events[event.order_id].append(event)
        customers = {c.pk: c for c in Customer.objects.all()}
        skus = {s.pk: s for s in Sku.objects.select_related("product")}
        rule = ShippingRule(
            flat_fee=ShippingSettings.objects.get().flat_fee,
            free_over=ShippingSettings.objects.get().free_over,
        )
        zone = clock.zone(merchant.time_zone)
        first_order: dict[int, object] = {}
        open_codes: Counter[tuple[int | None, str]] = Counter()
        for order in sorted(orders.values(), key=lambda o: o.placed_at):
            first_order.setdefault(order.customer_id, order.placed_at)
            mine = lines[order.pk]
            # totals: lines, subtotal, shipping, total
            assert mine, order.number
            for line in mine:
                assert line.line_total == line.unit_price * line.quantity - line.discount
                sku = skus[line.sku_id]
                assert (line.product_id_snapshot, line.sku_code) == (sku.product_id, sku.code)
                assert line.product_name == sku.product.name
                assert line.options == sku.options
                assert 0 <= line.refunded_quantity <= line.quantity
                assert 0 <= line.refunded_amount <= line.line_total
            assert order.total == order.subtotal - order.discount_total + order.shipping_fee
            if not order.pricing.get("history"):
                # placed by a later generator through the real checkout (a coupon, a group or
                # bargain price): priced and explained there, with its discounts on the lines
                assert order.subtotal == sum(ln.unit_price * ln.quantity for ln in mine)
                assert sum(ln.discount for ln in mine) + order.pricing["shipping"]["discount"] == (
                    order.discount_total
                )
                continue
            assert order.subtotal == sum(line.line_total for line in mine)
            priced = price_cart(
                [PricingLine(ln.sku_id, ln.quantity, ln.unit_price) for ln in mine],
                fulfilment=order.fulfilment,
                shipping=rule,
            )
            # what checkout would have stored, without the per-line entries
            explained = priced.explanation()
            del explained["lines"]
            assert order.pricing == {**explained, "history": True}
            assert (order.shipping_fee, order.total) == (priced.shipping_fee, priced.total)
            # the number: unique (a constraint), in the orders app's format, dated locally
            assert numbers.is_order_number(order.number)
            assert numbers.number_date(order.number) == order.placed_at.astimezone(zone).date()
            # who and where: all of this merchant
            customer = customers[order.customer_id]
            assert order.store is not None
            assert order.store.merchant_id == merchant.pk
            assert order.location.merchant_id == merchant.pk
            assert customer.created_at <= order.placed_at
            if order.fulfilment == Order.Fulfilment.PICKUP:
                assert order.store.pickup_enabled
                assert order.location.store_id == order.store_id
                assert numbers.is_pickup_code(order.pickup_code)
                assert order.shipping_address is None
                if order.status in states.OPEN_PICKUP:
                    open_codes[(order.store_id, order.pickup_code)] += 1
            else:
                address = order.shipping_address
                assert address is not None
                assert CustomerAddress.objects.filter(
                    customer_id=order.customer_id,
                    recipient=address["recipient"],
                    street=address["street"],
                    district=address["district"],
                    phone=address["phone"],
                ).exists()
            # times and statuses agree
            assert order.placed_at <= now
            assert order.payment_deadline == order.placed_at + timedelta(minutes=15)
            paid = order.paid_at is not None
            if paid:
                assert order.placed_at < order.paid_at <= now
            if order.status == Order.Status.COMPLETED:
                assert paid
                assert order.paid_at < order.completed_at <= now
                assert order.cancelled_at is None
            elif order.status == Order.Status.CANCELLED:
                assert order.completed_at is None
                assert order.placed_at < order.cancelled_at <= now
                assert order.cancel_reason
                if paid:  # only a paid order refunded in full is cancelled
                    assert order.refund_state == Order.RefundState.FULL
            else:
                assert order.status in (
                    Order.Status.PAID,
                    Order.Status.PREPARING,
                    Order.Status.READY_FOR_PICKUP,
                    Order.Status.SHIPPED,
                )
                assert paid
                assert order.completed_at is None
                assert order.cancelled_at is None
            if order.fulfilment == Order.Fulfilment.DELIVERY and order.status in (
                Order.Status.SHIPPED,
                Order.Status.COMPLETED,
            ):
                assert order.carrier
                assert order.tracking_number
            # payments: one sandbox payment paid the order, for its total
            mine_paid = [p for p in payments[order.pk] if p.status == Payment.Status.SUCCEEDED]
            if paid:
                assert len(mine_paid) == 1
                payment = mine_paid[0]
                assert payment.gateway == "sandbox"
                assert payment.paid_order
                assert payment.amount == order.total
                assert payment.paid_at == order.paid_at
                assert payment.out_trade_no == order.payment_reference
                assert payment.refunded_total == order.refunded_total
                sandbox = SandboxTransaction.objects.get(out_trade_no=payment.out_trade_no)
                assert (sandbox.amount, sandbox.refunded) == (order.total, order.refunded_total)
                assert sandbox.status == "paid"
                assert sandbox.transaction_id == payment.provider_reference
            else:
                assert not payments[order.pk]
                assert order.payment_reference == ""
            # refunds: never more than paid, per line and in all; the order agrees
            mine_refunds = refunds[order.pk]
            assert all(r.status == Refund.Status.SUCCEEDED for r in mine_refunds)
            assert order.refunded_total == sum(r.amount for r in mine_refunds)
            assert 0 <= order.refunded_total <= order.total
            if mine_refunds:
                assert paid
            by_line: Counter[int] = Counter()
            amount_by_line: Counter[int] = Counter()
            for refund in mine_refunds:
                assert refund.payment_id == mine_paid[0].pk
                assert order.paid_at < refund.created_at <= refund.completed_at <= now
                returned = refund_lines[refund.pk]
                assert sum(rl.amount for rl in returned) <= refund.amount
                for rl in returned:
                    by_line[rl.order_line_id] += rl.quantity
                    amount_by_line[rl.order_line_id] += rl.amount
                applied = OrderRefund.objects.get(reference=f"refund:{refund.number}")
                assert applied.order_id == order.pk
                assert applied.amount == refund.amount
                assert applied.lines == [
                    [rl.order_line_id, rl.quantity, rl.amount] for rl in returned
                ]
                assert (
                    SandboxRefund.objects.get(out_refund_no=refund.number).amount == refund.amount
                )
            for line in mine:
                assert line.refunded_quantity == by_line[line.pk]
                assert line.refunded_amount == amount_by_line[line.pk]
            expected_state = (
                Order.RefundState.NONE
                if order.refunded_total == 0
                else Order.RefundState.FULL
                if order.refunded_total == order.total
                else Order.RefundState.PARTIAL
            )
            assert order.refund_state == expected_state
            # the timeline: placed first, every move allowed by the state table, ending at
            # the order's status
            timeline = events[order.pk]
            assert timeline[0].kind == "placed"
            assert timeline[0].to_status == Order.Status.PENDING_PAYMENT
            assert timeline[0].created_at == order.placed_at
            status = Order.Status.PENDING_PAYMENT.value
            for event in timeline[1:]:
                assert order.placed_at <= event.created_at <= now
                if event.kind == "refunded":
                    assert event.to_status == status
                    assert event.data["reference"].startswith("refund:")
                    continue
                assert event.from_status == status, (order.number, event.kind)
                assert any(
                    states.RULES[t].target == event.to_status
                    and event.from_status in states.RULES[t].sources
                    for t in TRANSITIONS[event.kind]
                ), (event.kind, event.from_status, event.to_status)
                status = event.to_status
            assert status == order.status
            kinds = Counter(e.kind for e in timeline)
            assert kinds["refunded"] == len(mine_refunds)
            assert kinds["paid"] == int(paid)
            if paid:
                assert next(e for e in timeline if e.kind == "paid").created_at == order.paid_at
        assert all(n == 1 for n in open_codes.values())
        for pk, placed in first_order.items():
            customer = customers[pk]
            assert customer.created_at <= placed
        for customer in customers.values():
            number = phonenumbers.parse(customer.phone)
            assert phonenumbers.is_valid_number(number), customer.phone
            assert customer.phone == phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.E164
            )
            assert customer.last_login_at is None or customer.created_at <= customer.last_login_at
        # every row is the merchant's, and so is everything it points at
        m = merchant
        for model, path in (
            (CustomerAddress, "customer__merchant"),
            (OrderLine, "order__merchant"),
            (OrderEvent, "order__merchant"),
            (OrderRefund, "order__merchant"),
            (Payment, "order__merchant"),
            (Refund, "order__merchant"),
            (RefundLine, "refund__order__merchant"),
            (RefundLine, "order_line__merchant"),
            (SandboxRefund, "transaction__merchant"),
        ):
            assert not model.unscoped.filter(**{path: m}).exclude(merchant=m).exists(), model
            assert not model.unscoped.filter(merchant=m).exclude(**{path: m}).exists(), model
        trade_numbers = Payment.unscoped.filter(merchant=m).values("out_trade_no")
        sandbox = SandboxTransaction.unscoped.filter(out_trade_no__in=trade_numbers)
        assert not sandbox.exclude(merchant=m).exists()
        for path in ("customer__merchant", "store__merchant", "location__merchant"):
            assert not Order.unscoped.filter(merchant=m).exclude(**{path: m}).exists(), path
        # history makes no domain events (outbox, webhooks) and moves no stock; the few orders
        # later generators place through the real checkout (coupons, group-buys, bargains) do
        real = {o.pk for o in Order.objects.all() if not o.pricing.get("history")}
        assert len(real) < 0.05 * len(orders)
        for event in DomainEvent.objects.filter(
            Q(event_type__startswith="orders.order.") | Q(event_type__startswith="payments.")
        ):
            order_id = event.payload.get("order_id", event.payload.get("id"))
            assert order_id in real, event.event_type
        # a refund's restock is referenced "refund:" + the order's refund reference (for a
        # payment refund, "refund:<number>"): only a real order's refunds restock
        real_refunds = set(
            OrderRefund.objects.filter(order_id__in=real).values_list("reference", flat=True)
        )
        for reference in StockMovement.objects.filter(
            Q(reference__startswith="order:") | Q(reference__startswith="refund:")
        ).values_list("reference", flat=True):
            kind, _colon, key = reference.partition(":")
            assert (int(key) in real) if kind == "order" else (key in real_refunds), reference
        assert not Refund.objects.filter(restock=True).exclude(order_id__in=real).exists()
        assert not OrderRefund.objects.filter(restocked=True).exclude(order_id__in=real).exists()


def test_a_demo_with_no_customers_builds(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    merchant, _logins, _seconds = build_demo(seed=2, progress=False, options={"customers": 0})
    with merchant_context(merchant):
        assert not Order.objects.exists()
        assert not Payment.objects.exists()
        assert (
            Customer.objects.count()
            == Customer.objects.filter(phone__startswith="+861380000000").count()
        )


def _small_shop(merchant: Merchant) -> None:
    """Two stores and a three-product menu, without the demo catalogue's pictures."""
    make_store(merchant, code="A1", latitude="31.224261", longitude="121.446512")
    make_store(merchant, code="B1", latitude="31.193270", longitude="121.436740")
    make_store(
        merchant, code="C1", latitude="31.230416", longitude="121.473701", pickup_enabled=False
    )
    make_product(merchant, "拿铁", status="on_sale")
    make_product(merchant, "可颂", status="on_sale")
    make_product(merchant, "草稿", status="draft")


def _seed(merchant: Merchant, customers: int, seed: int = 5) -> tuple[DemoContext, list[int]]:
    steps: list[int] = []
    ctx = DemoContext(
        merchant=merchant,
        owner=Actor.for_membership(make_staff(merchant, Role.OWNER)),
        rng=random.Random(seed),
        advance=steps.append,
        options={"customers": customers},
    )
    demo.seed(ctx)
    return ctx, steps


def test_seed_reads_the_stores_and_menu_from_the_database_and_reports_every_step(merchant):
    _small_shop(merchant)
    ctx, steps = _seed(merchant, 120)
    assert sum(steps) == demo.STEPS({"customers": 120})
    assert ctx.shared["orders_summary"]["customers"] == 120
    with merchant_context(merchant):
        assert Customer.objects.count() == 120
        assert Order.objects.count() == ctx.shared["orders_summary"]["orders"]
        sold = set(OrderLine.objects.values_list("product_name", flat=True))
        assert sold <= {"拿铁", "可颂"}  # never the draft
        assert not Order.objects.filter(store__code="C1").exists()  # no pickup counter
    check_invariants(merchant)


def test_two_merchants_with_the_same_seed_get_their_own_numbers(merchant, other_merchant):
    # payment and refund numbers and the provider's ids are unique across merchants
    for shop in (merchant, other_merchant):
        _small_shop(shop)
        _seed(shop, 80, seed=5)
    first = set(Payment.unscoped.filter(merchant=merchant).values_list("out_trade_no", flat=True))
    second = set(
        Payment.unscoped.filter(merchant=other_merchant).values_list("out_trade_no", flat=True)
    )
    assert first
    assert second
    assert not first & second
    check_invariants(merchant)
    check_invariants(other_merchant)


def test_seed_keeps_the_named_customers_and_avoids_their_phones(merchant):
    _small_shop(merchant)
    with merchant_context(merchant):
        from siyu.customers import services as customer_services

        named = customer_services.get_or_create_customer(merchant, "+8613800000001", name="林小雨")
    _seed(merchant, 60)
    with merchant_context(merchant):
        assert Customer.objects.filter(phone="+8613800000001").get() == named
        assert Customer.objects.count() == 61
        assert Customer.objects.aggregate(n=Count("phone", distinct=True))["n"] == 61


def test_steps_follow_the_customers():
    assert demo.STEPS({"customers": 0}) == 2
    assert demo.STEPS({"customers": 20_000}) == 2 + 80 + 200
    assert demo.STEPS({}) == demo.STEPS({"customers": 20_000})
    assert planned_steps(demo, {"customers": 2_000}) == 2 + 8 + 20


def test_a_field_without_a_default_is_reported_before_anything_is_written():
    with pytest.raises(ImproperlyConfigured, match="customer"):
        BulkInsert(Order, ["id", "merchant_id", "number"], timezone.now())


def test_times_are_written_as_django_writes_them():
    zone = clock.zone("Asia/Shanghai")
    start = datetime(2025, 11, 23, tzinfo=zone)
    times = demo._Times(start, 365)
    for seconds in (0, 59, 8 * 3600 + 1, 86_399, 86_400, 200 * 86_400 + 12_345, 365 * 86_400):
        moment = start + timedelta(seconds=seconds)
        expected = connection.ops.adapt_datetimefield_value(moment)
        text = times(seconds)
        if isinstance(expected, str):
            assert text == expected
        else:
            assert datetime.fromisoformat(text) == moment
        assert times.utc_date(seconds) == moment.astimezone(UTC).strftime("%Y%m%d")
    assert times(None) is None


def test_refunds_add_up_in_the_database(merchant):
    _small_shop(merchant)
    _seed(merchant, 400, seed=9)
    with merchant_context(merchant):
        refunded = Order.objects.aggregate(total=Sum("refunded_total"))["total"]
        assert refunded
        assert refunded == Refund.objects.aggregate(total=Sum("amount"))["total"]
        assert Payment.objects.aggregate(total=Sum("refunded_total"))["total"] == refunded
        data = OrderEvent.objects.filter(kind="refunded").values_list("data", flat=True)
        assert sum(d["amount"] for d in data) == refunded
