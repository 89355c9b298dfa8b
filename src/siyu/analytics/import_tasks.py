"""Background task of imports (django.tasks): run an uploaded import."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from siyu.analytics.importer import service
from siyu.analytics.importer.runner import Options


@task()
def run_import(run_id: int, options: dict[str, Any]) -> str:
    """Run the queued ``ImportRun`` ``run_id`` with the options it was started with."""
    return service.process(run_id, Options(**options))
