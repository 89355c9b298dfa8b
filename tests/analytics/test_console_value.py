"""The lifetime-value page reads what the scoring stored on customers.

Scores set by hand (as the refresh writes them): Ada ¥1,200 predicted, 30 % still active,
high value and probably leaving; Cy ¥600, 80 %, high value and active; Bo ¥30, 90 %, active;
Di never scored. So: 3 scored, ¥1,830.00 predicted in all, ¥610.00 a customer; one customer
in each of the bands 0–50, 500–1000 and 1000–2000.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from siyu.analytics import holdout_runs, lifetime, views_console_value
from siyu.analytics.models import HoldoutRun, LifetimeRun
from siyu.analytics.testing import make_sale
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import staff_client
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer

pytestmark = pytest.mark.django_db
URL = "/console/analytics/value/"


def _score(merchant: Merchant, customer: Customer, value: int, alive: int, segment: str) -> None:
    with merchant_context(merchant):
        Customer.objects.filter(pk=customer.pk).update(
            clv_value=value, clv_alive=alive, clv_segment=segment, clv_scored_at=timezone.now()
        )


@pytest.fixture
def scored(merchant: Merchant) -> dict[str, Customer]:
    people = {name: make_customer(merchant, name=name) for name in ("Ada", "Bo", "Cy", "Di")}
    _score(merchant, people["Ada"], 120000, 30, "high_value_leaving")
    _score(merchant, people["Cy"], 60000, 80, "high_value_active")
    _score(merchant, people["Bo"], 3000, 90, "active")
    return people


def _client(merchant: Merchant) -> Any:
    client = staff_client(merchant, Role.OPERATOR)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_summary_leaving_list_and_distribution(
    merchant: Merchant, scored: dict[str, Customer]
) -> None:
    client = _client(merchant)
    body = client.get(URL).content.decode()
    assert 'data-chart="an-value-chart"' in body
    assert "¥1,830.00" in body
    assert "¥610.00" in body
    leaving = body[body.index("High value, probably leaving</h2>") :]
    leaving = leaving[: leaving.index("</table>")]
    assert "Ada" in leaving
    assert "Cy" not in leaving
    bands = {r[0]: r[1] for r in _csv(client.get(URL, {"export": "csv", "table": "distribution"}))}
    assert bands["0–50"] == "1"
    assert bands["500–1000"] == "1"
    assert bands["1000–2000"] == "1"
    assert bands["≥5000"] == "0"


def test_top_customers_export_as_xlsx(merchant: Merchant, scored: dict[str, Customer]) -> None:
    response = _client(merchant).get(URL, {"export": "xlsx", "table": "top"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert [r[0] for r in rows[1:]] == ["Ada", "Cy", "Bo"]
    assert float(rows[1][1]) == 1200.0
    assert rows[1][2] == 30


def test_segments_count_and_share(merchant: Merchant, scored: dict[str, Customer]) -> None:
    rows = _csv(_client(merchant).get(URL, {"export": "csv", "table": "segments"}))
    assert rows[1:] == [
        ["High value, active", "1"],
        ["High value, probably leaving", "1"],
        ["Active", "1"],
        ["Probably leaving", "0"],
    ]


def test_nothing_scored_says_so(merchant: Merchant) -> None:
    response = _client(merchant).get(URL)
    assert response.status_code == 200
    assert "No customer has been scored yet" in response.content.decode()


def test_value_page_needs_the_permission_and_a_known_table(merchant: Merchant) -> None:
    assert staff_client(merchant, Role.SHOPPING_GUIDE).get(URL).status_code == 403
    response = _client(merchant).get(URL, {"export": "csv", "table": "everything"})
    assert response.status_code == 400
    assert "<code>table</code>" in response.content.decode()


# --- the latest fit and the holdout check --------------------------------------------------
#
# A hand-made history (local days). Before 2026-06-01: Ann buys on 01-05, 02-10 and 03-15 (two
# repeat purchases), Ben on 02-01, Cat twice on 03-01 (one purchase day) and on 04-01 (one
# repeat), Dan on 01-20, Fay on 05-01. From 06-01 to 08-31: Ann buys on 06-10 and 07-01, Ben on
# 06-20; Eve's first purchase is on 07-01 (left out, as in the paper); Fay's next is on 09-05,
# after the period. So by repeat purchases before: 0 → Ben, Dan, Fay with 1 purchase in all
# (1/3 a customer), 1 → Cat with none, 2 → Ann with 2; 3 and more: nobody. 5 customers,
# 3 purchases.

BOUGHT = {
    "Ann": ["2026-01-05", "2026-02-10", "2026-03-15", "2026-06-10", "2026-07-01"],
    "Ben": ["2026-02-01", "2026-06-20"],
    "Cat": ["2026-03-01", "2026-03-01", "2026-04-01"],
    "Dan": ["2026-01-20"],
    "Eve": ["2026-07-01"],
    "Fay": ["2026-05-01", "2026-09-05"],
}
CHECK = {"as_of": "2026-06-01", "to": "2026-08-31", "unit": "weeks"}


@pytest.fixture
def bought(merchant: Merchant) -> dict[str, Customer]:
    people = {}
    for name, days in BOUGHT.items():
        people[name] = make_customer(merchant, name=name)
        for day in days:
            at = datetime.combine(date.fromisoformat(day), time(12))
            make_sale(merchant, people[name].pk, at, 3000)
    return people


def _field_errors(body: str, name: str) -> str:
    """The text of the form field ``name``'s box (label, input and its errors)."""
    start = body.rindex('<div class="field', 0, body.index(f'name="{name}"'))
    return body[start : body.index("</div>", start)]


def test_latest_fit_shows_the_parameters_and_the_log_likelihood(
    merchant: Merchant, bought: dict[str, Customer]
) -> None:
    run = lifetime.refresh(merchant, as_of=date(2026, 9, 30), unit="weeks")
    client = _client(merchant)
    body = client.get(URL).content.decode()
    fit = body[body.index('id="an-fit"') : body.index('id="an-backtest"')]
    assert f">{run.customers}<" in fit
    assert f"{run.log_likelihood:.2f}" in fit
    assert ("Yes" if run.converged else "No") in fit
    assert "2026-09-30" in fit
    for name in ("r", "α", "a", "b", "p", "q", "γ"):
        assert f'data-parameter="{name}"' in fit
    rows = _csv(client.get(URL, {"export": "csv", "table": "fit"}))
    values = {(r[0], r[1]): r[2] for r in rows[1:]}
    bg, gg = run.params["bgnbd"], run.params["gamma_gamma"]
    assert float(values[("BG/NBD", "α")]) == pytest.approx(bg["alpha"])
    assert float(values[("BG/NBD", "b")]) == pytest.approx(bg["b"])
    assert float(values[("Gamma-Gamma", "γ")]) == pytest.approx(gg["v"])
    assert float(values[("BG/NBD", "Log-likelihood")]) == pytest.approx(run.log_likelihood)


def test_holdout_check_by_past_repeat_purchases(
    merchant: Merchant, bought: dict[str, Customer]
) -> None:
    client = _client(merchant)
    response = client.get(URL, CHECK)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-chart="an-backtest-chart"' in body
    assert "5 customers" in body
    assert "from 2026-06-01 to 2026-08-31" in body
    rows = _csv(client.get(URL, {**CHECK, "export": "csv", "table": "holdout"}))
    assert rows[0][:3] == ["Repeat purchases before", "Customers", "Actual purchases per customer"]
    by_x = {r[0]: r for r in rows[1:]}
    assert list(by_x) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert by_x["0"][1:3] == ["3", "0.3333"]
    assert by_x["1"][1:3] == ["1", "0.0"]
    assert by_x["2"][1:3] == ["1", "2.0"]
    assert by_x["7+"][1:3] == ["0", ""]
    # The predictions are the service's (the same as the API's), fitted on the past only.
    with merchant_context(merchant):
        check = lifetime.backtest(
            merchant, as_of=date(2026, 6, 1), end=date(2026, 9, 1), unit="weeks"
        )
    for row in check["rows"][:3]:
        assert float(by_x[row["x"]][3]) == pytest.approx(row["predicted"], abs=1e-4)
    assert f"r = {views_console_value._g(check['params']['r'])}" in body
    sheet = load_workbook(
        io.BytesIO(client.get(URL, {**CHECK, "export": "xlsx", "table": "holdout"}).content)
    ).active
    assert [c.value for c in sheet[4]][:3] == ["2", 1, 2.0]
    assert LifetimeRun.unscoped.count() == 0  # the check stores nothing


def test_holdout_in_days_counts_the_same_purchases(
    merchant: Merchant, bought: dict[str, Customer]
) -> None:
    client = _client(merchant)
    weeks = _csv(client.get(URL, {**CHECK, "export": "csv", "table": "holdout"}))
    days = _csv(client.get(URL, {**CHECK, "unit": "days", "export": "csv", "table": "holdout"}))
    assert [r[:3] for r in days] == [r[:3] for r in weeks]


def test_other_tables_download_without_running_the_check(
    merchant: Merchant, bought: dict[str, Customer], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the check ran for another table")

    monkeypatch.setattr(lifetime, "backtest", refuse)
    response = _client(merchant).get(URL, {**CHECK, "export": "csv", "table": "segments"})
    assert response.status_code == 200
    assert _csv(response)[0] == ["Value segment", "Customers"]


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        ({"as_of": "2026-08-01", "to": "2026-07-01"}, "as_of", "Must not be after the last day"),
        ({"as_of": "2026-06-01", "to": "2999-01-01"}, "to", "Must not be after today"),
        ({"as_of": "2025-12-31"}, "as_of", "the history starts on 2026-01-05"),
        ({"as_of": "2026-01-05"}, "as_of", "the history starts on 2026-01-05"),
        ({"as_of": "June"}, "as_of", "Enter a valid date"),
        ({"as_of": ""}, "as_of", "This field is required"),
        ({"as_of": "2026-06-01", "unit": "months"}, "unit", "Select a valid choice"),
    ],
)
def test_a_bad_check_is_refused_beside_its_field(
    merchant: Merchant, bought: dict[str, Customer], query: dict[str, str], field: str, reason: str
) -> None:
    response = _client(merchant).get(URL, {"unit": "weeks", **query})
    assert response.status_code == 400
    body = response.content.decode()
    box = _field_errors(body, field)
    assert "has-error" in box
    assert reason in box
    assert 'data-chart="an-backtest-chart"' not in body


def test_a_bad_check_is_not_downloaded(merchant: Merchant, bought: dict[str, Customer]) -> None:
    client = _client(merchant)
    bad = client.get(URL, {**CHECK, "to": "2026-05-01", "export": "csv", "table": "holdout"})
    assert bad.status_code == 400
    assert "<code>as_of</code>" in bad.content.decode()
    missing = client.get(URL, {"export": "csv", "table": "holdout"})
    assert missing.status_code == 400
    assert "No holdout check to download" in missing.content.decode()


def test_no_sales_at_all_is_said_beside_the_day(merchant: Merchant) -> None:
    response = _client(merchant).get(URL, CHECK)
    assert response.status_code == 400
    assert "There are no sales yet." in _field_errors(response.content.decode(), "as_of")


def test_a_history_too_long_to_wait_for_runs_in_the_background(
    merchant: Merchant,
    bought: dict[str, Customer],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Beyond the inline bound the page offers a background run; posting it queues the
    check, and the page follows it: progress while it runs, then the same result as the
    check computed while waiting, exported like it."""
    monkeypatch.setattr(holdout_runs, "INLINE_SALES", 11)
    client = _client(merchant)
    # 11 sales before 2026-07-01: checked while the page waits.
    small = client.get(URL, {**CHECK, "to": "2026-06-30"}).content.decode()
    assert 'data-check="summary"' in small
    assert 'data-offer="background"' not in small
    # 13 sales before 2026-09-01: offered in the background, nothing computed yet.
    offered = client.get(URL, CHECK)
    assert offered.status_code == 200
    body = offered.content.decode()
    assert 'data-offer="background"' in body
    assert 'data-check="summary"' not in body
    with django_capture_on_commit_callbacks() as queued:
        started = client.post(f"{URL}holdout/", CHECK)
    assert started.status_code == 302
    run = HoldoutRun.unscoped.get(merchant=merchant)
    assert started["Location"] == f"{URL}?check={run.pk}#an-backtest"
    waiting = client.get(URL, {"check": run.pk}).content.decode()
    assert 'data-background="queued"' in waiting
    assert 'http-equiv="refresh"' in waiting
    assert "<progress" in waiting
    for callback in queued:  # the worker picks the task up (immediate backend)
        callback()
    run.refresh_from_db()
    assert (run.status, run.sales_total) == ("done", 13)
    done = client.get(URL, {"check": run.pk}).content.decode()
    assert 'http-equiv="refresh"' not in done
    assert 'data-check="summary"' in done
    with merchant_context(merchant):
        same = lifetime.backtest(merchant, as_of=date(2026, 6, 1), end=date(2026, 9, 1))
    assert run.result == same
    rows = _csv(client.get(URL, {"check": run.pk, "export": "csv", "table": "holdout"}))
    assert [r[0] for r in rows[1:8]] == ["0", "1", "2", "3", "4", "5", "6"]
    # asking again while one is queued starts nothing new; another merchant's run is not found
    assert client.get(URL, {"check": run.pk + 1000}).status_code == 404
    assert client.get(URL, {"check": "x"}).status_code == 400


def test_the_check_stored_with_the_latest_fit_is_shown_without_computing(
    merchant: Merchant, bought: dict[str, Customer]
) -> None:
    run = lifetime.refresh(merchant, as_of=date(2026, 8, 31), holdout_days=92)
    body = _client(merchant).get(URL).content.decode()
    assert "Stored with the latest fit." in body
    assert f"({run.holdout['customers']} customers)" in body
    assert "from 2026-06-01 to 2026-08-31" in body
    assert 'data-chart="an-backtest-chart"' in body
    assert 'value="2026-05-' in _field_errors(body, "as_of")  # the form offers 26 weeks ago


def test_nothing_fitted_says_so(merchant: Merchant) -> None:
    body = _client(merchant).get(URL).content.decode()
    assert "The models have not been fitted yet." in body
    assert "No check yet" in body


def test_a_thin_fit_shows_its_cautions_and_exports_them(
    merchant: Merchant, bought: dict[str, Customer]
) -> None:
    lifetime.refresh(merchant, as_of=date(2026, 9, 30), unit="weeks")
    client = _client(merchant)
    body = client.get(URL).content.decode()
    fit = body[body.index('id="an-fit"') : body.index('id="an-backtest"')]
    assert 'data-caution="few_repeaters"' in fit
    rows = _csv(client.get(URL, {"export": "csv", "table": "fit"}))
    assert any(r[1] == "Caution" and "bought more than once" in r[2] for r in rows[1:])


def test_a_bad_background_check_is_refused_naming_the_field(
    merchant: Merchant, bought: dict[str, Customer]
) -> None:
    client = _client(merchant)
    later = client.post(f"{URL}holdout/", {**CHECK, "as_of": "2026-09-01"})  # after "to"
    assert later.status_code == 400
    assert "as_of" in later.content.decode()
    early = client.post(f"{URL}holdout/", {**CHECK, "as_of": "2025-01-01"})  # no sale before
    assert early.status_code == 400
    assert "as_of" in early.content.decode()
    assert client.get(f"{URL}holdout/").status_code == 405
    assert not HoldoutRun.unscoped.exists()
