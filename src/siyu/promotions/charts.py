"""The ECharts option of a coupon template's claims and uses per day (pure: data in, dict out)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from siyu.promotions.results import DayCount

CLAIMED_COLOR = "#c2410c"
USED_COLOR = "#15803d"


def claims_and_uses(days: Sequence[DayCount], *, claimed: str, used: str) -> dict[str, Any]:
    """Bars of claims and a line of uses, one point per day (labels are given translated)."""
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [claimed, used], "bottom": 0},
        "grid": {"left": 40, "right": 12, "top": 16, "bottom": 56},
        "xAxis": {"type": "category", "data": [d.day.isoformat() for d in days]},
        "yAxis": {"type": "value", "minInterval": 1},
        "dataZoom": [{"type": "inside"}] if len(days) > 45 else [],
        "series": [
            {
                "name": claimed,
                "type": "bar",
                "barMaxWidth": 28,
                "data": [d.claimed for d in days],
                "itemStyle": {"color": CLAIMED_COLOR},
            },
            {
                "name": used,
                "type": "line",
                "smooth": True,
                "symbolSize": 4,
                "data": [d.used for d in days],
                "itemStyle": {"color": USED_COLOR},
            },
        ],
    }
