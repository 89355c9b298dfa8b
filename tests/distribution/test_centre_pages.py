"""The distributor centre's pages in the storefront: in both languages, apply, withdraw, share
and the poster whose QR code is the share link."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import segno
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.tenancy import merchant_context
from siyu.customers.testing import storefront_client
from siyu.distribution import posters, services
from siyu.distribution.models import Distributor, Withdrawal
from siyu.distribution.testing import distributed_order, make_distributor, set_default_rate
from siyu.orders.testing import make_customer, make_shop

pytestmark = pytest.mark.django_db


def url(merchant: Any, page: str = "") -> str:
    return f"/s/{merchant.slug}/distributor/{page}"


@pytest.fixture
def earner(bound):
    """A distributor with ¥50.00 settled, a bound customer and an invitee."""
    set_default_rate(bound, 1000)
    distributor = make_distributor(bound)
    buyer = make_customer(bound, name="Lily Chen")
    with merchant_context(bound):
        services.bind(buyer, distributor.share_code)
    distributed_order(
        bound, distributor, status="completed", customer=buyer, shop=make_shop(bound, price=50_000)
    )
    services.settle_merchant(bound, now=clock.now() + timedelta(days=8))
    make_distributor(bound, invited_by=distributor)
    return distributor


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["Available to withdraw", "Pending settlement", "Share a product", "¥50.00"]),
        ("zh-hans", ["可提现", "待结算", "分享商品", "¥50.00"]),
    ],
)
def test_every_page_renders_in_both_languages(bound, earner, language, words):
    client = storefront_client(earner.customer, HTTP_ACCEPT_LANGUAGE=language)
    home = client.get(url(bound))
    assert home.status_code == 200
    body = home.content.decode()
    for word in words:
        assert word in body, word
    assert f"?invite={earner.share_code}" in body
    for page in ("orders/", "customers/", "team/", "share/", "withdraw/"):
        answer = client.get(url(bound, page))
        assert answer.status_code == 200, page
    orders = client.get(url(bound, "orders/")).content.decode()
    assert "L***" in orders
    assert "+¥50.00" in orders
    assert "Lily" not in orders
    customers = client.get(url(bound, "customers/")).content.decode()
    assert "L***" in customers
    assert "Lily" not in customers


def test_the_centre_sends_visitors_to_login_and_customers_to_apply(bound):
    assert Client().get(url(bound)).status_code == 302
    customer = make_customer(bound)
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")
    answer = client.get(url(bound, "withdraw/"))
    assert answer.status_code == 302
    assert answer["Location"] == url(bound, "apply/")


def test_apply_under_approval_shows_the_pending_then_rejected_state(bound):
    inviter = make_distributor(bound)
    customer = make_customer(bound)
    client = storefront_client(customer, HTTP_ACCEPT_LANGUAGE="en")
    page = client.get(url(bound, f"apply/?invite={inviter.share_code}")).content.decode()
    assert "The shop reviews applications." in page
    assert f'value="{inviter.share_code}"' in page
    bad = client.post(url(bound, "apply/"), {"invited_by_code": "ZZZZ"})
    assert bad.status_code == 200
    assert "Not the share code of an approved distributor." in bad.content.decode()
    sent = client.post(url(bound, "apply/"), {"invited_by_code": inviter.share_code})
    assert sent.status_code == 302
    row = Distributor.unscoped.get(customer=customer)
    assert (row.status, row.invited_by_id) == ("applied", inviter.pk)
    page = client.get(url(bound, "apply/")).content.decode()
    assert "waiting for the shop" in page
    assert client.get(url(bound)).status_code == 302  # no centre until approved
    services.decide(Actor.system(bound), row.pk, "rejected", reason="Too new")
    page = client.get(url(bound, "apply/")).content.decode()
    assert "was not accepted" in page
    assert "Too new" in page
    services.decide(Actor.system(bound), row.pk, "approved")
    assert client.get(url(bound, "apply/"))["Location"] == url(bound)
    assert client.get(url(bound)).status_code == 200


def test_withdraw_page_takes_yuan_names_the_problem_and_requests_once(bound, earner):
    client = storefront_client(earner.customer, HTTP_ACCEPT_LANGUAGE="en")
    page = client.get(url(bound, "withdraw/")).content.decode()
    key = re.search(r'name="client_key" value="([^"]+)"', page)
    assert key is not None
    low = client.post(url(bound, "withdraw/"), {"amount": "9.99", "client_key": key.group(1)})
    assert low.status_code == 200
    assert "At least ¥10.00." in low.content.decode()
    high = client.post(url(bound, "withdraw/"), {"amount": "50.01", "client_key": key.group(1)})
    assert "At most ¥50.00" in high.content.decode()
    junk = client.post(url(bound, "withdraw/"), {"amount": "abc", "client_key": key.group(1)})
    assert "like 12.30" in junk.content.decode()
    assert not Withdrawal.unscoped.exists()
    for _n in range(2):  # a double tap
        done = client.post(url(bound, "withdraw/"), {"amount": "20", "client_key": key.group(1)})
        assert done.status_code == 302
    assert list(Withdrawal.unscoped.values_list("amount", "status")) == [(2000, "requested")]
    page = client.get(url(bound, "withdraw/")).content.decode()
    assert "¥30.00" in page
    assert "Requested" in page


def test_share_page_gives_the_link_and_the_poster_carries_its_qr_code(bound, earner):
    shop = make_shop(bound, price=2600)
    client = storefront_client(earner.customer, HTTP_ACCEPT_LANGUAGE="en")
    picker = client.get(url(bound, "share/")).content.decode()
    assert shop.product.name in picker
    page = client.get(url(bound, f"share/?product={shop.product.pk}")).content.decode()
    link = f"http://testserver/s/{bound.slug}/products/{shop.product.pk}/?d={earner.share_code}"
    assert link in page
    poster = client.get(url(bound, f"share/{shop.product.pk}/poster.svg"))
    assert poster.status_code == 200
    assert poster["Content-Type"].startswith("image/svg+xml")
    svg = poster.content.decode()
    assert shop.product.name in svg
    assert "¥26.00" in svg
    path = re.search(r'<path d="([^"]+)"', svg)
    assert path is not None
    expected = segno.make_qr(link, error="m")
    dark = {
        (x, y)
        for y, row in enumerate(expected.matrix_iter(scale=1, border=posters.QR_BORDER))
        for x, cell in enumerate(row)
        if cell
    }
    assert posters.dark_modules(path.group(1)) == dark  # the QR read back is the share link's
    download = client.get(url(bound, f"share/{shop.product.pk}/poster.svg?download=1"))
    assert download["Content-Disposition"].startswith("attachment;")
    assert client.get(url(bound, "share/?product=999999")).status_code == 404
    outsider = storefront_client(make_customer(bound))
    assert outsider.get(url(bound, f"share/{shop.product.pk}/poster.svg")).status_code == 404


def test_the_product_page_offers_share_and_earn_to_distributors_only(bound, earner):
    shop = make_shop(bound)
    product_url = f"/s/{bound.slug}/products/{shop.product.pk}/"
    mine = storefront_client(earner.customer, HTTP_ACCEPT_LANGUAGE="en").get(product_url)
    assert 'data-testid="share-and-earn"' in mine.content.decode()
    other = storefront_client(make_customer(bound), HTTP_ACCEPT_LANGUAGE="en").get(product_url)
    assert 'data-testid="share-and-earn"' not in other.content.decode()
    assert 'data-testid="share-and-earn"' not in Client().get(product_url).content.decode()


def test_the_centre_pages_do_not_query_more_with_more_orders(bound, earner):
    client = storefront_client(earner.customer, HTTP_ACCEPT_LANGUAGE="en")

    def queries(page: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(bound, page)).status_code == 200
        return len(captured.captured_queries)

    queries("")  # the first request of a session writes the session and the device seen
    before = {page: queries(page) for page in ("", "orders/", "customers/", "withdraw/")}
    for _n in range(4):
        distributed_order(bound, earner, status="paid", shop=make_shop(bound, price=1000))
    after = {page: queries(page) for page in before}
    assert after == before
