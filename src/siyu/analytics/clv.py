"""Customer lifetime value: the per-customer summary of a transaction log, the BG/NBD and
Gamma-Gamma fits, the scores, and the calibration/holdout check (issue 6; see docs/clv.md).

Plain numpy arrays in, dataclasses of arrays out, no database access: the analytics layer reads
``Sale`` rows into arrays, calls these functions, and stores what they return. The models live
in ``clv_bgnbd`` and ``clv_gamma``; this module is the small API the rest of Siyu calls:

    summary = summarise(customer, t, amount, cutoff, unit="weeks")
    bg = fit_bgnbd(summary)
    gg = fit_gamma_gamma(summary)
    scores = score(summary, bg, gg, horizon=52, monthly_discount=0.01)
    check = holdout(customer, t, amount, cutoff, end, unit="weeks")
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from django.utils.translation import gettext_lazy as _
from numpy.typing import ArrayLike, NDArray

from siyu.core.errors import InvalidInput

from .clv_bgnbd import BgNbdFit, compress, conditional_expected_purchases, fit_bgnbd_arrays
from .clv_bgnbd import p_alive as bgnbd_p_alive
from .clv_gamma import GammaGammaFit, expected_spend, fit_gamma_gamma_arrays

__all__ = [
    "BgNbdFit",
    "GammaGammaFit",
    "Holdout",
    "HoldoutRow",
    "Scores",
    "Summary",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "holdout",
    "score",
    "summarise",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Unit = Literal["days", "weeks"]
UNIT_DAYS: dict[str, float] = {"days": 1.0, "weeks": 7.0}
DAYS_PER_MONTH = 30.0  # the month of the discount rate
HOLDOUT_GROUPS = 7  # holdout rows x = 0, 1, ..., 6, then "7+"


@dataclass(frozen=True)
class Summary:
    """One row per customer with a purchase before the cutoff, sorted by customer id.

    Purchases on one day count once (the paper's rule): ``x`` is the number of distinct
    purchase days after the first, ``t_x`` the time from the first purchase day to the last,
    ``T`` the time from the first purchase day to the cutoff, all in ``unit``. ``monetary`` is
    the mean spend (fen) of the repeat purchase days (a day's orders summed), 0 where x = 0:
    the first purchase is left out, as Gamma-Gamma is fitted on repeat purchases.
    """

    customer: IntArray
    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    monetary: FloatArray
    unit: str
    cutoff_day: float  # the cutoff in days since 1970-01-01 (fractional)

    def __len__(self) -> int:
        return len(self.customer)


def _unit_days(unit: str) -> float:
    if unit not in UNIT_DAYS:
        raise InvalidInput(_("Unknown time unit."), fields={"unit": _("Choose days or weeks.")})
    return UNIT_DAYS[unit]


def _as_days(value: ArrayLike, name: str) -> FloatArray:
    """Times as float days since 1970-01-01: datetime64 values are converted, numbers are
    taken to be days already."""
    array = np.asarray(value)
    if np.issubdtype(array.dtype, np.datetime64):
        return np.asarray(
            (array - np.datetime64(0, "s")) / np.timedelta64(1, "D"), dtype=np.float64
        )
    if not np.issubdtype(array.dtype, np.number):
        raise InvalidInput(
            _("Times must be datetimes or numbers of days."),
            fields={name: _("Not a datetime or a number.")},
        )
    return array.astype(np.float64, copy=False)


def _check_lengths(**arrays: NDArray[Any]) -> int:
    lengths = {name: len(array) for name, array in arrays.items()}
    n = next(iter(lengths.values()))
    for name, length in lengths.items():
        if length != n:
            raise InvalidInput(
                _("The transaction arrays differ in length."),
                fields={name: _("Has a different length from the customer array.")},
            )
    return n


def _customer_days(
    customer: NDArray[Any], day: IntArray, amount: NDArray[Any]
) -> tuple[IntArray, IntArray, IntArray]:
    """(customer, day, amount summed) per distinct customer-day, sorted by customer then day.

    One int64 key per transaction (customer × day span + day) and one argsort: the cheapest
    sort for 20 M rows, and no structured arrays. Customer ids that do not fit the key (negative
    or huge) are first replaced by their rank.
    """
    first = int(day.min())
    span = int(day.max()) - first + 1
    ids = np.asarray(customer)
    if not np.issubdtype(ids.dtype, np.integer):
        raise InvalidInput(
            _("Customer ids must be integers."), fields={"customer": _("Not integers.")}
        )
    if int(ids.min()) < 0 or int(ids.max()) >= (2**62) // span:
        uniques, codes = np.unique(ids, return_inverse=True)
        key = codes.astype(np.int64) * span
    else:
        uniques = None
        key = ids.astype(np.int64) * span
    key += day - first
    order = np.argsort(key)
    key = key[order]
    spent = np.asarray(amount)[order].astype(np.int64, copy=False)
    del order
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    day_amount = np.add.reduceat(spent, starts)
    del spent
    day_key = key[starts]
    del key
    who = day_key // span
    if uniques is not None:
        who = uniques[who].astype(np.int64)
    return who, day_key % span + first, day_amount


def summarise(
    customer: ArrayLike,
    t: ArrayLike,
    amount: ArrayLike,
    cutoff: Any,
    unit: str = "days",
) -> Summary:
    """The BG/NBD and Gamma-Gamma summary of the transactions before ``cutoff``.

    ``customer``: integer ids; ``t``: datetime64 times (UTC days) or float days since any
    fixed day 0; ``amount``: integers in fen; ``cutoff``: of the same kind as ``t``,
    exclusive. A customer's first purchase day is day 0 of that customer's clock, so T is
    measured from the start of that day to the cutoff.
    """
    unit_days = _unit_days(unit)
    customer_a = np.asarray(customer)
    amount_a = np.asarray(amount)
    days = _as_days(t, "t")
    _check_lengths(customer=customer_a, t=days, amount=amount_a)
    if amount_a.size and (not np.issubdtype(amount_a.dtype, np.number) or amount_a.min() < 0):
        raise InvalidInput(
            _("Amounts must be non-negative numbers in minor units."),
            fields={"amount": _("Negative or not a number.")},
        )
    cutoff_day = float(_as_days(np.asarray([cutoff]), "cutoff")[0])
    if not np.isfinite(cutoff_day):
        raise InvalidInput(_("The cutoff is not a time."), fields={"cutoff": _("Not a time.")})
    before = days < cutoff_day
    if not before.all():
        customer_a, days, amount_a = customer_a[before], days[before], amount_a[before]
    del before
    if len(customer_a) == 0:
        empty = np.zeros(0)
        return Summary(np.zeros(0, dtype=np.int64), empty, empty, empty, empty, unit, cutoff_day)
    day = np.floor(days).astype(np.int64)
    del days
    who, day, spent = _customer_days(customer_a, day, amount_a)
    starts = np.flatnonzero(np.concatenate(([True], who[1:] != who[:-1])))
    ends = np.append(starts[1:], len(who))
    first_day = day[starts]
    x = (ends - starts - 1).astype(np.float64)
    repeat_spend = np.add.reduceat(spent, starts) - spent[starts]
    monetary = np.divide(repeat_spend, x, out=np.zeros_like(x), where=x > 0)
    return Summary(
        customer=who[starts],
        x=x,
        t_x=(day[ends - 1] - first_day) / unit_days,
        T=np.asarray((cutoff_day - first_day) / unit_days, dtype=np.float64),
        monetary=monetary,
        unit=unit,
        cutoff_day=cutoff_day,
    )


def fit_bgnbd(summary: Summary, *, penalty: float = 0.0) -> BgNbdFit:
    """BG/NBD parameters of the summary by maximum likelihood (see ``clv_bgnbd``)."""
    if len(summary) == 0:
        raise InvalidInput(
            _("No customer bought before the cutoff."),
            fields={"cutoff": _("No purchases before this date.")},
        )
    return fit_bgnbd_arrays(summary.x, summary.t_x, summary.T, penalty=penalty)


def fit_gamma_gamma(summary: Summary, *, penalty: float = 0.0) -> GammaGammaFit:
    """Gamma-Gamma parameters from the repeat customers' mean spend (see ``clv_gamma``)."""
    return fit_gamma_gamma_arrays(summary.x, summary.monetary, penalty=penalty)


@dataclass(frozen=True)
class Scores:
    """Per customer (in the summary's order): P(alive), expected purchases in the horizon,
    expected spend per purchase (fen) and lifetime value over the horizon (fen, discounted)."""

    customer: IntArray
    p_alive: FloatArray
    expected_purchases: FloatArray
    expected_spend: FloatArray
    clv: FloatArray
    horizon: float  # in the summary's unit
    unit: str


def score(
    summary: Summary,
    bg: BgNbdFit,
    gg: GammaGammaFit | None,
    horizon: float,
    *,
    monthly_discount: float = 0.0,
) -> Scores:
    """Score every customer of the summary over ``horizon`` time units.

    Lifetime value = Σ_k E[M] · (E[Y(t_k)] − E[Y(t_{k−1})]) / (1 + d)^k over the months
    k = 1..K of the horizon (t_k = k months, the last capped at the horizon; a month is 30
    days), with E[Y(t)] eq. 10 of BG/NBD, E[M] eq. 5 of Gamma-Gamma and d the monthly discount
    rate; with d = 0 this is E[M] · E[Y(horizon)]. Without a Gamma-Gamma fit (no repeat
    customers) spend and value are NaN. Evaluated once per distinct (x, t_x, T).
    """
    if horizon < 0:
        raise InvalidInput(_("The horizon is negative."), fields={"horizon": _("Must be ≥ 0.")})
    if monthly_discount < 0:
        raise InvalidInput(
            _("The discount rate is negative."), fields={"monthly_discount": _("Must be ≥ 0.")}
        )
    (ux, ut, uT), _counts, inverse = compress(summary.x, summary.t_x, summary.T)
    params = bg.params
    alive = bgnbd_p_alive(params, ux, ut, uT)[inverse]
    month = DAYS_PER_MONTH / _unit_days(summary.unit)
    steps = np.arange(1, int(np.ceil(horizon / month - 1e-9)) + 1) * month
    steps = np.minimum(steps, horizon) if len(steps) else np.array([horizon])
    previous = np.zeros_like(ux)
    discounted = np.zeros_like(ux)
    for k, step in enumerate(steps, start=1):
        cumulative = conditional_expected_purchases(params, ux, ut, uT, float(step))
        discounted += (cumulative - previous) / (1 + monthly_discount) ** k
        previous = cumulative
    purchases = previous[inverse]
    if gg is not None and gg.customers > 0:
        spend = expected_spend(gg.params, summary.x, summary.monetary)
    else:
        spend = np.full(len(summary), np.nan)
    return Scores(
        customer=summary.customer,
        p_alive=alive,
        expected_purchases=purchases,
        expected_spend=spend,
        clv=spend * discounted[inverse],
        horizon=float(horizon),
        unit=summary.unit,
    )


@dataclass(frozen=True)
class HoldoutRow:
    """Customers with ``x`` repeat purchases in calibration (``label`` "7+" for the last)."""

    label: str
    customers: int
    actual_mean: float  # mean purchase days in the holdout period
    predicted_mean: float  # mean of eq. 10 over the holdout period's length


@dataclass(frozen=True)
class Holdout:
    """The paper's Figure 4 check: fit on the calibration period, predict the holdout period."""

    fit: BgNbdFit
    unit: str
    calibration_customers: int
    holdout_length: float  # in unit
    rows: list[HoldoutRow] = field(default_factory=list)
    actual_total: float = 0.0
    predicted_total: float = 0.0

    @property
    def relative_error(self) -> float:
        """(predicted − actual) / actual over all customers; NaN with no holdout purchases."""
        if self.actual_total == 0:
            return float("nan")
        return (self.predicted_total - self.actual_total) / self.actual_total

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["relative_error"] = self.relative_error
        return out


def holdout_counts(
    summary: Summary, customer: ArrayLike, t: ArrayLike, cutoff: Any, end: Any
) -> FloatArray:
    """Distinct purchase days in [cutoff, end) of each summary customer (0 for none).
    Customers whose first purchase is in the holdout period are not in the summary and are
    left out, as in the paper."""
    days = _as_days(t, "t")
    start = float(_as_days(np.asarray([cutoff]), "cutoff")[0])
    stop = float(_as_days(np.asarray([end]), "end")[0])
    inside = (days >= start) & (days < stop)
    who = np.asarray(customer)[inside].astype(np.int64)
    day = np.floor(days[inside]).astype(np.int64)
    counts = np.zeros(len(summary))
    if len(who) == 0 or len(summary) == 0:
        return counts
    row = np.searchsorted(summary.customer, who)
    row = np.minimum(row, len(summary) - 1)
    known = summary.customer[row] == who
    first = int(day.min())
    span = int(day.max()) - first + 1
    pairs = np.unique(row[known].astype(np.int64) * span + (day[known] - first))
    counts += np.bincount(pairs // span, minlength=len(summary))
    return counts


def holdout(
    customer: ArrayLike,
    t: ArrayLike,
    amount: ArrayLike,
    cutoff: Any,
    end: Any,
    unit: str = "days",
    *,
    penalty: float = 0.0,
) -> Holdout:
    """Fit BG/NBD on the transactions before ``cutoff`` and compare eq. 10's prediction for
    [cutoff, end) with the purchase days that happened there, grouped by calibration x."""
    unit_days = _unit_days(unit)
    summary = summarise(customer, t, amount, cutoff, unit)
    start = float(_as_days(np.asarray([cutoff]), "cutoff")[0])
    stop = float(_as_days(np.asarray([end]), "end")[0])
    if not stop > start:
        raise InvalidInput(
            _("The holdout period is empty."), fields={"end": _("Must be after the cutoff.")}
        )
    bg = fit_bgnbd(summary, penalty=penalty)
    length = (stop - start) / unit_days
    actual = holdout_counts(summary, customer, t, cutoff, end)
    (ux, ut, uT), _counts, inverse = compress(summary.x, summary.t_x, summary.T)
    predicted = conditional_expected_purchases(bg.params, ux, ut, uT, length)[inverse]
    group = np.minimum(summary.x, HOLDOUT_GROUPS).astype(np.int64)
    rows = []
    for g in range(HOLDOUT_GROUPS + 1):
        members = group == g
        n = int(members.sum())
        rows.append(
            HoldoutRow(
                label=f"{g}+" if g == HOLDOUT_GROUPS else str(g),
                customers=n,
                actual_mean=float(actual[members].mean()) if n else float("nan"),
                predicted_mean=float(predicted[members].mean()) if n else float("nan"),
            )
        )
    return Holdout(
        fit=bg,
        unit=unit,
        calibration_customers=len(summary),
        holdout_length=length,
        rows=rows,
        actual_total=float(actual.sum()),
        predicted_total=float(predicted.sum()),
    )
