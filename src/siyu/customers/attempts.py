"""Wrong login-code tries must count even when the request that made them is rolled back.

A try is counted *before* the code is compared (one conditional UPDATE, in
:func:`siyu.customers.services.verify_login_code`). Called directly, that
UPDATE commits on its own. Inside the storefront API, though,
``IdempotencyMiddleware`` runs every unsafe request in one transaction and
rolls it back when the answer is an error: a wrong code (422) would take its
counted try with it, and a guesser would get unlimited tries.

So the storefront middleware opens a :func:`tracking` scope around the
request; the service :func:`note`-s every try it counted; and when the
request's transaction was rolled back, the middleware :func:`restore`-s the
tries afterwards, in a transaction of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import transaction
from django.db.models import F

from siyu.customers.models import LoginCode

_counted: ContextVar[list[int] | None] = ContextVar("siyu_counted_login_tries", default=None)


@contextmanager
def tracking() -> Iterator[list[int]]:
    """Collect the ids of the codes whose tries were counted inside the block."""
    counted: list[int] = []
    token = _counted.set(counted)
    try:
        yield counted
    finally:
        _counted.reset(token)


def note(code_id: int) -> None:
    counted = _counted.get()
    if counted is not None:
        counted.append(code_id)


def restore(code_ids: list[int]) -> None:
    """Count again the tries a rolled-back transaction took away (never past the maximum)."""
    with transaction.atomic():
        for code_id in code_ids:
            LoginCode.unscoped.filter(pk=code_id, attempts__lt=settings.OTP_MAX_ATTEMPTS).update(
                attempts=F("attempts") + 1
            )
