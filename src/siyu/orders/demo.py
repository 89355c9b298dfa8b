"""The demo's customers and their year of orders, written as history.

``siyu demo`` adds about ``--customers`` customers (20,000 by default) and the
orders they placed over the past year (about 7.5 per customer), drawn from the
behavioural model in :mod:`siyu.orders.demo_model`: customers with Chinese
names and +86 mobile numbers, delivery addresses, orders with their line
snapshots, payments through the sandbox gateway (and the sandbox provider's own
records, so refunding a demo order from the console works), refunds with their
lines, and each order's timeline.

History is imported, not replayed. Going through the services would take
hours (each order locks, reserves stock, audits and emits events), so the rows
are written directly, in large batches, inside the demo's transaction. Every
rule the services keep still holds, and ``tests/orders/test_demo.py`` checks
them: totals are the sum of the lines plus the delivery fee, refunds never
exceed what was paid per line and per order, statuses agree with their
timestamps, payments add up to the totals, every row belongs to the merchant.

Three things the services would do are deliberately left out:

* **Stock.** Historical orders do not move stock: the stock levels the
  inventory's demo set are today's counts, which already reflect a year of
  sales. So history's refunds put nothing back either (``restock`` off). An
  open demo order that staff refund with restock adds its units back, as a
  real return would.
* **Domain events.** None are emitted for history: 150,000 orders would put
  half a million rows in the outbox and, once the worker runs, fire webhooks,
  commissions and points for purchases that happened long ago. Consumers that
  need history (analytics) read the tables.
* **Audit entries.** History was not done by anyone on the staff.

Why not ``bulk_create``: measured on this machine it writes about 3,200
orders or 10,000 timeline rows a second on SQLite (the ORM prepares every
field of every row), which would put the demo at three minutes.
:class:`siyu.core.demo.BulkInsert` writes the same rows as prepared values (multi-row
``INSERT`` on SQLite, ``COPY`` on PostgreSQL), with every column the caller does not give
filled from the field's default, so a field another app adds later needs no change here
unless it has no default.
"""

from __future__ import annotations

import gc
import json
import math
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from itertools import accumulate
from typing import Any, cast

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.utils.translation import gettext

from siyu.catalog.models import Category, Product, ProductStore, Sku
from siyu.core import clock
from siyu.core.demo import BulkInsert, DemoContext, foreign_keys_checked_once
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer, CustomerAddress
from siyu.inventory import services as inventory
from siyu.orders import demo_model as model
from siyu.orders import numbers
from siyu.orders import services as order_services
from siyu.orders.models import Order, OrderEvent, OrderLine, OrderRefund, ShippingSettings
from siyu.orders.pricing import PricingLine, ShippingRule, price_cart
from siyu.payments.models import Payment, Refund, RefundLine, SandboxRefund, SandboxTransaction
from siyu.payments.services import notify_url
from siyu.stores.models import Store

DEFAULT_CUSTOMERS = 20_000
GATEWAY = "sandbox"
# The same alphabet as siyu.core.ids.short_code: payment and refund numbers look alike.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

# Catalog categories of the demo menu → what the model does with them.
CATEGORY_KINDS = {
    "意式咖啡": model.DRINK,
    "手冲咖啡": model.DRINK,
    "茶饮": model.DRINK,
    "咖啡": model.DRINK,
    "酥点": model.PASTRY,
    "面包": model.BREAD,
    "烘焙": model.PASTRY,
    "蛋糕": model.CAKE,
    "咖啡豆": model.BEANS,
    "周边": model.MERCH,
}

# Mobile prefixes of the three carriers (all valid numbers for libphonenumber).
MOBILE_PREFIXES = (
    *(f"13{d}" for d in range(10)),
    *("150", "151", "152", "153", "155", "156", "157", "158", "159"),
    *("166", "176", "177"),
    *(f"18{d}" for d in range(10)),
    *("191", "198", "199"),
)
# Surnames by frequency (the most common Chinese surnames, roughly by share).
SURNAMES = (
    ("王", 7.1), ("李", 7.0), ("张", 6.8), ("刘", 5.4), ("陈", 4.5), ("杨", 3.1), ("黄", 2.2),
    ("赵", 2.0), ("吴", 2.0), ("周", 1.9), ("徐", 1.5), ("孙", 1.4), ("马", 1.3), ("朱", 1.2),
    ("胡", 1.1), ("郭", 1.1), ("何", 1.0), ("林", 1.0), ("高", 1.0), ("罗", 0.9), ("郑", 0.9),
    ("梁", 0.8), ("谢", 0.7), ("宋", 0.7), ("唐", 0.7), ("许", 0.6), ("韩", 0.6), ("冯", 0.6),
    ("邓", 0.6), ("曹", 0.5), ("彭", 0.5), ("曾", 0.5), ("肖", 0.5), ("田", 0.5), ("董", 0.5),
    ("潘", 0.4), ("袁", 0.4), ("蔡", 0.4), ("蒋", 0.4), ("余", 0.4), ("于", 0.4), ("杜", 0.4),
    ("叶", 0.4), ("程", 0.4), ("魏", 0.3), ("苏", 0.3), ("吕", 0.3), ("丁", 0.3), ("沈", 0.3),
    ("欧阳", 0.05), ("上官", 0.02),
)  # fmt: skip
GIVEN_NAME_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉鑫宇浩然子轩梓涵"
    "欣怡雨晨思远嘉琪佳怡诗雨一诺博文晓雯若曦俊杰家豪婷婷雪莹亦凡天佑梦琪心怡可馨"
)
NAMELESS_SHARE = 0.15  # customers who never filled in a name: shown by phone

# Streets by district, for delivery addresses near a customer's home store.
STREETS = {
    "静安区": (
        "南京西路",
        "愚园路",
        "延安中路",
        "常德路",
        "北京西路",
        "江宁路",
        "武定路",
        "西康路",
    ),
    "徐汇区": ("漕溪北路", "肇嘉浜路", "衡山路", "天钥桥路", "虹桥路", "宛平南路", "建国西路"),
    "黄浦区": ("淮海中路", "西藏中路", "复兴中路", "马当路", "瑞金二路", "福州路", "河南南路"),
    "浦东新区": (
        "世纪大道",
        "张杨路",
        "东方路",
        "浦东南路",
        "锦绣路",
        "花木路",
        "源深路",
        "商城路",
    ),
    "长宁区": ("长宁路", "天山路", "仙霞路", "娄山关路", "定西路", "武夷路", "虹桥路"),
    "杨浦区": ("国定路", "淞沪路", "黄兴路", "政通路", "四平路", "控江路", "邯郸路"),
    "闵行区": ("七莘路", "沪闵路", "莘松路", "虹井路", "古美路", "宜山路", "都市路"),
    "普陀区": ("长寿路", "曹杨路", "武宁路", "真北路", "中山北路"),
    "虹口区": ("四川北路", "曲阳路", "大连路", "东江湾路", "欧阳路"),
}
OTHER_STREETS = ("人民路", "中山路", "解放路", "建设路", "新华路")
POSTAL_CODES = {
    "静安区": "200040",
    "徐汇区": "200030",
    "黄浦区": "200021",
    "浦东新区": "200120",
    "长宁区": "200050",
    "杨浦区": "200433",
    "闵行区": "201100",
    "普陀区": "200333",
    "虹口区": "200080",
}
BUILDINGS = ("大厦", "广场", "中心", "国际", "科技园")
CARRIERS = (("顺丰同城", "SF"), ("闪送", "SS"), ("达达快送", "DD"), ("美团配送", "MT"))
# What customers give as the reason when they cancel an unpaid order themselves.
CUSTOMER_CANCEL_REASONS = ("重新下单", "选错门店了", "不想要了", "忘了用券")


def STEPS(options: Mapping[str, Any]) -> int:  # the demo contract's name
    """One step per 250 customers simulated, one per 100 written, and two for set-up."""
    customers = max(0, int(options.get("customers", DEFAULT_CUSTOMERS)))
    return 2 + _simulation_steps(customers) + _writing_steps(customers)


def _simulation_steps(customers: int) -> int:
    return math.ceil(customers / 250)


def _writing_steps(customers: int) -> int:
    return math.ceil(customers / 100)


def seed(ctx: DemoContext) -> None:
    """Write ``ctx.options["customers"]`` customers and their year of orders for the merchant.

    Reads the stores and SKUs the earlier generators left in ``ctx.shared`` (or the
    database). Leaves the history's figures in ``ctx.shared["orders_summary"]`` and who joined a
    store group when in ``ctx.shared["group_joins"]`` (see :func:`group_joins`), for the
    community demo to seat.
    """
    customers = max(0, int(ctx.options.get("customers", DEFAULT_CUSTOMERS)))
    with merchant_context(ctx.merchant), transaction.atomic(), _no_cyclic_collection():
        _seed(ctx, customers)
    # the CRM's profiles, home stores, statistics and RFM scores, tags, segments and auto-tag
    # rules, now that the customers and their orders exist
    from siyu.customers import demo_profiles, demo_segments

    demo_profiles.seed(ctx)
    demo_segments.seed(ctx)
    demo_segments.seed_after_orders(ctx)


@contextmanager
def _no_cyclic_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the history is made and written.

    Millions of tuples are built and dropped; each full collection walks every object
    alive (the whole history) and frees nothing, since none of it forms cycles (reference
    counting frees it). Measured: a third of the model's time and a sixth of the writer's.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- reading what the earlier generators made -------------------------------------------------------


def _stores(ctx: DemoContext) -> list[Store]:
    stores = ctx.shared.get("stores")
    if stores is None:
        stores = list(Store.objects.order_by("pk"))
    return list(stores)


def _sites(
    stores: Sequence[Store], rng: random.Random, now: datetime, start: datetime
) -> list[model.StoreSite]:
    sites = []
    for store in stores:
        closed_from = None
        if store.status != Store.Status.OPEN:
            # a store closed for now (refit) or for good: orders there stop on its closing
            # day, three weeks ago when it does not say
            closed = store.closed_at or now - timedelta(days=21)
            closed_from = max(0, int((closed - start).total_seconds()))
        sites.append(
            model.StoreSite(
                key=store.pk,
                latitude=float(store.latitude),
                longitude=float(store.longitude),
                pickup=store.pickup_enabled,
                # some neighbourhoods are busier (offices, malls)
                weight=rng.lognormvariate(0.0, 0.35),
                closed_from=closed_from,
            )
        )
    return sites


def _menu(ctx: DemoContext) -> tuple[list[model.MenuItem], dict[int, Sku]]:
    """The SKUs on sale, as menu items, and the SKUs by id (for the line snapshots)."""
    skus = ctx.shared.get("skus")
    if skus is None:
        skus = list(Sku.objects.filter(active=True).select_related("product").order_by("pk"))
    skus = [s for s in skus if s.active and s.product.status == Product.Status.ON_SALE]
    category_ids = {s.product.category_id for s in skus if s.product.category_id}
    categories = Category.objects.in_bulk(category_ids)
    parents = Category.objects.in_bulk(
        {c.parent_id for c in categories.values() if c.parent_id is not None}
    )
    limited = [s.product_id for s in skus if not s.product.sold_in_all_stores]
    sold_at: dict[int, set[int]] = {}
    for product_id, store_id in ProductStore.objects.filter(product_id__in=limited).values_list(
        "product_id", "store_id"
    ):
        sold_at.setdefault(product_id, set()).add(store_id)
    items = []
    for sku in skus:
        category = categories.get(sku.product.category_id or 0)
        kind = model.DRINK  # a menu of its own: everything counts as the main item
        if category is not None:
            parent = parents.get(category.parent_id or 0)
            kind = CATEGORY_KINDS.get(
                category.name, CATEGORY_KINDS.get(parent.name if parent else "", model.DRINK)
            )
        items.append(
            model.MenuItem(
                key=sku.pk,
                product=sku.product_id,
                kind=kind,
                price=int(sku.price),
                options=dict(sku.options or {}),
                stores=None
                if sku.product.sold_in_all_stores
                else frozenset(sold_at.get(sku.product_id, ())),
            )
        )
    return items, {s.pk: s for s in skus}


def _shipping(ctx: DemoContext, params: model.Parameters) -> model.Parameters:
    """The merchant's delivery fee rule: the one it has, or the model's, set through the service."""
    row = ShippingSettings.objects.first()
    if row is None:
        order_services.set_shipping_rule(
            ctx.owner, flat_fee=params.delivery_fee, free_over=params.free_delivery_from
        )
        return params
    return replace(params, delivery_fee=int(row.flat_fee), free_delivery_from=row.free_over)


# --- writing rows fast --------------------------------------------------------------------------------


def _reserve_ids(model_class: type[models.Model], count: int) -> Sequence[int]:
    """``count`` primary keys for rows written with explicit ids.

    PostgreSQL hands them out from the table's sequence (safe with other writers).
    SQLite continues after the largest id ever used; the demo's transaction holds
    SQLite's write lock (``BEGIN IMMEDIATE``), so no one else inserts meanwhile.
    """
    if count == 0:
        return []
    table = model_class._meta.db_table
    pk = str(model_class._meta.pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, count],
            )
            return [row[0] for row in cursor.fetchall()]
        quote = connection.ops.quote_name
        cursor.execute(f"SELECT MAX({quote(pk)}) FROM {quote(table)}")  # noqa: S608
        top = cursor.fetchone()[0] or 0
        if connection.vendor == "sqlite":
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            found = cursor.fetchone()
            top = max(top, found[0] if found else 0)
    return range(top + 1, top + 1 + count)


class _Times:
    """Model seconds (since local midnight of the window's first day) → database text.

    The text is what Django itself stores: on SQLite the naive UTC time
    (``2026-03-01 01:30:00``), elsewhere the same with ``+00:00``. Two million
    of them are written, so they are put together from a table of dates and one
    of the 86,400 times of day rather than through ``datetime``.
    """

    def __init__(self, start: datetime, days: int) -> None:
        self.naive = start.astimezone(UTC).replace(tzinfo=None)
        prepared = connection.ops.adapt_datetimefield_value(start)
        suffix = "" if isinstance(prepared, str) else "+00:00"
        if isinstance(prepared, str) and prepared != str(self.naive):
            raise ImproperlyConfigured(f"unexpected datetime text {prepared!r}")
        midnight = datetime.combine(self.naive.date(), time(0))
        self.offset = int((self.naive - midnight).total_seconds())
        first = self.naive.date()
        self.dates = [f"{first + timedelta(days=d)} " for d in range(days + 3)]
        self.compact_dates = [f"{first + timedelta(days=d):%Y%m%d}" for d in range(days + 3)]
        self.clock = [
            f"{h:02d}:{m:02d}:{s:02d}{suffix}"
            for h in range(24)
            for m in range(60)
            for s in range(60)
        ]

    def __call__(self, seconds: int | None) -> str | None:
        if seconds is None:
            return None
        day, rest = divmod(seconds + self.offset, model.DAY)
        return self.dates[day] + self.clock[rest]

    def utc_date(self, seconds: int) -> str:
        """``20260301``: the UTC date, as the payments app dates its numbers."""
        return self.compact_dates[(seconds + self.offset) // model.DAY]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _Progress:
    """Spreads ``steps`` of the demo's bar over ``total`` units of work."""

    def __init__(self, advance: Callable[[int], None], steps: int, total: int) -> None:
        self.advance, self.steps, self.total = advance, steps, max(total, 1)
        self.done = 0
        self.reported = 0

    def __call__(self, units: int) -> None:
        self.done += units
        due = min(self.steps, self.steps * self.done // self.total)
        if due > self.reported:
            self.advance(due - self.reported)
            self.reported = due

    def finish(self) -> None:
        if self.reported < self.steps:
            self.advance(self.steps - self.reported)
            self.reported = self.steps


# --- people and places ----------------------------------------------------------------------------------


def _phones(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    phones: list[str] = []
    seen = set(taken)
    while len(phones) < count:
        phone = f"+86{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
        if phone not in seen:
            seen.add(phone)
            phones.append(phone)
    return phones


_SURNAME_CUMULATIVE = list(accumulate(share for _surname, share in SURNAMES))


def _name(rng: random.Random) -> str:
    if rng.random() < NAMELESS_SHARE:
        return ""
    surname = rng.choices(SURNAMES, cum_weights=_SURNAME_CUMULATIVE)[0][0]
    given = rng.choice(GIVEN_NAME_CHARS)
    if rng.random() < 0.7:  # two-character given names are the most common
        given += rng.choice(GIVEN_NAME_CHARS)
    return surname + given


def _street(rng: random.Random, district: str) -> str:
    road = rng.choice(STREETS.get(district, OTHER_STREETS))
    number = rng.randint(1, 1800)
    if rng.random() < 0.35:  # an office
        return f"{road}{number}号{road[:2]}{rng.choice(BUILDINGS)}{rng.randint(2, 38)}层"
    return f"{road}{number}弄{rng.randint(1, 30)}号{rng.randint(1, 28)}{rng.randint(1, 4):02d}室"


# --- the history -------------------------------------------------------------------------------------------


def _seed(ctx: DemoContext, customers: int) -> None:
    rng = ctx.rng
    merchant = ctx.merchant
    ctx.advance(1)
    params = _shipping(ctx, model.Parameters())
    now = clock.now()
    zone = clock.zone(merchant.time_zone)
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=params.days)
    start = datetime.combine(first_day, time(0), tzinfo=zone)
    now_seconds = int((now - start).total_seconds())

    stores = _stores(ctx)
    store_by_id = {s.pk: s for s in stores}
    sites = _sites(stores, rng, now, start)
    items, skus = _menu(ctx)

    simulated = _Progress(ctx.advance, _simulation_steps(customers), customers)
    history = model.simulate(
        rng,
        customers=customers,
        start=first_day,
        now=now_seconds,
        sites=sites,
        menu=items,
        params=params,
        progress=simulated,
    )
    simulated.finish()
    ctx.shared["orders_summary"] = model.summary(history)
    # Numbers that must be unique across merchants (payments, refunds, the provider's ids)
    # come from a generator of their own, seeded by the demo's seed and this merchant.
    ids_rng = random.Random(f"{rng.getrandbits(64)}:{merchant.pk}")
    writer = _Writer(
        ctx, history, params, store_by_id, skus, _Times(start, params.days), now, ids_rng
    )
    writer.write()
    ctx.shared["group_joins"] = group_joins(history, writer.customer_pk, start)
    ctx.advance(1)


def group_joins(
    history: model.History, customer_ids: Sequence[int], start: datetime
) -> dict[int, tuple[datetime, int] | None]:
    """Who joined a store group in the simulation, when, and near which store, by customer id.

    The model raises a customer's purchase rate from the moment they join, so the community
    demo must seat exactly these customers at exactly these times for the uplift to be in the
    data analytics reads. Every simulated customer is a key: ``(joined_at, home store id)``
    for a member, ``None`` for one who never joined (the community demo leaves them out
    rather than drawing a membership of its own). ``start`` is the window's first local
    midnight, which model times count from.
    """
    origin = start.astimezone(UTC)  # elapsed seconds, as _Times counts them (DST-proof)
    joins: dict[int, tuple[datetime, int] | None] = {}
    for person in history.customers:
        joined = person.group_joined_at
        joins[customer_ids[person.index]] = (
            None if joined is None else (origin + timedelta(seconds=joined), person.home)
        )
    return joins


# the tables the history writes (their foreign keys are checked once, at the end, on PostgreSQL)
HISTORY_TABLES = (
    Customer,
    CustomerAddress,
    Order,
    OrderLine,
    Payment,
    SandboxTransaction,
    Refund,
    RefundLine,
    SandboxRefund,
    OrderRefund,
    OrderEvent,
)


class _Writer:
    def __init__(
        self,
        ctx: DemoContext,
        history: model.History,
        params: model.Parameters,
        stores: Mapping[int, Store],
        skus: Mapping[int, Sku],
        times: _Times,
        now: datetime,
        ids_rng: random.Random,
    ) -> None:
        self.ctx = ctx
        self.merchant = ctx.merchant
        self.rng = ctx.rng
        self.ids_rng = ids_rng
        self.history = history
        self.params = params
        self.stores = stores
        self.skus = skus
        self.times = times
        self.now = now
        self.staff_label = ctx.owner.label or "owner"
        orders = history.orders
        paid = [o for o in orders if o.paid_at is not None]
        refunds = sum(len(o.refunds) for o in orders)
        refund_lines = sum(len(r.lines) for o in orders for r in o.refunds)
        delivery_customers = {o.customer for o in orders if o.fulfilment == model.DELIVERY}
        # rows to write, for the progress bar (events: about 3.3 an order)
        self.expected = (
            len(history.customers)
            + len(delivery_customers)
            + len(orders)
            + sum(len(o.lines) for o in orders)
            + 2 * len(paid)
            + 3 * refunds
            + refund_lines
            + int(3.4 * len(orders))
        )

    def write(self) -> None:
        progress = _Progress(
            self.ctx.advance, _writing_steps(len(self.history.customers)), self.expected
        )
        with foreign_keys_checked_once(HISTORY_TABLES):
            customer_ids = self._customers(progress)
            self.customer_pk = customer_ids
            addresses = self._addresses(customer_ids, progress)
            order_ids, line_ids = self._orders(customer_ids, addresses, progress)
            payment_ids, transaction_ids = self._payments(order_ids, progress)
            self._refunds(order_ids, line_ids, payment_ids, transaction_ids, progress)
            self._events(customer_ids, order_ids, line_ids, progress)
        progress.finish()

    # customers

    def _customers(self, progress: _Progress) -> list[int]:
        """Customer rows in the order they joined; answers the pk of each model customer."""
        people = sorted(self.history.customers, key=lambda c: (c.joined_at, c.index))
        taken = set(Customer.objects.values_list("phone", flat=True))
        phones = _phones(self.rng, len(people), taken)
        ids = _reserve_ids(Customer, len(people))
        by_index = [0] * len(people)
        times = self.times
        rows = []
        for pk, person, phone in zip(ids, people, phones, strict=True):
            by_index[person.index] = pk
            rows.append(
                (
                    pk,
                    self.merchant.pk,
                    phone,
                    _name(self.rng),
                    Customer.Status.ACTIVE.value,
                    person.channel,
                    times(person.joined_at),
                    times(person.last_login_at),
                )
            )
        BulkInsert(
            Customer,
            [
                "id",
                "merchant_id",
                "phone",
                "name",
                "status",
                "join_channel",
                "created_at",
                "last_login_at",
            ],
            self.now,
            times_as_text=True,
        ).write(rows, progress)
        self.phone_of = dict(zip(ids, phones, strict=True))
        self.name_of = {row[0]: row[3] for row in rows}
        return by_index

    def _addresses(self, customer_ids: Sequence[int], progress: _Progress) -> dict[int, str]:
        """One delivery address for each customer who had something delivered; answers the
        order's snapshot of it (JSON text) by model customer."""
        first_delivery: dict[int, int] = {}
        for order in self.history.orders:
            if order.fulfilment == model.DELIVERY and order.customer not in first_delivery:
                first_delivery[order.customer] = order.placed_at
        people = self.history.customers
        ids = _reserve_ids(CustomerAddress, len(first_delivery))
        found: dict[int, str] = {}
        rows = []
        times = self.times
        for pk, (index, first) in zip(ids, sorted(first_delivery.items()), strict=True):
            person = people[index]
            customer_pk = customer_ids[index]
            home = self.stores.get(person.home)
            district = home.district if home is not None and home.district else "黄浦区"
            # a customer without a name is addressed as 王先生 or 李女士 by the rider
            recipient = self.name_of[customer_pk] or (
                self.rng.choice(SURNAMES)[0] + ("先生" if self.rng.random() < 0.5 else "女士")
            )
            snapshot = {
                "recipient": recipient,
                "phone": self.phone_of[customer_pk],
                "province": "上海市",
                "city": "上海市",
                "district": district,
                "street": _street(self.rng, district),
                "postal_code": POSTAL_CODES.get(district, "200000"),
            }
            found[index] = _json(snapshot)
            added = times(max(person.joined_at, first - 60))
            rows.append(
                (
                    pk,
                    self.merchant.pk,
                    customer_pk,
                    snapshot["recipient"],
                    snapshot["phone"],
                    snapshot["province"],
                    snapshot["city"],
                    snapshot["district"],
                    snapshot["street"],
                    snapshot["postal_code"],
                    f"{person.latitude:.6f}",
                    f"{person.longitude:.6f}",
                    True,
                    added,
                    added,
                )
            )
        BulkInsert(
            CustomerAddress,
            [
                "id",
                "merchant_id",
                "customer_id",
                "recipient",
                "phone",
                "province",
                "city",
                "district",
                "street",
                "postal_code",
                "latitude",
                "longitude",
                "is_default",
                "created_at",
                "updated_at",
            ],
            self.now,
            times_as_text=True,
        ).write(rows, progress)
        return found

    # orders and lines

    def _locations(self) -> tuple[dict[int, int], int | None]:
        """Stock location of each store (created on first use) and the delivery location."""
        by_store = {pk: inventory.location_for_store(store).pk for pk, store in self.stores.items()}
        delivery = inventory.delivery_location(self.merchant)
        return by_store, delivery.pk if delivery is not None else None

    def _orders(
        self,
        customer_ids: Sequence[int],
        addresses: Mapping[int, str],
        progress: _Progress,
    ) -> tuple[list[int], list[list[int]]]:
        orders = self.history.orders
        location_of_store, delivery_location = self._locations()
        order_ids = list(_reserve_ids(Order, len(orders)))
        line_ids_flat = _reserve_ids(OrderLine, sum(len(o.lines) for o in orders))
        times = self.times
        rng = self.ids_rng
        # numbers.py's RandomSource wants randrange(stop); random.Random has it
        draw = cast(numbers.RandomSource, rng)
        start = self.history.start
        merchant = self.merchant.pk
        currency = self.merchant.currency or "CNY"
        minutes = self.params.payment_minutes * model.MINUTE
        explain = _Explanations(self.params, currency)
        taken = set(Order.objects.values_list("number", flat=True))
        open_codes: dict[int, set[str]] = {}
        cancelled_by_system = gettext("Not paid in time")
        refunded_in_full = gettext("Refunded in full")
        self.out_trade_no: list[str | None] = []
        self.trade_no_of: dict[int, str] = {}
        self.number_of: dict[int, str] = {}
        self.cancel_reason_of: dict[int, str] = {}
        self.shipments: dict[int, tuple[str, str]] = {}
        line_ids: list[list[int]] = []
        # what a line keeps of its SKU (the snapshot), once per SKU
        snapshots = {
            sku.pk: (
                sku.pk,
                sku.product_id,
                sku.product.name[:120],
                sku.code,
                _json(dict(sku.options or {})),
                sku.list_price,
            )
            for sku in self.skus.values()
        }
        line_rows: list[tuple[Any, ...]] = []
        rows = []
        next_line = 0
        for pk, order in zip(order_ids, orders, strict=True):
            day = start + timedelta(days=order.placed_at // model.DAY)
            number = numbers.order_number(day, draw)
            while number in taken:
                number = numbers.order_number(day, draw)
            taken.add(number)
            pickup = order.fulfilment == model.PICKUP
            code = ""
            if pickup:
                code = numbers.pickup_code(draw)
                if order.status in (model.PAID, model.PREPARING, model.READY_FOR_PICKUP):
                    used = open_codes.setdefault(order.store, set())
                    while code in used:
                        code = numbers.pickup_code(draw)
                    used.add(code)
            address = None if pickup else addresses[order.customer]
            location = location_of_store[order.store]
            if not pickup and delivery_location is not None:
                location = delivery_location
            carrier = tracking = ""
            if order.shipped_at is not None:
                carrier, prefix = CARRIERS[rng.randrange(len(CARRIERS))]
                tracking = f"{prefix}{rng.randrange(10**12):012d}"
                self.shipments[pk] = (carrier, tracking)
            paid = order.paid_at is not None
            trade_no = f"P{times.utc_date(order.placed_at)}{_code(rng)}" if paid else None
            self.out_trade_no.append(trade_no)
            if trade_no is not None:
                self.trade_no_of[pk] = trade_no
            self.number_of[pk] = number
            reason = ""
            if order.status == model.CANCELLED:
                if paid:
                    reason = refunded_in_full
                elif order.cancelled_by_customer:
                    reason = CUSTOMER_CANCEL_REASONS[rng.randrange(len(CUSTOMER_CANCEL_REASONS))]
                else:
                    reason = cancelled_by_system
                self.cancel_reason_of[pk] = reason
            rows.append(
                (
                    pk,
                    merchant,
                    number,
                    customer_ids[order.customer],
                    order.status,
                    order.refund_state,
                    order.fulfilment,
                    order.store,
                    location,
                    address,
                    currency,
                    order.subtotal,
                    0,
                    order.shipping_fee,
                    order.total,
                    order.refunded_total,
                    explain(order, sum(line.quantity for line in order.lines)),
                    code,
                    carrier,
                    tracking,
                    times(order.placed_at + minutes),
                    trade_no or "",
                    reason,
                    "storefront",
                    times(order.placed_at),
                    times(order.paid_at),
                    times(order.completed_at),
                    times(order.cancelled_at),
                    times(order.last_change_at),
                )
            )
            ids = []
            for line in order.lines:
                line_pk = line_ids_flat[next_line]
                next_line += 1
                ids.append(line_pk)
                sku_id, product_id, name, code, options, list_price = snapshots[line.item.key]
                line_rows.append(
                    (
                        line_pk,
                        merchant,
                        pk,
                        sku_id,
                        product_id,
                        name,
                        code,
                        options,
                        line.item.price,
                        list_price,
                        line.quantity,
                        0,
                        line.item.price * line.quantity,
                        line.refunded_quantity,
                        line.refunded_amount,
                    )
                )
            line_ids.append(ids)
        BulkInsert(
            Order,
            [
                "id",
                "merchant_id",
                "number",
                "customer_id",
                "status",
                "refund_state",
                "fulfilment",
                "store_id",
                "location_id",
                "shipping_address",
                "currency",
                "subtotal",
                "discount_total",
                "shipping_fee",
                "total",
                "refunded_total",
                "pricing",
                "pickup_code",
                "carrier",
                "tracking_number",
                "payment_deadline",
                "payment_reference",
                "cancel_reason",
                "channel",
                "placed_at",
                "paid_at",
                "completed_at",
                "cancelled_at",
                "updated_at",
            ],
            self.now,
            times_as_text=True,
        ).write(rows, progress)
        BulkInsert(
            OrderLine,
            [
                "id",
                "merchant_id",
                "order_id",
                "sku_id",
                "product_id_snapshot",
                "product_name",
                "sku_code",
                "options",
                "unit_price",
                "list_price",
                "quantity",
                "discount",
                "line_total",
                "refunded_quantity",
                "refunded_amount",
            ],
            self.now,
            times_as_text=True,
        ).write(line_rows, progress)
        return order_ids, line_ids

    # payments, the provider's records, refunds

    def _payments(
        self, order_ids: Sequence[int], progress: _Progress
    ) -> tuple[dict[int, int], dict[int, int]]:
        """One succeeded sandbox payment per paid order, and the sandbox's transaction for it.

        The provider's transaction lets staff refund a demo order through the sandbox as
        they would a new one. A paid payment keeps no pay URL (its page is gone).
        """
        orders = self.history.orders
        paid = [
            (pk, order, trade_no)
            for pk, order, trade_no in zip(order_ids, orders, self.out_trade_no, strict=True)
            if trade_no is not None
        ]
        payment_ids = _reserve_ids(Payment, len(paid))
        transaction_ids = _reserve_ids(SandboxTransaction, len(paid))
        times = self.times
        rng = self.ids_rng
        merchant = self.merchant.pk
        currency = self.merchant.currency or "CNY"
        minutes = self.params.payment_minutes * model.MINUTE
        notify = notify_url(GATEWAY)
        described = gettext("Order %(number)s")
        payments = []
        sandbox = []
        by_order: dict[int, int] = {}
        tx_by_order: dict[int, int] = {}
        for payment_pk, tx_pk, (pk, order, trade_no) in zip(
            payment_ids, transaction_ids, paid, strict=True
        ):
            assert order.paid_at is not None
            by_order[pk] = payment_pk
            tx_by_order[pk] = tx_pk
            token = f"{rng.getrandbits(128):032x}"
            transaction_id = f"sbx_{rng.getrandbits(96):024x}"
            opened = times(order.placed_at + 3)
            deadline = times(order.placed_at + minutes)
            paid_at = times(order.paid_at)
            refunds_done = max((r.completed_at for r in order.refunds), default=order.paid_at)
            payments.append(
                (
                    payment_pk,
                    merchant,
                    pk,
                    GATEWAY,
                    trade_no,
                    transaction_id,
                    order.total,
                    currency,
                    Payment.Status.SUCCEEDED.value,
                    opened,
                    times(refunds_done),
                    deadline,
                    paid_at,
                    True,
                    order.refunded_total,
                )
            )
            sandbox.append(
                (
                    tx_pk,
                    merchant,
                    token,
                    transaction_id,
                    trade_no,
                    order.total,
                    currency,
                    order.refunded_total,
                    (described % {"number": self.number_of[pk]})[:200],
                    notify,
                    SandboxTransaction.Status.PAID.value,
                    opened,
                    deadline,
                    paid_at,
                )
            )
        BulkInsert(
            Payment,
            [
                "id",
                "merchant_id",
                "order_id",
                "gateway",
                "out_trade_no",
                "provider_reference",
                "amount",
                "currency",
                "status",
                "created_at",
                "updated_at",
                "expires_at",
                "paid_at",
                "paid_order",
                "refunded_total",
            ],
            self.now,
            times_as_text=True,
        ).write(payments, progress)
        BulkInsert(
            SandboxTransaction,
            [
                "id",
                "merchant_id",
                "token",
                "transaction_id",
                "out_trade_no",
                "amount",
                "currency",
                "refunded",
                "description",
                "notify_url",
                "status",
                "created_at",
                "expires_at",
                "completed_at",
            ],
            self.now,
            times_as_text=True,
        ).write(sandbox, progress)
        return by_order, tx_by_order

    def _refunds(
        self,
        order_ids: Sequence[int],
        line_ids: Sequence[Sequence[int]],
        payment_ids: Mapping[int, int],
        transaction_ids: Mapping[int, int],
        progress: _Progress,
    ) -> None:
        orders = self.history.orders
        made = [
            (pk, lines, order, n, refund)
            for pk, lines, order in zip(order_ids, line_ids, orders, strict=True)
            for n, refund in enumerate(order.refunds)
        ]
        refund_ids = _reserve_ids(Refund, len(made))
        times = self.times
        rng = self.ids_rng
        merchant = self.merchant.pk
        currency = self.merchant.currency or "CNY"
        refunds, refund_lines, sandbox, applied = [], [], [], []
        self.refund_numbers: dict[tuple[int, int], str] = {}
        for refund_pk, (pk, lines, order, n, refund) in zip(refund_ids, made, strict=True):
            number = f"R{times.utc_date(refund.requested_at)}{_code(rng)}"
            self.refund_numbers[(pk, n)] = number
            refund_id = f"sbr_{rng.getrandbits(96):024x}"
            customer_label = f"customer {self.phone_of_order(order)}"
            requested, done = times(refund.requested_at), times(refund.completed_at)
            refunds.append(
                (
                    refund_pk,
                    merchant,
                    pk,
                    payment_ids[pk],
                    number,
                    refund.amount,
                    refund.reason,
                    Refund.Status.SUCCEEDED.value,
                    currency,
                    False,  # history took no stock, so a refund puts none back
                    refund.full,
                    refund.by_customer,
                    customer_label if refund.by_customer else self.staff_label,
                    self.staff_label if refund.by_customer else "",
                    refund_id,
                    1,
                    requested,
                    done,
                    done,
                )
            )
            line_triples = [
                [lines[index], quantity, amount] for index, quantity, amount in refund.lines
            ]
            for line_pk, quantity, amount in line_triples:
                refund_lines.append((merchant, refund_pk, line_pk, quantity, amount))
            sandbox.append((merchant, transaction_ids[pk], number, refund_id, refund.amount, done))
            applied.append(
                (merchant, pk, f"refund:{number}", refund.amount, _json(line_triples), False, done)
            )
        BulkInsert(
            Refund,
            [
                "id",
                "merchant_id",
                "order_id",
                "payment_id",
                "number",
                "amount",
                "reason",
                "status",
                "currency",
                "restock",
                "full",
                "requested_by_customer",
                "actor_label",
                "decided_by",
                "provider_reference",
                "attempts",
                "created_at",
                "updated_at",
                "completed_at",
            ],
            self.now,
            times_as_text=True,
        ).write(refunds, progress)
        BulkInsert(
            RefundLine,
            ["merchant_id", "refund_id", "order_line_id", "quantity", "amount"],
            self.now,
            times_as_text=True,
        ).write(refund_lines, progress)
        BulkInsert(
            SandboxRefund,
            ["merchant_id", "transaction_id", "out_refund_no", "refund_id", "amount", "created_at"],
            self.now,
            times_as_text=True,
        ).write(sandbox, progress)
        BulkInsert(
            OrderRefund,
            ["merchant_id", "order_id", "reference", "amount", "lines", "restocked", "created_at"],
            self.now,
            times_as_text=True,
        ).write(applied, progress)

    def phone_of_order(self, order: model.SimOrder) -> str:
        return self.phone_of[self.customer_pk[order.customer]]

    # the timeline

    def _events(
        self,
        customer_ids: Sequence[int],
        order_ids: Sequence[int],
        line_ids: Sequence[Sequence[int]],
        progress: _Progress,
    ) -> None:
        times = self.times
        merchant = self.merchant.pk
        staff = self.staff_label
        rng = self.rng
        placed_status = Order.Status.PENDING_PAYMENT.value

        def rows() -> Iterable[tuple[Any, ...]]:
            for pk, lines, order in zip(order_ids, line_ids, self.history.orders, strict=True):
                customer = f"customer {customer_ids[order.customer]}"
                events: list[tuple[int, int, str, str, str, str, str, str]] = []
                add = events.append
                quantity = sum(line.quantity for line in order.lines)
                add(
                    (
                        order.placed_at,
                        0,
                        "placed",
                        "",
                        placed_status,
                        customer,
                        "",
                        f'{{"items":{len(order.lines)},"total":{order.total}}}',
                    )
                )
                if order.paid_at is None:
                    assert order.cancelled_at is not None
                    who = customer if order.cancelled_by_customer else "system"
                    by = "customer" if order.cancelled_by_customer else "system"
                    reason = self.cancel_reason_of[pk]
                    add(
                        (
                            order.cancelled_at,
                            1,
                            "cancelled",
                            placed_status,
                            model.CANCELLED,
                            who,
                            reason,
                            f'{{"released_units":{quantity},"by":"{by}"}}',
                        )
                    )
                else:
                    reached = self._paid_events(pk, order, add, staff, customer, rng)
                    self._refund_events(pk, lines, order, add, reached)
                events.sort()
                for moment, _rank, kind, source, target, who, note, data in events:
                    yield (merchant, pk, kind, source, target, who, note, data, times(moment))

        BulkInsert(
            OrderEvent,
            [
                "merchant_id",
                "order_id",
                "kind",
                "from_status",
                "to_status",
                "actor_label",
                "note",
                "data",
                "created_at",
            ],
            self.now,
            times_as_text=True,
        ).write(rows(), progress)

    def _paid_events(
        self,
        pk: int,
        order: model.SimOrder,
        add: Callable[[tuple[int, int, str, str, str, str, str, str]], None],
        staff: str,
        customer: str,
        rng: random.Random,
    ) -> str:
        """Paid, then the fulfilment steps the order went through (collected from paid for
        history's pickups: the counter hands over what was paid). Answers the status reached,
        the one refunds find the order in."""
        assert order.paid_at is not None
        trade_no = self.trade_no_of[pk]
        add(
            (
                order.paid_at,
                1,
                "paid",
                Order.Status.PENDING_PAYMENT.value,
                model.PAID,
                "payments",
                "",
                f'{{"payment_reference":"{trade_no}"}}',
            )
        )
        status = model.PAID
        pickup = order.fulfilment == model.PICKUP
        # history's completed pickups skip the intermediate steps: collected from paid
        steps = not pickup or order.status in (model.PREPARING, model.READY_FOR_PICKUP)
        steps = steps or (order.status == model.CANCELLED and order.preparing_at is not None)
        if steps and order.preparing_at is not None:
            add((order.preparing_at, 2, "preparing", status, model.PREPARING, staff, "", "{}"))
            status = model.PREPARING
        if pickup and order.ready_at is not None and order.status == model.READY_FOR_PICKUP:
            add(
                (
                    order.ready_at,
                    3,
                    "ready_for_pickup",
                    status,
                    model.READY_FOR_PICKUP,
                    staff,
                    "",
                    "{}",
                )
            )
            status = model.READY_FOR_PICKUP
        if not pickup and order.shipped_at is not None:
            carrier, tracking = self.shipments[pk]
            data = _json({"carrier": carrier, "tracking_number": tracking})
            add((order.shipped_at, 3, "shipped", status, model.SHIPPED, staff, "", data))
            status = model.SHIPPED
        if order.completed_at is not None:
            if pickup:
                data = f'{{"store_id":{order.store}}}'
                add((order.completed_at, 4, "collected", status, model.COMPLETED, staff, "", data))
            else:
                who = customer if rng.random() < 0.6 else "system"
                add((order.completed_at, 4, "completed", status, model.COMPLETED, who, "", "{}"))
            status = model.COMPLETED
        return status

    def _refund_events(
        self,
        pk: int,
        lines: Sequence[int],
        order: model.SimOrder,
        add: Callable[[tuple[int, int, str, str, str, str, str, str]], None],
        status: str,
    ) -> None:
        """Each refund; a full one before the order was handed over cancels it."""
        refunded = 0
        for n, refund in enumerate(order.refunds):
            refunded += refund.amount
            state = "full" if refunded >= order.total else "partial"
            number = self.refund_numbers[(pk, n)]
            data = {
                "reference": f"refund:{number}",
                "amount": refund.amount,
                "refunded_total": refunded,
                "refund_state": state,
                "restocked": False,
                "lines": [[lines[i], q, a] for i, q, a in refund.lines],
            }
            add((refund.completed_at, 5, "refunded", "", status, "payments", "", _json(data)))
            if order.status == model.CANCELLED and state == "full":
                add(
                    (
                        refund.completed_at,
                        6,
                        "cancelled",
                        status,
                        model.CANCELLED,
                        "payments",
                        self.cancel_reason_of[pk],
                        '{"by":"payments"}',
                    )
                )


class _Explanations:
    """The pricing explanation stored on history's orders, as JSON text.

    Checkout stores what :meth:`siyu.orders.pricing.PricedCart.explanation` says.
    History keeps the same record without the per-line entries (each order line has
    its own figures) and with ``"history": true``: the figures, with the notes
    pages translate. Pricing every order for real would take a minute; the notes'
    wording is read from the pricing module once, so it stays the pricing's own.
    """

    def __init__(self, params: model.Parameters, currency: str) -> None:
        self.rule = ShippingRule(flat_fee=params.delivery_fee, free_over=params.free_delivery_from)
        self.currency = currency
        sample = price_cart(
            [PricingLine(sku_id=0, quantity=1, unit_price=100)],
            fulfilment=model.PICKUP,
            shipping=self.rule,
            currency=currency,
        )
        notes = sample.notes()
        self.version = sample.explanation()["version"]
        self.subtotal_key = json.dumps(notes["subtotal"].key, ensure_ascii=False)
        self.discounts_key = json.dumps(notes["discounts"].key, ensure_ascii=False)
        self.total_key = json.dumps(notes["total"].key, ensure_ascii=False)
        self.shipping_notes: dict[tuple[str, bool], str] = {}

    def shipping_note(self, order: model.SimOrder) -> str:
        """The rule's note for the order (three kinds: pickup, delivery charged, free)."""
        key = (order.fulfilment, order.shipping_fee > 0)
        note = self.shipping_notes.get(key)
        if note is None:
            fee, explained = self.rule.fee(order.fulfilment, order.subtotal)
            if fee != order.shipping_fee:
                raise AssertionError(f"the model charged {order.shipping_fee}, the rule {fee}")
            note = self.shipping_notes[key] = _json(explained.as_dict())
        return note

    def __call__(self, order: model.SimOrder, items: int) -> str:
        subtotal, fee, total = order.subtotal, order.shipping_fee, order.total
        return (
            f'{{"version":{self.version},"currency":"{self.currency}",'
            f'"fulfilment":"{order.fulfilment}","history":true,"discounts":[],'
            f'"subtotal":{{"amount":{subtotal},"note":{{"key":{self.subtotal_key},'
            f'"params":{{"count":{items},"amount":{subtotal}}}}}}},'
            f'"discount_total":{{"amount":0,"note":{{"key":{self.discounts_key},'
            f'"params":{{"amount":0}}}}}},'
            f'"shipping":{{"amount":{fee},"discount":0,"note":{self.shipping_note(order)}}},'
            f'"total":{{"amount":{total},"note":{{"key":{self.total_key},'
            f'"params":{{"total":{total}}}}}}}}}'
        )


# Every pair of CODE_ALPHABET characters, so that 10 random bits make two at once.
_CODE_PAIRS = [a + b for a in CODE_ALPHABET for b in CODE_ALPHABET]


def _code(rng: random.Random) -> str:
    """Twelve characters of :data:`CODE_ALPHABET` (60 random bits), as ``ids.short_code(12)``."""
    bits = rng.getrandbits(60)
    pairs = _CODE_PAIRS
    return (
        pairs[bits & 1023]
        + pairs[(bits >> 10) & 1023]
        + pairs[(bits >> 20) & 1023]
        + pairs[(bits >> 30) & 1023]
        + pairs[(bits >> 40) & 1023]
        + pairs[bits >> 50]
    )


# --- attribution of the history, once groups and guides exist -------------------------------


def attribute_history(merchant_id: int) -> tuple[int, int]:
    """Attribute the history's orders as checkout attributes new ones (docs/community.md).

    Run after the community and guides generators: an order a group member placed after
    joining came from the group's chat in two cases out of five (channel ``group``, the group
    and its owner as the guide); any other order placed while the customer had an owner guide
    goes to that guide (``guide_id``, channel unchanged). Returns ``(group orders, guide
    orders)``. Set-based: two UPDATEs.
    """
    from siyu.community.models import CommunityGroup, GroupMember
    from siyu.customers.models import Customer

    qn = connection.ops.quote_name
    orders = qn(Order._meta.db_table)
    members = qn(GroupMember._meta.db_table)
    groups = qn(CommunityGroup._meta.db_table)
    customers = qn(Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(  # table names from the models' metadata, values as parameters
            f"""
            UPDATE {orders} SET channel = 'group', group_id = m.group_id, guide_id = g.owner_id
            FROM {members} m JOIN {groups} g ON g.id = m.group_id
            WHERE {orders}.merchant_id = %s AND m.customer_id = {orders}.customer_id
              AND {orders}.placed_at >= m.joined_at
              AND (m.left_at IS NULL OR {orders}.placed_at < m.left_at)
              AND {orders}.group_id IS NULL AND {orders}.id %% 5 < 2
            """,  # noqa: S608
            [merchant_id],
        )
        grouped = cursor.rowcount
        cursor.execute(
            f"""
            UPDATE {orders} SET guide_id = c.owner_guide_id
            FROM {customers} c
            WHERE {orders}.merchant_id = %s AND c.id = {orders}.customer_id
              AND c.owner_guide_id IS NOT NULL AND {orders}.guide_id IS NULL
              AND {orders}.placed_at >= c.owner_since
            """,  # noqa: S608
            [merchant_id],
        )
        return grouped, cursor.rowcount
