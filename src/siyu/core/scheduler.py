"""Periodic jobs, run by ``siyu worker``.

Each job has a row in :class:`ScheduledJob`. A scheduler claims a due job
with one conditional UPDATE (``next_run_at <= now``), so when several workers
run, exactly one of them enqueues each run. Apps register their jobs in
``AppConfig.ready``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from django.db import close_old_connections
from django.tasks import Task

from siyu.core import clock
from siyu.core.models import ScheduledJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: Task
    every: timedelta


PERIODIC_JOBS: dict[str, PeriodicJob] = {}


def every(name: str, task: Task, every: timedelta) -> None:
    PERIODIC_JOBS[name] = PeriodicJob(name, task, every)


def run_due_jobs() -> list[str]:
    """Enqueue every job whose time has come; return the names enqueued."""
    now = clock.now()
    enqueued: list[str] = []
    for job in PERIODIC_JOBS.values():
        # get_or_create survives another scheduler creating the row at the same moment
        ScheduledJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
        claimed = ScheduledJob.objects.filter(name=job.name, next_run_at__lte=now).update(
            next_run_at=now + job.every, last_run_at=now
        )
        if claimed:
            job.task.enqueue()
            enqueued.append(job.name)
    return enqueued


class SchedulerThread(threading.Thread):
    """Calls :func:`run_due_jobs` every ``interval`` seconds until stopped."""

    def __init__(self, interval: float = 1.0) -> None:
        super().__init__(name="siyu-scheduler", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                run_due_jobs()
            except Exception:
                logger.exception("scheduler tick failed")
            finally:
                close_old_connections()
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()
