"""Real-browser tests: Playwright for Python driving the system Chromium against live_server.

Chromium comes from ``SIYU_CHROMIUM`` or ``/usr/bin/chromium``; when it or Playwright
is missing the tests are skipped with the reason. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"


def chromium_path() -> str | None:
    wanted = os.environ.get("SIYU_CHROMIUM") or "/usr/bin/chromium"
    if os.path.isfile(wanted) and os.access(wanted, os.X_OK):
        return wanted
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install playwright)")
    executable = chromium_path()
    if executable is None:
        pytest.skip("Chromium not found: install it or point SIYU_CHROMIUM at the binary")
    # The sync Playwright API runs an event loop in this thread; Django's ORM, used by the
    # test itself, refuses to run inside one unless told it is safe (it is: one thread).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--headless", "--disable-gpu"]
        )
        yield browser
        browser.close()


@pytest.fixture
def media_served(settings: Any) -> None:
    """Serve uploads from the test's MEDIA_ROOT (the project URLconf fixes the folder when
    it is imported, before tests move MEDIA_ROOT to a temporary one)."""
    settings.ROOT_URLCONF = "tests.browser.urls"


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def new_page(browser: Any, live_server: Any, media_served: None) -> Iterator[Any]:
    """``new_page(locale)`` opens a page in a fresh browser context (cookies, language)."""
    contexts: list[Any] = []

    def open_page(locale: str = "en-US", width: int = 1280) -> Any:
        context = browser.new_context(
            locale=locale, viewport={"width": width, "height": 900}, base_url=live_server.url
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
