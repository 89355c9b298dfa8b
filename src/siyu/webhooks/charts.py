"""The ECharts option of an endpoint's deliveries per day (pure: data in, dict out)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from siyu.webhooks.selectors import DayCount

SUCCEEDED_COLOR = "#15803d"
FAILED_COLOR = "#b91c1c"


def deliveries_per_day(days: Sequence[DayCount], *, succeeded: str, failed: str) -> dict[str, Any]:
    """Stacked bars, succeeded under failed, one bar per day (labels are given translated)."""
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [succeeded, failed], "bottom": 0},
        "grid": {"left": 36, "right": 12, "top": 16, "bottom": 48},
        "xAxis": {"type": "category", "data": [d.day.strftime("%m-%d") for d in days]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {
                "name": succeeded,
                "type": "bar",
                "stack": "deliveries",
                "data": [d.succeeded for d in days],
                "itemStyle": {"color": SUCCEEDED_COLOR},
            },
            {
                "name": failed,
                "type": "bar",
                "stack": "deliveries",
                "data": [d.failed for d in days],
                "itemStyle": {"color": FAILED_COLOR},
            },
        ],
    }
