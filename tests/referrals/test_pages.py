"""Storefront and console pages of referrals, in English and Chinese; a link opened before the
login registers after it; the device cookie."""

from __future__ import annotations

import pytest
from django.test import Client

from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import staff_client
from siyu.customers.testing import log_in, make_customer, storefront_client
from siyu.promotions.testing import make_template
from siyu.referrals import services
from siyu.referrals.middleware import DEVICE_COOKIE
from siyu.referrals.models import CustomerDevice, Referral, ReferralProgramme
from siyu.referrals.templatetags.referral_tags import shown_phone
from siyu.referrals.testing import invite, make_programme

pytestmark = pytest.mark.django_db

LANGUAGES = [("en", "Invite friends", "Friends I invited"), ("zh-hans", "邀请好友", "我邀请的好友")]


def _code(customer: object) -> str:
    with merchant_context(customer.merchant):  # type: ignore[attr-defined]
        return services.code_of(customer).code  # type: ignore[arg-type]


def test_a_link_opened_before_login_registers_the_new_customer_after_it(
    merchant: Merchant,
) -> None:
    gift = make_template(merchant, name="Welcome", quantity=10)
    make_programme(merchant, invitee_reward="coupon", invitee_template=gift)
    inviter = make_customer(merchant, name="Ada")
    code = _code(inviter)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    landing = browser.get(f"/s/{merchant.slug}/invite/{code}/")
    assert landing.status_code == 200
    body = landing.content.decode()
    assert "Ada invites you" in body
    assert "Log in by phone" in body
    assert DEVICE_COOKIE in landing.cookies
    # the visitor signs up (their account is made now, after the tap) and logs in
    friend = make_customer(merchant)
    log_in(browser, friend)
    home = browser.get(f"/s/{merchant.slug}/account/", follow=True)
    assert home.status_code == 200
    with merchant_context(merchant):
        referral = Referral.objects.get(invitee=friend)
        device = CustomerDevice.objects.get(customer=friend)
    assert (referral.inviter_id, referral.source, referral.status) == (
        inviter.pk,
        "link",
        "registered",
    )
    assert referral.device_hash == device.device_hash != ""
    assert "your coupon is waiting" in home.content.decode()
    # the landing page now says so
    again = browser.get(f"/s/{merchant.slug}/invite/{code}/").content.decode()
    assert "You joined through this invitation" in again


def test_an_existing_customer_opening_a_link_is_not_registered(merchant: Merchant) -> None:
    make_programme(merchant)
    inviter, old = make_customer(merchant), make_customer(merchant)
    code = _code(inviter)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.get(f"/s/{merchant.slug}/invite/{code}/")
    log_in(browser, old)
    page = browser.get(f"/s/{merchant.slug}/account/", follow=True)
    assert "Invitations are for new customers" in page.content.decode()
    with merchant_context(merchant):
        assert not Referral.objects.exists()


def test_the_same_browser_as_the_inviter_is_blocked_as_the_same_device(
    merchant: Merchant,
) -> None:
    make_programme(merchant)
    inviter = make_customer(merchant)
    code = _code(inviter)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    log_in(browser, inviter)
    browser.get(f"/s/{merchant.slug}/invite/")  # the inviter's device is recorded
    browser.post(f"/s/{merchant.slug}/logout/")
    browser.get(f"/s/{merchant.slug}/invite/{code}/")
    second = make_customer(merchant)
    log_in(browser, second)
    browser.get(f"/s/{merchant.slug}/account/")
    with merchant_context(merchant):
        referral = Referral.objects.get(invitee=second)
    assert (referral.status, referral.block_reason) == ("blocked", "same_device")


@pytest.mark.parametrize(("language", "title", "friends"), LANGUAGES)
def test_invite_page_renders_in_both_languages(
    merchant: Merchant, language: str, title: str, friends: str
) -> None:
    make_programme(merchant)
    inviter = make_customer(merchant)
    invite(inviter, make_customer(merchant))
    client = storefront_client(inviter, HTTP_ACCEPT_LANGUAGE=language)
    page = client.get(f"/s/{merchant.slug}/invite/")
    assert page.status_code == 200
    body = page.content.decode()
    assert title in body
    assert friends in body
    assert _code(inviter) in body
    assert "<svg" in body
    assert "****" in body  # the friend's number is masked
    account = client.get(f"/s/{merchant.slug}/account/").content.decode()
    assert f"/s/{merchant.slug}/invite/" in account
    poster = client.get(f"/s/{merchant.slug}/invite/poster.png")
    assert poster.status_code == 200
    assert poster["Content-Type"] == "image/png"
    assert poster.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_typing_a_friends_code_on_the_invite_page(merchant: Merchant) -> None:
    make_programme(merchant)
    inviter = make_customer(merchant)
    code = _code(inviter)
    newcomer = make_customer(merchant)
    client = storefront_client(newcomer, HTTP_ACCEPT_LANGUAGE="en")
    assert "Were you invited?" in client.get(f"/s/{merchant.slug}/invite/").content.decode()
    wrong = client.post(f"/s/{merchant.slug}/invite/", {"code": "ZZZZZZ"}, follow=True)
    assert "No one has this invite code" in wrong.content.decode()
    client.post(f"/s/{merchant.slug}/invite/", {"code": code.lower()})
    with merchant_context(merchant):
        assert Referral.objects.get(invitee=newcomer).inviter_id == inviter.pk
    assert "Were you invited?" not in client.get(f"/s/{merchant.slug}/invite/").content.decode()


def test_storefront_pages_need_a_login_and_a_real_code(merchant: Merchant) -> None:
    make_programme(merchant)
    anonymous = Client()
    assert anonymous.get(f"/s/{merchant.slug}/invite/").status_code == 302
    assert anonymous.get(f"/s/{merchant.slug}/invite/poster.png").status_code == 302
    assert anonymous.get(f"/s/{merchant.slug}/invite/ZZZZZZ/").status_code == 404


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["K-factor", "Blocked attempts", "Friends registered"]),
        ("zh-hans", ["K 值", "被拦截的邀请", "注册的好友"]),
    ],
)
def test_console_pages_render_in_both_languages(
    merchant: Merchant, language: str, words: list[str]
) -> None:
    make_programme(merchant)
    inviter = make_customer(merchant, name="Ada")
    invite(inviter, make_customer(merchant), device="x")
    invite(inviter, make_customer(merchant), device="x")
    client = staff_client(merchant)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    overview = client.get("/console/referrals/")
    assert overview.status_code == 200
    for word in words:
        assert word in overview.content.decode()
    for url in (
        "/console/referrals/settings/",
        "/console/referrals/list/",
        "/console/referrals/blocked/",
        "/console/referrals/tree/",
        f"/console/referrals/tree/?customer={inviter.pk}",
        f"/console/referrals/tree/?customer={inviter.phone[3:]}",
    ):
        answer = client.get(url)
        assert answer.status_code == 200, url
    blocked = client.get("/console/referrals/blocked/").content.decode()
    assert "another invitee" in blocked
    assert client.get("/console/referrals/tree/?customer=999999").status_code == 404


def test_console_settings_save_run_and_pause(merchant: Merchant) -> None:
    gift = make_template(merchant, name="Welcome")
    client = staff_client(merchant)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    form = {
        "invitee_reward": "coupon",
        "invitee_template_id": str(gift.pk),
        "inviter_reward": "none",
        "cap_per_month": "3",
        "cap_total": "",
        "guard_phone": "on",
        "guard_device": "on",
        "code_entry_days": "7",
    }
    missing = client.post("/console/referrals/settings/", {**form, "invitee_template_id": ""})
    assert missing.status_code == 422
    assert "Choose the coupon to give." in missing.content.decode()
    saved = client.post("/console/referrals/settings/", form)
    assert saved.status_code == 302
    client.post("/console/referrals/settings/status/", {"status": "active"})
    with merchant_context(merchant):
        current = ReferralProgramme.objects.get()
    assert (current.status, current.invitee_template_id, current.cap_per_month) == (
        "active",
        gift.pk,
        3,
    )
    assert current.guard_address is False
    guide = staff_client(merchant, Role.SHOPPING_GUIDE)
    assert guide.get("/console/referrals/").status_code == 403
    finance = staff_client(merchant, Role.FINANCE)
    assert finance.post("/console/referrals/settings/", form).status_code == 403
    assert (
        finance.post("/console/referrals/settings/status/", {"status": "paused"}).status_code == 403
    )


def test_numbers_are_shown_to_staff_who_may_see_customers_and_masked_otherwise(
    merchant: Merchant,
) -> None:
    make_programme(merchant)
    inviter, friend = make_customer(merchant), make_customer(merchant)
    invite(inviter, friend)
    owner = staff_client(merchant).get("/console/referrals/list/").content.decode()
    assert friend.phone[-4:] in owner
    assert "****" not in owner
    # every built-in role that sees referrals also sees customers; a narrower one gets masks
    assert shown_phone("+8613812345678", False) == "138 **** 5678"
    assert shown_phone("+8613812345678", True) == "138 1234 5678"
