"""``siyu worker``: runs django.tasks from the database queue, plus the periodic jobs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from siyu.core.scheduler import SchedulerThread


class Command(BaseCommand):
    help = "Run background tasks (django.tasks, database backend) and the periodic-job scheduler."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queues", default="*", help="comma-separated queues, or * for all")
        parser.add_argument(
            "--interval", type=float, default=0.5, help="seconds between polls when idle"
        )
        parser.add_argument(
            "--no-scheduler", action="store_true", help="do not run periodic jobs here"
        )
        parser.add_argument(
            "--batch", action="store_true", help="run what is queued now, then exit"
        )
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        if settings.TASKS_BACKEND != "db":
            raise CommandError("siyu worker needs SIYU_TASKS_BACKEND=db (the database task queue)")
        scheduler = None
        if not opts["no_scheduler"] and not opts["batch"]:
            scheduler = SchedulerThread()
            scheduler.start()
        try:
            call_command(
                "db_worker",
                queue_name=opts["queues"],
                interval=opts["interval"],
                batch=opts["batch"],
                reload=False,
                verbosity=0 if opts["quiet"] else 1,
            )
        finally:
            if scheduler is not None:
                scheduler.stop()
