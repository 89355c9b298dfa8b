"""``siyu report``: the overview numbers on the terminal (aligned) and as JSON.

History (fen): Ada 2026-03-02 ¥100 (store Lakeside) and 03-05 ¥50; Bo 03-10 ¥60 with ¥10
refunded; Cy 2026-02-10 ¥40. March: GMV ¥210, net ¥200, 3 orders by 2 buyers, AOV ¥66.67
(20000 / 3 = 6666.67 fen, rounded half up), repurchase 1 of 2; February (before): GMV ¥40.
"""

from __future__ import annotations

import io
import json
from datetime import datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from siyu.analytics.management.commands.report import aligned, display_width
from siyu.analytics.testing import make_sale
from siyu.core.models import Merchant
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
