"""Nearest stores among 9,100 (the Luckin case): the storefront's "stores near me".

9,100 stores are laid out like a national chain: 60 % clustered in 30 cities
(Shanghai among them), 40 % spread over eastern China. Each query point is a
customer near one of those cities or somewhere in between. The figure is the
latency of ``siyu.stores.selectors.nearest_stores`` (a bounding-box prefilter
in the database, exact great-circle ranking in Python), p50 and p95 over the
points, with the number of queries it took.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.test.utils import CaptureQueriesContext

from harness import Result
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant
from siyu.stores import selectors
from siyu.stores.models import Store

STORES = 9100
EVERY_DAY = {d: [["07:00", "21:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _layout(rng: random.Random) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    cities = [(rng.uniform(22, 41), rng.uniform(102, 122)) for _ in range(29)] + [
        (31.2304, 121.4737)
    ]
    positions = []
    for i in range(STORES):
        if i % 5 < 3:
            lat, lng = cities[i % len(cities)]
            positions.append((lat + rng.gauss(0, 0.08), lng + rng.gauss(0, 0.08)))
        else:
            positions.append((rng.uniform(22, 41), rng.uniform(102, 122)))
    points = [cities[-1]]
    points += [(lat + rng.gauss(0, 0.05), lng + rng.gauss(0, 0.05)) for lat, lng in cities]
    points += [(rng.uniform(22, 41), rng.uniform(102, 122)) for _ in range(170)]
    return positions, points


def run() -> list[Result]:
    rng = random.Random(7)
    merchant = make_merchant(slug="bench-nearest", name="Bench Nearest")
    positions, points = _layout(rng)
    Store.unscoped.bulk_create(
        [
            Store(
                merchant=merchant,
                code=f"L{i:05d}",
                name=f"Store {i}",
                city="c",
                address="a",
                latitude=Decimal(f"{lat:.6f}"),
                longitude=Decimal(f"{lng:.6f}"),
                opening_hours=EVERY_DAY,
                pickup_enabled=i % 4 != 0,
            )
            for i, (lat, lng) in enumerate(positions)
        ],
        batch_size=1000,
    )
    noon = datetime(2026, 11, 24, 12, 0, tzinfo=SHANGHAI)
    night = datetime(2026, 11, 24, 3, 0, tzinfo=SHANGHAI)
    cases = [
        ("nearest 10", {}),
        ("nearest 10 within 5 km", {"radius_m": 5000}),
        (
            "nearest 10 open now with pickup (noon)",
            {"open_only": True, "pickup_only": True, "at": noon},
        ),
        ("nearest 10 open now (03:00, none open: worst case)", {"open_only": True, "at": night}),
    ]
    results: list[Result] = []
    with merchant_context(merchant):
        selectors.nearest_stores(31.23, 121.47)  # warm up
        for label, options in cases:
            times, queries = [], []
            for lat, lng in points:
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    selectors.nearest_stores(lat, lng, limit=10, **options)
                    times.append((time.perf_counter() - started) * 1000)
                queries.append(len(captured))
            times.sort()
            p95 = times[int(len(times) * 0.95)]
            note = f"{STORES} stores, {len(points)} points; at most {max(queries)} queries"
            results.append(
                Result(f"{label}, p50", "ms", statistics.median(times), len(points), note)
            )
            results.append(Result(f"{label}, p95", "ms", p95, len(points), note))
    return results
