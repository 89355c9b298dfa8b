"""The store a shopper chose (for pickup and for the stock the shop shows), kept in the session.

Anonymous shoppers choose too: the choice lives in the browser's session, per merchant,
and survives logging in (the login rotates the session key but keeps its data).
"""

from __future__ import annotations

from django.http import HttpRequest

from siyu.core.models import Merchant

CHOSEN_STORES_KEY = "siyu_storefront_stores"  # {str(merchant id): store id}


def chosen_store_id(request: HttpRequest, merchant: Merchant) -> int | None:
    chosen = request.session.get(CHOSEN_STORES_KEY)
    value = chosen.get(str(merchant.pk)) if isinstance(chosen, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def remember_store(request: HttpRequest, merchant: Merchant, store_id: int) -> None:
    chosen = request.session.get(CHOSEN_STORES_KEY)
    chosen = dict(chosen) if isinstance(chosen, dict) else {}
    if chosen.get(str(merchant.pk)) != store_id:
        chosen[str(merchant.pk)] = store_id
        request.session[CHOSEN_STORES_KEY] = chosen
