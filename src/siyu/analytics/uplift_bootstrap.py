"""A seeded cluster bootstrap over customers for the community-uplift estimate (pure numpy).

The analytic interval of ``uplift_cells.Tally.result`` is the default because it costs one pass
over the data. This bootstrap is the check on it (the tests compare the two): each replicate
gives every customer a Poisson(1) weight (the Poisson bootstrap, a close approximation of
resampling customers with replacement that needs no fixed sample size), so all of a customer's
rows - as a member and as a control in many join months - move together. Replicates are
computed in vectorised chunks: a chunk's weights are gathered onto the rows and summed per
(replicate, cell) with one ``bincount``. It keeps every row, so it is meant for samples up to a
few hundred thousand customers, not for the full 1.8 M.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from siyu.analytics.uplift_cells import Tally

# customer, cell, change, is_member, number of cells
Rows = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.bool_], int]

# Upper bound of replicate x row products held at once (about 32 MB per float64 array).
CHUNK_CELLS = 4_000_000


def _replicate_effects(
    weights: NDArray[np.float64],
    customer: NDArray[np.int64],
    cell: NDArray[np.int64],
    change: NDArray[np.float64],
    is_member: NDArray[np.bool_],
    n_cells: int,
) -> NDArray[np.float64]:
    """The estimate under each row of ``weights`` (replicates x customers); NaN if none matched."""
    reps = weights.shape[0]
    on_rows = weights[:, customer]  # replicates x rows
    index = (np.arange(reps)[:, None] * n_cells + cell[None, :]).ravel()
    size = reps * n_cells
    member_w = (on_rows * is_member).ravel()
    control_w = (on_rows * ~is_member).ravel()
    flat_change = np.broadcast_to(change, on_rows.shape).ravel()
    n_m = np.bincount(index, weights=member_w, minlength=size).reshape(reps, n_cells)
    t_m = np.bincount(index, weights=member_w * flat_change, minlength=size).reshape(reps, n_cells)
    n_c = np.bincount(index, weights=control_w, minlength=size).reshape(reps, n_cells)
    u_c = np.bincount(index, weights=control_w * flat_change, minlength=size).reshape(reps, n_cells)
    matched = (n_m > 0) & (n_c > 0)
    control_mean = np.divide(u_c, n_c, out=np.zeros_like(u_c), where=matched)
    numerator = np.where(matched, t_m - n_m * control_mean, 0.0).sum(axis=1)
    members = np.where(matched, n_m, 0.0).sum(axis=1)
    return np.divide(numerator, members, out=np.full(reps, np.nan), where=members > 0)


def bootstrap_intervals(
    tallies: list[Tally],
    metrics: list[str],
    *,
    n_customers: int,
    n_boot: int,
    seed: int,
) -> list[tuple[float, float] | None]:
    """Percentile 95 % intervals of each (tally, metric) estimate, all from the same draws."""
    if n_boot < 2:
        raise ValueError("n_boot must be at least 2")
    rng = np.random.default_rng(seed)
    rows: list[Rows | None] = []
    for tally, metric in zip(tallies, metrics, strict=True):
        kept = tally.rows[metric]
        if not kept.customer:
            rows.append(None)
            continue
        rows.append(
            (
                np.concatenate(kept.customer),
                np.concatenate(kept.cell),
                np.concatenate(kept.change),
                np.concatenate(kept.is_member),
                kept.n_cells,
            )
        )
    longest = max((len(r[0]) for r in rows if r is not None), default=0)
    if longest == 0 or n_customers == 0:
        return [None] * len(rows)
    chunk = max(1, min(n_boot, CHUNK_CELLS // max(longest, n_customers)))
    effects: list[list[NDArray[np.float64]]] = [[] for _ in rows]
    done = 0
    while done < n_boot:
        reps = min(chunk, n_boot - done)
        weights = rng.poisson(1.0, size=(reps, n_customers)).astype(np.float64)
        for pos, row in enumerate(rows):
            if row is not None:
                effects[pos].append(_replicate_effects(weights, *row))
        done += reps
    out: list[tuple[float, float] | None] = []
    for row, parts in zip(rows, effects, strict=True):
        if row is None:
            out.append(None)
            continue
        values = np.concatenate(parts)
        values = values[np.isfinite(values)]
        if len(values) < 2:
            out.append(None)
            continue
        low, high = np.percentile(values, [2.5, 97.5])
        out.append((float(low), float(high)))
    return out
