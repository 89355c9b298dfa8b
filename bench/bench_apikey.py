"""API key authentication: ``GET /api/v1/merchant`` through the whole Django stack.

Requests go through Django's test client (every middleware, the tenancy
binding, django-ninja and JSON rendering, but no HTTP server), so the figure is
the application's cost per request on one core. For comparison the same
request with a logged-in staff session.
"""

from __future__ import annotations

from django.test import Client

from harness import Result, median_seconds, rate
from siyu.core.testing import api_client, make_merchant, staff_client

REQUESTS = 2000
ROUNDS = 3


def _requests(client: Client, count: int) -> None:
    for _ in range(count):
        response = client.get("/api/v1/merchant")
        assert response.status_code == 200, response.content[:200]


def run() -> list[Result]:
    merchant = make_merchant(slug="bench-apikey", name="Bench API Key")
    by_key = api_client(merchant)
    by_session = staff_client(merchant)
    _requests(by_key, 50)  # warm up: URL resolver, schema caches, the key's last_used_at
    _requests(by_session, 50)
    key_seconds = median_seconds(lambda: _requests(by_key, REQUESTS), rounds=ROUNDS)
    session_seconds = median_seconds(lambda: _requests(by_session, REQUESTS), rounds=ROUNDS)
    return [
        Result(
            "GET /api/v1/merchant, API key",
            "req/s",
            rate(REQUESTS, key_seconds),
            REQUESTS,
            f"Django test client, one process; median of {ROUNDS} rounds",
        ),
        Result(
            "GET /api/v1/merchant, API key",
            "ms/req",
            1000 * key_seconds / REQUESTS,
            REQUESTS,
            "mean latency",
        ),
        Result(
            "GET /api/v1/merchant, staff session",
            "req/s",
            rate(REQUESTS, session_seconds),
            REQUESTS,
            f"for comparison; median of {ROUNDS} rounds",
        ),
    ]
