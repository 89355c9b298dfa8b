"""The storefront's login and account pages: the flow without JavaScript, errors, both languages."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import translation

from siyu.core.models import Merchant
from siyu.customers import services
from siyu.customers.models import Customer, CustomerAddress, SmsMessage
from siyu.customers.testing import (
    address_fields,
    last_code,
    make_address,
    make_customer,
    storefront_client,
)

SHOP = "/s/lucky-coffee"
LOGIN = f"{SHOP}/login/"
ACCOUNT = f"{SHOP}/account/"
HOME = f"{SHOP}/"  # where a login without a "next" lands: the shop's home page
ADDRESSES = f"{SHOP}/account/addresses/"


@pytest.fixture(autouse=True)
def _english_messages() -> Iterator[None]:
    with translation.override("en"):
        yield


def browser(language: str = "en") -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=language)


def text(response) -> str:
    return response.content.decode()


def log_in_with_a_code(client: Client, merchant: Merchant, phone="138 1234 5678", next_url=""):
    sent = client.post(LOGIN, {"action": "send", "phone": phone, "next": next_url})
    assert sent.status_code == 302, text(sent)
    return client.post(
        LOGIN, {"action": "verify", "code": last_code(merchant, phone), "next": next_url}
    )


def test_the_login_page_asks_for_a_mobile_number(merchant):
    response = browser().get(LOGIN)
    assert response.status_code == 200
    body = text(response)
    assert "Lucky Coffee" in body
    assert 'type="tel"' in body
    assert 'name="phone"' in body
    assert "Get a code" in body
    for heavy in ("htmx", "alpine", "echarts"):
        assert heavy not in body.lower()


def test_the_whole_login_flow_without_javascript(merchant):
    client = browser()
    sent = client.post(LOGIN, {"action": "send", "phone": "+86 138-1234-5678"})
    assert sent.status_code == 302
    assert "step=code" in sent["Location"]
    code_step = text(client.get(sent["Location"]))
    assert "We sent a 6-digit code to" in code_step
    assert "138 1234 5678" in code_step
    assert 'autocomplete="one-time-code"' in code_step
    assert "Send again in 60 s" in code_step
    assert 'data-countdown="60"' in code_step
    done = client.post(LOGIN, {"action": "verify", "code": last_code(merchant, "13812345678")})
    assert done.status_code == 302
    assert done["Location"] == HOME
    account = text(client.get(ACCOUNT))
    assert "138 1234 5678" in account
    assert "Log out" in account
    assert Customer.unscoped.filter(merchant=merchant, phone="+8613812345678").exists()


def test_a_wrong_code_is_shown_next_to_the_field(merchant):
    client = browser()
    client.post(LOGIN, {"action": "send", "phone": "13812345678"})
    code = last_code(merchant, "13812345678")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.post(LOGIN, {"action": "verify", "code": wrong})
    assert response.status_code == 422
    assert "Wrong code: 4 tries left." in text(response)
    malformed = client.post(LOGIN, {"action": "verify", "code": "12"})
    assert malformed.status_code == 422
    assert "Enter the 6-digit code from the text message." in text(malformed)
    assert client.get(ACCOUNT).status_code == 302  # still not logged in


def test_an_invalid_number_is_refused_with_a_reason(merchant):
    response = browser().post(LOGIN, {"action": "send", "phone": "021 6288 1234"})
    assert response.status_code == 422
    assert "Enter a mobile number" in text(response)
    empty = browser().post(LOGIN, {"action": "send", "phone": ""})
    assert empty.status_code == 422
    assert not SmsMessage.unscoped.exists()


def test_asking_again_too_early_keeps_the_code_step_with_the_wait(merchant):
    client = browser()
    client.post(LOGIN, {"action": "send", "phone": "13812345678"})
    again = client.post(LOGIN, {"action": "send", "phone": "138 1234 5678"})
    assert again.status_code == 429
    body = text(again)
    assert "Please wait" in body
    assert "seconds before asking for another code" in body
    assert 'name="code"' in body
    assert SmsMessage.unscoped.count() == 1


def test_next_is_honoured_within_this_shop_only(merchant):
    wanted = f"{ADDRESSES}?from=checkout"
    done = log_in_with_a_code(browser(), merchant, next_url=wanted)
    assert done["Location"] == wanted
    outside = [
        "https://evil.example/",
        "//evil.example/s/lucky-coffee/",
        "/s/rival-tea/account/",
        "/console/",
        f"{SHOP}/\\evil",
        LOGIN,
    ]
    for n, target in enumerate(outside):
        other = Client(REMOTE_ADDR=f"198.51.100.{n}")
        response = log_in_with_a_code(other, merchant, phone=f"139 0000 000{n}", next_url=target)
        assert response["Location"] == HOME, target


def test_account_pages_send_visitors_to_log_in_and_back(merchant):
    response = browser().get(ADDRESSES)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={quote(ADDRESSES, safe='')}"
    assert f'value="{ADDRESSES}"' in text(browser().get(response["Location"]))


def test_a_logged_in_customer_skips_the_login_page(customer):
    client = storefront_client(customer)
    assert client.get(LOGIN)["Location"] == HOME


def test_logout_is_post_only_and_ends_only_this_shop(merchant, other_merchant, customer):
    theirs = make_customer(other_merchant, "+8613812345678")
    client = storefront_client(customer)
    from siyu.customers.testing import log_in

    log_in(client, theirs)
    assert client.get(f"{SHOP}/logout/").status_code == 405
    response = client.post(f"{SHOP}/logout/")
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert client.get(ACCOUNT).status_code == 302
    assert client.get("/s/rival-tea/account/").status_code == 200


def test_the_account_page_changes_the_name(customer):
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(ACCOUNT, {"name": "小明"}, follow=True)
    assert "Saved." in text(response)
    customer.refresh_from_db()
    assert customer.name == "小明"
    too_long = client.post(ACCOUNT, {"name": "名" * 81})
    assert too_long.status_code == 422


def test_addresses_add_edit_default_delete(customer):
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")
    assert "No delivery addresses yet." in text(client.get(ADDRESSES))
    form = text(client.get(f"{ADDRESSES}new/"))
    assert 'value="138 1234 5678"' in form  # the customer's own number to start with
    added = client.post(f"{ADDRESSES}new/", address_fields(district="静安区", street="南京西路1号"))
    assert added.status_code == 302
    assert added["Location"] == ADDRESSES
    second = client.post(
        f"{ADDRESSES}new/", address_fields(district="黄浦区", street="淮海中路2号", is_default="on")
    )
    assert second.status_code == 302
    rows = list(CustomerAddress.unscoped.filter(customer=customer).order_by("id"))
    assert [a.is_default for a in rows] == [False, True]
    listing = text(client.get(ADDRESSES))
    assert listing.index("淮海中路2号") < listing.index("南京西路1号")
    made = client.post(f"{ADDRESSES}{rows[0].pk}/default/")
    assert made.status_code == 302
    edit = client.post(f"{ADDRESSES}{rows[0].pk}/", address_fields(street="南京西路100号"))
    assert edit.status_code == 302
    rows[0].refresh_from_db()
    assert rows[0].street == "南京西路100号"
    assert rows[0].is_default
    assert client.get(f"{ADDRESSES}{rows[0].pk}/delete/").status_code == 405
    client.post(f"{ADDRESSES}{rows[0].pk}/delete/")
    remaining = CustomerAddress.unscoped.get(customer=customer)
    assert remaining.pk == rows[1].pk
    assert remaining.is_default


def test_bad_address_input_is_shown_and_nothing_saved(customer):
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(f"{ADDRESSES}new/", address_fields(phone="12", postal_code="12"))
    assert response.status_code == 422
    body = text(response)
    assert "Enter a valid phone number" in body
    assert "A postal code has 6 digits" in body
    assert not CustomerAddress.unscoped.exists()


def test_adding_an_address_can_return_to_the_page_that_asked(customer):
    client = storefront_client(customer)
    back = f"{SHOP}/checkout/"
    response = client.post(f"{ADDRESSES}new/?next={back}", {**address_fields(), "next": back})
    assert response["Location"] == back
    outside = client.post(f"{ADDRESSES}new/", {**address_fields(), "next": "https://evil.example/"})
    assert outside["Location"] == HOME


def test_someone_elses_address_pages_are_404(merchant, customer):
    theirs = make_address(make_customer(merchant))
    client = storefront_client(customer)
    assert client.get(f"{ADDRESSES}{theirs.pk}/").status_code == 404
    assert client.post(f"{ADDRESSES}{theirs.pk}/delete/").status_code == 404
    assert client.post(f"{ADDRESSES}{theirs.pk}/default/").status_code == 404
    assert CustomerAddress.unscoped.filter(pk=theirs.pk).exists()


def test_the_outbox_link_and_page_exist_only_in_development(merchant, settings):
    client = browser()
    client.post(LOGIN, {"action": "send", "phone": "13812345678"})
    settings.DEBUG = False
    assert "SMS outbox" not in text(client.get(LOGIN))
    assert client.get(f"{SHOP}/login/sms/").status_code == 404
    settings.DEBUG = True
    assert "No SMS gateway here: read your code in the SMS outbox" in text(client.get(LOGIN))
    page = text(client.get(f"{SHOP}/login/sms/"))
    assert last_code(merchant, "13812345678") in page


def test_the_outbox_page_shows_only_this_browsers_number(merchant, settings):
    settings.DEBUG = True
    mine, theirs = browser(), browser()
    mine.post(LOGIN, {"action": "send", "phone": "13812345678"})
    theirs.post(LOGIN, {"action": "send", "phone": "13900000001"}, REMOTE_ADDR="198.51.100.1")
    my_code = last_code(merchant, "13812345678")
    their_code = last_code(merchant, "13900000001")
    page = text(mine.get(f"{SHOP}/login/sms/"))
    assert my_code in page
    assert their_code not in page
    assert "139 0000 0001" not in page
    nobody = text(browser().get(f"{SHOP}/login/sms/"))
    assert my_code not in nobody
    assert their_code not in nobody
    assert "Enter your mobile number on the login page first." in nobody


def test_the_tab_bar_shows_the_pages_that_exist(customer):
    body = text(storefront_client(customer).get(ACCOUNT))
    assert 'class="sf-tabs"' in body
    assert f'href="{ACCOUNT}" class="active" aria-current="page"' in body


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", ["登录", "手机号", "获取验证码"]),
        ("en", ["Log in", "Mobile number", "Get a code"]),
    ],
)
def test_the_login_page_in_both_languages(merchant, language, words):
    body = text(browser(language).get(LOGIN))
    lang = "zh-hans" if language == "zh-hans" else "en"
    assert f'<html lang="{lang}">' in body
    for word in words:
        assert word in body


def test_chinese_is_the_default_language(merchant):
    assert '<html lang="zh-hans">' in text(Client().get(LOGIN))


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", ["我的账户", "收货地址", "退出登录", "语言"]),
        ("en", ["My account", "Delivery addresses", "Log out", "Language"]),
    ],
)
def test_the_account_pages_in_both_languages(customer, language, words):
    make_address(customer)
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE=language)
    body = (
        text(client.get(ACCOUNT))
        + text(client.get(ADDRESSES))
        + text(client.get(f"{ADDRESSES}new/"))
    )
    for word in words:
        assert word in body


def test_the_language_switch_keeps_the_customer_on_the_page(customer):
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": ACCOUNT})
    assert response["Location"] == ACCOUNT
    assert "我的账户" in text(client.get(ACCOUNT))


def test_a_blocked_customer_is_logged_out_and_cannot_log_in_again(merchant, customer, owner):
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")
    services.block_customer(owner, customer)
    assert client.get(ACCOUNT).status_code == 302
    client.post(LOGIN, {"action": "send", "phone": "13812345678"})
    refused = client.post(LOGIN, {"action": "verify", "code": last_code(merchant, "13812345678")})
    assert refused.status_code == 403
    assert "This account is blocked" in text(refused)


@pytest.fixture
def owner(merchant):
    from siyu.core.testing import actor_for

    return actor_for(merchant)


@pytest.fixture
def customer(merchant):
    return make_customer(merchant, "+8613812345678", name="")
