"""Community and CRM at Luckin Coffee's scale, on PostgreSQL.

The dataset (``bench/luckin/build.py``: 1.8 M customers, 9,100 groups with 1.1 M
members, 20 M orders) lives in its own database, ``siyu_bench_luckin`` on the
server given with ``--postgres`` (``SIYU_BENCH_LUCKIN_DATABASE`` names another),
built on the first run (about half an hour) and reused afterwards. Every row a
measurement writes is deleted afterwards (all rows with an id above the one each
table had before), so runs start from the same data.

    ./dev bench luckin --postgres postgres://postgres@127.0.0.1:5432/postgres \\
                       --redis redis://127.0.0.1:6379/3

1. **Segment count**: ``siyu.customers.segments.count_matching`` of three five-clause
   rules, on a new connection (cold-ish) and warm (median of ``ROUNDS``), with the
   statement's ``EXPLAIN (ANALYZE, BUFFERS)`` saved to
   ``bench/results/luckin-plans.json``. Target: under 1 s.
2. **One message to all 1.1 M group members**: ``siyu.marketing.engine.send_broadcast``
   of an inbox broadcast to every group, with a cap of 1 a day (10 % of the members
   were sent a message earlier today) and the customers' refusals, in a fresh process:
   wall time and peak RSS. The sent and skipped counts are checked against
   independent SQL counts. Targets: under 60 s, under 1 GB.
3. **Join-code scans a second**: ``siyu.community.services.scan`` of distinct
   customers (not in any group) onto a groups code with ``auto_create`` (groups fill
   and open), with 1, 2 and 4 processes for ``SCAN_WINDOW`` seconds; then over HTTP
   (``POST /j/<token>`` as logged-in customers through ``siyu serve``) when the page
   is mounted. Afterwards no group is over capacity and every ``member_count`` equals
   its active members. Target: at least 1,000 scans/s.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import Result

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
ROUNDS = int(os.environ.get("SIYU_BENCH_ROUNDS", "5"))
SCAN_WINDOW = float(os.environ.get("SIYU_BENCH_WINDOW", "15"))
SCAN_PROCESSES = (1, 2, 4)
CAPPED_SHARE = 10  # one member in ten was already messaged today


# --- the dataset's database ---------------------------------------------------------------


def _luckin_conninfo() -> str:
    """The Luckin database on the server the run's temporary database is on."""
    from django.db import connection
    from psycopg.conninfo import make_conninfo

    s = connection.settings_dict
    name = os.environ.get("SIYU_BENCH_LUCKIN_DATABASE", "siyu_bench_luckin")
    parts = {
        "host": s.get("HOST") or "127.0.0.1",
        "port": s.get("PORT") or 5432,
        "user": s.get("USER") or "postgres",
        "dbname": name,
    }
    if s.get("PASSWORD"):
        parts["password"] = s["PASSWORD"]
    return make_conninfo(**parts)


def _use(conninfo: str) -> None:
    """Point Django (and the processes started from here) at ``conninfo``'s database."""
    from django.conf import settings
    from django.db import connections
    from psycopg.conninfo import conninfo_to_dict

    from luckin.build import url_for

    connections.close_all()
    name = conninfo_to_dict(conninfo)["dbname"]
    settings.DATABASES["default"]["NAME"] = name
    connections["default"].settings_dict["NAME"] = name
    os.environ["SIYU_DATABASE_URL"] = url_for(conninfo)


def _prepare() -> str:
    """Build the dataset unless it is there (a subprocess, with its progress), switch to it."""
    from luckin.build import url_for

    conninfo = _luckin_conninfo()
    subprocess.run(
        [
            sys.executable,
            str(BENCH_DIR / "luckin" / "build.py"),
            "--postgres",
            url_for(conninfo),
            "--database",
            __import__("psycopg").conninfo.conninfo_to_dict(conninfo)["dbname"],
        ],
        check=True,
        env={k: v for k, v in os.environ.items() if k != "SIYU_DATABASE_URL"},
    )
    _use(conninfo)
    return conninfo


class Snapshot:
    """The highest id of every table now; :meth:`restore` deletes every row above it."""

    def __init__(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND column_name = 'id' "
                "AND data_type IN ('bigint', 'integer')"
            )
            self.tables = [row[0] for row in cursor.fetchall()]
            self.top: dict[str, int] = {}
            for table in self.tables:
                cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
                self.top[table] = int(cursor.fetchone()[0])

    def restore(self) -> dict[str, int]:
        from django.db import connection, transaction

        deleted: dict[str, int] = {}
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in self.tables:
                cursor.execute(f'DELETE FROM "{table}" WHERE id > %s', [self.top[table]])
                if cursor.rowcount:
                    deleted[table] = cursor.rowcount
        with connection.cursor() as cursor:
            for table in deleted:
                cursor.execute(f'VACUUM (ANALYZE) "{table}"')
        return deleted


def _merchant() -> Any:
    from luckin.build import SLUG
    from siyu.core.models import Merchant

    return Merchant.objects.get(slug=SLUG)


def _sql(query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(query, params or [])
        return list(cursor.fetchall())


# --- 1. segment counts --------------------------------------------------------------------


def _rules(merchant: Any) -> dict[str, dict[str, Any]]:
    from django.db.models import Count

    from siyu.catalog.models import Category
    from siyu.community.models import CommunityGroup
    from siyu.customers.models import Tag

    tags = list(Tag.unscoped.filter(merchant=merchant).order_by("id").values_list("id", flat=True))
    city = (
        CommunityGroup.unscoped.filter(merchant=merchant)
        .values("store__city")
        .annotate(n=Count("id"))
        .order_by("-n")[0]["store__city"]
    )
    city_groups = list(
        CommunityGroup.unscoped.filter(merchant=merchant, store__city=city)
        .order_by("id")
        .values_list("id", flat=True)[:200]
    )
    coffee = Category.unscoped.filter(merchant=merchant).order_by("id").values_list("id", flat=True)
    return {
        "lapsed regulars in groups": {
            "all": [
                {"field": "order_count", "op": "gte", "value": 3},
                {"field": "days_since_last_order", "op": "gte", "value": 30},
                {"field": "tag", "op": "has_any", "value": tags[:2]},
                {"field": "group", "op": "in_any_group", "value": True},
                {"not": {"field": "consent", "op": "refused", "channel": "inbox", "value": True}},
            ]
        },
        "a city's groups (200), high spenders, female, birthday this month": {
            "all": [
                {"field": "group", "op": "member_of_any", "value": city_groups},
                {"field": "total_spent", "op": "gte", "value": 50_000},
                {"field": "gender", "op": "in", "value": ["female"]},
                {"field": "birthday_month", "op": "this_month"},
                {"not": {"field": "tag", "op": "has_any", "value": tags[-1:]}},
            ]
        },
        "coffee buyers of the last 90 days, spend window, RFM": {
            "all": [
                {
                    "field": "category_orders",
                    "op": "gte",
                    "value": 2,
                    "category": coffee[0],
                    "days": 90,
                },
                {"field": "spent_in_days", "op": "gte", "value": 10_000, "days": 180},
                {"field": "rfm_frequency", "op": "gte", "value": 3},
                {"field": "owner_guide", "op": "is_empty", "value": False},
                {"field": "join_channel", "op": "in", "value": ["store_door", "guide"]},
            ]
        },
    }


def _captured_sql(action: Callable[[], object]) -> list[tuple[str, Any]]:
    from django.db import connection

    seen: list[tuple[str, Any]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        action()
    return seen


def _has_windows(rule: dict[str, Any]) -> bool:
    return any(
        c.get("field") in ("spent_in_days", "orders_in_days", "category_orders")
        for c in rule.get("all", [])
    )


def _grouping_the_orders(rule: dict[str, Any]) -> int:
    """The rule's count with the kept order windows ignored (the orders grouped)."""
    from unittest import mock

    from siyu.customers import windows
    from siyu.customers.segments import count_matching

    with mock.patch.object(windows, "kept", return_value=False):
        return count_matching(rule)


def _windows(merchant: Any) -> list[Result]:
    """Build the kept order windows when they do not describe today (timed), then time the
    daily roll from yesterday (the customers whose orders left a window)."""
    from datetime import timedelta

    from django.db import connection

    from siyu.core import clock
    from siyu.core.tenancy import merchant_context
    from siyu.customers import windows
    from siyu.customers.models import OrderWindow, OrderWindowState

    results = []
    today = windows.local_today(clock.now(), merchant.time_zone)
    with merchant_context(merchant):
        if windows.state_day(merchant.pk) != today:
            started = time.perf_counter()
            windows.rebuild(merchant)
            seconds = time.perf_counter() - started
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE customers_orderwindow")
            rows = OrderWindow.unscoped.filter(merchant=merchant).count()
            results.append(
                Result(
                    "order windows: rebuild for every customer",
                    "s",
                    round(seconds, 1),
                    rows,
                    f"{rows:,} rows (6 windows × any category and each category); "
                    "on first use, a gap over 45 days or a change of the catalogue's tree",
                )
            )
        OrderWindowState.objects.filter(merchant=merchant).update(as_of=today - timedelta(days=1))
        started = time.perf_counter()
        recomputed = windows.roll(merchant)
        seconds = time.perf_counter() - started
    results.append(
        Result(
            "order windows: the daily roll",
            "s",
            round(seconds, 2),
            recomputed or 0,
            f"{recomputed or 0:,} customers had an order on a day that left a window; "
            "every 10 minutes the job checks, once a day it works",
        )
    )
    return results


def bench_segments(merchant: Any, plans: dict[str, Any]) -> list[Result]:
    from django.db import connection

    from siyu.core.tenancy import merchant_context

    try:
        from siyu.customers.segments import count_matching
    except ImportError:
        return [Result("segment count", "s", float("nan"), 0, "count_matching not landed")]
    results = _windows(merchant)
    with merchant_context(merchant):
        for name, rule in _rules(merchant).items():
            connection.close()  # a new backend: no plan or catalogue cache (the OS cache stays)
            started = time.perf_counter()
            matched = count_matching(rule)
            cold = time.perf_counter() - started
            times = []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                # "days since" moves with the clock: a few customers cross a boundary
                assert abs(count_matching(rule) - matched) <= max(100, matched // 1000)
                times.append(time.perf_counter() - started)
            statements = _captured_sql(lambda rule=rule: count_matching(rule))
            sql, params = statements[-1]
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            plans[name] = {
                "rule": rule,
                "matched": matched,
                "sql": sql,
                "params": params,
                "explain": plan,
            }
            warm = statistics.median(times)
            checked = ""
            if _has_windows(rule):
                grouped = _grouping_the_orders(rule)
                assert abs(grouped - matched) <= max(100, matched // 1000), (grouped, matched)
                checked = f"; {grouped:,} when grouping the orders instead"
            results.append(
                Result(
                    f"segment count, 5 clauses: {name}",
                    "s",
                    round(warm, 3),
                    1,
                    f"{matched:,} customers match{checked}; first run on a new connection "
                    f"{cold:.2f} s; median of {ROUNDS}; {len(statements)} statements; "
                    "target < 1 s",
                )
            )
    return results


# --- 2. one message to every group member ----------------------------------------------------


def _child_send(broadcast_id: int) -> None:
    """In a fresh process: send, and print the time and the peak memory as JSON."""
    import django

    django.setup()
    from siyu.marketing.engine import send_broadcast

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    send_broadcast(broadcast_id)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_kib": peak, "baseline_kib": before}))


def bench_send(merchant: Any) -> list[Result]:
    from django.db import connection

    from siyu.community.models import CommunityGroup
    from siyu.core import clock
    from siyu.marketing.models import Broadcast, MessagingPolicy

    try:
        from siyu.marketing.engine import send_broadcast  # noqa: F401
    except ImportError:
        return [Result("send to all group members", "s", float("nan"), 0, "not landed")]
    snapshot = Snapshot()
    try:
        MessagingPolicy.unscoped.update_or_create(
            merchant=merchant,
            defaults={"cap_count": 1, "cap_period": "day", "quiet_start": None, "quiet_end": None},
        )
        group_ids = list(
            CommunityGroup.unscoped.filter(merchant=merchant).values_list("id", flat=True)
        )
        earlier = Broadcast.unscoped.create(
            merchant=merchant,
            name="早安券（今天早些时候）",
            text="早安，今日 9.9",
            audience="groups",
            group_ids=group_ids,
            delivery="inbox",
            status="sent",
        )
        now = clock.now()
        # one member in ten was messaged a minute ago (inside today, whatever the hour)
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO marketing_delivery (merchant_id, broadcast_id, customer_id, status,
                    skip_reason, is_marketing, sent_at)
                SELECT DISTINCT %s, %s, m.customer_id, 'sent', '', true, %s
                FROM community_groupmember m
                WHERE m.merchant_id = %s AND m.left_at IS NULL AND m.customer_id %% %s = 0
                """,
                [
                    merchant.pk,
                    earlier.pk,
                    now.replace(second=0, microsecond=0),
                    merchant.pk,
                    CAPPED_SHARE,
                ],
            )
            cursor.execute("ANALYZE marketing_delivery")
        broadcast = Broadcast.unscoped.create(
            merchant=merchant,
            name="新品上市：生椰拿铁",
            text="新品上市，凭此消息到店立减 5 元。",
            audience="groups",
            group_ids=group_ids,
            delivery="inbox",
            is_marketing=True,
        )
        expected = _expected_send(merchant, group_ids, earlier.pk)
        connection.close()
        answer = subprocess.run(
            [sys.executable, __file__, "send", str(broadcast.pk)],
            check=True,
            capture_output=True,
            text=True,
            env=os.environ.copy(),
        )
        measured = json.loads(answer.stdout.strip().splitlines()[-1])
        got = _got_send(broadcast.pk)
        problems = [f"{k}: {got.get(k)} ≠ {v}" for k, v in expected.items() if got.get(k) != v]
        row = Broadcast.unscoped.get(pk=broadcast.pk)
        if row.status != "sent" or row.sent_count != expected["sent"]:
            problems.append(f"broadcast {row.status}, sent_count {row.sent_count}")
        if problems:
            raise AssertionError("send_broadcast disagrees with SQL: " + "; ".join(problems))
    finally:
        deleted = snapshot.restore()
    counts = ", ".join(f"{k} {v:,}" for k, v in expected.items())
    return [
        Result(
            "send one inbox message to all group members (cap 1/day, opt-outs)",
            "s",
            round(measured["seconds"], 1),
            expected["audience"],
            f"{counts}; checked against SQL; cleaned up {sum(deleted.values()):,} rows; "
            "target < 60 s",
        ),
        Result(
            "  peak memory of the sending process",
            "MB",
            round(measured["peak_kib"] / 1024),
            expected["audience"],
            f"ru_maxrss; {measured['baseline_kib'] / 1024:.0f} MB before the send "
            "(Python + Django); target < 1024 MB",
        ),
    ]


def _expected_send(merchant: Any, group_ids: list[int], earlier_id: int) -> dict[str, int]:
    """Independent SQL: the audience, who refused the inbox, who was capped, who gets it."""
    [(audience, blocked, opted_out, capped)] = _sql(
        """
        WITH a AS (
            SELECT DISTINCT m.customer_id AS id FROM community_groupmember m
            WHERE m.merchant_id = %s AND m.left_at IS NULL AND m.group_id = ANY(%s)
        ),
        r AS (
            SELECT a.id,
                EXISTS (SELECT 1 FROM customers_customer c
                        WHERE c.id = a.id AND c.status = 'blocked') AS blocked,
                EXISTS (SELECT 1 FROM customers_consent k WHERE k.customer_id = a.id
                        AND k.channel = 'inbox' AND k.status = 'refused') AS refused,
                EXISTS (SELECT 1 FROM marketing_delivery d WHERE d.customer_id = a.id
                        AND d.broadcast_id = %s) AS earlier
            FROM a
        )
        SELECT COUNT(*),
               COUNT(*) FILTER (WHERE blocked),
               COUNT(*) FILTER (WHERE refused AND NOT blocked),
               COUNT(*) FILTER (WHERE earlier AND NOT refused AND NOT blocked)
        FROM r
        """,
        [merchant.pk, group_ids, earlier_id],
    )
    return {
        "audience": audience,
        "sent": audience - blocked - opted_out - capped,
        "opted_out": opted_out,
        "capped": capped,
        "blocked": blocked,
    }


def _got_send(broadcast_id: int) -> dict[str, int]:
    rows = _sql(
        "SELECT status, skip_reason, COUNT(*) FROM marketing_delivery "
        "WHERE broadcast_id = %s GROUP BY 1, 2",
        [broadcast_id],
    )
    got = {"audience": sum(n for _, _, n in rows), "blocked": 0, "opted_out": 0, "capped": 0}
    for status, reason, n in rows:
        key = "sent" if status == "sent" else reason
        got[key] = got.get(key, 0) + n
    [(messages,)] = _sql(
        "SELECT COUNT(*) FROM community_message WHERE broadcast_id = %s", [broadcast_id]
    )
    if messages != got.get("sent", 0):
        got["messages"] = messages
    return got


# --- 3. join-code scans ---------------------------------------------------------------------


def _scan_worker(code_id: int, customer_ids: list[int], window: float, out: Any) -> None:
    from django.db import connection

    from siyu.community.models import JoinCode
    from siyu.community.services import scan
    from siyu.core.tenancy import merchant_context
    from siyu.customers.models import Customer

    connection.close()  # never share the parent's socket
    code = JoinCode.unscoped.select_related("merchant", "store").get(pk=code_id)
    customers = list(Customer.unscoped.filter(pk__in=customer_ids).order_by("pk"))
    for customer in customers:
        customer.merchant = code.merchant
    done = failed = 0
    with merchant_context(code.merchant):
        for customer in customers[:20]:  # warm-up: connections, caches
            scan(code, customer)
        started = time.perf_counter()
        deadline = started + window
        for customer in customers[20:]:
            if time.perf_counter() >= deadline:
                break
            if scan(code, customer).outcome != "joined":
                failed += 1
            done += 1
        elapsed = time.perf_counter() - started
    out.put((done, failed, elapsed))


def _scan_code(merchant: Any, n: int = 0) -> Any:
    """A new groups code with ``auto_create`` on the ``n``-th store, with one empty group."""
    from siyu.community.models import CommunityGroup, JoinCode, JoinCodeGroup
    from siyu.stores.models import Store

    store = Store.unscoped.filter(merchant=merchant).order_by("id")[n]
    code = JoinCode.unscoped.create(
        merchant=merchant,
        kind="groups",
        name=f"基准：门口海报（自动开群）{n}",
        token=f"bench{n}x{int(time.time()) % 10**8}",
        state="store_door",
        store=store,
        auto_create=True,
        base_name="基准福利群",
        new_group_capacity=200,
    )
    group = CommunityGroup.unscoped.create(
        merchant=merchant, name="基准福利群 1", store=store, capacity=200, opened_by_code=code
    )
    JoinCodeGroup.unscoped.create(merchant=merchant, code=code, group=group, position=0)
    return code


def _fresh_customers(merchant: Any, n: int) -> list[int]:
    rows = _sql(
        """
        SELECT c.id FROM customers_customer c
        WHERE c.merchant_id = %s AND NOT EXISTS (
            SELECT 1 FROM community_groupmember m WHERE m.customer_id = c.id AND m.left_at IS NULL)
        ORDER BY c.id DESC LIMIT %s
        """,
        [merchant.pk, n],
    )
    return [r[0] for r in rows]


def bench_scans(merchant: Any) -> list[Result]:
    from django.db import connections

    try:
        from siyu.community.services import scan  # noqa: F401
    except ImportError:
        return [Result("join-code scans", "scans/s", float("nan"), 0, "scan not landed")]
    snapshot = Snapshot()
    results = []
    try:
        code = _scan_code(merchant)
        pool = _fresh_customers(merchant, 400_000)
        context = multiprocessing.get_context("fork")
        per_process = min(60_000, len(pool) // (sum(SCAN_PROCESSES) + 6))
        # one code for all (they compete for its open group), then a code per process (as
        # Luckin's scans spread over 4,550 stores' codes)
        rounds = [(n, [code.pk] * n) for n in SCAN_PROCESSES]
        spread = [_scan_code(merchant, n).pk for n in range(1, SCAN_PROCESSES[-1] + 1)]
        rounds.append((SCAN_PROCESSES[-1], spread))
        for processes, codes in rounds:
            connections.close_all()
            out = context.Queue()
            workers = []
            for code_id in codes:
                ids, pool = pool[:per_process], pool[per_process:]
                if len(ids) < 100:
                    raise RuntimeError("not enough customers outside the groups left to scan")
                workers.append(
                    context.Process(target=_scan_worker, args=(code_id, ids, SCAN_WINDOW, out))
                )
            for w in workers:
                w.start()
            tallies = [out.get(timeout=SCAN_WINDOW * 20 + 120) for _ in workers]
            for w in workers:
                w.join()
            done = sum(t[0] for t in tallies)
            failed = sum(t[1] for t in tallies)
            rate = sum(t[0] / t[2] for t in tallies)
            results.append(
                Result(
                    f"join-code scans, in process, {processes} process(es), "
                    f"{len(set(codes))} code(s)",
                    "scans/s",
                    round(rate),
                    done,
                    f"distinct new customers onto a groups code with auto_create; "
                    f"{failed} not joined; {SCAN_WINDOW:.0f} s; target ≥ 1,000/s",
                )
            )
        results += _http_scans(merchant, code, pool)
        results.append(_check_groups([code.pk, *spread]))
    finally:
        connections.close_all()
        snapshot.restore()
    return results


def _check_groups(code_ids: list[int]) -> Result:
    [(groups, over, wrong, members, scans)] = _sql(
        """
        SELECT COUNT(*),
               COUNT(*) FILTER (WHERE g.member_count > g.capacity),
               COUNT(*) FILTER (WHERE g.member_count <> (SELECT COUNT(*)
                   FROM community_groupmember m WHERE m.group_id = g.id AND m.left_at IS NULL)),
               COALESCE(SUM(g.member_count), 0),
               (SELECT COUNT(*) FROM community_joincodescan s WHERE s.code_id = ANY(%s))
        FROM community_communitygroup g
        WHERE g.id IN (SELECT group_id FROM community_joincodegroup WHERE code_id = ANY(%s))
           OR g.opened_by_code_id = ANY(%s)
        """,
        [code_ids, code_ids, code_ids],
    )
    if over or wrong:
        raise AssertionError(f"{over} groups over capacity, {wrong} with a wrong member_count")
    return Result(
        "  after the scans: groups of the codes",
        "groups",
        groups,
        scans,
        f"{members:,} members, {scans:,} scans; 0 over capacity, every member_count right",
    )


HTTP_CLIENTS = 16
HTTP_SESSIONS = 12_000


def _session_headers(customer_id: int, merchant_id: int) -> dict[str, str]:
    """A logged-in browser of the customer (as bench_checkout's buyers): cookie and CSRF."""
    from importlib import import_module

    from django.conf import settings
    from django.utils.crypto import get_random_string

    from siyu.customers.session import CUSTOMERS_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[CUSTOMERS_KEY] = {str(merchant_id): customer_id}
    store.save()
    csrf = get_random_string(32)
    return {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={store.session_key}; "
        f"{settings.CSRF_COOKIE_NAME}={csrf}",
        "X-CSRFToken": csrf,
    }


def _http_scans(merchant: Any, code: Any, pool: list[int]) -> list[Result]:
    """``POST /j/<token>`` by logged-in customers, each once, through ``siyu serve``; the
    figure is the joins the database recorded in the window."""
    import threading

    from django.db import connections
    from django.urls import Resolver404, resolve

    from serving import Connection, server

    try:
        resolve(f"/j/{code.token}")
    except Resolver404:
        return [
            Result(
                "join-code scans over HTTP (POST /j/<token>)",
                "scans/s",
                float("nan"),
                0,
                "the /j/<token> page is not mounted yet (siyu.community.link_urls is empty)",
            )
        ]
    browsers = [_session_headers(cid, merchant.pk) for cid in pool[:HTTP_SESSIONS]]
    lock = threading.Lock()
    statuses: dict[int, int] = {}
    stop = threading.Event()

    def client(port: int) -> None:
        connection = Connection(port)
        try:
            while not stop.is_set():
                with lock:
                    if not browsers:
                        return
                    headers = browsers.pop()
                answer = connection.request("POST", f"/j/{code.token}", b"", headers)
                with lock:
                    statuses[answer.status] = statuses.get(answer.status, 0) + 1
        finally:
            connection.close()

    connections.close_all()
    with server(workers=2, threads=8) as port:
        threads = [threading.Thread(target=client, args=(port,)) for _ in range(HTTP_CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(3)  # warm-up
        [(before,)] = _sql(
            "SELECT COUNT(*) FROM community_joincodescan WHERE code_id = %s", [code.pk]
        )
        started = time.perf_counter()
        time.sleep(SCAN_WINDOW)
        [(after,)] = _sql(
            "SELECT COUNT(*) FROM community_joincodescan WHERE code_id = %s", [code.pk]
        )
        elapsed = time.perf_counter() - started
        stop.set()
        for t in threads:
            t.join()
    connections.close_all()
    ok = sum(n for status, n in statuses.items() if status < 400)
    return [
        Result(
            "join-code scans over HTTP (POST /j/<token>, logged-in customers)",
            "scans/s",
            round((after - before) / elapsed),
            after - before,
            f"siyu serve 2×8, {HTTP_CLIENTS} clients; answers {dict(sorted(statuses.items()))} "
            f"({ok} below 400); scans recorded in a {SCAN_WINDOW:.0f} s window; target ≥ 1,000/s",
        )
    ]


def run() -> list[Result]:
    from django.db import connection

    if connection.vendor != "postgresql":
        message = (
            "bench luckin needs PostgreSQL (20 M orders): "
            "./dev bench luckin --postgres postgres://postgres@127.0.0.1:5432/postgres"
        )
        if "luckin" in sys.argv[1:]:
            raise SystemExit(message)
        print(f"\n{message}; skipped", file=sys.stderr)
        return []
    _prepare()
    merchant = _merchant()
    plans: dict[str, Any] = {}
    results = bench_segments(merchant, plans)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "luckin-plans.json").write_text(
        json.dumps(plans, indent=2, ensure_ascii=False, default=str) + "\n"
    )
    results += bench_send(merchant)
    results += bench_scans(merchant)
    results.append(_dataset())
    return results


def _dataset() -> Result:
    from luckin.build import MARKER

    [(counts, seconds, size)] = _sql(f"SELECT counts, build_seconds, size FROM {MARKER}")
    counts = counts if isinstance(counts, dict) else json.loads(counts)
    summary = ", ".join(f"{k} {v:,}" for k, v in counts.items() if k != "load_seconds")
    return Result("dataset (built once)", "s", seconds, counts["orders"], f"{summary}; {size}")


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "send":
    sys.path.insert(0, str(BENCH_DIR.parent / "src"))
    _child_send(int(sys.argv[2]))
