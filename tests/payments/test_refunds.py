"""Refunds: full, by line and quantity, by amount; restock exactly; never more than paid."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from siyu.catalog.models import Product
from siyu.catalog.services import SkuInput
from siyu.catalog.testing import first_sku, make_product
from siyu.core import clock
from siyu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from siyu.core.models import AuditEntry, DomainEvent
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for
from siyu.inventory.models import StockMovement
from siyu.inventory.testing import counts, ledger_problems
from siyu.orders.models import Order, OrderLine
from siyu.orders.testing import Shop, make_customer, make_order, make_shop, stock
from siyu.payments import services
from siyu.payments.gateways.base import GatewayError, RefundResult
from siyu.payments.gateways.sandbox import SandboxGateway
from siyu.payments.models import Payment, Refund, SandboxRefund, SandboxTransaction
from siyu.payments.testing import pay

RS = Refund.Status

pytestmark = pytest.mark.usefixtures("bound")  # assertions read through scoped managers


@dataclass
class Bought:
    order: Order
    payment: Payment
    shop: Shop
    coffee: OrderLine  # 3 × ¥18.00
    cake: OrderLine  # 1 × ¥25.00


@pytest.fixture
def bought(merchant) -> Bought:
    shop = make_shop(merchant, price=1800, quantity=10)
    cake = first_sku(
        make_product(
            merchant,
            "Cheesecake",
            skus=[SkuInput(code="CAKE-1", price=2500)],
            status=Product.Status.ON_SALE,
        )
    )
    stock(shop.location, cake, 5)
    order = make_order(merchant, shop=shop, items=[(shop.sku.pk, 3), (cake.pk, 1)])
    payment = pay(order)
    with merchant_context(merchant):
        order = Order.objects.get(pk=order.pk)
        lines = {line.sku_id: line for line in order.lines.all()}
    return Bought(order, payment, shop, lines[shop.sku.pk], lines[cake.pk])


@pytest.fixture
def finance(merchant):
    return actor_for(merchant, Role.FINANCE)


def refund(merchant, actor, order, capture, **kwargs):
    kwargs.setdefault("reason", "damaged in transit")
    with merchant_context(merchant), capture(execute=True):
        made = services.refund(actor, order, **kwargs)
    made.refresh_from_db()
    return made


def reload(obj):
    obj.refresh_from_db()
    return obj


def test_the_order_is_as_the_tests_expect(bought):
    assert bought.order.total == 3 * 1800 + 2500
    assert bought.payment.amount == bought.order.total
    assert (bought.coffee.quantity, bought.coffee.line_total) == (3, 5400)


def test_a_partial_refund_by_line_restocks_exactly_what_was_refunded(
    merchant, bought, finance, django_capture_on_commit_callbacks
):
    location, coffee_sku = bought.shop.location, bought.shop.sku
    before = counts(location, coffee_sku)
    made = refund(
        merchant,
        finance,
        bought.order,
        django_capture_on_commit_callbacks,
        lines=[(bought.coffee.pk, 2)],
    )
    assert (made.status, made.amount, made.restock, made.full) == (RS.SUCCEEDED, 3600, True, False)
    assert [(ln.order_line_id, ln.quantity, ln.amount) for ln in made.lines.all()] == [
        (bought.coffee.pk, 2, 3600)
    ]
    # exactly two units back on hand, one "return" movement in the ledger, nothing else moved
    assert counts(location, coffee_sku) == (before[0] + 2, before[1])
    [movement] = StockMovement.unscoped.filter(kind=StockMovement.Kind.RETURN)
    assert (movement.sku_id, movement.on_hand_delta, movement.location_id) == (
        coffee_sku.pk,
        2,
        location.pk,
    )
    assert ledger_problems(merchant) == []
    coffee = reload(bought.coffee)
    assert (coffee.refunded_quantity, coffee.refunded_amount) == (2, 3600)
    assert reload(bought.cake).refunded_quantity == 0
    order = reload(bought.order)
    assert (order.refunded_total, order.refund_state) == (3600, Order.RefundState.PARTIAL)
    assert order.status == Order.Status.PAID
    payment = reload(bought.payment)
    assert payment.refunded_total == 3600
    assert SandboxTransaction.unscoped.get(out_trade_no=payment.out_trade_no).refunded == 3600
    assert SandboxRefund.unscoped.get(out_refund_no=made.number).amount == 3600
    event = DomainEvent.unscoped.get(event_type="payments.refund.succeeded")
    assert event.payload["lines"] == [
        {"order_line_id": bought.coffee.pk, "quantity": 2, "amount": 3600}
    ]
    assert AuditEntry.unscoped.filter(
        action="payments.refund.created", actor_label=finance.label
    ).exists()


def test_the_last_unit_of_a_line_takes_the_remainder(
    merchant, bought, finance, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    first = refund(merchant, finance, bought.order, capture, lines=[(bought.coffee.pk, 1)])
    second = refund(merchant, finance, bought.order, capture, lines=[(bought.coffee.pk, 2)])
    assert first.amount + second.amount == bought.coffee.line_total
    with pytest.raises(InvalidInput) as caught:
        refund(merchant, finance, bought.order, capture, lines=[(bought.coffee.pk, 1)])
    assert caught.value.fields == {"lines.0.quantity": "Nothing of this line is left to refund."}


def test_an_amount_only_refund_does_not_restock(
    merchant, bought, finance, django_capture_on_commit_callbacks
):
    before = counts(bought.shop.location, bought.shop.sku)
    made = refund(
        merchant,
        finance,
        bought.order,
        django_capture_on_commit_callbacks,
        amount=500,
        reason="late delivery goodwill",
        restock=True,  # ignored: an amount returns no goods
    )
    assert (made.status, made.amount, made.restock) == (RS.SUCCEEDED, 500, False)
    assert made.lines.count() == 0
    assert counts(bought.shop.location, bought.shop.sku) == before
    assert not StockMovement.unscoped.filter(kind=StockMovement.Kind.RETURN).exists()
    order = reload(bought.order)
    assert (order.refunded_total, order.refund_state) == (500, Order.RefundState.PARTIAL)


def test_a_full_refund_returns_everything_left_and_restocks_every_unit(
    merchant, bought, finance, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    refund(merchant, finance, bought.order, capture, lines=[(bought.cake.pk, 1)], restock=False)
    made = refund(merchant, finance, bought.order, capture)
    assert (made.status, made.full, made.amount) == (RS.SUCCEEDED, True, 5400)
    assert [(ln.order_line_id, ln.quantity) for ln in made.lines.all()] == [(bought.coffee.pk, 3)]
    order = reload(bought.order)
    assert (order.refunded_total, order.refund_state) == (7900, Order.RefundState.FULL)
    assert reload(bought.payment).refunded_total == 7900
    assert counts(bought.shop.location, bought.shop.sku)[0] == 10  # 3 sold, 3 back
    with pytest.raises(Conflict) as caught:
        refund(merchant, finance, bought.order, capture)
    assert caught.value.code == "fully_refunded"


def test_a_full_refund_after_an_amount_refund_returns_only_what_is_left(
    merchant, bought, finance, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    refund(merchant, finance, bought.order, capture, amount=7000)
    made = refund(merchant, finance, bought.order, capture)
    assert made.amount == 900
    assert sum(ln.amount for ln in made.lines.all()) == 900
    assert reload(bought.order).refunded_total == 7900


def test_over_refunds_are_refused_and_write_nothing(
    merchant, bought, finance, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with pytest.raises(InvalidInput) as caught:
        refund(merchant, finance, bought.order, capture, amount=7901)
    assert caught.value.fields == {"amount": "At most ¥79.00 is left to refund."}
    with pytest.raises(InvalidInput) as caught:
        refund(merchant, finance, bought.order, capture, lines=[(bought.coffee.pk, 4)])
    assert caught.value.fields == {"lines.0.quantity": "At most 3 can be refunded."}
    refund(merchant, finance, bought.order, capture, amount=7000)
    with pytest.raises(InvalidInput) as caught:
        refund(merchant, finance, bought.order, capture, lines=[(bought.coffee.pk, 1)])
    assert caught.value.fields == {"lines": "At most ¥9.00 is left to refund."}
    with pytest.raises(InvalidInput) as caught:
        refund(merchant, finance, bought.order, capture, lines=[(bought.coffee.pk, 1)], amount=100)
    assert "amount" in caught.value.fields
    with pytest.raises(InvalidInput) as caught:
        refund(merchant, finance, bought.order, capture, amount=100, reason="  ")
    assert caught.value.fields == {"reason": "Give a reason."}
    assert Refund.unscoped.count() == 1
    assert reload(bought.payment).refunded_total == 7000


def test_an_unpaid_order_cannot_be_refunded(merchant, finance, django_capture_on_commit_callbacks):
    order = make_order(merchant)
    with pytest.raises(Conflict) as caught:
        refund(merchant, finance, order, django_capture_on_commit_callbacks)
    assert caught.value.code == "not_paid"


def test_a_guide_may_not_refund(merchant, bought, django_capture_on_commit_callbacks):
    guide = actor_for(merchant, Role.SHOPPING_GUIDE)
    with pytest.raises(Forbidden):
        refund(merchant, guide, bought.order, django_capture_on_commit_callbacks)
    assert Refund.unscoped.count() == 0


# --- provider failures -----------------------------------------------------------------------


def test_a_provider_outage_is_recorded_and_retried_safely(
    merchant, bought, finance, django_capture_on_commit_callbacks, monkeypatch
):
    real_refund = SandboxGateway.refund

    def unreachable(self, refund):
        raise GatewayError("connection reset by the provider")

    monkeypatch.setattr(SandboxGateway, "refund", unreachable)
    made = refund(
        merchant,
        finance,
        bought.order,
        django_capture_on_commit_callbacks,
        lines=[(bought.cake.pk, 1)],
    )
    assert (made.status, made.attempts) == (RS.PROCESSING, 1)
    assert made.failure_reason == "connection reset by the provider"
    assert made.next_attempt_at > clock.now()
    # the money in flight counts: only what is left may be refunded meanwhile
    with pytest.raises(InvalidInput):
        refund(merchant, finance, bought.order, django_capture_on_commit_callbacks, amount=5401)
    # not due yet: nothing happens
    assert services.execute_refund(made.pk) is None
    monkeypatch.setattr(SandboxGateway, "refund", real_refund)
    Refund.unscoped.filter(pk=made.pk).update(next_attempt_at=clock.now())
    assert services.due_refunds() == [made.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.execute_refund(made.pk) == RS.SUCCEEDED
    made = reload(made)
    assert (made.status, made.attempts, made.failure_reason) == (RS.SUCCEEDED, 2, "")
    # asking the provider again under the same number refunds nothing more
    with merchant_context(merchant):
        again = SandboxGateway().refund(made)
    assert again.provider_reference == made.provider_reference
    assert SandboxTransaction.unscoped.get().refunded == 2500
    assert reload(bought.order).refunded_total == 2500


def test_a_refused_refund_fails_with_the_reason_and_may_be_retried(
    merchant, bought, finance, django_capture_on_commit_callbacks, monkeypatch
):
    real_refund = SandboxGateway.refund
    monkeypatch.setattr(
        SandboxGateway,
        "refund",
        lambda self, refund: RefundResult(RefundResult.FAILED, failure_reason="account frozen"),
    )
    made = refund(merchant, finance, bought.order, django_capture_on_commit_callbacks, amount=1000)
    assert (made.status, made.failure_reason) == (RS.FAILED, "account frozen")
    assert DomainEvent.unscoped.filter(event_type="payments.refund.failed").count() == 1
    assert reload(bought.order).refunded_total == 0
    monkeypatch.setattr(SandboxGateway, "refund", real_refund)
    with merchant_context(merchant), django_capture_on_commit_callbacks(execute=True):
        services.retry_refund(finance, made)
    made = reload(made)
    assert made.status == RS.SUCCEEDED
    assert reload(bought.order).refunded_total == 1000
    with merchant_context(merchant), pytest.raises(Conflict):
        services.retry_refund(finance, made)


# --- customer requests ------------------------------------------------------------------------


def test_a_customer_request_waits_and_is_refunded_on_approval(
    merchant, bought, finance, django_capture_on_commit_callbacks
):
    customer = bought.order.customer
    with merchant_context(merchant):
        requested = services.request_refund(
            customer, bought.order, lines=[(bought.coffee.pk, 1)], reason="wrong size"
        )
    assert (requested.status, requested.amount, requested.requested_by_customer) == (
        RS.REQUESTED,
        1800,
        True,
    )
    assert DomainEvent.unscoped.filter(event_type="payments.refund.requested").count() == 1
    assert reload(bought.payment).refunded_total == 0  # nothing moves until staff decide
    with merchant_context(merchant), pytest.raises(Conflict) as caught:
        services.request_refund(customer, bought.order, lines=None, reason="again")
    assert caught.value.code == "refund_already_requested"
    before = counts(bought.shop.location, bought.shop.sku)
    with merchant_context(merchant), django_capture_on_commit_callbacks(execute=True):
        approved = services.approve_refund(finance, requested)
    approved = reload(approved)
    assert (approved.status, approved.amount, approved.decided_by) == (
        RS.SUCCEEDED,
        1800,
        finance.label,
    )
    assert counts(bought.shop.location, bought.shop.sku)[0] == before[0] + 1
    assert reload(bought.coffee).refunded_quantity == 1
    with merchant_context(merchant), pytest.raises(Conflict):
        services.approve_refund(finance, approved)


def test_a_customer_may_ask_for_everything_and_staff_may_reject(merchant, bought, finance):
    with merchant_context(merchant):
        requested = services.request_refund(
            bought.order.customer, bought.order, lines=None, reason="不想要了"
        )
        assert (requested.full, requested.amount, requested.lines.count()) == (True, 7900, 2)
        with pytest.raises(InvalidInput) as caught:
            services.reject_refund(finance, requested, "")
        assert caught.value.fields == {"reason": "Give a reason."}
        rejected = services.reject_refund(finance, requested, "已发货，请收货后申请退货")
    assert (rejected.status, rejected.decision_note) == (RS.REJECTED, "已发货，请收货后申请退货")
    assert DomainEvent.unscoped.filter(event_type="payments.refund.rejected").count() == 1
    assert reload(bought.payment).refunded_total == 0
    # once answered, the customer may ask again
    with merchant_context(merchant):
        services.request_refund(bought.order.customer, bought.order, lines=None, reason="still")


def test_a_request_approved_after_a_staff_refund_is_checked_again(
    merchant, bought, finance, django_capture_on_commit_callbacks
):
    with merchant_context(merchant):
        requested = services.request_refund(
            bought.order.customer, bought.order, lines=[(bought.cake.pk, 1)], reason="stale"
        )
    refund(
        merchant,
        finance,
        bought.order,
        django_capture_on_commit_callbacks,
        lines=[(bought.cake.pk, 1)],
    )
    with merchant_context(merchant), pytest.raises(InvalidInput) as caught:
        services.approve_refund(finance, requested)
    assert caught.value.fields == {"lines.0.quantity": "Nothing of this line is left to refund."}
    assert reload(requested).status == RS.REQUESTED


def test_a_customer_cannot_ask_about_someone_elses_order(merchant, bought):
    stranger = make_customer(merchant)
    with merchant_context(merchant), pytest.raises(NotFound):
        services.request_refund(stranger, bought.order, lines=None, reason="mine now")
    assert Refund.unscoped.count() == 0
