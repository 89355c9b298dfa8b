"""``siyu serve``: the web application under granian (WSGI), optionally with a worker."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


def default_threads() -> int:
    """Blocking threads per web worker: enough to overlap database waits, not more than granian likes."""
    return min(8, 2 * (os.cpu_count() or 1) + 1)


def start_worker_process() -> subprocess.Popen[bytes]:
    """``siyu worker`` as a child process (the demo and ``serve --with-worker``)."""
    return subprocess.Popen(
        [sys.executable, "-m", "siyu.config.cli", "worker", "--quiet"], env=os.environ.copy()
    )


class Command(BaseCommand):
    help = "Serve Siyu over HTTP (granian, WSGI). Static files are served by WhiteNoise."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("SIYU_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("SIYU_PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("SIYU_WEB_WORKERS", "1"))
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("SIYU_WEB_THREADS", str(default_threads()))),
            help="blocking threads per worker process",
        )
        parser.add_argument(
            "--with-worker", action="store_true", help="also run `siyu worker` alongside"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        serve(
            opts["host"],
            opts["port"],
            workers=opts["workers"],
            threads=opts["threads"],
            with_worker=opts["with_worker"],
        )


def serve(
    host: str, port: int, *, workers: int = 1, threads: int | None = None, with_worker: bool = False
) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    worker = start_worker_process() if with_worker else None
    try:
        Granian(
            "siyu.config.wsgi:application",
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            workers=workers,
            blocking_threads=threads or default_threads(),
            log_access=False,
        ).serve()
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=10)
