"""``siyu report``: the overview numbers on the terminal (aligned) and as JSON; with
``--lifetime`` the latest lifetime-value fit and the holdout check of the period.

History (fen): Ada 2026-03-02 ¥100 (store Lakeside) and 03-05 ¥50; Bo 03-10 ¥60 with ¥10
refunded; Cy 2026-02-10 ¥40. March: GMV ¥210, net ¥200, 3 orders by 2 buyers, AOV ¥66.67
(20000 / 3 = 6666.67 fen, rounded half up), repurchase 1 of 2; February (before): GMV ¥40.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from siyu.analytics import lifetime
from siyu.analytics.management.commands.report import aligned, display_width
from siyu.analytics.testing import make_sale
from siyu.core import clock
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.stores.testing import make_store

pytestmark = pytest.mark.django_db

MARCH = ["--from", "2026-03-01", "--to", "2026-03-31"]


@pytest.fixture
def history(merchant: Merchant) -> None:
    store = make_store(merchant, name="湖滨店")
    make_sale(merchant, 1, datetime(2026, 3, 2, 10), 10000, store_id=store.pk)
    make_sale(merchant, 1, datetime(2026, 3, 5, 10), 5000)
    make_sale(merchant, 2, datetime(2026, 3, 10, 10), 6000, refunded=1000)
    make_sale(merchant, 3, datetime(2026, 2, 10, 10), 4000)


def _run(*args: str) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("report", *args, stdout=out)
    return out.getvalue()


def test_json_has_the_numbers_in_fen_with_previous_and_change(
    merchant: Merchant, history: None
) -> None:
    document = json.loads(_run("--merchant", merchant.slug, *MARCH, "--json"))
    numbers = document["numbers"]
    gmv = numbers["gmv"]
    assert (gmv["value"], gmv["previous"], gmv["change"]) == (21000, 4000, 4.25)
    assert gmv["definition"].startswith("Paid amount")
    assert numbers["net_sales"]["value"] == 20000
    assert numbers["orders"]["value"] == 3
    assert numbers["buyers"]["value"] == 2
    assert numbers["aov"]["value"] == 6667
    assert numbers["repurchase_rate"]["value"] == 0.5
    assert document["previous"] == {"from": "2026-01-29", "to": "2026-02-28"}
    assert "groups" not in document


def test_json_grouped_by_store(merchant: Merchant, history: None) -> None:
    document = json.loads(_run("--merchant", merchant.slug, *MARCH, "--by", "store", "--json"))
    groups = {g["label"]: g for g in document["groups"]}
    assert groups["湖滨店"]["net_sales"] == 10000
    assert groups["(none)"]["net_sales"] == 10000
    assert groups["(none)"]["orders"] == 2


def test_table_is_aligned_by_display_width(merchant: Merchant, history: None) -> None:
    text = _run("--merchant", merchant.slug, *MARCH, "--by", "store")
    lines = text.splitlines()
    gmv = next(line for line in lines if line.startswith("GMV "))
    assert "¥210.00" in gmv
    assert "+425.0%" in gmv
    grouped = lines[lines.index("") + 1 :]
    # a tie on net sales is ordered by name; right-aligned numbers end on the same column
    assert grouped[2].startswith("(none)")
    assert grouped[3].startswith("湖滨店")
    assert len({display_width(line) for line in grouped}) == 1


def test_aligned_pads_chinese_by_two_columns_a_character() -> None:
    lines = aligned(["name", "n"], [["湖滨店", "1"], ["ab", "10"]], right={1})
    assert lines == ["name     n", "------  --", "湖滨店   1", "ab      10"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--from", "2026-02-30", "--to", "2026-03-31"], "--from"),
        (["--from", "2026-03-01", "--to", "March"], "--to"),
        (["--from", "2026-03-31", "--to", "2026-03-01"], "--to"),
    ],
)
def test_bad_arguments_name_the_argument(merchant: Merchant, args: list[str], named: str) -> None:
    with pytest.raises(CommandError, match=named):
        _run("--merchant", merchant.slug, *args)


def test_unknown_merchant_and_dimension(merchant: Merchant) -> None:
    with pytest.raises(CommandError, match="--merchant"):
        _run("--merchant", "nobody", *MARCH)
    with pytest.raises(CommandError, match="--by"):
        _run("--merchant", merchant.slug, *MARCH, "--by", "colour")


# --- --lifetime: the latest fit and the holdout check of the period ---------------------------
#
# Before March: customer 11 buys on 01-05, 02-10 and 02-20 (two repeat purchases), 12 on 01-10,
# 13 on 02-10, 14 on 01-15 and 02-01 (one repeat). In March: 11 on 03-02 and 03-05, 12 on 03-10
# and 03-25; 15's first purchase is on 03-20 (left out). So by repeat purchases before March:
# 0 → 12 and 13, 2 purchases in all (1.0 a customer); 1 → 14, none; 2 → 11, 2. Four customers,
# four purchases. Cut at 03-20 (today), 12's purchase of 03-25 is not counted yet.

LIFETIME = {
    11: ["2026-01-05", "2026-02-10", "2026-02-20", "2026-03-02", "2026-03-05"],
    12: ["2026-01-10", "2026-03-10", "2026-03-25"],
    13: ["2026-02-10"],
    14: ["2026-01-15", "2026-02-01"],
    15: ["2026-03-20"],
}


@pytest.fixture
def buyers(merchant: Merchant) -> None:
    for customer_id, days in LIFETIME.items():
        for day in days:
            make_sale(merchant, customer_id, datetime.fromisoformat(f"{day}T12:00"), 2500)


def _rows(check: dict[str, Any]) -> dict[str, tuple[int, float | None]]:
    return {r["x"]: (r["customers"], r["actual"]) for r in check["rows"]}


def test_lifetime_json_has_the_latest_fit_and_the_check_of_the_period(
    merchant: Merchant, buyers: None
) -> None:
    before = json.loads(_run("--merchant", merchant.slug, *MARCH, "--lifetime", "--json"))
    assert before["lifetime"]["run"] is None
    check = before["lifetime"]["holdout"]
    assert (check["calibration_end"], check["holdout_end"]) == ("2026-03-01", "2026-04-01")
    assert check["unit"] == "weeks"
    assert check["customers"] == 4
    assert check["actual_total"] == 4
    rows = _rows(check)
    assert rows["0"] == (2, 1.0)
    assert rows["1"] == (1, 0.0)
    assert rows["2"] == (1, 2.0)
    assert rows["7+"] == (0, None)
    with merchant_context(merchant):
        same = lifetime.backtest(merchant, as_of=date(2026, 3, 1), end=date(2026, 4, 1))
    assert check["params"] == pytest.approx(same["params"])
    assert [r["predicted"] for r in check["rows"]] == [r["predicted"] for r in same["rows"]]

    run = lifetime.refresh(merchant, as_of=date(2026, 3, 31), unit="days")
    after = json.loads(
        _run("--merchant", merchant.slug, *MARCH, "--lifetime", "--unit", "days", "--json")
    )
    assert after["lifetime"]["run"]["params"] == run.params
    assert after["lifetime"]["run"]["log_likelihood"] == pytest.approx(run.log_likelihood)
    assert "few_repeaters" in [c["code"] for c in after["lifetime"]["run"]["cautions"]]
    assert after["lifetime"]["holdout"]["unit"] == "days"
    assert _rows(after["lifetime"]["holdout"]) == rows  # the unit changes the fit, not the facts


def test_lifetime_table_prints_the_parameters_and_the_check(
    merchant: Merchant, buyers: None
) -> None:
    run = lifetime.refresh(merchant, as_of=date(2026, 3, 31))
    text = _run("--merchant", merchant.slug, *MARCH, "--lifetime")
    assert "GMV " in text  # the overview comes first
    assert f"latest fit as of 2026-03-31 in weeks, {run.customers} customers scored" in text
    assert f"log-likelihood (BG/NBD): {run.log_likelihood:.2f}" in text
    few = f"caution: Only {run.repeat_customers} customers bought more than once"
    assert few in text  # a handful of buyers: the fit says not to lean on it
    bgnbd = next(line for line in text.splitlines() if line.startswith("  BG/NBD: r = "))
    assert f"α = {run.params['bgnbd']['alpha']:.4g}" in bgnbd
    assert "γ = " in next(line for line in text.splitlines() if "Gamma-Gamma" in line)
    assert "fitted on the sales before 2026-03-01 (4 customers) in weeks" in text
    assert "2026-03-01 – 2026-03-31" in text
    lines = text.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("repeat purchases")))
    table = lines[header : header + 10]
    assert table[4].split()[:3] == ["2", "1", "2.000"]
    assert table[9].split()[:3] == ["7+", "0", "-"]
    assert len({display_width(line) for line in table}) == 1
    assert "in all: 4 purchases" in text


def test_lifetime_check_of_a_period_not_ended_stops_today(
    merchant: Merchant, buyers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 3, 20, 4, tzinfo=UTC))
    document = json.loads(_run("--merchant", merchant.slug, *MARCH, "--lifetime", "--json"))
    check = document["lifetime"]["holdout"]
    assert check["holdout_end"] == "2026-03-21"
    assert _rows(check)["0"] == (2, 0.5)
    assert check["actual_total"] == 3


def test_lifetime_needs_sales_before_the_period(merchant: Merchant, buyers: None) -> None:
    with pytest.raises(CommandError, match="--from"):
        _run(
            "--merchant", merchant.slug, "--from", "2026-01-01", "--to", "2026-01-31", "--lifetime"
        )
    with pytest.raises(CommandError, match="--unit"):
        _run("--merchant", merchant.slug, *MARCH, "--lifetime", "--unit", "months")
