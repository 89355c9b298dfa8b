"""Records a logged-in customer's storefront visit as an active day (the visited flag).

Placed after ``siyu.customers.middleware.StorefrontMiddleware``, which puts the customer on
``request.siyu_customer`` and activates the merchant's time zone. The first request of a
customer on a (local) day writes one upsert; the session then remembers that the day is
recorded (``{merchant id: "YYYY-MM-DD"}``), so every later request that day costs a dict
lookup and no query. A session that forgets (a new browser) writes the same flag again,
which changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse

from siyu.core import clock

logger = logging.getLogger(__name__)

VISITS_KEY = "siyu_analytics_visited"  # {str(merchant id): ISO local day recorded}


class VisitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        customer = getattr(request, "siyu_customer", None)
        merchant = getattr(request, "siyu_storefront_merchant", None)
        if customer is not None and merchant is not None:
            note_visit(request, merchant, customer.pk)
        return self.get_response(request)


def note_visit(request: HttpRequest, merchant: object, customer_id: int) -> bool:
    """Record today's visit of ``customer_id`` unless the session says it is recorded;
    whether a write was made. A failed write is logged, never fails the page."""
    from siyu.analytics import facts
    from siyu.core.models import Merchant

    assert isinstance(merchant, Merchant)
    today = clock.local(clock.now(), merchant.time_zone).date()
    recorded = request.session.get(VISITS_KEY)
    recorded = dict(recorded) if isinstance(recorded, dict) else {}
    key = str(merchant.pk)
    if recorded.get(key) == today.isoformat():
        return False
    try:
        with transaction.atomic():
            facts.record_visit(merchant, customer_id, today)
    except DatabaseError:
        logger.exception("could not record the visit of customer %s", customer_id)
        return False
    recorded[key] = today.isoformat()
    request.session[VISITS_KEY] = recorded
    return True
