"""What every benchmark module shares: the result record and timing helpers.

A benchmark module ``bench/bench_<name>.py`` exposes ``run() -> list[Result]``.
``bench/run.py`` sets up Django against a temporary database first, so a
module may use the ORM, the test client and the services directly.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Result:
    name: str  # what was measured, e.g. "outbox dispatch, 2 consumers"
    unit: str  # "events/s", "req/s", "ms"
    value: float  # the figure (a median over rounds where there are rounds)
    n: int  # how many operations the figure is based on, per round
    notes: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def median_seconds(
    action: Callable[[], object],
    *,
    rounds: int = 3,
    setup: Callable[[], object] | None = None,
) -> float:
    """Run ``action`` ``rounds`` times and return the median wall time in seconds.

    ``setup`` runs before each round, outside the timing.
    """
    times = []
    for _ in range(rounds):
        if setup is not None:
            setup()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)
