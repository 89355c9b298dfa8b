"""Shared fixtures. Factories live in ``siyu.<app>.testing``; fixtures here stay small."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache

from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant, openapi_schema

# Fixtures through which a test reaches the database (pytest-django refuses any other access).
DATABASE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "live_server",
    }
)


def uses_database(item: pytest.Item) -> bool:
    if item.get_closest_marker("django_db") or item.get_closest_marker("postgres"):
        return True
    return bool(DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL run, leave out the tests that never touch a database.

    ``./dev test`` runs the suite twice, on SQLite and on PostgreSQL. A test without database
    access (pure calculators, the command-line tools, which build their own SQLite data
    directory) gives the same answer both times, so it runs once, on the SQLite run, and is
    reported as deselected here. ``SIYU_TEST_PURE_ON_POSTGRES=1`` runs them again anyway.
    """
    engine = django_settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine or os.environ.get("SIYU_TEST_PURE_ON_POSTGRES") == "1":
        return
    keep = [item for item in items if uses_database(item)]
    if len(keep) == len(items):
        return
    config.hook.pytest_deselected(items=[item for item in items if not uses_database(item)])
    items[:] = keep


@pytest.fixture(autouse=True)
def _isolated_media_and_cache(settings: pytest.FixtureRequest, tmp_path: object) -> Iterator[None]:
    settings.MEDIA_ROOT = tmp_path / "media"  # type: ignore[attr-defined,operator]
    # Payment notifications and return addresses point at a closed port, never at a dev server
    # that may be running on :8000 while the tests run.
    settings.PUBLIC_URL = "http://127.0.0.1:9"  # type: ignore[attr-defined]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def merchant(db: None) -> Merchant:
    return make_merchant(slug="lucky-coffee", name="Lucky Coffee")


@pytest.fixture
def other_merchant(db: None) -> Merchant:
    return make_merchant(slug="rival-tea", name="Rival Tea")


@pytest.fixture
def bound(merchant: Merchant) -> Iterator[Merchant]:
    """Bind ``merchant`` for code under test that reads through scoped managers."""
    with merchant_context(merchant):
        yield merchant


@pytest.fixture
def openapi_generated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """``api.get_openapi_schema`` (the ``/api/v1/openapi.json`` view and ``siyu openapi`` use
    it) answers a copy of the document generated once per test process: generating it takes
    seconds and it depends only on the code (``siyu.core.testing.openapi_schema``)."""
    from siyu.config.api import api

    monkeypatch.setattr(api, "get_openapi_schema", openapi_schema)
