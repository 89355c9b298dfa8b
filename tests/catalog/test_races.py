"""Concurrency rules of the catalog, proven with two real database connections (PostgreSQL)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from siyu.catalog import services
from siyu.catalog.models import Product, Sku
from siyu.catalog.services import SkuInput
from siyu.catalog.testing import make_product
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, InvalidInput
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a real race between two database connections needs PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]


def run_together(*calls: Callable[[], None]) -> list[str]:
    outcomes: list[str] = []

    def run(call: Callable[[], None]) -> None:
        try:
            call()
            outcomes.append("done")
        except (Conflict, InvalidInput):
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


def test_two_products_claiming_one_sku_code_at_once(monkeypatch):
    merchant = make_merchant()
    actor = Actor.system(merchant)
    # Both requests find the code free, then wait for each other before writing: the
    # unique constraint lets one win and the other is answered 409, not a 500.
    barrier = threading.Barrier(2, timeout=2.0)
    real_check = services._check_unique_codes

    def check_then_wait(*args, **kwargs):
        result = real_check(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return result

    monkeypatch.setattr(services, "_check_unique_codes", check_then_wait)

    def create(name: str) -> Callable[[], None]:
        def call() -> None:
            with merchant_context(merchant):
                services.create_product(actor, name=name, skus=[SkuInput(code="LAT-M", price=2600)])

        return call

    assert run_together(create("Latte"), create("Iced latte")) == ["done", "refused"]
    with merchant_context(merchant):
        assert Product.objects.count() == 1
        assert Sku.objects.filter(code="LAT-M").count() == 1


def test_deactivating_the_two_last_sellable_skus_at_once_leaves_one(monkeypatch):
    merchant = make_merchant()
    actor = Actor.system(merchant)
    product = make_product(
        merchant,
        option_names=["Size"],
        skus=[
            SkuInput(options={"Size": "M"}, price=2600),
            SkuInput(options={"Size": "L"}, price=3000),
        ],
        status=Product.Status.ON_SALE,
    )
    with merchant_context(merchant):
        a, b = Sku.objects.filter(product=product)
    # Each request checks "is another SKU still sellable?", then waits for the other. Without
    # the product row lock both would see the other SKU active and both would deactivate.
    barrier = threading.Barrier(2, timeout=1.0)
    real_problem = services._sellable_problem

    def check_then_wait(skus):
        result = real_problem(skus)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()  # the other request is blocked on the lock: this wait times out
        return result

    monkeypatch.setattr(services, "_sellable_problem", check_then_wait)

    def deactivate(sku: Sku) -> Callable[[], None]:
        def call() -> None:
            with merchant_context(merchant):
                services.deactivate_sku(actor, sku)

        return call

    assert run_together(deactivate(a), deactivate(b)) == ["done", "refused"]
    with merchant_context(merchant):
        assert Sku.objects.filter(product=product, active=True).count() == 1
