"""How much one helper cuts off a bargain: pure (no database), integer fen, reproducible.

A bargain has ``total = original − floor`` fen to cut, shared by ``helpers_needed`` helper
*shares*. Each helper's cut covers one share, or ``weight`` shares when the activity counts a
new customer as several helpers (``new_customer_weight``; 1 = off). :func:`draw_cut` draws
one cut from what is left to cut (``remaining``) and the shares still needed
(``shares_left``):

* the helper whose shares reach the count needed (``weight ≥ shares_left``) cuts exactly the
  rest, so the cuts always add up to ``total`` when the last needed helper cuts;
* every other cut is at least 1 fen and leaves at least 1 fen for each share still needed
  after it, so the price never goes below the floor and no later cut is ever 0;
* the shape is the one customers know: early helpers cut more. Of ``n`` shares left, the
  next share's expected part of what is left is ``2 / (n + 1)`` (the shares left weighted
  ``n, n−1, …, 1``), and ``k`` shares take the ``k`` heaviest weights; a random factor from
  60 % to 140 % makes each cut a surprise.

The draw is seeded: ``random.Random`` of the bargain's ``seed`` and the cut's ``sequence``
(1 for the first cut), so a stored cut can be re-derived from the bargain's seed and the
state before it (:func:`replay`). No float touches an amount: the factor is in permille.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

MAX_HELPERS = 100
MAX_WEIGHT = 10
JITTER_LOW = 600  # permille of the expected cut
JITTER_HIGH = 1400


class CutError(ValueError):
    """Inputs no bargain can have (a caller's bug: services validate first)."""


def _whole(value: object, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise CutError(f"{name} must be a whole number of at least {low}")
    return value


def rng(seed: int, sequence: int) -> random.Random:
    """The random source of cut number ``sequence`` of the bargain seeded ``seed``."""
    return random.Random(f"bargain:{seed}:{sequence}")


def shares_of(weight: int, shares_left: int) -> int:
    """The shares one cut covers: the helper's weight, at most what is still needed."""
    return min(weight, shares_left)


def draw_cut(*, remaining: int, shares_left: int, weight: int, seed: int, sequence: int) -> int:
    """The fen one helper cuts, covering ``min(weight, shares_left)`` shares.

    ``remaining`` must be at least ``shares_left`` (each share still needed cuts ≥ 1 fen).
    """
    _whole(remaining, "remaining", 0)
    _whole(shares_left, "shares_left", 1)
    _whole(weight, "weight", 1)
    _whole(sequence, "sequence", 1)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise CutError("seed must be an integer")
    if remaining < shares_left:
        raise CutError("every share still needed must be able to cut at least 1 fen")
    shares = shares_of(weight, shares_left)
    if shares == shares_left:
        return remaining  # the last needed helper cuts exactly the rest
    after = shares_left - shares  # shares that must still cut ≥ 1 fen each
    # the ``shares`` heaviest of the weights n, n−1, …, 1 over their sum n(n+1)/2
    heavy = shares * shares_left - shares * (shares - 1) // 2
    total_weight = shares_left * (shares_left + 1) // 2
    jitter = rng(seed, sequence).randint(JITTER_LOW, JITTER_HIGH)
    wanted = remaining * heavy * jitter // (total_weight * 1000)
    # remaining ≥ shares + after, so the bounds never cross
    return max(shares, min(wanted, remaining - after))


@dataclass(frozen=True)
class Cut:
    """One cut as a bargain records it."""

    sequence: int
    weight: int  # the helper's weight (1, or the new-customer weight)
    shares: int  # the shares it covered
    amount: int  # fen


def replay(total: int, helpers_needed: int, seed: int, weights: Sequence[int]) -> list[Cut]:
    """The cuts of helpers with ``weights``, in order, until the count is reached (helpers
    after that would be refused and are left out)."""
    _whole(total, "total", 0)
    _whole(helpers_needed, "helpers_needed", 1)
    if total < helpers_needed:
        raise CutError("the amount to cut must be at least 1 fen per helper")
    cuts: list[Cut] = []
    remaining, shares_left = total, helpers_needed
    for sequence, weight in enumerate(weights, start=1):
        if shares_left == 0:
            break
        amount = draw_cut(
            remaining=remaining,
            shares_left=shares_left,
            weight=weight,
            seed=seed,
            sequence=sequence,
        )
        shares = shares_of(weight, shares_left)
        cuts.append(Cut(sequence, weight, shares, amount))
        remaining -= amount
        shares_left -= shares
    return cuts


def progress_permille(original: int, floor: int, current: int) -> int:
    """How far from the original price towards the floor ``current`` is, in permille."""
    total = original - floor
    if total <= 0:
        return 1000
    done = min(max(original - current, 0), total)
    return done * 1000 // total
