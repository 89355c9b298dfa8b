"""Shared fixtures. Factories live in ``siyu.<app>.testing``; fixtures here stay small."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_merchant


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
