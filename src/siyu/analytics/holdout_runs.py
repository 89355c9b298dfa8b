"""Holdout checks in the background: the calibration/holdout check of a history too long to
fit while a page or a request waits.

:func:`start` validates the request as :func:`.lifetime.backtest` would, records a queued
:class:`~siyu.analytics.models.HoldoutRun` and enqueues :func:`.tasks.run_holdout_check`
after commit. Asking again for the same check while one is queued or running returns that
one, so a double click or a retried request starts nothing twice (unless that one is older
than :data:`STALE_AFTER`: its worker died). :func:`process` (the task)
counts the sales to read, reads them (the run's ``sales_read`` moves after every chunk of
100,000), fits, compares and stores the result — exactly :func:`.lifetime.backtest`'s — or
the reason it failed.

Up to :data:`INLINE_SALES` sales the console computes the check while it waits, as before;
beyond, it offers this.
"""

from __future__ import annotations

import logging
import time
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from siyu.analytics import lifetime
from siyu.analytics.models import HoldoutRun, Sale
from siyu.core import audit, clock
from siyu.core.actors import Actor
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.permissions import Perm
from siyu.core.tenancy import merchant_context

log = logging.getLogger(__name__)

# The console fits while the page waits up to this many sales (seconds on either database);
# beyond, it offers a background check. The API's immediate check refuses beyond MAX_SALES.
INLINE_SALES = 200_000
MAX_SALES = 1_000_000
ACTIVE = (HoldoutRun.Status.QUEUED, HoldoutRun.Status.RUNNING)
# A run still queued or running after this long was left by a worker that died: asking for
# the same check again starts afresh instead of following it.
STALE_AFTER = timedelta(hours=2)


def sales_before(end: date, limit: int) -> int:
    """The bound merchant's sales before ``end``, counted up to ``limit + 1`` at most (an
    index range however long the history)."""
    return Sale.objects.filter(day__lt=end)[: limit + 1].count()


def check_request(as_of: date, end: date, unit: str) -> None:
    """What :func:`.lifetime.backtest` would refuse, refused up front with the field."""
    if unit not in lifetime.UNITS:
        reason = _("Choose days or weeks.")
        raise InvalidInput(reason, fields={"unit": reason})
    if not end > as_of:
        raise InvalidInput(
            _("The holdout period is empty."), fields={"as_of": _("Must be before the end.")}
        )
    if not Sale.objects.filter(day__lt=as_of).exists():
        raise InvalidInput(
            _("No customer bought before this date."), fields={"as_of": _("No sales before it.")}
        )


def start(actor: Actor, *, as_of: date, end: date | None, unit: str) -> HoldoutRun:
    """Queue a holdout check of ``actor``'s merchant; the queued (or already queued) run."""
    actor.require(Perm.ANALYTICS_VIEW)
    merchant = actor.merchant
    today = clock.local(clock.now(), merchant.time_zone).date()
    end = end or today + timedelta(days=1)
    if end > today + timedelta(days=1):
        reason = _("Must not be after today.")
        raise InvalidInput(reason, fields={"end": reason})
    with merchant_context(merchant), transaction.atomic():
        check_request(as_of, end, unit)
        same = (
            HoldoutRun.objects.select_for_update()
            .filter(
                as_of=as_of,
                end=end,
                unit=unit,
                status__in=ACTIVE,
                created_at__gte=clock.now() - STALE_AFTER,
            )
            .first()
        )
        if same is not None:
            return same
        run = HoldoutRun.objects.create(
            merchant=merchant, as_of=as_of, end=end, unit=unit, created_by=actor.label[:150]
        )
        audit.record(
            actor,
            "analytics.holdout.start",
            run,
            after={"as_of": as_of.isoformat(), "end": end.isoformat(), "unit": unit},
        )
        transaction.on_commit(lambda: _enqueue(run.pk), robust=True)
    return run


def _enqueue(run_id: int) -> None:
    from siyu.analytics.tasks import run_holdout_check

    run_holdout_check.enqueue(run_id)


def process(run_id: int) -> str:
    """Run a queued check (the background task); its final status. A run already finished
    is left as it is (a retried task)."""
    run = HoldoutRun.unscoped.select_related("merchant").filter(pk=run_id).first()
    if run is None:
        return "missing"
    if run.status not in ACTIVE:
        return run.status
    started = time.perf_counter()
    merchant = run.merchant
    with merchant_context(merchant):
        _save(run, status=HoldoutRun.Status.RUNNING, stage=HoldoutRun.Stage.COUNTING)
        total = Sale.objects.filter(day__lt=run.end).count()
        _save(run, stage=HoldoutRun.Stage.READING, sales_total=total)

        def progress(read: int) -> None:
            if read < 0:
                _save(run, stage=HoldoutRun.Stage.FITTING)
            else:
                _save(run, sales_read=read)

        try:
            result = lifetime.backtest(
                merchant, as_of=run.as_of, end=run.end, unit=run.unit, progress=progress
            )
        except InvalidInput as error:
            _finish(run, started, error=str(error))
        except Exception:
            log.exception("holdout check %s failed", run.pk)
            _finish(run, started, error=_("The check failed; the server's log has the details."))
        else:
            _finish(run, started, result=result)
    return run.status


def _save(run: HoldoutRun, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(run, name, value)
    HoldoutRun.unscoped.filter(pk=run.pk).update(**fields)


def _finish(
    run: HoldoutRun,
    started: float,
    *,
    result: dict[str, Any] | None = None,
    error: str = "",
) -> None:
    _save(
        run,
        status=HoldoutRun.Status.FAILED if error else HoldoutRun.Status.DONE,
        stage=HoldoutRun.Stage.WAITING,
        result=result,
        error=error,
        finished_at=clock.now(),
        seconds=time.perf_counter() - started,
    )


def share(run: HoldoutRun) -> int:
    """How far the run has come, in percent, for a progress bar: reading the sales is most
    of the work; the fit and the comparison the last tenth."""
    if run.status not in ACTIVE:
        return 100
    if run.stage == HoldoutRun.Stage.FITTING:
        return 90
    if run.stage == HoldoutRun.Stage.READING and run.sales_total:
        return min(89, round(90 * run.sales_read / run.sales_total))
    return 0


def get(actor: Actor, run_id: int) -> HoldoutRun:
    """A run of ``actor``'s merchant (another merchant's is not found)."""
    actor.require(Perm.ANALYTICS_VIEW)
    with merchant_context(actor.merchant):
        run = HoldoutRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound(_("Not found."))
    return run


def document(run: HoldoutRun) -> dict[str, Any]:
    """The run as the API shows it."""
    return {
        "id": run.pk,
        "as_of": run.as_of.isoformat(),
        "end": run.end.isoformat(),
        "unit": run.unit,
        "status": run.status,
        "stage": run.stage,
        "progress": share(run) / 100,
        "sales_total": run.sales_total,
        "sales_read": run.sales_read,
        "result": run.result,
        "error": run.error,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "seconds": round(run.seconds, 3),
    }
