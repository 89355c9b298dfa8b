"""Factories and a real HTTP receiver for tests and benchmarks of webhooks."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.webhooks import services, signing
from siyu.webhooks.models import WebhookEndpoint


def make_endpoint(
    merchant: Merchant,
    url: str = "http://127.0.0.1:9/hook",
    event_types: Sequence[str] = ("*",),
    **fields: Any,
) -> services.IssuedEndpoint:
    """An endpoint created through the service (so its secret and audit entry are real)."""
    return services.create_endpoint(
        Actor.system(merchant), url=url, event_types=list(event_types), **fields
    )


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (timeouts)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return ""


class Receiver:
    """An integrator's endpoint on 127.0.0.1 (random port) that records what it receives.

    ``replies`` are answered in order (the last one repeats); ``secret`` lets
    :meth:`verified` check each request's signature the way an integrator would.
    """

    def __init__(self, replies: Sequence[Reply] = (), secret: str = "") -> None:
        self.replies: list[Reply] = list(replies) or [Reply()]
        self.secret = secret
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers), body))
                    index = min(len(receiver.received), len(receiver.replies)) - 1
                    reply = receiver.replies[index]
                if reply.delay:
                    receiver._stopping.wait(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the sender gave up (timeout) and closed
                    self.wfile.write(reply.body)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def verified(
        self, request: Received, secret: str | None = None, now: float | None = None
    ) -> bool:
        return signing.verify(
            request.header(signing.SIGNATURE_HEADER), request.body, secret or self.secret, now=now
        )


def endpoint_for(receiver: Receiver, merchant: Merchant, **fields: Any) -> WebhookEndpoint:
    """An endpoint pointing at ``receiver``, whose secret the receiver learns."""
    issued = make_endpoint(merchant, url=fields.pop("url", receiver.url()), **fields)
    receiver.secret = issued.secret
    return issued.endpoint
