"""Demo CRM data on every demo customer, in bulk (fast enough for 20,000 customers).

Runs after the orders' demo has written the customer base and its year of
orders: gender, birthday (and birth month), city (mostly 上海), home store (the
store the customer picked up from most), WeChat openids for about a third,
marketing refusals for a few per cent, staff notes for some; then the
statistics and RFM scores (:mod:`siyu.customers.stats`). These read the analytics sales
facts, and the demo's history is written without events, so its sales are written first
(through the analytics app's own writer; its rebuild at the end of the demo finds them current):
the segments, auto-tag rules and audiences of the generators that follow see real numbers.
"""

# ruff: noqa: S608  (table names come from the models; values are query parameters)

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from django.db import connection, transaction

from siyu.analytics import facts
from siyu.core import clock, ids
from siyu.core.demo import DemoContext, insert_rows
from siyu.core.tenancy import merchant_context
from siyu.customers import stats, windows
from siyu.customers.models import Consent, Customer, CustomerIdentity, CustomerNote

CITIES = (("上海", 0.88), ("苏州", 0.03), ("杭州", 0.03), ("北京", 0.02), ("南京", 0.01))
OPENID_SHARE = 0.35
NOTE_SHARE = 0.02
NOTES = (
    "喜欢燕麦拿铁，少糖",
    "工作日早上 8 点左右到店自提",
    "对乳糖不耐受，推荐植物奶",
    "公司团购联系人，可以推荐企业套餐",
    "生日月送过一张免费券，反馈很好",
    "偏好冰饮，夏天常点椰云拿铁",
    "Prefers oat milk, no sugar",
    "Asked about the loyalty programme; follow up after payday",
)
# (channel, share of customers refusing it)
REFUSALS = (
    (Consent.Channel.SMS, 0.04),
    (Consent.Channel.INBOX, 0.02),
    (Consent.Channel.GROUP, 0.01),
)


def _city(rng: random.Random) -> str:
    roll = rng.random()
    for name, share in CITIES:
        if roll < share:
            return name
        roll -= share
    return ""


def _birthday(rng: random.Random, today: date) -> date | None:
    if rng.random() < 0.18:  # not given
        return None
    age = min(60, max(18, int(rng.gauss(31, 8))))
    return today - timedelta(days=int(age * 365.25) + rng.randrange(365))


def _home_stores(merchant_id: int) -> int:
    """Each customer's home store: the store of most of their orders (ties: the latest)."""
    from siyu.orders.models import Order

    qn = connection.ops.quote_name
    customers, orders = qn(Customer._meta.db_table), qn(Order._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {customers} SET home_store_id = (
                SELECT o.store_id FROM {orders} o
                WHERE o.customer_id = {customers}.id AND o.store_id IS NOT NULL
                GROUP BY o.store_id ORDER BY COUNT(*) DESC, MAX(o.placed_at) DESC LIMIT 1
            )
            WHERE merchant_id = %s AND home_store_id IS NULL
            """,
            [merchant_id],
        )
        return cursor.rowcount


def _write_profiles(rows: list[tuple[str, str, date | None, int | None, int]]) -> None:
    """``(gender, city, birthday, birth month, id)``: one parameterised UPDATE per customer
    through ``executemany`` (a pipeline on PostgreSQL): Django's ``bulk_update`` builds a
    CASE per column over the whole batch, which took 37 s of CPU for 20,000 customers on
    SQLite; this takes well under a second."""
    table = connection.ops.quote_name(Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET gender = %s, city = %s, birthday = %s, birth_month = %s"
            " WHERE id = %s",
            rows,
        )


def seed(ctx: DemoContext) -> None:
    """Profile data, identities, refusals and notes on the merchant's customers; statistics."""
    rng = random.Random(f"crm-{ctx.merchant.pk}")
    today = clock.now().date()
    now = clock.now()
    with merchant_context(ctx.merchant), transaction.atomic():
        _home_stores(ctx.merchant.pk)
        rows = Customer.objects.order_by("pk").values_list("pk", "gender", "city", "birthday")
        identities: list[tuple[Any, ...]] = []
        consents: list[tuple[Any, ...]] = []
        notes: list[tuple[Any, ...]] = []
        changed: list[tuple[str, str, date | None, int | None, int]] = []
        merchant_id = ctx.merchant.pk
        openid = CustomerIdentity.Kind.WECHAT_OPENID.value
        refused = Consent.Status.REFUSED.value
        decided = set(Consent.objects.values_list("customer_id", "channel"))  # one per channel
        for pk, gender, city, birthday in rows:
            if not gender:
                gender = "female" if rng.random() < 0.62 else "male"
            if not city:
                city = _city(rng)
            if birthday is None:
                birthday = _birthday(rng, today)
            changed.append((gender, city, birthday, birthday.month if birthday else None, pk))
            if rng.random() < OPENID_SHARE:
                identities.append((merchant_id, pk, openid, "o" + ids.token(27)))
            for channel, share in REFUSALS:
                if rng.random() < share and (pk, channel.value) not in decided:
                    updated = now - timedelta(days=rng.randrange(200))
                    consents.append(
                        (merchant_id, pk, channel.value, refused, "storefront", updated)
                    )
            if rng.random() < NOTE_SHARE:
                notes.append((merchant_id, pk, ctx.owner.label, rng.choice(NOTES)))
        _write_profiles(changed)
        insert_rows(CustomerIdentity, ("merchant_id", "customer_id", "kind", "value"), identities)
        insert_rows(
            Consent,
            ("merchant_id", "customer_id", "channel", "status", "source", "updated_at"),
            consents,
        )
        insert_rows(CustomerNote, ("merchant_id", "customer_id", "author_label", "text"), notes)
        # The rollups are rebuilt once by the analytics demo, which comes last.
        facts.write_sales(ctx.merchant, maintain=False)
        stats.recompute_all(ctx.merchant)
        stats.score_rfm(ctx.merchant)
        windows.rebuild(ctx.merchant)  # the order windows segments and auto-tag rules read
