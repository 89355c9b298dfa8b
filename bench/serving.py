"""Benchmarks over real HTTP: ``siyu serve`` (granian) in child processes, and clients.

The server runs against the benchmark's temporary database (the environment
``bench/run.py`` configured is inherited), so what a benchmark seeds with the
ORM is what the server answers from. Clients keep one HTTP/1.1 connection
each, as a phone's browser or a payment provider's sender would.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(*, workers: int, threads: int, with_worker: bool = False) -> Iterator[int]:
    """``siyu serve`` on a free port with ``workers`` processes; answers the port once healthy.

    ``with_worker``: ``siyu worker`` runs beside it (outbox dispatch, scheduled jobs).
    """
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "siyu.config.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            *(["--with-worker"] if with_worker else []),
        ],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_healthy(port, process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_healthy(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"siyu serve exited with {process.returncode}: {error[-2000:]}")
        if _healthy(port):
            return
        time.sleep(0.2)
    raise RuntimeError(f"siyu serve did not answer /healthz on port {port} in {timeout:.0f} s")


def _healthy(port: int) -> bool:
    """Whether ``/healthz`` answers 200 now (False while nothing listens on the port yet)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@dataclass
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One keep-alive HTTP connection with fixed headers (cookies, CSRF token)."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.port = port
        self.headers = headers or {}
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        data = body.encode() if isinstance(body, str) else body
        sent = {**self.headers, **(headers or {})}
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        for attempt in (1, 2):
            try:
                self._connection.request(method, path, body=data, headers=sent)
                response = self._connection.getresponse()
                return Answer(response.status, response.read())
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # the server closed an idle keep-alive connection: reconnect once
                self._connection.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def post_json(self, path: str, document: Any, headers: dict[str, str] | None = None) -> Answer:
        return self.request("POST", path, json.dumps(document), headers)

    def close(self) -> None:
        self._connection.close()
