"""The ECharts option of a group-buy's teams per day (pure: data in, dict out)."""

from __future__ import annotations

from typing import Any

from siyu.groupbuy.selectors import Results

OPENED_COLOR = "#c2410c"
SUCCEEDED_COLOR = "#15803d"
FAILED_COLOR = "#9ca3af"


def teams_per_day(results: Results, *, opened: str, succeeded: str, failed: str) -> dict[str, Any]:
    """Bars of teams succeeded and failed per day (stacked) and a line of teams opened."""
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [opened, succeeded, failed], "bottom": 0},
        "grid": {"left": 40, "right": 12, "top": 16, "bottom": 56},
        "xAxis": {"type": "category", "data": [d.isoformat() for d in results.days]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {
                "name": succeeded,
                "type": "bar",
                "stack": "closed",
                "data": results.succeeded_by_day,
                "itemStyle": {"color": SUCCEEDED_COLOR},
            },
            {
                "name": failed,
                "type": "bar",
                "stack": "closed",
                "data": results.failed_by_day,
                "itemStyle": {"color": FAILED_COLOR},
            },
            {
                "name": opened,
                "type": "line",
                "smooth": True,
                "symbolSize": 4,
                "data": results.opened_by_day,
                "itemStyle": {"color": OPENED_COLOR},
            },
        ],
    }
