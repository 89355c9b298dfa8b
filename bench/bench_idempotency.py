"""Idempotent writes: ``POST /api/v1/stores`` with and without ``Idempotency-Key``.

Every unsafe API request runs in one transaction; a POST with a key also
claims the key in a committed row first and stores the answer with the change.
The difference between the two mean latencies is what idempotency costs a
write. A repeat of a request (same key, same body) is answered from the stored
answer without running the view: the "replay" figure.
"""

from __future__ import annotations

import itertools
import json

from harness import Result, median_seconds, rate
from siyu.core.testing import api_client, make_merchant

REQUESTS = 300
ROUNDS = 3
_seq = itertools.count(1)


def _store() -> str:
    n = next(_seq)
    return json.dumps(
        {
            "code": f"SH-BENCH-{n:05d}",
            "name": f"基准门店 {n}",
            "city": "上海市",
            "district": "静安区",
            "address": f"南京西路{n}号",
            "latitude": 31.229115,
            "longitude": 121.454906,
        }
    )


def run() -> list[Result]:
    merchant = make_merchant(slug="bench-idempotency", name="Bench Idempotency")
    client = api_client(merchant)

    def post(body: str, key: str | None = None) -> None:
        headers = {"Idempotency-Key": key} if key else {}
        response = client.post(
            "/api/v1/stores", body, content_type="application/json", headers=headers
        )
        assert response.status_code == 201, response.content[:300]

    def plain() -> None:
        for _ in range(REQUESTS):
            post(_store())

    def keyed() -> None:
        for _ in range(REQUESTS):
            post(_store(), key=f"bench-{next(_seq)}")

    replay_body = _store()
    post(replay_body, key="bench-replay")

    def replayed() -> None:
        for _ in range(REQUESTS):
            post(replay_body, key="bench-replay")

    plain(), keyed()  # warm up both paths
    plain_seconds = median_seconds(plain, rounds=ROUNDS)
    keyed_seconds = median_seconds(keyed, rounds=ROUNDS)
    replay_seconds = median_seconds(replayed, rounds=ROUNDS)
    overhead_ms = 1000 * (keyed_seconds - plain_seconds) / REQUESTS
    return [
        Result(
            "POST /api/v1/stores, no key",
            "req/s",
            rate(REQUESTS, plain_seconds),
            REQUESTS,
            f"creates a store (+ audit entry, event); median of {ROUNDS} rounds",
        ),
        Result(
            "POST /api/v1/stores, new Idempotency-Key",
            "req/s",
            rate(REQUESTS, keyed_seconds),
            REQUESTS,
            f"claims the key, stores the answer; median of {ROUNDS} rounds",
        ),
        Result(
            "idempotency overhead per POST",
            "ms",
            overhead_ms,
            REQUESTS,
            "difference of the mean latencies above",
        ),
        Result(
            "POST replayed (same key and body)",
            "req/s",
            rate(REQUESTS, replay_seconds),
            REQUESTS,
            f"the stored answer, the view does not run; median of {ROUNDS} rounds",
        ),
    ]
