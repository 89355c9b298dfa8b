"""Take the README's console screenshots of a running demo (Playwright + system Chromium).

    ./dev demo &                      # or: siyu demo --port 8000
    .venv/bin/python scripts/screenshot.py [--base http://127.0.0.1:8000] [--out docs/img]

Logs in as the demo owner and saves ``console.png`` (the products page) and
one picture per console page in ``--out``; ``shop.png`` is the demo shop's home
on a phone-sized screen, ``workbench*.png`` the guide workbench (as the demo's guide).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def demo_password() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siyu.config.settings")
    import django

    django.setup()
    from siyu.core.demo import DEMO_PASSWORD

    return DEMO_PASSWORD


PAGES = {
    "console": "/console/catalog/products/",
    "stores": "/console/stores/",
    "staff": "/console/stores/staff/",
    "webhooks": "/console/webhooks/",
    "audit": "/console/audit/",
    "dashboard": "/console/",
    "orders": "/console/orders/",
    "groups": "/console/community/",
    "segments": "/console/customers/segments/",
    "marketing": "/console/marketing/",
}
SHOP_PAGES = {"shop": "/s/lucky-bean/"}  # on a phone: 390 × 844 CSS pixels
# the guide workbench on a phone, logged in as the demo's shopping guide
WORKBENCH_PAGES = {"workbench": "/guide/", "workbench-customers": "/guide/customers/"}


def shoot(page: Any, base: str, address: str, path: Path) -> None:
    """Open ``address`` and save a screenshot, or say what it answered instead."""
    response = page.goto(base + address)
    if response is None or response.status != 200:
        print(f"{path.stem}: {address} answered {response and response.status}")
        return
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path))
    print(f"{path.stem}: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default=str(ROOT / "docs" / "img"))
    parser.add_argument(
        "--only",
        nargs="*",
        default=[*PAGES, *SHOP_PAGES, *WORKBENCH_PAGES],
        help="page names to take",
    )
    parser.add_argument("--language", default="zh-hans", help="zh-hans or en")
    opts = parser.parse_args(argv)
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    chromium = os.environ.get("SIYU_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--headless", "--disable-gpu"]
        )
        context = browser.new_context(
            viewport={"width": 1440, "height": 900}, device_scale_factor=1, locale="zh-CN"
        )
        context.add_cookies([{"name": "siyu_language", "value": opts.language, "url": opts.base}])
        page = context.new_page()
        page.goto(f"{opts.base}/console/login/")
        page.fill('input[name="username"]', "owner")
        page.fill('input[name="password"]', demo_password())
        page.click('button[type="submit"]')
        page.wait_for_url(f"{opts.base}/console/**")
        for name in [n for n in opts.only if n in PAGES]:
            shoot(page, opts.base, PAGES[name], out / f"{name}.png")
        phone = browser.new_context(
            viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="zh-CN"
        )
        phone.add_cookies([{"name": "siyu_language", "value": opts.language, "url": opts.base}])
        shop = phone.new_page()
        for name in [n for n in opts.only if n in SHOP_PAGES]:
            shoot(shop, opts.base, SHOP_PAGES[name], out / f"{name}.png")
        guide = phone.new_page()
        wanted = [n for n in opts.only if n in WORKBENCH_PAGES]
        if wanted:
            guide.goto(f"{opts.base}/console/login/")
            guide.fill('input[name="username"]', "guide")
            guide.fill('input[name="password"]', demo_password())
            guide.click('button[type="submit"]')
            guide.wait_for_url(f"{opts.base}/console/**")
        for name in wanted:
            shoot(guide, opts.base, WORKBENCH_PAGES[name], out / f"{name}.png")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
