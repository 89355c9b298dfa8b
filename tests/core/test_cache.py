"""The Redis cache backend that keeps one client per connection pool (siyu.core.cache)."""

from __future__ import annotations

import os
import threading

import pytest
import redis

from siyu.core.cache import RedisCache

REDIS_URL = os.environ.get("SIYU_REDIS_URL") or os.environ.get(
    "SIYU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"
)


def _reachable() -> str | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        return f"Redis is not reachable at {REDIS_URL}: {exc}"
    return None


pytestmark = pytest.mark.skipif(
    _reachable() is not None, reason=_reachable() or "Redis is reachable"
)


@pytest.fixture
def cache():
    backend = RedisCache(REDIS_URL, {"KEY_PREFIX": f"siyu-test-{os.getpid()}"})
    yield backend
    backend.clear()


def test_one_client_serves_every_call_and_the_cache_works(cache):
    client = cache._cache.get_client("a")
    assert cache._cache.get_client("b", write=True) is client
    cache.set("shop", {"slug": "lucky-bean"}, 30)
    assert cache.get("shop") == {"slug": "lucky-bean"}
    assert cache.add("shop", "other", 30) is False
    cache.delete("shop")
    assert cache.get("shop") is None


def test_threads_share_the_client_safely(cache):
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                cache.set(f"k{n}-{i}", i, 30)
                assert cache.get(f"k{n}-{i}") == i
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert cache.get_many([f"k{n}-49" for n in range(8)]) == {f"k{n}-49": 49 for n in range(8)}
