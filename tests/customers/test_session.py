"""The customer session and StorefrontMiddleware: merchant binding, per-merchant logins, 404s."""

from __future__ import annotations

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import path

from siyu.core.models import Merchant
from siyu.core.tenancy import bound_merchant
from siyu.core.testing import make_merchant
from siyu.customers import session
from siyu.customers.middleware import StorefrontMiddleware, storefront_slug
from siyu.customers.testing import last_code, log_in, make_customer


def probe(request, merchant_slug):
    customer = request.siyu_customer
    merchant = bound_merchant()
    from django.utils import timezone

    return HttpResponse(
        f"{merchant.slug if merchant else '-'}|{customer.pk if customer else '-'}|"
        f"{timezone.get_current_timezone_name()}"
    )


urlpatterns = [path("s/<slug:merchant_slug>/probe/", probe)]


@pytest.fixture
def probe_urls(settings):
    settings.ROOT_URLCONF = __name__


def test_storefront_slug():
    assert storefront_slug("/s/lucky/login/") == ("lucky", False)
    assert storefront_slug("/api/v1/storefront/lucky/account/me") == ("lucky", True)
    assert storefront_slug("/console/") == (None, False)
    assert storefront_slug("/s/") == (None, False)
    assert storefront_slug("/api/v1/stores") == (None, False)


def test_the_middleware_binds_the_merchant_its_zone_and_the_customer(merchant, probe_urls):
    Merchant.objects.filter(pk=merchant.pk).update(time_zone="Asia/Urumqi")
    customer = make_customer(merchant)
    client = log_in(Client(), customer)
    assert client.get("/s/lucky-coffee/probe/").content.decode() == (
        f"lucky-coffee|{customer.pk}|Asia/Urumqi"
    )
    assert Client().get("/s/lucky-coffee/probe/").content.decode().startswith("lucky-coffee|-|")


def test_an_unknown_or_suspended_shop_is_404_for_pages_and_api(merchant, other_merchant):
    Merchant.objects.filter(pk=other_merchant.pk).update(status=Merchant.Status.SUSPENDED)
    for slug in ("no-such-shop", other_merchant.slug):
        page = Client().get(f"/s/{slug}/login/")
        assert page.status_code == 404
        api = Client().post(f"/api/v1/storefront/{slug}/account/request-code", {"phone": "1"})
        assert api.status_code == 404
        assert api.json() == {
            "error": "not_found",
            "message": "There is no shop at this address.",
            "fields": {},
        }


def test_the_shop_lookup_is_cached_and_forgotten_when_the_merchant_is_saved(
    merchant, django_assert_num_queries
):
    from siyu.core.selectors import storefront_merchant

    assert storefront_merchant(merchant.slug) == merchant
    assert storefront_merchant("no-such-shop-yet") is None
    with django_assert_num_queries(0):  # both read through the cache now
        assert storefront_merchant(merchant.slug) == merchant
        assert storefront_merchant("no-such-shop-yet") is None
    # saved (the console, the admin): suspended at once, not after the cache's half minute
    merchant.status = Merchant.Status.SUSPENDED
    merchant.save()
    assert Client().get(f"/s/{merchant.slug}/login/").status_code == 404
    # a shop opened after someone asked for its address is there at once too
    assert Client().get("/s/opened-later/login/").status_code == 404
    make_merchant(slug="opened-later", name="Opened later")
    assert Client().get("/s/opened-later/login/").status_code == 200


def test_other_paths_get_no_storefront_attributes(db):
    seen = {}

    def view(request):
        seen["merchant"] = request.siyu_storefront_merchant
        seen["customer"] = request.siyu_customer
        return HttpResponse()

    StorefrontMiddleware(view)(RequestFactory().get("/console/"))
    assert seen == {"merchant": None, "customer": None}


def test_one_browser_logged_in_at_two_merchants(merchant, other_merchant, probe_urls):
    mine = make_customer(merchant, "+8613812345678")
    theirs = make_customer(other_merchant, "+8613812345678")
    client = log_in(log_in(Client(), mine), theirs)
    assert client.get("/s/lucky-coffee/probe/").content.decode().split("|")[1] == str(mine.pk)
    assert client.get("/s/rival-tea/probe/").content.decode().split("|")[1] == str(theirs.pk)


def test_another_merchants_customer_in_the_session_is_nobody_here(
    merchant, other_merchant, probe_urls
):
    theirs = make_customer(other_merchant, "+8613812345678")
    client = Client()
    s = client.session
    s[session.CUSTOMERS_KEY] = {str(merchant.pk): theirs.pk}  # a forged entry
    s.save()
    assert client.get("/s/lucky-coffee/probe/").content.decode().split("|")[1] == "-"


def test_a_blocked_customers_session_stops_working(merchant, owner, probe_urls):
    from siyu.customers import services

    customer = make_customer(merchant)
    client = log_in(Client(), customer)
    services.block_customer(owner, customer)
    assert client.get("/s/lucky-coffee/probe/").content.decode().split("|")[1] == "-"


def _request_with_session(client: Client | None = None):
    request = RequestFactory().get("/s/lucky-coffee/")
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    return request


def test_login_rotates_the_session_key_and_logout_forgets_only_this_merchant(
    merchant, other_merchant
):
    mine = make_customer(merchant)
    theirs = make_customer(other_merchant)
    request = _request_with_session()
    request.session["anything"] = 1
    request.session.save()
    first_key = request.session.session_key
    session.login_customer(request, mine)
    request.session.save()
    assert request.session.session_key != first_key
    assert request.session["anything"] == 1
    session.login_customer(request, theirs)
    assert session.customer_of(request) == theirs
    assert request.session[session.CUSTOMERS_KEY] == {
        str(merchant.pk): mine.pk,
        str(other_merchant.pk): theirs.pk,
    }
    request.siyu_storefront_merchant = other_merchant
    session.logout_customer(request)
    assert session.customer_of(request) is None
    assert request.session[session.CUSTOMERS_KEY] == {str(merchant.pk): mine.pk}


def test_the_page_login_flow_rotates_the_session_cookie(merchant):
    client = Client()
    client.post("/s/lucky-coffee/login/", {"action": "send", "phone": "13812345678"})
    before = client.cookies["sessionid"].value
    code = last_code(merchant, "13812345678")
    client.post("/s/lucky-coffee/login/", {"action": "verify", "code": code})
    assert client.cookies["sessionid"].value != before


def test_a_new_merchant_has_no_customers_of_the_old(db, probe_urls):
    first = make_merchant(slug="first-shop")
    second = make_merchant(slug="second-shop")
    client = log_in(Client(), make_customer(first))
    assert client.get("/s/second-shop/probe/").content.decode().split("|")[1] == "-"
    assert second.pk != first.pk
