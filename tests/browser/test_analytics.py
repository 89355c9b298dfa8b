"""Analytics end to end in a real browser: an operator brings in a year of orders from the
old system as a CSV, reads the overview and the cohort heatmap, opens a customer's lifetime
value, runs the lifetime model's holdout check (while the page waits, then, for a history
too long to wait for, in the background with the page following it) and downloads a table.

The CSV has 40 customers' orders over the past year and one row that cannot be read; the
import reports that row by number and field and brings in the rest. The nightly lifetime-value
refresh is run by the test (as the scheduler would) before the customer page is opened.
Screenshots go to ``test-artifacts/analytics-*.png``.
"""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from siyu.analytics import holdout_runs, lifetime
from siyu.analytics.models import HoldoutRun, ImportRun, Sale
from siyu.core import clock
from siyu.core.permissions import Role
from siyu.core.testing import make_merchant, make_staff, make_user
from siyu.customers.models import CustomerIdentity
from tests.browser.conftest import artifacts, browser  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-word-123"


def shoot(page: Any, artifacts: Path, name: str) -> None:  # noqa: F811
    page.wait_for_load_state("load")
    page.screenshot(path=str(artifacts / f"analytics-{name}.png"), full_page=True)


def orders_csv(today: date) -> tuple[bytes, int, int]:
    """A year of 40 customers' orders (the header in Chinese, as an old system exports it),
    one bad row; (file, good rows, total yuan of the good rows in fen)."""
    rng = random.Random(20261123)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["订单号", "会员号", "下单时间", "金额"])
    good, total = 0, 0
    for c in range(40):
        first = today - timedelta(days=rng.randint(30, 360))
        day = first
        while day < today:
            fen = rng.randint(1800, 6800)
            at = datetime.combine(day, datetime.min.time()) + timedelta(hours=rng.randint(8, 20))
            writer.writerow(
                [
                    f"OLD-{good:05d}",
                    f"M{c:03d}",
                    at.strftime("%Y-%m-%d %H:%M:%S"),
                    f"{fen / 100:.2f}",
                ]
            )
            good += 1
            total += fen
            day += timedelta(days=rng.randint(5, 60))
    writer.writerow(["OLD-BAD", "M001", "2026-01-05 10:00:00", "abc"])
    return out.getvalue().encode("utf-8"), good, total


def test_import_a_year_read_the_numbers_and_a_customers_value(
    browser: Any,  # noqa: F811
    live_server: Any,
    artifacts: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    merchant = make_merchant(slug="old-bean", name="老豆咖啡")
    make_staff(merchant, Role.OPERATOR, user=make_user("operator", password=PASSWORD))
    today = clock.local(clock.now(), merchant.time_zone).date()
    data, good, total = orders_csv(today)
    upload = tmp_path / "orders-2025.csv"
    upload.write_bytes(data)

    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        accept_downloads=True,
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto("/console/login/")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/console/$"))

    # --- the import: the bad row is reported, the rest comes in --------------------------------
    page.goto("/console/analytics/import/")
    page.select_option("select[name=kind]", "orders")
    page.set_input_files("input[name=file]", str(upload))
    shoot(page, artifacts, "import")
    page.click("[data-import-form] button[type=submit]")
    page.wait_for_url(re.compile(r"/console/analytics/import/\d+/$"))
    page.wait_for_selector('[data-import-status="done"]')
    assert page.locator('[data-count="written"]').inner_text().replace(",", "") == str(good)
    assert page.locator('[data-count="rejected"]').inner_text() == "1"
    bad = page.locator("[data-report-row]")
    assert bad.count() == 1
    assert "amount" in bad.first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, artifacts, "import-done")
    run = ImportRun.unscoped.get()
    assert (run.rows_written, run.rows_rejected) == (good, 1)
    assert Sale.unscoped.count() == good
    assert sum(Sale.unscoped.values_list("amount", flat=True)) == total
    assert CustomerIdentity.unscoped.filter(kind="external").count() == 40

    # --- the overview of the last year: GMV is what was imported --------------------------------
    start = today - timedelta(days=365)
    page.goto(f"/console/analytics/?period=custom&from={start}&to={today}")
    gmv = page.locator('[data-number="gmv"] .stat-value').inner_text()
    assert gmv.replace(",", "").endswith(f"{total / 100:.2f}"), gmv
    page.wait_for_selector("[data-chart=an-daily-chart] canvas, [data-chart=an-daily-chart] svg")
    shoot(page, artifacts, "overview")
    # a table downloads as CSV
    with page.expect_download() as waiting:
        page.click('[data-number] >> xpath=ancestor::section//a[text()="CSV"]')
    download = waiting.value
    saved = tmp_path / "numbers.csv"
    download.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert len(rows) > 3

    # --- the cohort heatmap ----------------------------------------------------------------------
    page.click("a[href$='/console/analytics/cohorts/']")
    page.wait_for_selector("[data-chart=an-cohort-chart] canvas, [data-chart=an-cohort-chart] svg")
    shoot(page, artifacts, "cohorts")

    # --- a customer's lifetime value, after the nightly refresh ----------------------------------
    refreshed = lifetime.refresh(merchant)
    assert refreshed.customers == 40
    customer_id = CustomerIdentity.unscoped.get(kind="external", value="M001").customer_id
    page.goto(f"/console/customers/{customer_id}/")
    card = page.locator("#lifetime-value")
    assert card.locator("[data-clv-value]").inner_text().startswith("¥")
    assert "%" in card.locator("[data-clv-alive]").inner_text()
    shoot(page, artifacts, "customer-value")

    # --- the lifetime-value page: the fit, then the holdout check of the last four months ---------
    page.goto("/console/analytics/value/")
    assert page.locator('#an-fit [data-parameter="α"]').count() == 1
    page.fill("#an-backtest input[name=as_of]", (today - timedelta(days=120)).isoformat())
    page.select_option("#an-backtest select[name=unit]", "days")
    page.click("#an-backtest button[type=submit]")
    page.wait_for_selector("[data-chart=an-backtest-chart] svg")
    assert page.locator('#an-backtest tr[data-x="0"]').count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, artifacts, "value-holdout")

    # --- a history too long to wait for: the check runs in the background, the page follows ---
    monkeypatch.setattr(holdout_runs, "INLINE_SALES", 10)
    page.fill("#an-backtest input[name=as_of]", (today - timedelta(days=90)).isoformat())
    page.click("#an-backtest form.an-filters button[type=submit]")
    page.wait_for_selector('[data-offer="background"]')
    assert page.locator("[data-chart=an-backtest-chart] svg").count() == 0
    page.click('[data-offer="background"] button[type=submit]')
    page.wait_for_url(re.compile(r"/console/analytics/value/\?check=\d+"))
    page.wait_for_selector("[data-chart=an-backtest-chart] svg")
    assert page.locator('[data-background="done"]').count() == 1
    assert page.locator('#an-backtest tr[data-x="0"]').count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert HoldoutRun.unscoped.get().status == "done"
    context.close()
