"""Holdout checks in the background: queued once, run by the task with its progress, the
same result as the check computed while waiting, failures recorded, and the API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from django.utils import translation

from siyu.analytics import holdout_runs, lifetime
from siyu.analytics.models import HoldoutRun
from siyu.analytics.testing import make_sale
from siyu.core.actors import Actor
from siyu.core.errors import InvalidInput
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import api_client, make_merchant
from siyu.customers.testing import make_customer

pytestmark = pytest.mark.django_db
API = "/api/v1/analytics"


def _history(merchant: Merchant) -> None:
    """Ann buys three times, Ben twice, Cat once, before and after 2026-03-01."""
    days = {
        "Ann": [(2026, 1, 5), (2026, 2, 10), (2026, 3, 15)],
        "Ben": [(2026, 2, 1), (2026, 3, 20)],
        "Cat": [(2026, 1, 20)],
    }
    for name, when in days.items():
        person = make_customer(merchant, name=name)
        for y, m, d in when:
            make_sale(merchant, person.pk, datetime(y, m, d, 12), 2500)


def _actor(merchant: Merchant) -> Actor:
    return Actor.system(merchant, label="test")


def test_a_queued_check_runs_to_the_result_of_the_waiting_one(
    merchant: Merchant, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history(merchant)
    monkeypatch.setattr(lifetime, "FETCH", 2)  # progress after every two sales
    seen: list[tuple[str, int]] = []
    save = holdout_runs._save

    def watched(run: HoldoutRun, **fields: Any) -> None:
        save(run, **fields)
        seen.append((run.stage, run.sales_read))

    monkeypatch.setattr(holdout_runs, "_save", watched)
    with django_capture_on_commit_callbacks() as queued:
        run = holdout_runs.start(
            _actor(merchant), as_of=date(2026, 3, 1), end=date(2026, 4, 1), unit="days"
        )
        again = holdout_runs.start(
            _actor(merchant), as_of=date(2026, 3, 1), end=date(2026, 4, 1), unit="days"
        )
    assert again.pk == run.pk  # asked twice while queued: one run
    assert (run.status, holdout_runs.share(run)) == ("queued", 0)
    assert len(queued) == 1
    queued[0]()
    run.refresh_from_db()
    assert (run.status, run.sales_total, run.error) == ("done", 6, "")
    assert ("reading", 2) in seen
    assert ("reading", 6) in seen
    assert ("fitting", 6) in seen
    assert holdout_runs.share(run) == 100
    with merchant_context(merchant):
        same = lifetime.backtest(
            merchant, as_of=date(2026, 3, 1), end=date(2026, 4, 1), unit="days"
        )
    assert run.result == same
    assert holdout_runs.process(run.pk) == "done"  # a retried task leaves it
    with django_capture_on_commit_callbacks() as later:
        fresh = holdout_runs.start(
            _actor(merchant), as_of=date(2026, 3, 1), end=date(2026, 4, 1), unit="days"
        )
    assert fresh.pk != run.pk
    assert len(later) == 1


def test_a_run_its_worker_left_behind_does_not_stop_a_new_one(
    merchant: Merchant, django_capture_on_commit_callbacks: Any
) -> None:
    _history(merchant)
    ask = {"as_of": date(2026, 3, 1), "end": date(2026, 4, 1), "unit": "weeks"}
    with django_capture_on_commit_callbacks():
        stuck = holdout_runs.start(_actor(merchant), **ask)
    HoldoutRun.unscoped.filter(pk=stuck.pk).update(
        status="running", created_at=stuck.created_at - holdout_runs.STALE_AFTER
    )
    with django_capture_on_commit_callbacks() as queued:
        fresh = holdout_runs.start(_actor(merchant), **ask)
    assert fresh.pk != stuck.pk
    assert len(queued) == 1


def test_bad_requests_name_the_field_and_store_nothing(merchant: Merchant) -> None:
    _history(merchant)
    actor = _actor(merchant)
    cases = [
        ({"as_of": date(2026, 3, 1), "end": date(2026, 3, 1), "unit": "weeks"}, "as_of"),
        ({"as_of": date(2025, 1, 1), "end": date(2026, 3, 1), "unit": "weeks"}, "as_of"),
        ({"as_of": date(2026, 3, 1), "end": date(2026, 4, 1), "unit": "months"}, "unit"),
        ({"as_of": date(2026, 3, 1), "end": date(2099, 1, 1), "unit": "weeks"}, "end"),
    ]
    for request, field in cases:
        with pytest.raises(InvalidInput) as error:
            holdout_runs.start(actor, **request)
        assert field in error.value.fields
    assert not HoldoutRun.unscoped.exists()


def test_a_failure_is_recorded_on_the_run(
    merchant: Merchant, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history(merchant)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    with django_capture_on_commit_callbacks() as queued:
        run = holdout_runs.start(
            _actor(merchant), as_of=date(2026, 3, 1), end=date(2026, 4, 1), unit="weeks"
        )
    monkeypatch.setattr(lifetime, "backtest", broken)
    with translation.override("en"):
        queued[0]()
    run.refresh_from_db()
    assert run.status == "failed"
    assert "server's log" in run.error
    assert run.result is None
    assert run.finished_at is not None


def test_the_api_queues_follows_and_refuses(
    merchant: Merchant, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history(merchant)
    client = api_client(merchant, Role.FINANCE)
    body = {"as_of": "2026-03-01", "end": "2026-04-01", "unit": "weeks"}
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"{API}/lifetime/backtests", body, content_type="application/json")
    assert answer.status_code == 202, answer.content
    run_id = answer.json()["id"]
    assert answer.json()["status"] == "queued"
    followed = client.get(f"{API}/lifetime/backtests/{run_id}").json()
    assert (followed["status"], followed["progress"], followed["sales_total"]) == ("done", 1, 6)
    waited = client.get(f"{API}/lifetime/backtest?as_of=2026-03-01&end=2026-04-01").json()
    assert followed["result"] == waited
    bad = client.post(
        f"{API}/lifetime/backtests",
        {**body, "as_of": "2020-01-01"},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert "as_of" in bad.json()["fields"]
    other = api_client(make_merchant(), Role.FINANCE)
    assert other.get(f"{API}/lifetime/backtests/{run_id}").status_code == 404
    guide = api_client(merchant, Role.SHOPPING_GUIDE)
    assert (
        guide.post(f"{API}/lifetime/backtests", body, content_type="application/json").status_code
        == 403
    )
    monkeypatch.setattr(holdout_runs, "MAX_SALES", 5)  # the waiting check has a bound now
    too_long = client.get(f"{API}/lifetime/backtest?as_of=2026-03-01&end=2026-04-01")
    assert too_long.status_code == 422
    assert "as_of" in too_long.json()["fields"]
