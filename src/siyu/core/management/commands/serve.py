"""``siyu serve``: the web application under granian, optionally with a worker.

Websockets (the community chat) need ASGI. Without Redis (``SIYU_REDIS_URL``) the
channel layer lives in one process's memory, so everything — pages and websockets —
is served through granian's ASGI interface by a single worker. With Redis, HTTP
stays on the faster WSGI interface (``--workers`` processes) and a second granian
server speaks ASGI for websockets on ``--ws-port`` (default: port + 1); pages
then open their sockets there (``WEBSOCKET_URL``, unless ``SIYU_WEBSOCKET_URL`` is set).
"""

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
    help = (
        "Serve Siyu over HTTP and websockets (granian). Without SIYU_REDIS_URL: one ASGI worker "
        "serves pages and websockets. With Redis: WSGI workers for pages and an ASGI server "
        "for websockets on --ws-port. Static files are served by WhiteNoise."
    )

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
        parser.add_argument(
            "--ws-port",
            type=int,
            default=None,
            help="with Redis: the websocket (ASGI) server's port (default: --port + 1)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        serve(
            opts["host"],
            opts["port"],
            workers=opts["workers"],
            threads=opts["threads"],
            with_worker=opts["with_worker"],
            ws_port=opts["ws_port"],
        )


def start_websocket_process(host: str, port: int) -> subprocess.Popen[bytes]:
    """A granian ASGI server for websockets (the channel layer is Redis: any process may push)."""
    return subprocess.Popen(  # noqa: S603  (our own interpreter and fixed arguments)
        [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asginl",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            "1",
            "--ws",
            "siyu.config.asgi:application",
        ]
    )


def serve(
    host: str,
    port: int,
    *,
    workers: int = 1,
    threads: int | None = None,
    with_worker: bool = False,
    ws_port: int | None = None,
) -> None:
    from django.conf import settings
    from granian import Granian
    from granian.constants import Interfaces

    with_redis = bool(getattr(settings, "REDIS_URL", "") or os.environ.get("SIYU_REDIS_URL"))
    worker = start_worker_process() if with_worker else None
    sockets = None
    if with_redis:
        ws_port = ws_port or port + 1
        if not settings.WEBSOCKET_URL:
            url = f"ws://{host}:{ws_port}"
            os.environ["SIYU_WEBSOCKET_URL"] = url  # the WSGI workers read it at start
            settings.WEBSOCKET_URL = url
        sockets = start_websocket_process(host, ws_port)
    try:
        if with_redis:
            Granian(
                "siyu.config.wsgi:application",
                address=host,
                port=port,
                interface=Interfaces.WSGI,
                workers=workers,
                blocking_threads=threads or default_threads(),
                log_access=False,
            ).serve()
        else:  # one process: the in-memory channel layer must see every socket
            Granian(
                "siyu.config.asgi:application",
                address=host,
                port=port,
                interface=Interfaces.ASGINL,  # Django has no lifespan handler
                workers=1,
                log_access=False,
                websockets=True,
            ).serve()
    finally:
        for process in (worker, sockets):
            if process is not None:
                process.terminate()
                process.wait(timeout=10)
