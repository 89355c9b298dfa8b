"""Demo data of analytics: the fact tables filled from everything the other generators wrote.

Analytics comes last in ``DEMO_APPS``, so its ``seed`` sees the demo's year of orders, group
memberships, messages, referrals and distributor bindings, and writes the facts with the same
set-based rebuild ``siyu analytics rebuild`` runs (one step per fact table); its ``finish``
scores every buyer's lifetime value once the other generators have finished theirs.
"""

from __future__ import annotations

from siyu.analytics import lifetime, rebuild
from siyu.core.demo import DemoContext

STEPS = len(rebuild.STEPS) + 1  # and the rollups


def seed(ctx: DemoContext) -> None:
    rebuild.rebuild(ctx.merchant, progress=lambda _step, _rows: ctx.advance(1))


def finish(ctx: DemoContext) -> None:
    """After every generator (and the customers' statistics): the lifetime-value models fitted
    on the demo's year and every buyer scored, as the nightly job would."""
    lifetime.refresh(ctx.merchant)
