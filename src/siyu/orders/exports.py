"""The streamed CSV answer of the order export, shared by the console and the staff API.

Web layer: services and selectors never import it.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.utils import timezone, translation

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.clock import zone
from siyu.core.tenancy import merchant_context
from siyu.orders import selectors


def csv_response(actor: Actor, filters: selectors.OrderFilters) -> StreamingHttpResponse:
    """The filtered orders as a streamed CSV download.

    Rows are produced after the view has returned (and the request's merchant binding has
    ended), so the generator binds the merchant, its time zone and the language itself.
    """
    language = translation.get_language()
    time_zone = actor.merchant.time_zone

    def rows() -> Iterator[str]:
        with (
            merchant_context(actor.merchant),
            timezone.override(zone(time_zone)),
            translation.override(language),
        ):
            yield from selectors.export_csv(actor, filters)

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = clock.local(clock.now(), time_zone).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
