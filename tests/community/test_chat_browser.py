"""chat.js in a real browser (system Chromium, phone-sized) against the live test server, which
has no websockets: the panel falls back to polling, posts over HTTP, shows refusals, renders
cards and loads earlier messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connections
from django.test import Client

from siyu.catalog.testing import make_product
from siyu.community import services
from siyu.community.testing import make_code, make_group
from siyu.core.actors import Actor
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for, make_merchant
from siyu.customers.testing import make_customer, storefront_client

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the system Chromium"),
]


@pytest.fixture
def chromium(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"]
        )
        yield browser
        connections.close_all()
        browser.close()


def session_of(client: Client) -> str:
    return client.cookies["sessionid"].value


@pytest.mark.django_db(transaction=True)
def test_group_chat_in_a_phone_browser_without_websockets(live_server, chromium) -> None:
    merchant = make_merchant(slug="chat-bean", name="Chat Bean")
    owner: Actor = actor_for(merchant, Role.OWNER)
    staff = owner.membership
    assert staff is not None
    group = make_group(
        owner, name="Bean fans", welcome={"text": "Welcome aboard"}, banned_words=["spam"]
    )
    customer = make_customer(merchant, name="Ada")
    product = make_product(merchant, "Flat white")
    with merchant_context(merchant):
        services.scan(make_code(owner, [group]), customer)
        conversation = services.group_conversation(group)
        for n in range(32):
            services.post_message(conversation, text=f"old news {n}", sender_staff=staff)
    client = storefront_client(customer)
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    host = live_server.url.split("//")[1].split(":")[0]
    context.add_cookies(
        [{"name": "sessionid", "value": session_of(client), "domain": host, "path": "/"}]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/s/chat-bean/community/groups/{group.pk}/")

    assert page.locator(".chat-msg").count() == 30
    assert page.locator(".chat-text", has_text="old news 31").is_visible()
    page.click("[data-chat-earlier]")
    page.wait_for_function("document.querySelectorAll('.chat-msg').length === 33")
    assert page.locator(".chat-text", has_text="Welcome aboard").count() == 1
    assert page.locator("[data-chat-earlier]").is_hidden()

    page.fill("[data-chat-text]", "Hello <b>all</b>")
    page.click("[data-chat-send]")
    mine = page.locator(".chat-mine .chat-text", has_text="Hello <b>all</b>")
    mine.wait_for()
    assert page.locator("[data-chat-text]").input_value() == ""

    page.fill("[data-chat-text]", "buy spam here")
    page.keyboard.press("Enter")
    error = page.locator("[data-chat-error]")
    error.wait_for()
    assert "banned word" in error.inner_text()

    with merchant_context(merchant):  # staff post a card: it arrives by polling
        services.post_message(
            conversation,
            text="New in",
            card={"type": "product", "id": product.pk},
            sender_staff=staff,
        )
    card = page.locator(".chat-card", has_text="Flat white")
    card.wait_for(timeout=20_000)
    assert "¥18.00" in card.inner_text()
    assert f"/s/chat-bean/products/{product.pk}/?via=" in (card.get_attribute("href") or "")
    assert errors == []
    context.close()


@pytest.mark.django_db(transaction=True)
def test_scan_log_in_and_land_in_the_group(live_server, chromium) -> None:
    from siyu.customers.testing import last_code

    merchant = make_merchant(slug="scan-bean", name="Scan Bean")
    owner = actor_for(merchant, Role.OWNER)
    group = make_group(owner, name="Door fans", welcome={"text": "Glad you came"})
    code = make_code(owner, [group], poster_message="Scan for coupons")
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/j/{code.token}")
    assert page.locator("text=Scan for coupons").is_visible()
    page.click("[data-testid=join-login]")
    page.wait_for_url("**/s/scan-bean/login/**")
    page.fill("input[name=phone]", "138 1234 5678")
    page.click("form:has(input[name=phone]) button[type=submit]")
    page.wait_for_url("**step=code**")
    page.fill("input[name=code]", last_code(merchant, "138 1234 5678"))
    page.click("form:has(input[name=code]) button[type=submit]")
    page.wait_for_url(f"**/s/scan-bean/community/groups/{group.pk}/")  # joined by itself
    assert page.locator(".chat-text", has_text="Glad you came").is_visible()
    context.close()
