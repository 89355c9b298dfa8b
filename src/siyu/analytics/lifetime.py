"""Lifetime value for a merchant: fit the models on its sales, score every buyer, store it.

:func:`refresh` reads the merchant's kept sales (not refunded in full; imported history
included) into arrays, fits BG/NBD and Gamma-Gamma (``analytics.clv``, pure numpy/scipy),
scores every buyer and writes on each customer (``customers.Customer``):

* ``clv_alive`` — the chance the customer is still active, in per cent (BG/NBD's P(alive));
* ``clv_value`` — the predicted value of the next 12 months in fen (expected purchases ×
  expected spend per purchase, discounted monthly);
* ``clv_segment`` — ``high_value_active`` / ``high_value_leaving`` / ``active`` / ``leaving``:
  *high value* is the top fifth of buyers by what they have spent (net of refunds), *leaving*
  is P(alive) under 50 % or less than one purchase expected in the next 12 months (BG/NBD gives
  a one-time buyer P(alive) = 1, so the expected purchases catch the one-timers long gone);
* ``rfm_cell`` — the named RFM cell of ``analytics.rfm``;
* ``clv_scored_at``.

Customers without a kept sale are reset (0 / empty). Each refresh is recorded as a
:class:`~siyu.analytics.models.LifetimeRun` with the fitted parameters, the log-likelihood
and, when asked, the calibration/holdout check of a past date. Runs nightly
(``analytics.refresh_lifetime``), from ``siyu analytics lifetime`` and after the demo.
"""

# ruff: noqa: S608  (table and column names come from the models; values are parameters)

from __future__ import annotations

import math
import time as timer
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils.translation import gettext as _

from siyu.analytics import clv, rfm
from siyu.analytics.models import LifetimeRun, Sale
from siyu.core import clock
from siyu.core.errors import InvalidInput
from siyu.core.models import Merchant
from siyu.customers.models import Customer

SALE = Sale._meta.db_table
CUSTOMER = Customer._meta.db_table
EPOCH = date(1970, 1, 1)
FETCH = 100_000  # rows a fetch
WRITE = 20_000  # customers an UPDATE statement
HORIZON_DAYS = 365
MONTHLY_DISCOUNT = 0.01
HIGH_VALUE_SHARE = 0.2
LEAVING_ALIVE = 0.5
LEAVING_PURCHASES = 1.0
UNITS = ("days", "weeks")
# Fewer customers who bought again than this and the fit rests on little evidence: BG/NBD
# learns how often people buy and when they stop only from repeat purchases.
FEW_REPEATERS = 30
# A fitted parameter beyond e^±12 sits near the optimiser's bounds (e^±20): the data do not
# pin the model down (typically: nobody seems to have stopped buying yet).
EDGE_LOG = 12.0


@dataclass(frozen=True)
class SaleArrays:
    customer: np.ndarray  # int64
    day: np.ndarray  # float64: local day number since 1970-01-01
    amount: np.ndarray  # int64: net of refunds, minor units

    def __len__(self) -> int:
        return len(self.customer)


def _day_number_sql() -> str:
    if connection.vendor == "postgresql":
        return "(s.day - DATE '1970-01-01')"
    return "CAST(julianday(s.day) - 2440587.5 AS INTEGER)"


def load_sales(
    merchant: Merchant, until: date | None = None, progress: Callable[[int], None] | None = None
) -> SaleArrays:
    """The merchant's kept sales (before ``until``, a local day, when given) as arrays,
    read in chunks of :data:`FETCH` rows without building a Python object per row;
    ``progress`` hears the rows read so far after each chunk."""
    sql = (
        f"SELECT s.customer_id, {_day_number_sql()}, s.amount - s.refunded FROM {SALE} s"
        " WHERE s.merchant_id = %s AND s.refunded < s.amount"
    )
    params: list[Any] = [merchant.pk]
    if until is not None:
        sql += " AND s.day < %s"
        params.append(connection.ops.adapt_datefield_value(until))
    chunks: list[np.ndarray] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        read = 0
        while rows := cursor.fetchmany(FETCH):
            chunks.append(np.array(rows, dtype=np.int64))
            read += len(rows)
            if progress is not None:
                progress(read)
    if not chunks:
        empty = np.zeros(0, dtype=np.int64)
        return SaleArrays(empty, empty.astype(np.float64), empty)
    table = np.concatenate(chunks)
    return SaleArrays(table[:, 0], table[:, 1].astype(np.float64), table[:, 2])


def day_number(day: date) -> float:
    return float((day - EPOCH).days)


def _totals(arrays: SaleArrays, customers: np.ndarray) -> np.ndarray:
    """What each of ``customers`` (sorted) has spent in all, net of refunds."""
    spent = np.zeros(len(customers), dtype=np.float64)
    if len(arrays):
        row = np.searchsorted(customers, arrays.customer)
        row = np.minimum(row, max(len(customers) - 1, 0))
        known = customers[row] == arrays.customer if len(customers) else np.zeros(0, bool)
        np.add.at(spent, row[known], arrays.amount[known].astype(np.float64))
    return spent


def segments(p_alive: np.ndarray, purchases: np.ndarray, spent: np.ndarray) -> list[str]:
    """The value segment of each customer (pure; see the module's docstring)."""
    if len(spent) == 0:
        return []
    threshold = float(np.quantile(spent, 1 - HIGH_VALUE_SHARE))
    high = spent >= threshold
    leaving = (p_alive < LEAVING_ALIVE) | (purchases < LEAVING_PURCHASES)
    names = np.where(
        high,
        np.where(leaving, "high_value_leaving", "high_value_active"),
        np.where(leaving, "leaving", "active"),
    )
    return [str(n) for n in names]


def _rows(
    scores: clv.Scores, spent: np.ndarray, cells: dict[int, Any]
) -> Iterator[tuple[int, int, int, str, str]]:
    names = segments(scores.p_alive, scores.expected_purchases, spent)
    value = np.nan_to_num(scores.clv, nan=0.0, posinf=0.0)
    alive = np.clip(np.rint(scores.p_alive * 100), 0, 100)
    for i, customer in enumerate(scores.customer.tolist()):
        cell = cells.get(customer)
        yield (
            int(customer),
            int(alive[i]),
            round(float(value[i])),
            names[i],
            cell.cell if cell is not None else "",
        )


def _write(merchant: Merchant, rows: Sequence[tuple[int, int, int, str, str]]) -> None:
    """Store the scores on the customers, set-based, and reset everyone not scored."""
    now = clock.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {CUSTOMER} SET clv_alive = 0, clv_value = 0, clv_segment = '',"
            " rfm_cell = '', clv_scored_at = NULL WHERE merchant_id = %s"
            " AND (clv_scored_at IS NOT NULL OR rfm_cell <> '' OR clv_segment <> ''"
            " OR clv_alive <> 0 OR clv_value <> 0)",
            [merchant.pk],
        )
        for start in range(0, len(rows), WRITE):
            part = rows[start : start + WRITE]
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"UPDATE {CUSTOMER} c SET clv_alive = v.alive, clv_value = v.value,"
                    " clv_segment = v.segment, rfm_cell = v.cell, clv_scored_at = %s"
                    " FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::int[]) AS alive,"
                    " unnest(%s::bigint[]) AS value, unnest(%s::text[]) AS segment,"
                    " unnest(%s::text[]) AS cell) v"
                    " WHERE c.id = v.id AND c.merchant_id = %s",
                    [
                        stamp,
                        [r[0] for r in part],
                        [r[1] for r in part],
                        [r[2] for r in part],
                        [r[3] for r in part],
                        [r[4] for r in part],
                        merchant.pk,
                    ],
                )
            else:
                cursor.executemany(
                    f"UPDATE {CUSTOMER} SET clv_alive = %s, clv_value = %s, clv_segment = %s,"
                    " rfm_cell = %s, clv_scored_at = %s WHERE id = %s AND merchant_id = %s",
                    [(r[1], r[2], r[3], r[4], stamp, r[0], merchant.pk) for r in part],
                )


def _check(unit: str, horizon_days: int) -> None:
    if unit not in UNITS:
        raise InvalidInput(
            _("Unknown time unit."), fields={"unit": _("must be one of: %s") % ", ".join(UNITS)}
        )
    if not 1 <= horizon_days <= 3650:
        raise InvalidInput(
            _("The horizon is out of range."),
            fields={"horizon_days": _("Give a whole number of days from 1 to 3650.")},
        )


def cautions(run: LifetimeRun) -> list[tuple[str, str]]:
    """Why the predictions of ``run`` deserve less trust, as (code, sentence) pairs; none
    for a sound fit. Shown beside the fit in the console, the API and ``siyu report``."""
    if run.status != LifetimeRun.Status.DONE:
        return []
    found: list[tuple[str, str]] = []
    if not run.converged:
        found.append(
            (
                "not_converged",
                _("The fit did not converge: treat the predictions as rough."),
            )
        )
    if run.repeat_customers < FEW_REPEATERS:
        found.append(
            (
                "few_repeaters",
                _(
                    "Only %(n)d customers bought more than once: the models learn how often "
                    "people buy and when they stop from repeat purchases, so the predictions "
                    "rest on little evidence."
                )
                % {"n": run.repeat_customers},
            )
        )
    params = run.params or {}
    if params.get("gamma_gamma") is None:
        found.append(
            (
                "no_spend_model",
                _(
                    "Too few repeat buyers to fit the spend model (Gamma-Gamma): predicted "
                    "value stays at 0 until more customers buy again; the chance of still "
                    "being active is given all the same."
                ),
            )
        )
    values = [v for model in params.values() if model for v in model.values()]
    if any(
        not isinstance(v, int | float)
        or not math.isfinite(v)
        or v <= 0
        or abs(math.log(v)) > EDGE_LOG
        for v in values
    ):
        found.append(
            (
                "edge_parameters",
                _(
                    "Some parameters are extreme: the history does not yet show the model "
                    "enough (often nobody seems to have stopped buying), so the chances of "
                    "still being active are uncertain."
                ),
            )
        )
    return found


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@transaction.atomic
def refresh(
    merchant: Merchant,
    *,
    as_of: date | None = None,
    unit: str = "weeks",
    horizon_days: int = HORIZON_DAYS,
    holdout_days: int | None = None,
) -> LifetimeRun:
    """Fit, score and store the lifetime value of ``merchant``'s buyers as of the local day
    ``as_of`` (default today: sales up to and including it), and record the run.

    ``holdout_days``: also fit as of ``as_of - holdout_days`` on the history before it and
    compare its prediction with the purchases of the following ``holdout_days`` (the
    paper's calibration/holdout check; stored on the run)."""
    _check(unit, horizon_days)
    started = timer.perf_counter()
    today = clock.local(clock.now(), merchant.time_zone).date()
    as_of = as_of or today
    cutoff = as_of + timedelta(days=1)
    arrays = load_sales(merchant, until=cutoff)
    run = LifetimeRun(
        merchant=merchant, as_of=as_of, unit=unit, horizon_days=horizon_days, sales=len(arrays)
    )
    if len(arrays) == 0:
        run.status = LifetimeRun.Status.NO_DATA
        run.seconds = timer.perf_counter() - started
        run.save()
        _write(merchant, [])
        return run
    summary = clv.summarise(arrays.customer, arrays.day, arrays.amount, day_number(cutoff), unit)
    bg = clv.fit_bgnbd(summary)
    repeaters = int((summary.x > 0).sum())
    gg = clv.fit_gamma_gamma(summary) if repeaters >= 2 else None
    unit_days = clv.UNIT_DAYS[unit]
    scores = clv.score(summary, bg, gg, horizon_days / unit_days, monthly_discount=MONTHLY_DISCOUNT)
    spent = _totals(arrays, summary.customer)
    cells = rfm.rfm_cells(merchant, cutoff)
    rows = list(_rows(scores, spent, cells))
    _write(merchant, rows)
    run.status = LifetimeRun.Status.DONE
    run.customers = len(summary)
    run.repeat_customers = repeaters
    run.params = {
        "bgnbd": {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b},
        "gamma_gamma": {"p": gg.p, "q": gg.q, "v": gg.v} if gg is not None else None,
    }
    run.log_likelihood = _finite(bg.log_likelihood)
    run.converged = bool(bg.converged and (gg is None or gg.converged))
    if holdout_days:
        run.holdout = _holdout(arrays, cutoff, holdout_days, unit)
    run.seconds = timer.perf_counter() - started
    run.save()
    return run


def _holdout(arrays: SaleArrays, cutoff: date, holdout_days: int, unit: str) -> dict[str, Any]:
    split = cutoff - timedelta(days=holdout_days)
    check = clv.holdout(
        arrays.customer, arrays.day, arrays.amount, day_number(split), day_number(cutoff), unit
    )
    return {
        "calibration_end": split.isoformat(),
        "holdout_end": cutoff.isoformat(),
        "customers": check.calibration_customers,
        "params": {"r": check.fit.r, "alpha": check.fit.alpha, "a": check.fit.a, "b": check.fit.b},
        "log_likelihood": _finite(check.fit.log_likelihood),
        "rows": [
            {
                "x": row.label,
                "customers": row.customers,
                "actual": _finite(row.actual_mean),
                "predicted": _finite(row.predicted_mean),
            }
            for row in check.rows
        ],
        "actual_total": check.actual_total,
        "predicted_total": check.predicted_total,
        "relative_error": _finite(check.relative_error),
    }


def backtest(
    merchant: Merchant,
    *,
    as_of: date,
    end: date | None = None,
    unit: str = "weeks",
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """The calibration/holdout check without storing anything: fit on the sales before
    ``as_of`` only, compare with ``[as_of, end)`` (default: today). ``progress`` hears the
    sales read so far, then -1 when the fit starts."""
    _check(unit, HORIZON_DAYS)
    end = end or clock.local(clock.now(), merchant.time_zone).date() + timedelta(days=1)
    if not end > as_of:
        raise InvalidInput(
            _("The holdout period is empty."), fields={"as_of": _("Must be before the end.")}
        )
    arrays = load_sales(merchant, until=end, progress=progress)
    if len(arrays) == 0 or not (arrays.day < day_number(as_of)).any():
        raise InvalidInput(
            _("No customer bought before this date."), fields={"as_of": _("No sales before it.")}
        )
    if progress is not None:
        progress(-1)
    return _holdout(arrays, end, (end - as_of).days, unit)
