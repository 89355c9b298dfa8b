"""Lifetime value at Luckin's scale: 1.8 M customers, about 20 M transactions.

A transaction log is simulated from known BG/NBD parameters (in days: a purchase every 20 days
on average while alive, about one customer in thirteen leaving after each repeat purchase;
first purchases spread over a year, watched for two; spend Gamma-Gamma around ¥30), with
datetime64 times as the analytics layer will pass them. Then, each timed once (a round takes
tens of seconds): the summary in weeks, the BG/NBD fit, the Gamma-Gamma fit, and scoring every
customer over 52 weeks with a 1 % monthly discount. Memory is the peak of numpy's allocations
during those steps (tracemalloc, the generated log excluded) and the process's maximum RSS.
The database is not used.
"""

from __future__ import annotations

import resource
import time
import tracemalloc

import numpy as np

from harness import Result
from siyu.analytics import clv
from siyu.analytics.clv_bgnbd import compress
from siyu.analytics.clv_simulate import simulate_transactions

CUSTOMERS = 1_800_000
PARAMS_DAYS = (1.0, 20.0, 1.0, 12.0)  # r, alpha (days), a, b
SPEND = (6.0, 4.0, 1500.0)  # p, q, v (fen): mean ¥30 a purchase
CHUNK = 200_000


def _log(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    customers, times, amounts = [], [], []
    for start in range(0, CUSTOMERS, CHUNK):
        n = min(CHUNK, CUSTOMERS - start)
        births = rng.uniform(0, 365, n)
        log = simulate_transactions(rng, PARAMS_DAYS, births, end=730.0, spend=SPEND)
        customers.append(log.customer + start)
        times.append(log.t)
        amounts.append(log.amount)
    epoch = np.datetime64("2024-01-01T00:00:00", "s")
    t = epoch + (np.concatenate(times) * 86400).astype("timedelta64[s]")
    return np.concatenate(customers), t, np.concatenate(amounts)


def run() -> list[Result]:
    rng = np.random.default_rng(2026)
    started = time.perf_counter()
    customer, t, amount = _log(rng)
    generated = time.perf_counter() - started
    cutoff = np.datetime64("2026-01-01T00:00:00", "s")  # day 731: the whole log
    n_tx = len(customer)

    tracemalloc.start()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    summary = clv.summarise(customer, t, amount, cutoff, unit="weeks")
    timings["summary"] = time.perf_counter() - started
    started = time.perf_counter()
    bg = clv.fit_bgnbd(summary)
    timings["bgnbd"] = time.perf_counter() - started
    started = time.perf_counter()
    gg = clv.fit_gamma_gamma(summary)
    timings["gamma"] = time.perf_counter() - started
    started = time.perf_counter()
    scores = clv.score(summary, bg, gg, horizon=52, monthly_discount=0.01)
    timings["score"] = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    n = len(summary)
    rows = len(compress(summary.x, summary.t_x, summary.T)[1])
    total = sum(timings.values())
    fitted = f"r={bg.r:.3f} α={bg.alpha:.2f} a={bg.a:.3f} b={bg.b:.2f} (weeks)"
    return [
        Result("simulated log (not part of the total)", "s", generated, n_tx),
        Result("summary, weeks (from datetime64)", "s", timings["summary"], n_tx),
        Result(
            "BG/NBD fit",
            "s",
            timings["bgnbd"],
            n,
            f"{rows:,} distinct (x, t_x, T); {bg.iterations} iterations; "
            f"converged={bg.converged}; {fitted}",
        ),
        Result(
            "Gamma-Gamma fit",
            "s",
            timings["gamma"],
            gg.customers,
            f"p={gg.p:.2f} q={gg.q:.2f} v={gg.v:.0f}; converged={gg.converged}",
        ),
        Result(
            "score: P(alive), E[purchases], spend, CLV (52 weeks, 1 %/month)",
            "s",
            timings["score"],
            n,
            f"mean CLV ¥{np.nanmean(scores.clv) / 100:.2f}",
        ),
        Result("summary + fits + scoring", "s", total, n, "target < 60 s"),
        Result("peak numpy memory in those steps", "MB", peak / 2**20, n, "tracemalloc"),
        Result("process max RSS", "MB", max_rss_mb, n, "including the generated log"),
    ]
