"""A seeded cluster bootstrap over customers for the community-uplift estimate (pure numpy).

The analytic interval of ``uplift_cells.Tally.result`` is the default because it costs one pass
over the data. This bootstrap is the check on it (the tests compare the two): each replicate
gives every customer a Poisson(1) weight (the Poisson bootstrap, a close approximation of
resampling customers with replacement that needs no fixed sample size), so all of a customer's
rows - as a member and as a control in many join months - move together. Replicates are
computed in vectorised chunks: every customer's contributions are first summed per cell into
a sparse matrix, and a chunk's cell sums are that matrix times the chunk's weights (one sparse
product). It keeps every customer-cell row while the join months are visited, so it is meant for
samples up to a few hundred thousand customers, not for the full 1.8 M.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from siyu.analytics.uplift_cells import Tally

# customer, cell, change, is_member, number of cells
Rows = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.bool_], int]

# Upper bound of replicate x customer weights held at once (32 MB of float64).
CHUNK_CELLS = 4_000_000


def _per_customer_sums(row: Rows, n_customers: int) -> sparse.csr_matrix:
    """Each customer's member count, member change, control count and control change per cell.

    A (4 x cells) x customers sparse matrix: a replicate's cell sums are then this matrix times
    its customer weights, one sparse product for a whole chunk of replicates, with no
    replicate x row array in between.
    """
    customer, cell, change, is_member, n_cells = row
    control = ~is_member
    cols = np.concatenate(
        [
            cell[is_member],
            n_cells + cell[is_member],
            2 * n_cells + cell[control],
            3 * n_cells + cell[control],
        ]
    )
    data = np.concatenate(
        [
            np.ones(int(is_member.sum())),
            change[is_member],
            np.ones(int(control.sum())),
            change[control],
        ]
    )
    custs = np.concatenate([customer[is_member]] * 2 + [customer[control]] * 2)
    return sparse.csr_matrix((data, (cols, custs)), shape=(4 * n_cells, n_customers))


def _replicate_effects(
    weights: NDArray[np.float64], sums: sparse.csr_matrix
) -> NDArray[np.float64]:
    """The estimate under each row of ``weights`` (replicates x customers); NaN if none matched."""
    n_cells = sums.shape[0] // 4
    cell_sums = np.asarray(sums @ weights.T).T  # replicates x (4 x cells)
    n_m, t_m, n_c, u_c = (cell_sums[:, i * n_cells : (i + 1) * n_cells] for i in range(4))
    matched = (n_m > 0) & (n_c > 0)
    control_mean = np.divide(u_c, n_c, out=np.zeros_like(u_c), where=matched)
    numerator = np.where(matched, t_m - n_m * control_mean, 0.0).sum(axis=1)
    members = np.where(matched, n_m, 0.0).sum(axis=1)
    return np.divide(numerator, members, out=np.full(len(members), np.nan), where=members > 0)


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
    if n_customers == 0 or all(r is None for r in rows):
        return [None] * len(rows)
    sums = [None if r is None else _per_customer_sums(r, n_customers) for r in rows]
    chunk = max(1, min(n_boot, CHUNK_CELLS // n_customers))
    effects: list[list[NDArray[np.float64]]] = [[] for _ in rows]
    done = 0
    while done < n_boot:
        reps = min(chunk, n_boot - done)
        weights = rng.poisson(1.0, size=(reps, n_customers)).astype(np.float64)
        for pos, matrix in enumerate(sums):
            if matrix is not None:
                effects[pos].append(_replicate_effects(weights, matrix))
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
