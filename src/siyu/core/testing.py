"""Factories for tests and benchmarks: small functions, sensible defaults, explicit merchant."""

from __future__ import annotations

import contextlib
import copy
import functools
import itertools
import threading
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connections, transaction
from django.test import Client

from siyu.core import services
from siyu.core.actors import Actor
from siyu.core.models import Membership, Merchant, User
from siyu.core.permissions import Role

_seq = itertools.count(1)


def next_id() -> int:
    return next(_seq)


def make_merchant(**fields: Any) -> Merchant:
    n = next_id()
    defaults: dict[str, Any] = {"slug": f"merchant-{n}", "name": f"Merchant {n}"}
    defaults.update(fields)
    return services.create_merchant(**defaults)


def make_user(username: str | None = None, password: str = "pass-word-123", **fields: Any) -> User:
    username = username or f"staff{next_id()}"
    return User.objects.create_user(username=username, password=password, **fields)


def make_staff(
    merchant: Merchant, role: str = Role.OWNER, user: User | None = None, **user_fields: Any
) -> Membership:
    user = user or make_user(**user_fields)
    return Membership.objects.create(user=user, merchant=merchant, role=role)


def actor_for(merchant: Merchant, role: str = Role.OWNER) -> Actor:
    return Actor.for_membership(make_staff(merchant, role))


def login(membership: Membership) -> Client:
    """A console client logged in as ``membership``'s user, working at its merchant."""
    client = Client()
    client.force_login(membership.user)
    session = client.session
    session["siyu_merchant_id"] = membership.merchant_id
    session.save()
    client.membership = membership  # type: ignore[attr-defined]
    return client


def staff_client(merchant: Merchant, role: str = Role.OWNER) -> Client:
    """A test client logged in as a new staff member of ``merchant`` with ``role``."""
    return login(make_staff(merchant, role))


def api_client(merchant: Merchant, role: str = Role.OWNER) -> Client:
    """A test client that sends a fresh API key of ``merchant`` with ``role``."""
    owner = Actor.system(merchant)
    issued = services.create_api_key(owner, name=f"key {next_id()}", role=role)
    client = Client(headers={"Authorization": f"Bearer {issued.secret}"})
    client.api_key = issued.api_key  # type: ignore[attr-defined]
    return client


def run_in_pool(
    calls: list[Callable[[], object]], *, threads: int, timeout: float = 30
) -> list[object]:
    """Run ``calls`` from ``threads`` threads that start together (a barrier), each thread
    taking the next call until none is left; the outcome of each call, or the exception it
    raised, in the order of ``calls``. Each thread closes its database connections. For race
    tests on PostgreSQL (transactional test cases)."""
    barrier = threading.Barrier(threads, timeout=timeout)
    outcomes: list[object] = [None] * len(calls)
    lock = threading.Lock()
    todo = list(enumerate(calls))

    def worker() -> None:
        try:
            barrier.wait()
            while True:
                with lock:
                    if not todo:
                        return
                    index, call = todo.pop()
                try:
                    outcomes[index] = call()
                except Exception as exc:  # the caller's assertions count them
                    outcomes[index] = exc
        finally:
            connections.close_all()

    pool = [threading.Thread(target=worker) for _n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return outcomes


@contextlib.contextmanager
def shared_rows[T](django_db_blocker: Any, build: Callable[[], T]) -> Iterator[T]:
    """Rows that ``build`` writes once for the tests of a fixture wider than one test
    (``scope="module"``), in an outer transaction; answers what ``build`` returned.

    Each test of the scope still runs in its own savepoint (pytest-django's ``db``), rolled
    back after it, so a test that writes leaves the rows as they were built; the outer
    transaction is rolled back when the block ends, so no test outside the scope sees them.
    ``django_db_blocker`` is pytest-django's fixture: the database is open to ``build`` and to
    the rollback only, as for any other fixture.
    """
    atomic = transaction.atomic()
    with django_db_blocker.unblock():
        atomic.__enter__()
        try:
            built = build()
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def openapi_schema(*, path_prefix: str | None = None, path_params: Any = None) -> Any:
    """``api.get_openapi_schema()``, generated once per test process and prefix; a copy each
    call. Generating it takes seconds (a pydantic JSON schema for every model of every
    operation) and the document depends only on the code, which does not change during a run.
    Same arguments as the method, so a test may stand it in for the method (the
    ``openapi_generated_once`` fixture): the view and ``siyu openapi`` then use it too."""
    from siyu.config.api import api

    prefix = api.get_root_path(path_params or {}) if path_prefix is None else path_prefix
    return copy.deepcopy(_openapi_schema(prefix))


@functools.cache
def _openapi_schema(path_prefix: str) -> Any:
    from ninja import NinjaAPI

    from siyu.config.api import api

    # the class's method: a test may have stood openapi_schema in for the instance's. A plain
    # dict: the method's answer also holds the API object, which copying would copy too.
    return dict(NinjaAPI.get_openapi_schema(api, path_prefix=path_prefix))
