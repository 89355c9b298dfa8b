"""The REST API at /api/v1/: one NinjaAPI, a router per app."""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from siyu.analytics.api import router as analytics_router
from siyu.bargain.api import router as bargain_router
from siyu.bargain.storefront_api import router as storefront_bargain_router
from siyu.catalog.api import router as catalog_router
from siyu.community.api import router as community_router
from siyu.community.storefront_api import router as storefront_community_router
from siyu.core.api import router as core_router
from siyu.core.apikit import AUTH, install_error_handlers
from siyu.customers.api import router as customers_router
from siyu.customers.api_crm import imports_router as customer_imports_router
from siyu.customers.api_crm import router as customers_crm_router
from siyu.customers.api_segments import rules_router as auto_tag_rules_router
from siyu.customers.api_segments import segments_router, tags_router
from siyu.customers.storefront_api import router as storefront_account_router
from siyu.distribution.api import router as distribution_router
from siyu.distribution.storefront_api import router as storefront_distributor_router
from siyu.groupbuy.api import router as groupbuy_router
from siyu.groupbuy.storefront_api import router as storefront_groupbuy_router
from siyu.guides.api import router as guides_router
from siyu.inventory.api import router as inventory_router
from siyu.loyalty.api import router as loyalty_router
from siyu.loyalty.storefront_api import router as storefront_loyalty_router
from siyu.marketing.api import router as marketing_router
from siyu.orders.api import router as orders_router
from siyu.payments.api import notify_router
from siyu.payments.api import router as payments_router
from siyu.promotions.api import router as promotions_router
from siyu.promotions.storefront_api import router as storefront_coupons_router
from siyu.referrals.api import router as referrals_router
from siyu.referrals.storefront_api import router as storefront_referrals_router
from siyu.storefront.api import router as storefront_router
from siyu.stores.api import router as stores_router
from siyu.stores.api import staff_router
from siyu.webhooks.api import router as webhooks_router

API_DESCRIPTION = """
The Siyu REST API for integrators: one merchant per request.

**Authentication.** Send a merchant API key as `Authorization: Bearer sk_…`
(create keys in the console under *API keys*; the secret is shown once). A
logged-in staff session also works, with the CSRF token on writes.

**Money** is an integer count of minor units (fen for CNY): `1230` is ¥12.30.

**Errors** answer `{"error": code, "message": text, "fields": {name: reason}}`
with a 4xx status; a row of another merchant is `404`, never `403`.

**Pagination.** List endpoints take `limit` (1–200, default 50) and `offset`
and answer `{items, count, limit, offset, next_offset}`.

**Idempotency.** A `POST` with an `Idempotency-Key` header takes effect once:
a repeat with the same key and body returns the first answer with
`Idempotent-Replayed: true`; the same key with another body is `422`. Keys are
kept for 24 hours.

**Webhooks** are signed: `Siyu-Signature: t=<unix time>,v1=<hex HMAC-SHA256
of "<t>.<body>" with the endpoint secret>`.
"""


class Utf8JSONRenderer(JSONRenderer):
    """Chinese names stay readable in answers ("门店", not "\\u95e8\\u5e97")."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=Utf8JSONRenderer(),
    title="Siyu API",
    version="1",
    description=API_DESCRIPTION,
    auth=AUTH,
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)

api.add_router("/merchant", core_router)
api.add_router("/stores", stores_router)
api.add_router("/staff", staff_router)
api.add_router("/catalog", catalog_router)
api.add_router("/webhooks", webhooks_router)
api.add_router("/customers", customers_router)
api.add_router("/customers", customers_crm_router)  # identities, consents, notes, timeline
api.add_router("/customer-imports", customer_imports_router)
api.add_router("/guides", guides_router)
api.add_router("/tags", tags_router)
api.add_router("/segments", segments_router)
api.add_router("/auto-tag-rules", auto_tag_rules_router)
api.add_router("/inventory", inventory_router)
api.add_router("/orders", orders_router)
api.add_router("/marketing", marketing_router)
api.add_router("/distribution", distribution_router)
api.add_router("/payments", payments_router)
api.add_router("/payments/notify", notify_router)  # gateways call it; verified by signature
api.add_router("/community", community_router)
api.add_router("/promotions", promotions_router)
api.add_router("/loyalty", loyalty_router)
api.add_router("/referrals", referrals_router)
api.add_router("/groupbuy", groupbuy_router)
api.add_router("/bargain", bargain_router)
api.add_router("/storefront/{merchant_slug}/account", storefront_account_router)
api.add_router("/storefront/{merchant_slug}/community", storefront_community_router)
api.add_router("/storefront/{merchant_slug}/coupons", storefront_coupons_router)
api.add_router("/storefront/{merchant_slug}/distributor", storefront_distributor_router)
api.add_router("/analytics", analytics_router)
api.add_router("/storefront/{merchant_slug}/points", storefront_loyalty_router)
api.add_router("/storefront/{merchant_slug}/invite", storefront_referrals_router)
api.add_router("/storefront/{merchant_slug}/groupbuy", storefront_groupbuy_router)
api.add_router("/storefront/{merchant_slug}/bargain", storefront_bargain_router)
api.add_router("/storefront/{merchant_slug}", storefront_router)  # customer session
