"""The visited flag: a logged-in customer's storefront visit, written once per local day.

``VisitMiddleware`` is not yet in the project's settings (the lead wires it in), so these tests
add it right after ``StorefrontMiddleware``, where it belongs.
"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.test import Client

from siyu.analytics.middleware import VISITS_KEY
from siyu.analytics.models import ActiveDay
from siyu.core import clock
from siyu.customers.testing import make_customer, storefront_client

pytestmark = pytest.mark.django_db

STOREFRONT = "siyu.customers.middleware.StorefrontMiddleware"
VISITS = "siyu.analytics.middleware.VisitMiddleware"


@pytest.fixture(autouse=True)
def _visit_middleware(settings):
    middleware = list(django_settings.MIDDLEWARE)
    if VISITS not in middleware:
        middleware.insert(middleware.index(STOREFRONT) + 1, VISITS)
    settings.MIDDLEWARE = middleware


def local_today(merchant):
    return clock.local(clock.now(), merchant.time_zone).date()


def test_a_logged_in_visit_marks_the_day_once(merchant):
    customer = make_customer(merchant)
    client = storefront_client(customer)
    assert client.get(f"/s/{merchant.slug}/").status_code == 200
    day = ActiveDay.unscoped.get(customer_id=customer.pk)
    assert (day.day, day.kinds) == (local_today(merchant), ActiveDay.VISITED)
    assert client.session[VISITS_KEY] == {str(merchant.pk): day.day.isoformat()}
    day.delete()  # the session remembers the day: the next request writes nothing
    client.get(f"/s/{merchant.slug}/")
    assert not ActiveDay.unscoped.exists()


def test_the_next_day_is_marked_again(merchant):
    customer = make_customer(merchant)
    client = storefront_client(customer)
    client.get(f"/s/{merchant.slug}/")
    tomorrow = clock.now() + timedelta(days=1)
    with mock.patch("siyu.core.clock.now", return_value=tomorrow):
        client.get(f"/s/{merchant.slug}/")
    days = sorted(ActiveDay.unscoped.values_list("day", flat=True))
    assert len(days) == 2
    assert days[1] - days[0] == timedelta(days=1)


def test_a_visit_keeps_the_days_other_flags(merchant):
    customer = make_customer(merchant)
    ActiveDay.unscoped.create(
        merchant=merchant, customer_id=customer.pk, day=local_today(merchant), kinds=1
    )
    storefront_client(customer).get(f"/s/{merchant.slug}/")
    assert ActiveDay.unscoped.get().kinds == ActiveDay.ORDERED | ActiveDay.VISITED


def test_anonymous_visitors_and_other_pages_write_nothing(merchant):
    Client().get(f"/s/{merchant.slug}/")
    customer = make_customer(merchant)
    storefront_client(customer).get("/api/v1/openapi.json")
    assert not ActiveDay.unscoped.exists()
