"""The shop's full path over HTTP: place an order → pay → the provider's notification.

``siyu serve`` (granian, ``SERVER_WORKERS`` processes × ``SERVER_THREADS``
threads) answers real HTTP on loopback, against the benchmark's database. Each
client is a logged-in customer (a session cookie and its CSRF token) that, in
a loop, does what the storefront does for one order:

1. ``POST /api/v1/storefront/<shop>/orders`` with an ``Idempotency-Key``: pickup at
   a store, two SKUs; checkout prices the order and reserves its stock (201).
2. ``POST …/orders/<id>/pay``: the payment is opened at the sandbox gateway (200).
3. The provider's notification: the client plays the payment provider. It reads
   the sandbox transaction that step 2 opened (the provider's own record), and
   sends the signed ``payment.succeeded`` notification to
   ``POST /api/v1/payments/notify/sandbox`` exactly as the sandbox's sender does
   (200): the order is paid and its stock sold.

Figures: paid orders a second with 1, 8 and 32 clients (each the count of
orders whose notification was answered in a ``WINDOW``-second window after a
warm-up), and the latency of the whole path. Then ``HOT_BUYERS`` clients buy
one unit at a time of one SKU with ``HOT_STOCK`` in stock until it is sold out:
every sale must be paid, and none oversold. After each run the database is
checked: every order counted is paid with one succeeded payment, stock on hand
fell by exactly the units sold and nothing stays reserved.

``SIYU_BENCH_WITH_WORKER=1`` runs ``siyu worker`` beside the server (the outbox
dispatcher and scheduled jobs sharing the two cores, as in production).
"""

from __future__ import annotations

import os
import random
import secrets
import statistics
import string
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Sum

from harness import Result
from serving import Answer, Connection, server
from siyu.catalog.services import SkuInput
from siyu.catalog.testing import make_product
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant
from siyu.customers.models import Customer
from siyu.customers.session import CUSTOMERS_KEY
from siyu.customers.testing import make_customer
from siyu.inventory import services as inventory
from siyu.inventory.models import Location, StockLevel
from siyu.orders.models import Order
from siyu.orders.testing import stock
from siyu.payments.models import Payment
from siyu.payments.sandbox import provider, signing
from siyu.stores.testing import make_store

CONCURRENCY = (1, 8, 32)
WARM_UP = 3.0  # seconds before each window
WINDOW = float(os.environ.get("SIYU_BENCH_WINDOW", "10"))  # seconds counted
HOT_BUYERS = 64
HOT_STOCK = 600
SKUS = 12
PLENTY = 1_000_000
SERVER_WORKERS = int(os.environ.get("SIYU_BENCH_WORKERS", "2"))
SERVER_THREADS = int(os.environ.get("SIYU_BENCH_THREADS", "8"))


@dataclass
class Shop:
    merchant: Merchant
    store_id: int
    location: Location
    sku_ids: list[int]
    hot_sku_id: int
    customers: list[Customer]


@dataclass
class Tally:
    """What one client did: finished orders (with their latency), refusals, errors."""

    finished: list[tuple[float, float]] = field(default_factory=list)  # (ended at, seconds)
    sold_out: int = 0
    units: int = 0
    errors: list[str] = field(default_factory=list)


def _csrf_secret() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


def _session_headers(customer: Customer) -> dict[str, str]:
    """A logged-in browser of ``customer``: its session cookie and CSRF token."""
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[CUSTOMERS_KEY] = {str(customer.merchant_id): customer.pk}
    store.save()
    csrf = _csrf_secret()
    return {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={store.session_key}; "
        f"{settings.CSRF_COOKIE_NAME}={csrf}",
        "X-CSRFToken": csrf,
    }


def seed(customers: int) -> Shop:
    merchant = make_merchant(slug=f"bench-shop-{secrets.token_hex(3)}", name="Bench Shop")
    store = make_store(merchant, name="Bench store", pickup_enabled=True)
    with merchant_context(merchant):
        location = inventory.location_for_store(store)
    products = [
        make_product(
            merchant,
            f"Bench coffee {n}",
            skus=[SkuInput(code=f"BENCH-{n}", price=1200 + 100 * n)],
            status="on_sale",
        )
        for n in range(SKUS)
    ]
    hot = make_product(
        merchant, "Hot item", skus=[SkuInput(code="HOT-1", price=990)], status="on_sale"
    )
    with merchant_context(merchant):
        skus = [product.skus.get() for product in products]
        hot_sku = hot.skus.get()
    for sku in skus:
        stock(location, sku, PLENTY)
    stock(location, hot_sku, HOT_STOCK)
    people = [make_customer(merchant) for _ in range(customers)]
    return Shop(merchant, store.pk, location, [s.pk for s in skus], hot_sku.pk, people)


def _provider_notification(out_trade_no: str) -> tuple[bytes, dict[str, str]]:
    """What the sandbox provider sends when the customer has paid: body and signed headers."""
    tx = provider.by_out_trade_no(out_trade_no)
    if tx is None:
        raise AssertionError(f"the sandbox opened no transaction {out_trade_no}")
    body = provider.notification_body(
        tx,
        "payment.succeeded",
        notification_id=f"evt_{secrets.token_hex(12)}",
        occurred_at=datetime.now(UTC),
        amount=tx.amount,
    ).encode()
    headers = {
        signing.SIGNATURE_HEADER: signing.sign(body, settings.SANDBOX_GATEWAY_KEY, int(time.time()))
    }
    return body, headers


class Buyer:
    """One customer's browser (and, for step 3, the provider answering for it)."""

    def __init__(self, port: int, shop: Shop, customer: Customer) -> None:
        self.shop = shop
        self.base = f"/api/v1/storefront/{shop.merchant.slug}"
        self.http = Connection(port, _session_headers(customer))
        self.provider = Connection(port)
        self.random = random.Random(customer.pk)

    def buy(self, items: Sequence[tuple[int, int]]) -> str:
        """One order's whole path; answers "paid", "sold_out" or raises with what went wrong."""
        placed = self.http.post_json(
            f"{self.base}/orders",
            {
                "fulfilment": "pickup",
                "store_id": self.shop.store_id,
                "items": [{"sku_id": sku, "quantity": qty} for sku, qty in items],
            },
            {"Idempotency-Key": secrets.token_hex(16)},
        )
        if placed.status == 409 and placed.json().get("error") == "out_of_stock":
            return "sold_out"
        order = _expect(placed, 201, "place the order")
        paying = _expect(
            self.http.post_json(f"{self.base}/orders/{order['id']}/pay", {}), 200, "pay"
        )
        body, headers = _provider_notification(paying["payment"]["out_trade_no"])
        answer = self.provider.request("POST", "/api/v1/payments/notify/sandbox", body, headers)
        _expect(answer, 200, "notify")
        return "paid"

    def close(self) -> None:
        self.http.close()
        self.provider.close()


def _expect(answer: Answer, status: int, step: str) -> Any:
    if answer.status != status:
        raise AssertionError(f"{step}: {answer.status} {answer.body[:300]!r}")
    return answer.json()


def _run_buyers(
    buyers: Sequence[Buyer],
    next_items: Callable[[Buyer], Sequence[tuple[int, int]]],
    *,
    until: float | None,
) -> list[Tally]:
    """Each buyer in its own thread, buying until ``until`` (monotonic) or sold out."""
    tallies = [Tally() for _ in buyers]

    def loop(buyer: Buyer, tally: Tally) -> None:
        try:
            while until is None or time.monotonic() < until:
                items = next_items(buyer)
                started = time.monotonic()
                try:
                    outcome = buyer.buy(items)
                except AssertionError as exc:
                    tally.errors.append(str(exc))
                    if len(tally.errors) > 5:
                        return
                    continue
                if outcome == "sold_out":
                    tally.sold_out += 1
                    return
                ended = time.monotonic()
                tally.finished.append((ended, ended - started))
                tally.units += sum(qty for _, qty in items)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=loop, args=(b, t), daemon=True)
        for b, t in zip(buyers, tallies, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tallies


def _finish(buyers: Sequence[Buyer], tallies: Sequence[Tally]) -> None:
    """Close the buyers' connections; any order that went wrong fails the benchmark."""
    for buyer in buyers:
        buyer.close()
    errors = [e for t in tallies for e in t.errors]
    if errors:
        raise AssertionError(f"{len(errors)} orders failed, e.g. {errors[0]}")


def _on_hand(location: Location, sku_ids: Sequence[int]) -> tuple[int, int]:
    found = StockLevel.unscoped.filter(location=location, sku_id__in=sku_ids).aggregate(
        on_hand=Sum("on_hand"), reserved=Sum("reserved")
    )
    return found["on_hand"] or 0, found["reserved"] or 0


def _check(
    shop: Shop,
    *,
    paid_before: int,
    finished: int,
    units: int,
    sku_ids: Sequence[int],
    on_hand_before: int,
) -> None:
    """The database agrees with what the clients saw."""
    paid = Order.unscoped.filter(merchant=shop.merchant, status=Order.Status.PAID).count()
    if paid - paid_before != finished:
        raise AssertionError(f"{finished} orders finished, {paid - paid_before} paid")
    unpaid = Order.unscoped.filter(merchant=shop.merchant).exclude(status=Order.Status.PAID)
    if unpaid.exists():
        raise AssertionError(f"{unpaid.count()} orders are not paid")
    payments = Payment.unscoped.filter(merchant=shop.merchant, status="succeeded").count()
    if payments != paid:
        raise AssertionError(f"{paid} paid orders, {payments} succeeded payments")
    on_hand, reserved = _on_hand(shop.location, sku_ids)
    if (on_hand, reserved) != (on_hand_before - units, 0):
        raise AssertionError(
            f"stock: on hand {on_hand} (expected {on_hand_before - units}), reserved {reserved}"
        )


def _two_skus(shop: Shop) -> Callable[[Buyer], Sequence[tuple[int, int]]]:
    def items(buyer: Buyer) -> Sequence[tuple[int, int]]:
        first, second = buyer.random.sample(shop.sku_ids, 2)
        return [(first, buyer.random.choice((1, 1, 2))), (second, 1)]

    return items


def _paid_count(shop: Shop) -> int:
    return Order.unscoped.filter(merchant=shop.merchant, status=Order.Status.PAID).count()


def _steady(port: int, shop: Shop, clients: int) -> Result:
    buyers = [Buyer(port, shop, c) for c in shop.customers[:clients]]
    on_hand_before, _ = _on_hand(shop.location, shop.sku_ids)
    paid_before = _paid_count(shop)
    began = time.monotonic()
    window_start = began + WARM_UP
    window_end = window_start + WINDOW
    tallies = _run_buyers(buyers, _two_skus(shop), until=window_end)
    _finish(buyers, tallies)
    every = [f for t in tallies for f in t.finished]
    _check(
        shop,
        paid_before=paid_before,
        finished=len(every),
        units=sum(t.units for t in tallies),
        sku_ids=shop.sku_ids,
        on_hand_before=on_hand_before,
    )
    counted = [seconds for ended, seconds in every if window_start <= ended < window_end]
    latencies = sorted(counted)
    p50 = 1000 * statistics.median(latencies)
    p95 = 1000 * latencies[int(0.95 * (len(latencies) - 1))]
    return Result(
        f"order → pay → notification, {clients} client{'s' if clients > 1 else ''}",
        "paid orders/s",
        len(counted) / WINDOW,
        len(counted),
        f"3 HTTP requests per order; path p50 {p50:.0f} ms, p95 {p95:.0f} ms; "
        f"{WINDOW:.0f} s window after {WARM_UP:.0f} s warm-up",
    )


def _hot(port: int, shop: Shop) -> list[Result]:
    buyers = [Buyer(port, shop, c) for c in shop.customers[:HOT_BUYERS]]
    paid_before = _paid_count(shop)
    started = time.monotonic()
    tallies = _run_buyers(buyers, lambda buyer: [(shop.hot_sku_id, 1)], until=None)
    seconds = time.monotonic() - started
    _finish(buyers, tallies)
    sold = sum(t.units for t in tallies)
    on_hand, reserved = _on_hand(shop.location, [shop.hot_sku_id])
    oversold = max(0, sold - HOT_STOCK) + max(0, -on_hand)
    if sold != HOT_STOCK or on_hand != 0 or reserved != 0:
        raise AssertionError(
            f"hot SKU: {sold} sold of {HOT_STOCK}, on hand {on_hand}, reserved {reserved}"
        )
    _check(
        shop,
        paid_before=paid_before,
        finished=sum(len(t.finished) for t in tallies),
        units=sold,
        sku_ids=[shop.hot_sku_id],
        on_hand_before=HOT_STOCK,
    )
    refused = sum(t.sold_out for t in tallies)
    return [
        Result(
            f"{HOT_BUYERS} buyers, one SKU with {HOT_STOCK} in stock",
            "paid orders/s",
            sold / seconds,
            sold,
            f"sold out in {seconds:.1f} s; then {refused} buyers answered 409 out_of_stock",
        ),
        Result(
            f"{HOT_BUYERS} buyers, one SKU: oversold",
            "units",
            float(oversold),
            sold,
            f"paid {sold} = stock {HOT_STOCK}; on hand 0, reserved 0 afterwards",
        ),
    ]


def _floor(port: int, shop: Shop, clients: int = 8) -> Result:
    """The ceiling the stack itself sets: a logged-in customer's cheapest request.

    ``GET …/account/me`` goes through everything an order's requests go through
    (granian, every middleware, the session, the shop lookup, django-ninja, JSON)
    and reads one row. An order makes three requests, each doing much more; a
    third of this rate is what the path could reach if checkout, payment and
    notification cost nothing of their own.
    """
    buyers = [Buyer(port, shop, c) for c in shop.customers[:clients]]
    counts = [0] * clients
    until = time.monotonic() + WARM_UP + WINDOW
    window_start = until - WINDOW

    def loop(n: int) -> None:
        try:
            while (now := time.monotonic()) < until:
                answer = buyers[n].http.request("GET", f"{buyers[n].base}/account/me")
                if answer.status != 200:
                    raise AssertionError(f"account/me: {answer.status} {answer.body[:200]!r}")
                if now >= window_start:
                    counts[n] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=loop, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for buyer in buyers:
        buyer.close()
    total = sum(counts)
    return Result(
        f"floor: GET …/account/me, {clients} clients",
        "req/s",
        total / WINDOW,
        total,
        "the cheapest logged-in request through the same stack; a third of it bounds "
        "orders/s even if an order's own work cost nothing",
    )


def run() -> list[Result]:
    shop = seed(max(max(CONCURRENCY), HOT_BUYERS))
    results: list[Result] = []
    with_worker = os.environ.get("SIYU_BENCH_WITH_WORKER") == "1"
    with server(workers=SERVER_WORKERS, threads=SERVER_THREADS, with_worker=with_worker) as port:
        for clients in CONCURRENCY:
            results.append(_steady(port, shop, clients))
        results += _hot(port, shop)
        results.append(_floor(port, shop))
    setup = f"granian {SERVER_WORKERS} workers × {SERVER_THREADS} threads" + (
        ", with the worker" if with_worker else ""
    )
    for result in results:
        result.notes = f"{result.notes}; {setup}"
    return results
