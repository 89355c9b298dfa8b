"""Demo data of webhooks: one example endpoint, switched off, so the page is not empty."""

from __future__ import annotations

from siyu.core.demo import DemoContext
from siyu.webhooks import services

STEPS: int = 1

DEMO_URL = "http://127.0.0.1:9/siyu-demo"  # port 9 (discard): nothing listens, nothing is sent


def seed(ctx: DemoContext) -> None:
    """Create an inactive example endpoint; no delivery is attempted to it."""
    services.create_endpoint(
        ctx.owner,
        url=DEMO_URL,
        description="示例：ERP 订单同步（未启用）",
        event_types=["*"],
        is_active=False,
    )
    ctx.advance(1)
