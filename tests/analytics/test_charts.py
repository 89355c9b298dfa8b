"""The analytics console's ECharts options: pure functions, checked on small inputs."""

from __future__ import annotations

import json
from datetime import date

from siyu.analytics import charts


def test_daily_sales_draws_yuan_bars_and_an_order_line_per_day() -> None:
    option = charts.daily_sales(
        [(date(2026, 3, 1), 12345, 2), (date(2026, 3, 2), 0, 0)], sales="Sales", orders="Orders"
    )
    assert option["xAxis"]["data"] == ["2026-03-01", "2026-03-02"]
    bars, line = option["series"]
    assert bars["data"] == [123.45, 0.0]
    assert line["data"] == [2, 0]
    assert line["yAxisIndex"] == 1
    assert option["dataZoom"] == []
    json.dumps(option)  # plain JSON: json_script must be able to render it


def test_daily_sales_zooms_on_long_periods() -> None:
    days = [(date(2026, 1, 1), 100, 1)] * 90
    assert charts.daily_sales(days, sales="S", orders="O")["dataZoom"] == [{"type": "inside"}]


def test_share_pie_leaves_out_empty_parts() -> None:
    option = charts.share_pie([("Group", 5000), ("Organic", 0), ("Guide", 150)], name="Sales")
    assert option["series"][0]["data"] == [
        {"name": "Group", "value": 50.0},
        {"name": "Guide", "value": 1.5},
    ]


def test_heatmap_skips_empty_squares_and_scales_to_the_largest() -> None:
    option = charts.heatmap(
        ["0", "1"], ["2026-01", "2026-02"], [(0, 0, 1.0), (1, 0, 0.25), (0, 1, None)],
        name="Retention", percent=True,
    )  # fmt: skip
    assert option["series"][0]["data"] == [[0, 0, 100.0], [1, 0, 25.0]]
    assert option["visualMap"]["max"] == 100.0
    assert option["yAxis"]["data"] == ["2026-01", "2026-02"]


def test_heatmap_of_nothing_keeps_a_usable_scale() -> None:
    option = charts.heatmap([], [], [], name="Customers")
    assert option["visualMap"]["max"] == 1
    assert option["series"][0]["data"] == []


def test_funnel_keeps_the_order_and_scales_to_the_widest() -> None:
    option = charts.funnel([("Invited", 10), ("Bought", 3)], name="Fission")
    series = option["series"][0]
    assert [d["value"] for d in series["data"]] == [10, 3]
    assert series["max"] == 10
    assert series["sort"] == "none"


def test_ranked_bars_put_the_first_row_on_top() -> None:
    option = charts.ranked_bars([("Gina", 10000), ("Hao", 2550)], name="Sales")
    assert option["yAxis"]["inverse"] is True
    assert option["yAxis"]["data"] == ["Gina", "Hao"]
    assert option["series"][0]["data"] == [100.0, 25.5]


def test_histogram_keeps_the_buckets_in_order() -> None:
    option = charts.histogram(["0–50", "50–100"], [4, 1], name="Customers")
    assert option["xAxis"]["data"] == ["0–50", "50–100"]
    assert option["series"][0]["data"] == [4, 1]


def test_uplift_curves_label_months_around_joining() -> None:
    option = charts.uplift_curves(
        [-1, 0, 1], [1.0, 2.0, 3.0], [1.0, 1.5, 1.25],
        members_name="Members", controls_name="Controls", y_name="Orders",
    )  # fmt: skip
    assert option["xAxis"]["data"] == ["-1", "0", "+1"]
    members, controls = option["series"]
    assert members["data"] == [1.0, 2.0, 3.0]
    assert controls["data"] == [1.0, 1.5, 1.25]
    assert members["markArea"]["data"] == [[{"xAxis": "0"}, {"xAxis": "0"}]]
