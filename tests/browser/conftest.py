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


def chromium_path() -> tuple[str | None, str]:
    """The Chromium to drive, or ``None`` and why not."""
    chosen = os.environ.get("SIYU_CHROMIUM")
    if chosen:
        if os.path.isfile(chosen) and os.access(chosen, os.X_OK):
            return chosen, ""
        return None, f"SIYU_CHROMIUM={chosen} is not an executable file"
    for candidate in (
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate, ""
    return None, "Chromium not found: install it or point SIYU_CHROMIUM at the binary"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module. Not per session: a running sync Playwright keeps an
    event loop in this thread, and other tests that start Playwright themselves would fail."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install playwright)")
    executable, why_not = chromium_path()
    if executable is None:
        pytest.skip(why_not)
    # The sync Playwright API runs an event loop in this thread; Django's ORM, used by the
    # test itself, refuses to run inside one unless told it is safe (it is: one thread).
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable, args=["--no-sandbox", "--headless", "--disable-gpu"]
            )
            yield browser
            browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Any]:
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
