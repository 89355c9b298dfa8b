"""Property: any sequence of stock operations keeps the books — against a model of the rules.

Hypothesis draws a sequence of receipts, adjustments, stock takes, reservations
(some already overdue), payments, cancellations, expiry runs and returns on two
SKUs. After every step the levels equal a plain Python model of the rules, the
ledger re-derives every level, active reservations add up to ``reserved``, and
nothing is negative.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.errors import InvalidInput
from siyu.core.tenancy import merchant_context
from siyu.core.testing import next_id
from siyu.inventory import services
from siyu.inventory.services import OutOfStock
from siyu.inventory.testing import counts, ledger_problems, make_sku, make_warehouse

pytestmark = pytest.mark.django_db

SKUS = 2

sku_index = st.integers(0, SKUS - 1)
operation = st.one_of(
    st.tuples(st.just("receive"), sku_index, st.integers(1, 20)),
    st.tuples(st.just("adjust"), sku_index, st.integers(-12, 12).filter(bool)),
    st.tuples(st.just("count"), sku_index, st.integers(0, 30)),
    st.tuples(
        st.just("reserve"),
        st.lists(st.tuples(sku_index, st.integers(1, 6)), min_size=1, max_size=3),
        st.booleans(),  # already overdue
    ),
    st.tuples(st.just("commit"), st.integers(0, 20)),
    st.tuples(st.just("release"), st.integers(0, 20)),
    st.tuples(st.just("expire")),
    st.tuples(st.just("restock"), sku_index, st.integers(1, 5), st.integers(0, 3)),
)


@dataclass
class Model:
    on_hand: list[int] = field(default_factory=lambda: [0] * SKUS)
    reserved: list[int] = field(default_factory=lambda: [0] * SKUS)
    # reference → (quantities per SKU index, status, overdue)
    orders: dict[str, tuple[dict[int, int], str, bool]] = field(default_factory=dict)
    returned: set[tuple[str, int]] = field(default_factory=set)

    def available(self, i: int) -> int:
        return self.on_hand[i] - self.reserved[i]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(operation, min_size=1, max_size=25))
def test_any_sequence_of_operations_keeps_the_books(merchant, steps):
    hub = make_warehouse(merchant)
    skus = [make_sku(merchant) for _ in range(SKUS)]
    actor = Actor.system(merchant)
    model = Model()
    refs: list[str] = []

    def ref_at(n: int) -> str | None:
        return refs[n % len(refs)] if refs else None

    with merchant_context(merchant):
        for step in steps:
            kind = step[0]
            if kind == "receive":
                _, i, q = step
                services.receive(actor, location=hub, sku=skus[i], quantity=q)
                model.on_hand[i] += q
            elif kind in ("adjust", "count"):
                _, i, n = step
                target = model.on_hand[i] + n if kind == "adjust" else n
                allowed = target >= model.reserved[i]
                try:
                    if kind == "adjust":
                        services.adjust(actor, location=hub, sku=skus[i], delta=n, reason="p")
                    else:
                        services.adjust(actor, location=hub, sku=skus[i], counted=n, reason="p")
                except InvalidInput:
                    assert not allowed
                else:
                    assert allowed
                    model.on_hand[i] = target
            elif kind == "reserve":
                _, lines, overdue = step
                wanted: dict[int, int] = {}
                for i, q in lines:
                    wanted[i] = wanted.get(i, 0) + q
                ref = f"order:{next_id()}"
                refs.append(ref)
                short = {
                    skus[i].pk: max(0, model.available(i))
                    for i, q in wanted.items()
                    if model.available(i) < q
                }
                moment = clock.now() + (timedelta(seconds=-1) if overdue else timedelta(hours=1))
                shortages: dict[int, int] = {}
                try:
                    services.reserve(
                        location=hub,
                        items=[(skus[i].pk, q) for i, q in lines],
                        reference=ref,
                        expires_at=moment,
                    )
                except OutOfStock as exc:
                    shortages = exc.shortages
                assert shortages == short
                if not short:
                    for i, q in wanted.items():
                        model.reserved[i] += q
                    model.orders[ref] = (wanted, "active", overdue)
            elif kind == "commit":
                ref = ref_at(step[1])
                if ref is None:
                    continue
                wanted, status, overdue = model.orders.get(ref, ({}, "none", False))
                fits = all(model.available(i) >= q for i, q in wanted.items())
                try:
                    services.commit(ref)
                except OutOfStock:
                    assert status == "expired"
                    assert not fits
                    continue
                if status == "active":
                    for i, q in wanted.items():
                        model.on_hand[i] -= q
                        model.reserved[i] -= q
                    model.orders[ref] = (wanted, "committed", overdue)
                elif status == "expired":
                    assert fits
                    for i, q in wanted.items():
                        model.on_hand[i] -= q
                    model.orders[ref] = (wanted, "committed", overdue)
            elif kind == "release":
                ref = ref_at(step[1])
                if ref is None:
                    continue
                wanted, status, overdue = model.orders.get(ref, ({}, "none", False))
                released = services.release(ref)
                if status == "active":
                    assert released == sum(wanted.values())
                    for i, q in wanted.items():
                        model.reserved[i] -= q
                    model.orders[ref] = (wanted, "released", overdue)
                else:
                    assert released == 0
            elif kind == "expire":
                services.expire_reservations()
                for ref, (wanted, status, overdue) in list(model.orders.items()):
                    if status == "active" and overdue:
                        for i, q in wanted.items():
                            model.reserved[i] -= q
                        model.orders[ref] = (wanted, "expired", overdue)
            elif kind == "restock":
                _, i, q, r = step
                ref = f"refund:{hub.pk}:{r}"
                services.restock(location=hub, items=[(skus[i].pk, q)], reference=ref)
                if (ref, i) not in model.returned:
                    model.returned.add((ref, i))
                    model.on_hand[i] += q
            for i, sku in enumerate(skus):
                assert counts(hub, sku) == (model.on_hand[i], model.reserved[i]), (step, i)
    assert ledger_problems(merchant) == []
