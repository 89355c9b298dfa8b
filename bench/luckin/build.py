"""Build one merchant at Luckin Coffee's scale in its own PostgreSQL database.

    python bench/luckin/build.py --postgres postgres://postgres@127.0.0.1:5432/postgres
    python bench/luckin/build.py --postgres URL --rebuild      # drop and build again
    python bench/luckin/build.py --postgres URL --scale 0.01   # 1 % of it (siyu_bench_luckin_1pct)

The database (``siyu_bench_luckin`` on the server of ``URL``; ``--database`` to name
another) is created, migrated with the project's migrations, filled, and marked
built (table ``bench_luckin_dataset``: the parameters, row counts and build time).
When the marker is there the build is skipped (migrations still run), so the
benchmark reuses it. At scale 1:

* 1 merchant, 4,550 stores in 30 cities (each with its stock location), 300
  shopping guides (users with a ``shopping_guide`` membership), 8 categories and
  60 products;
* 1.8 M customers with profile columns (gender, birthday, city, home store, an
  owner guide for 40 %, join channel, created over 3 years) and statistics
  (first/last order, order count, total spent, AOV and RFM scores) computed from
  the orders generated for them, with ``siyu.customers.stats``'s definitions;
* 9,100 community groups (2 per store, capacity 200, ``member_count`` equal to
  their active members) with 1.1 M active members, each in one group of their
  home store, plus 55,000 earlier stays that ended (left);
* 5 tag groups of 6 tags and about 3 M customer tags; inbox refusals for 4 % of
  customers and SMS refusals for 1.5 %;
* 20 M orders over 3 years (paid and completed, 3 % cancelled unpaid, 1.5 %
  refunded in full; picked up at the home store mostly; group and guide
  attribution), and their order lines for the orders of the last
  ``--lines-days`` days (365: what a ``category_orders`` clause with a window up to
  a year needs; 0 for every order);
* join codes: a groups code with ``auto_create`` for 8 stores, a nearest-store code
  and 5 guides' codes.

Big tables are written with ``COPY`` (one pass over the customers, one stream per
table) while their secondary indexes and foreign keys are detached; they are put
back afterwards with the definitions the migrations created (``pg_get_indexdef``,
``pg_get_constraintdef``), then the tables are vacuumed and analysed.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import random
import secrets
import sys
import time
from array import array
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent.parent
ROOT = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))
if str(ROOT / "src") not in sys.path:
    sys.path.insert(1, str(ROOT / "src"))

DATABASE = "siyu_bench_luckin"
MARKER = "bench_luckin_dataset"
SLUG = "luckin-bench"
DAY = 86_400
YEARS = 3

# (city, province, latitude, longitude, weight): where the stores are
CITIES = [
    ("上海", "上海", 31.2304, 121.4737, 9),
    ("北京", "北京", 39.9042, 116.4074, 9),
    ("深圳", "广东", 22.5431, 114.0579, 7),
    ("广州", "广东", 23.1291, 113.2644, 6),
    ("杭州", "浙江", 30.2741, 120.1551, 5),
    ("成都", "四川", 30.5728, 104.0668, 5),
    ("武汉", "湖北", 30.5928, 114.3055, 4),
    ("南京", "江苏", 32.0603, 118.7969, 4),
    ("西安", "陕西", 34.3416, 108.9398, 3),
    ("重庆", "重庆", 29.5630, 106.5516, 3),
    ("苏州", "江苏", 31.2990, 120.5853, 3),
    ("天津", "天津", 39.3434, 117.3616, 3),
    ("长沙", "湖南", 28.2282, 112.9388, 3),
    ("郑州", "河南", 34.7466, 113.6253, 3),
    ("厦门", "福建", 24.4798, 118.0894, 2),
    ("青岛", "山东", 36.0671, 120.3826, 2),
    ("宁波", "浙江", 29.8683, 121.5440, 2),
    ("合肥", "安徽", 31.8206, 117.2272, 2),
    ("济南", "山东", 36.6512, 117.1201, 2),
    ("沈阳", "辽宁", 41.8057, 123.4315, 2),
    ("大连", "辽宁", 38.9140, 121.6147, 1),
    ("昆明", "云南", 25.0389, 102.7183, 1),
    ("福州", "福建", 26.0745, 119.2965, 1),
    ("南昌", "江西", 28.6820, 115.8579, 1),
    ("无锡", "江苏", 31.4912, 120.3119, 1),
    ("东莞", "广东", 23.0207, 113.7518, 1),
    ("佛山", "广东", 23.0215, 113.1214, 1),
    ("哈尔滨", "黑龙江", 45.8038, 126.5350, 1),
    ("贵阳", "贵州", 26.6470, 106.6302, 1),
    ("南宁", "广西", 22.8170, 108.3665, 1),
]
JOIN_CHANNELS = [
    ("store_door", 30),
    ("table_card", 20),
    ("storefront", 25),
    ("guide", 12),
    ("parcel_insert", 8),
    ("import", 5),
]
CATEGORIES = ["咖啡", "生椰系列", "瑞纳冰", "茶饮", "果蔬汁", "轻食", "烘焙", "周边"]
TAG_GROUPS = {
    "口味": ["爱拿铁", "爱美式", "爱生椰", "少糖", "燕麦奶", "爱冰饮"],
    "场景": ["通勤", "午后", "加班", "周末", "外卖党", "到店自取"],
    "价格": ["券敏感", "9.9 常客", "不看价", "会员日", "拼单", "储值"],
    "人群": ["学生", "白领", "宝妈", "健身", "游客", "商务"],
    "运营": ["新品尝鲜", "高潜", "沉睡唤醒", "社群活跃", "KOC", "投诉过"],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


@dataclass(frozen=True)
class Scale:
    stores: int
    guides: int
    customers: int
    members: int
    left_members: int
    orders: int
    tags_per_customer: float = 1.67

    @classmethod
    def of(cls, factor: float) -> Scale:
        def n(x: float, least: int) -> int:
            return max(least, round(x * factor))

        return cls(
            stores=n(4_550, 10),
            guides=n(300, 10),
            customers=n(1_800_000, 200),
            members=n(1_100_000, 100),
            left_members=n(55_000, 5),
            orders=n(20_000_000, 1_000),
        )


def database_name(factor: float) -> str:
    if factor == 1:
        return DATABASE
    return f"{DATABASE}_{str(round(factor * 100, 3)).replace('.', '_')}pct"


# --- the database ---------------------------------------------------------------------


def conninfo_for(server_url: str, dbname: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    return make_conninfo(**{**conninfo_to_dict(server_url), "dbname": dbname})


def url_for(conninfo: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(conninfo)
    auth = info.get("user", "postgres") + (f":{info['password']}" if info.get("password") else "")
    return (
        f"postgres://{auth}@{info.get('host', '127.0.0.1')}:{info.get('port', 5432)}/"
        f"{info['dbname']}"
    )


def ensure_database(conninfo: str, *, rebuild: bool) -> None:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    name = conninfo_to_dict(conninfo)["dbname"]
    admin = conninfo_for(conninfo, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        if rebuild:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def built(conninfo: str) -> dict[str, Any] | None:
    """The marker of a finished build, or None."""
    import psycopg

    with psycopg.connect(conninfo) as conn:
        if conn.execute("SELECT to_regclass(%s)", [MARKER]).fetchone()[0] is None:  # type: ignore[index]
            return None
        row = conn.execute(
            f"SELECT built_at, scale, seed, counts, build_seconds, size FROM {MARKER}"
        ).fetchone()
    if row is None:
        return None
    keys = ("built_at", "scale", "seed", "counts", "build_seconds", "size")
    return dict(zip(keys, row, strict=True))


def setup_django(url: str, data_dir: str | None = None) -> None:
    """Development settings without DEBUG against ``url``; migrate (a no-op when current)."""
    import tempfile

    os.environ.update(
        SIYU_ENV="development",
        SIYU_DEBUG="0",
        SIYU_LOG_LEVEL="ERROR",
        SIYU_TASKS_BACKEND="db",
        SIYU_DATA_DIR=data_dir or tempfile.mkdtemp(prefix="siyu-luckin-"),
        SIYU_DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="siyu.config.settings",
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


# --- COPY -----------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    if any(c in text for c in "\\\t\n\r"):
        raise ValueError(f"needs escaping for COPY: {text!r}")
    return text


class Table:
    """COPY's column list for a model: the columns given per row first, then every other
    column with its constant (NULL, the field's default, or "now" for auto_now fields)."""

    def __init__(
        self, model: Any, varying: Sequence[str], fixed: dict[str, Any], now_text: str
    ) -> None:
        self.name = model._meta.db_table
        fields = {f.column: f for f in model._meta.concrete_fields}
        unknown = [c for c in [*varying, *fixed] if c not in fields]
        if unknown:
            raise ValueError(f"{self.name} has no column {unknown}")
        constants: list[tuple[str, str]] = []
        for column, f in fields.items():
            if column in varying:
                continue
            if column in fixed:
                constants.append((column, _text(fixed[column])))
            elif f.primary_key:
                continue  # the identity column numbers it
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                constants.append((column, now_text))
            elif f.has_default():
                constants.append((column, _text(f.get_default())))
            elif f.null:
                constants.append((column, "\\N"))
            elif f.get_default() == "":  # Django's default of a NOT NULL text column
                constants.append((column, ""))
            else:
                raise ValueError(f"{self.name}.{column} is NOT NULL without a default")
        self.columns = [*varying, *(c for c, _ in constants)]
        self.tail = "".join("\t" + v for _, v in constants) + "\n"

    def copy_sql(self) -> str:
        columns = ", ".join(f'"{c}"' for c in self.columns)
        return f'COPY "{self.name}" ({columns}) FROM STDIN'


class Stream:
    """One COPY on its own connection; rows are buffered and sent in ~1 MB writes."""

    def __init__(self, conninfo: str, table: Table) -> None:
        import psycopg

        self.table = table
        self.conn = psycopg.connect(conninfo)
        self.conn.execute("SET synchronous_commit = off")
        self.rows = 0
        self._parts: list[str] = []
        self._size = 0
        self._stack = ExitStack()
        self._copy = self._stack.enter_context(self.conn.cursor().copy(table.copy_sql()))

    def add(self, head: str) -> None:
        self._parts.append(head)
        self._parts.append(self.table.tail)
        self._size += len(head)
        self.rows += 1
        if self._size > 1 << 20:
            self.flush()

    def flush(self) -> None:
        if self._parts:
            self._copy.write("".join(self._parts))
            self._parts.clear()
            self._size = 0

    def finish(self) -> int:
        self.flush()
        self._stack.close()
        self.conn.commit()
        self.conn.close()
        return self.rows


# --- time as text, fast -----------------------------------------------------------------


class Clock:
    """Epoch seconds → "YYYY-MM-DD HH:MM:SS+00" through two lookup tables."""

    def __init__(self, start: int, end: int) -> None:
        self.first_day = start // DAY - 1
        last_day = end // DAY + 2
        self.days = [
            date.fromordinal(date(1970, 1, 1).toordinal() + d).isoformat() + " "
            for d in range(self.first_day, last_day + 1)
        ]
        self.tod = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00" for s in range(DAY)]

    def text(self, seconds: int) -> str:
        return self.days[seconds // DAY - self.first_day] + self.tod[seconds % DAY]


# --- detaching indexes and foreign keys while loading ------------------------------------


@contextmanager
def detached(conninfo: str, tables: Sequence[str]) -> Iterator[None]:
    """Drop the tables' secondary indexes, unique and foreign-key constraints; put them back
    (indexes, then unique constraints, then foreign keys) with their exact definitions."""
    import psycopg

    restore_indexes: list[str] = []
    restore_unique: list[str] = []
    restore_fks: list[str] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for table in tables:
            rows = conn.execute(
                """
                SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint
                WHERE conrelid = %s::regclass AND contype IN ('u', 'f', 'x')
                """,
                [table],
            ).fetchall()
            for name, definition, kind in rows:
                statement = f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
                (restore_fks if kind == "f" else restore_unique).append(statement)
                conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            rows = conn.execute(
                """
                SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
                JOIN pg_class i ON i.oid = x.indexrelid
                WHERE x.indrelid = %s::regclass AND NOT x.indisprimary AND NOT EXISTS (
                    SELECT 1 FROM pg_constraint c
                    WHERE c.conindid = x.indexrelid AND c.contype IN ('p', 'u', 'x'))
                """,
                [table],
            ).fetchall()
            for name, definition in rows:
                restore_indexes.append(definition)
                conn.execute(f'DROP INDEX "{name}"')
    yield
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET max_parallel_maintenance_workers = 2")
        statements = [*restore_indexes, *restore_unique, *restore_fks]
        from tqdm import tqdm

        for statement in tqdm(statements, desc="indexes and keys", unit="stmt", file=sys.stderr):
            conn.execute(statement)


# --- the build --------------------------------------------------------------------------


def _weighted(rng: random.Random, items: Sequence[tuple[Any, int]], k: int) -> list[Any]:
    return rng.choices([x for x, _ in items], weights=[w for _, w in items], k=k)


def build(conninfo: str, scale: Scale, *, seed: int, lines_days: int) -> dict[str, int]:
    """Fill the (migrated, empty) database; answer the row counts."""
    import psycopg
    from django.contrib.auth.hashers import make_password
    from tqdm import tqdm

    from siyu.catalog.models import Category, Product, Sku
    from siyu.community.models import CommunityGroup, GroupMember, JoinCode, JoinCodeGroup
    from siyu.core.models import Membership, Merchant, User
    from siyu.core.permissions import Role
    from siyu.customers.models import Consent, Customer, CustomerTag, Tag, TagGroup
    from siyu.inventory.models import Location
    from siyu.orders.models import Order, OrderLine
    from siyu.stores.models import Store

    rng = random.Random(seed)
    now = int(time.time())
    start = now - YEARS * 365 * DAY
    clock = Clock(start - 100 * 365 * DAY, now)  # birthdays are dates; see _birthday
    now_text = clock.text(now)
    now_dt = datetime.fromtimestamp(now, UTC)

    if Customer.unscoped.exists() or Merchant.objects.filter(slug=SLUG).exists():
        raise SystemExit("the database is not empty: use --rebuild")

    # --- small tables through the ORM
    merchant = Merchant.objects.create(
        slug=SLUG, name="瑞幸咖啡（基准）", legal_name="Luckin bench"
    )
    mid = merchant.pk
    cities = list(CITIES)
    store_cities = _weighted(rng, [(c, c[4]) for c in cities], scale.stores)
    stores = Store.unscoped.bulk_create(
        [
            Store(
                merchant=merchant,
                code=f"LK{n:05d}",
                name=f"瑞幸咖啡 {city[0]} {n:05d} 店",
                province=city[1],
                city=city[0],
                address=f"{city[0]}市某路 {n} 号",
                latitude=round(city[2] + rng.gauss(0, 0.08), 6),
                longitude=round(city[3] + rng.gauss(0, 0.1), 6),
                opening_hours={
                    d: [["07:00", "21:00"]]
                    for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                },
                pickup_enabled=True,
            )
            for n, city in enumerate(store_cities, start=1)
        ],
        batch_size=1000,
    )
    store_ids = [s.pk for s in stores]
    store_city = {s.pk: s.city for s in stores}
    locations = Location.unscoped.bulk_create(
        [
            Location(merchant=merchant, kind="store", store=s, code=s.code, name=s.name)
            for s in stores
        ],
        batch_size=1000,
    )
    location_of = {loc.store_id: loc.pk for loc in locations}
    password = make_password(None)
    owner_user = User.objects.create(
        username="luckin-owner", display_name="运营", password=password
    )
    Membership.objects.create(user=owner_user, merchant=merchant, role=Role.OWNER)
    users = User.objects.bulk_create(
        [
            User(username=f"luckin-guide-{n:04d}", display_name=f"导购{n:04d}", password=password)
            for n in range(1, scale.guides + 1)
        ]
    )
    guides = Membership.objects.bulk_create(
        [Membership(user=u, merchant=merchant, role=Role.SHOPPING_GUIDE) for u in users]
    )
    guide_ids = [g.pk for g in guides]
    categories = Category.unscoped.bulk_create(
        [Category(merchant=merchant, name=name, position=i) for i, name in enumerate(CATEGORIES)]
    )
    products: list[tuple[int, int, str, str, int]] = []  # (sku id, product id, name, code, price)
    for i in range(60):
        category = categories[i % len(categories)]
        product = Product.unscoped.create(
            merchant=merchant,
            category=category,
            name=f"{category.name} {i + 1:02d}",
            status="on_sale",
            position=i,
        )
        price = rng.choice([990, 1290, 1590, 1890, 2190, 2590, 2890, 3200])
        sku = Sku.unscoped.create(
            merchant=merchant, product=product, code=f"LK-{i + 1:03d}", price=price
        )
        products.append((sku.pk, product.pk, product.name, sku.code, price))
    product_cum: list[float] = []
    for i in range(len(products)):
        product_cum.append((product_cum[-1] if product_cum else 0) + 1 / (1 + i * 0.15))

    tag_ids: list[int] = []
    for position, (group_name, names) in enumerate(TAG_GROUPS.items()):
        tag_group = TagGroup.unscoped.create(merchant=merchant, name=group_name, position=position)
        tags = Tag.unscoped.bulk_create(
            [Tag(merchant=merchant, group=tag_group, name=name) for name in names]
        )
        tag_ids += [t.pk for t in tags]
    # prevalence per tag: a skewed spread summing to tags_per_customer
    raw = [1 / (1 + i * 0.25) for i in range(len(tag_ids))]
    rng.shuffle(raw)
    prevalence = [r * scale.tags_per_customer / sum(raw) for r in raw]

    # --- pass 0: who each customer is (arrays, one slot per customer id 1..N)
    n_customers = scale.customers
    t0 = time.monotonic()
    groups_per_store = 2
    n_groups = len(store_ids) * groups_per_store
    group_store = [store_ids[g // groups_per_store] for g in range(n_groups)]  # index g → store
    # fill each group to between 30 % and 100 % of 200, then adjust to the exact total
    fills = [rng.randint(40, 200) for _ in range(n_groups)]
    total = sum(fills)
    while total != scale.members:
        g = rng.randrange(n_groups)
        if total < scale.members and fills[g] < 200:
            fills[g] += 1
            total += 1
        elif total > scale.members and fills[g] > 1:
            fills[g] -= 1
            total -= 1
    slots = [g for g, c in enumerate(fills) for _ in range(c)]
    rng.shuffle(slots)
    member_ids = rng.sample(range(1, n_customers + 1), scale.members)
    group_of = array("i", bytes(4 * (n_customers + 1)))  # group index + 1, 0 = none
    for customer_id, g in zip(member_ids, slots, strict=True):
        group_of[customer_id] = g + 1
    del slots, member_ids
    created = array("q", bytes(8 * (n_customers + 1)))
    weight = array("d", bytes(8 * (n_customers + 1)))
    home = array("i", bytes(4 * (n_customers + 1)))
    guide = array("i", bytes(4 * (n_customers + 1)))
    span = now - start
    random_ = rng.random
    for c in range(1, n_customers + 1):
        created[c] = now - int(span * random_() ** 1.4) - 3600  # more recent customers
        g = group_of[c]
        home[c] = (
            group_store[g - 1]
            if g and random_() < 0.92
            else store_ids[int(random_() * len(store_ids))]
        )
        if random_() < 0.4:
            guide[c] = guide_ids[int(random_() * len(guide_ids))]
        if random_() < 0.12:
            continue  # never ordered
        exposure = (now - created[c]) / DAY + 5
        heterogeneity = rng.gammavariate(0.7, 1.0)
        weight[c] = exposure * heterogeneity * (1.6 if g else 1.0) * (1.2 if guide[c] else 1.0)
    k = scale.orders / sum(weight)
    print(f"customers' profiles drawn in {time.monotonic() - t0:.1f} s", file=sys.stderr)

    # --- groups (ids 1..G), so members can point at them
    with psycopg.connect(conninfo) as conn:
        groups_table = Table(
            CommunityGroup,
            ["id", "name", "store_id", "owner_id", "member_count", "created_at"],
            {"merchant_id": mid, "capacity": 200, "status": "active"},
            now_text,
        )
        with conn.cursor().copy(groups_table.copy_sql()) as copy:
            for g in range(n_groups):
                store_id = group_store[g]
                name = f"{store_city[store_id]} LK{store_id:05d} 福利群 {g % groups_per_store + 1}"
                owner = guide_ids[g % len(guide_ids)]
                copy.write(
                    f"{g + 1}\t{name}\t{store_id}\t{owner}\t{fills[g]}\t{clock.text(start + g * 7)}"
                    + groups_table.tail
                )
        conn.commit()

    # --- pass 1: orders and their lines, with every customer's statistics
    stats_count = array("i", bytes(4 * (n_customers + 1)))
    stats_spent = array("q", bytes(8 * (n_customers + 1)))
    stats_first = array("q", bytes(8 * (n_customers + 1)))
    stats_last = array("q", bytes(8 * (n_customers + 1)))
    joined = array("q", bytes(8 * (n_customers + 1)))
    for c in range(1, n_customers + 1):
        if group_of[c]:
            joined[c] = created[c] + int(random_() * (now - created[c]))
    orders_table = Table(
        Order,
        [
            "id",
            "number",
            "customer_id",
            "status",
            "refund_state",
            "store_id",
            "location_id",
            "subtotal",
            "discount_total",
            "total",
            "refunded_total",
            "pickup_code",
            "channel",
            "group_id",
            "guide_id",
            "placed_at",
            "paid_at",
            "completed_at",
            "cancelled_at",
            "updated_at",
        ],
        {"merchant_id": mid, "fulfilment": "pickup", "currency": "CNY"},
        now_text,
    )
    lines_table = Table(
        OrderLine,
        [
            "order_id",
            "sku_id",
            "product_id_snapshot",
            "product_name",
            "sku_code",
            "unit_price",
            "quantity",
            "line_total",
            "refunded_quantity",
            "refunded_amount",
        ],
        {"merchant_id": mid, "discount": 0, "options": {}},
        now_text,
    )
    lines_since = now - lines_days * DAY if lines_days else 0
    big = [
        "customers_customer",
        "orders_order",
        "orders_orderline",
        "community_groupmember",
        "customers_customertag",
        "customers_consent",
    ]
    build_started = time.monotonic()
    order_id = 0
    n_lines = 0
    t1 = time.monotonic()
    with detached(conninfo, big):
        orders = Stream(conninfo, orders_table)
        lines = Stream(conninfo, lines_table)
        n_stores = len(store_ids)
        text = clock.text
        choices = rng.choices
        for c in tqdm(
            range(1, n_customers + 1),
            desc="orders",
            unit="customer",
            file=sys.stderr,
            mininterval=5,
        ):
            w = weight[c]
            if not w:
                continue
            n = int(w * k + random_())
            if not n:
                continue
            born = created[c]
            life = now - born
            home_store = home[c]
            g = group_of[c]
            join_at = joined[c]
            owner = guide[c]
            count = spent = 0
            first = last = 0
            for _ in range(n):
                order_id += 1
                placed = born + int(life * random_())
                store_id = home_store if random_() < 0.85 else store_ids[int(random_() * n_stores)]
                q = random_()
                picks = 1 if q < 0.7 else (2 if q < 0.92 else 3)
                chosen = choices(products, cum_weights=product_cum, k=picks)
                subtotal = 0
                with_lines = placed >= lines_since
                r = random_()
                refunded = 0.03 <= r < 0.045
                for sku_id, product_id, name, code, price in chosen:
                    quantity = 1 if random_() < 0.9 else 2
                    subtotal += price * quantity
                    if with_lines:
                        line_total = price * quantity
                        lines.add(
                            f"{order_id}\t{sku_id}\t{product_id}\t{name}\t{code}\t{price}\t"
                            f"{quantity}\t{line_total}\t{quantity if refunded else 0}\t"
                            f"{line_total if refunded else 0}"
                        )
                discount = (subtotal * (1 + int(random_() * 5))) // 10 if random_() < 0.6 else 0
                total = subtotal - discount
                channel = "storefront"
                group_id = guide_id = "\\N"
                if g and placed >= join_at and random_() < 0.35:
                    channel, group_id = "group", str(g)
                elif owner and random_() < 0.3:
                    channel, guide_id = "guide", str(owner)
                placed_text = text(placed)
                if r < 0.03:  # cancelled before paying
                    orders.add(
                        f"{order_id}\tLK{order_id:012d}\t{c}\tcancelled\tnone\t{store_id}\t"
                        f"{location_of[store_id]}\t{subtotal}\t{discount}\t{total}\t0\t"
                        f"{order_id % 10000:04d}\t{channel}\t{group_id}\t{guide_id}\t"
                        f"{placed_text}\t\\N\t\\N\t{text(placed + 900)}\t{text(placed + 900)}"
                    )
                    continue
                refund = total if refunded else 0
                orders.add(
                    f"{order_id}\tLK{order_id:012d}\t{c}\tcompleted\t"
                    f"{'full' if refunded else 'none'}\t{store_id}\t{location_of[store_id]}\t"
                    f"{subtotal}\t{discount}\t{total}\t{refund}\t{order_id % 10000:04d}\t"
                    f"{channel}\t{group_id}\t{guide_id}\t{placed_text}\t{text(placed + 20)}\t"
                    f"{text(placed + 1200)}\t\\N\t{text(placed + 1200)}"
                )
                count += 1
                spent += total - refund
                if not first or placed < first:
                    first = placed
                if placed > last:
                    last = placed
            stats_count[c] = count
            stats_spent[c] = spent
            stats_first[c] = first
            stats_last[c] = last
        n_orders = orders.finish()
        n_lines = lines.finish()
        print(f"orders and lines written in {time.monotonic() - t1:.0f} s", file=sys.stderr)

        # --- RFM: quintiles of PERCENT_RANK over customers with paid orders
        t2 = time.monotonic()
        scored = [c for c in range(1, n_customers + 1) if stats_count[c]]
        rfm: dict[str, array[int]] = {}
        for key, values in (("r", stats_last), ("f", stats_count), ("m", stats_spent)):
            ordered = sorted(values[c] for c in scored)
            below = len(ordered) - 1 or 1
            scores = array("b", bytes(n_customers + 1))
            for c in scored:
                rank = bisect.bisect_left(ordered, values[c]) / below
                scores[c] = (
                    1
                    if rank < 0.2
                    else 2
                    if rank < 0.4
                    else 3
                    if rank < 0.6
                    else 4
                    if rank < 0.8
                    else 5
                )
            rfm[key] = scores
        print(f"RFM scored in {time.monotonic() - t2:.1f} s", file=sys.stderr)

        # --- pass 2: customers, their memberships, tags and refusals
        customers_table = Table(
            Customer,
            [
                "id",
                "phone",
                "name",
                "join_channel",
                "created_at",
                "gender",
                "birthday",
                "birth_month",
                "city",
                "home_store_id",
                "owner_guide_id",
                "owner_since",
                "first_order_at",
                "last_order_at",
                "order_count",
                "total_spent",
                "average_order_value",
                "rfm_recency",
                "rfm_frequency",
                "rfm_monetary",
            ],
            {"merchant_id": mid, "status": "active", "stats_updated_at": now_dt.isoformat()},
            now_text,
        )
        members_table = Table(
            GroupMember,
            ["group_id", "customer_id", "state", "joined_at", "left_at", "leave_reason"],
            {"merchant_id": mid},
            now_text,
        )
        tags_table = Table(
            CustomerTag,
            ["customer_id", "tag_id", "source", "added_at"],
            {"merchant_id": mid},
            now_text,
        )
        consents_table = Table(
            Consent,
            ["customer_id", "channel", "status", "source", "updated_at"],
            {"merchant_id": mid},
            now_text,
        )
        customers = Stream(conninfo, customers_table)
        members = Stream(conninfo, members_table)
        tagged = Stream(conninfo, tags_table)
        consents = Stream(conninfo, consents_table)
        channels = _weighted(rng, JOIN_CHANNELS, 4096)
        tag_counts = [0] * len(tag_ids)
        left_p = scale.left_members / max(1, n_customers - scale.members)
        r_scores, f_scores, m_scores = rfm["r"], rfm["f"], rfm["m"]
        for c in tqdm(
            range(1, n_customers + 1),
            desc="customers",
            unit="customer",
            file=sys.stderr,
            mininterval=5,
        ):
            born = created[c]
            channel = channels[c & 4095]
            g = group_of[c]
            if g:
                channel = "store_door" if random_() < 0.6 else "table_card"
            gender_r = random_()
            gender = "female" if gender_r < 0.55 else ("male" if gender_r < 0.9 else "")
            name = ""
            if random_() < 0.6:
                name = SURNAMES[c % len(SURNAMES)] + ("女士" if gender == "female" else "先生")
            if random_() < 0.7:
                birthday_date = date(1970 + c % 36, 1 + c % 12, 1 + (c // 12) % 28)
                birthday, month = birthday_date.isoformat(), str(birthday_date.month)
            else:
                birthday = month = "\\N"
            owner = guide[c]
            count = stats_count[c]
            spent = stats_spent[c]
            customers.add(
                f"{c}\t+8613{c:09d}\t{name}\t{channel}\t{text(born)}\t{gender}\t{birthday}\t"
                f"{month}\t{store_city[home[c]]}\t{home[c]}\t{owner or '\\N'}\t"
                f"{text(born + 600) if owner else '\\N'}\t"
                f"{text(stats_first[c]) if count else '\\N'}\t"
                f"{text(stats_last[c]) if count else '\\N'}\t{count}\t{spent}\t"
                f"{spent // count if count else 0}\t{r_scores[c]}\t{f_scores[c]}\t{m_scores[c]}"
            )
            if g:
                members.add(f"{g}\t{c}\t{channel}\t{text(joined[c])}\t\\N\t")
            elif random_() < left_p:
                stay = born + int(random_() * (now - born))
                members.add(
                    f"{1 + int(random_() * n_groups)}\t{c}\tstore_door\t{text(stay)}\t"
                    f"{text(stay + int(random_() * (now - stay)))}\tleft"
                )
            for t, p in enumerate(prevalence):
                if random_() < p:
                    tag_counts[t] += 1
                    tagged.add(f"{c}\t{tag_ids[t]}\trule\t{text(born + 86_400)}")
            consent_r = random_()
            if consent_r < 0.04:
                consents.add(f"{c}\tinbox\trefused\tstorefront\t{text(born + 3600)}")
            if 0.02 <= consent_r < 0.035:
                consents.add(f"{c}\tsms\trefused\tstorefront\t{text(born + 3600)}")
        counts = {
            "customers": customers.finish(),
            "group_members": members.finish(),
            "customer_tags": tagged.finish(),
            "consents": consents.finish(),
        }
        for t, n in zip(tag_ids, tag_counts, strict=True):
            Tag.unscoped.filter(pk=t).update(customer_count=n)
        print(
            f"customers written in {time.monotonic() - t1:.0f} s since the orders began",
            file=sys.stderr,
        )

    # --- join codes
    code_stores = rng.sample(store_ids, min(8, len(store_ids)))
    group_index = {s: [] for s in code_stores}  # type: dict[int, list[int]]
    for g in range(n_groups):
        if group_store[g] in group_index:
            group_index[group_store[g]].append(g + 1)
    for store_id in code_stores:
        code = JoinCode.unscoped.create(
            merchant=merchant,
            kind="groups",
            name=f"LK{store_id:05d} 门口海报",
            token=secrets.token_urlsafe(9)[:12],
            state="store_door",
            store_id=store_id,
            auto_create=True,
            base_name=f"LK{store_id:05d} 福利群",
        )
        JoinCodeGroup.unscoped.bulk_create(
            [
                JoinCodeGroup(merchant=merchant, code=code, group_id=g, position=i)
                for i, g in enumerate(group_index[store_id])
            ]
        )
    JoinCode.unscoped.create(
        merchant=merchant,
        kind="store_finder",
        name="全国桌贴：最近门店群",
        token=secrets.token_urlsafe(9)[:12],
        state="table_card",
    )
    for guide_id in guide_ids[:5]:
        JoinCode.unscoped.create(
            merchant=merchant,
            kind="guide",
            name=f"导购码 {guide_id}",
            token=secrets.token_urlsafe(9)[:12],
            state="guide",
            guide_id=guide_id,
        )

    # --- sequences past the ids given, statistics for the planner
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for table in ("customers_customer", "orders_order", "community_communitygroup"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        t3 = time.monotonic()
        for table in big:
            conn.execute(f'VACUUM (ANALYZE) "{table}"')
        conn.execute("ANALYZE")
        print(f"vacuumed and analysed in {time.monotonic() - t3:.0f} s", file=sys.stderr)
    counts.update(
        stores=len(store_ids),
        guides=len(guide_ids),
        groups=n_groups,
        active_members=scale.members,
        orders=n_orders,
        order_lines=n_lines,
    )
    counts["load_seconds"] = round(time.monotonic() - build_started)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="the PostgreSQL server (its database name is ignored)",
    )
    parser.add_argument("--database", help=f"the database to build ({DATABASE} by default)")
    parser.add_argument("--scale", type=float, default=1.0, help="a fraction of Luckin's size")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--lines-days", type=int, default=365, help="order lines for the last N days (0: all)"
    )
    parser.add_argument("--rebuild", action="store_true", help="drop the database and build again")
    opts = parser.parse_args(argv)
    conninfo = conninfo_for(opts.postgres, opts.database or database_name(opts.scale))
    ensure(
        conninfo, scale=opts.scale, seed=opts.seed, lines_days=opts.lines_days, rebuild=opts.rebuild
    )
    return 0


def ensure(
    conninfo: str,
    *,
    scale: float = 1.0,
    seed: int = 2026,
    lines_days: int = 365,
    rebuild: bool = False,
) -> dict[str, Any]:
    """The dataset in ``conninfo``'s database: built now unless it was already."""
    import psycopg

    ensure_database(conninfo, rebuild=rebuild)
    started = time.monotonic()
    setup_django(url_for(conninfo))
    marker = built(conninfo)
    if marker is not None:
        print(
            f"dataset already built on {marker['built_at']:%Y-%m-%d %H:%M} (--rebuild to redo): "
            f"{json.dumps(marker['counts'])}",
            file=sys.stderr,
        )
        return marker
    counts = build(conninfo, Scale.of(scale), seed=seed, lines_days=lines_days)
    seconds = round(time.monotonic() - started)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        size = conn.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()[0]  # type: ignore[index]
        conn.execute(
            f"CREATE TABLE {MARKER} (built_at timestamptz, scale float, seed int, counts jsonb,"
            " build_seconds int, size text, parameters jsonb)"
        )
        conn.execute(
            f"INSERT INTO {MARKER} VALUES (now(), %s, %s, %s, %s, %s, %s)",
            [
                scale,
                seed,
                json.dumps(counts),
                seconds,
                size,
                json.dumps({**asdict(Scale.of(scale)), "lines_days": lines_days}),
            ],
        )
    print(
        f"built in {seconds} s (with migrations); database {size}: {json.dumps(counts)}",
        file=sys.stderr,
    )
    marker = built(conninfo)
    assert marker is not None
    return marker


if __name__ == "__main__":
    sys.exit(main())
