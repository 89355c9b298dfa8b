"""A tiny checkout endpoint under /api/ for testing idempotent checkout with the middleware.

The storefront's own checkout API arrives later; the middleware that makes a retried
``POST`` with ``Idempotency-Key`` take effect once is the same for every API path.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from siyu.core.errors import DomainError
from siyu.customers.models import Customer
from siyu.orders import services


@csrf_exempt
def place(request: HttpRequest) -> JsonResponse:
    if request.siyu_actor is None:  # type: ignore[attr-defined]
        return JsonResponse({"error": "unauthorized"}, status=401)
    body = json.loads(request.body or b"{}")
    customer = Customer.objects.get(pk=body["customer_id"])
    try:
        order = services.checkout(
            customer,
            fulfilment=body["fulfilment"],
            store_id=body.get("store_id"),
            items=[tuple(item) for item in body["items"]],
        )
    except DomainError as exc:
        return JsonResponse({"error": exc.code, "fields": exc.fields}, status=exc.status)
    return JsonResponse({"id": order.pk, "number": order.number}, status=201)


urlpatterns = [path("api/test/checkout", place)]
