from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _provider_cannot_reach_a_dev_server(settings: pytest.FixtureRequest) -> None:
    """Notifications sent during a test go nowhere unless the test points them at a server.

    PUBLIC_URL defaults to 127.0.0.1:8000, where a developer's server may be running.
    Port 9 (discard) refuses the connection, so the provider records a failed attempt.
    """
    settings.PUBLIC_URL = "http://127.0.0.1:9"  # type: ignore[attr-defined]
    settings.SANDBOX_GATEWAY_KEY = "sandbox-test-key"  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Service messages in English (the source language) unless a test chooses otherwise."""
    with translation.override("en"):
        yield
