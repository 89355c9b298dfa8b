"""Exponential backoff with jitter (pure)."""

from __future__ import annotations

import random


def backoff_seconds(
    attempt: int,
    *,
    base: float = 30.0,
    cap: float = 6 * 3600.0,
    jitter: float = 0.2,
    rng: random.Random | None = None,
) -> float:
    """Delay before retry number ``attempt`` (1 = first retry): base·2^(attempt-1), capped, ±jitter."""
    if attempt < 1:
        raise ValueError("attempt starts at 1")
    delay = min(cap, base * (2 ** (attempt - 1)))
    if jitter:
        spread = delay * jitter
        delay += (rng or random).uniform(-spread, spread)
    return max(0.0, delay)
