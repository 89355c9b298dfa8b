"""Top-level URLs: console, API, language switch, media, admin, health."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.i18n import set_language

from siyu.config.api import api
from siyu.web.views import healthz, media

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="console:home", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/", api.urls),
    path("console/", include("siyu.web.urls")),
    path("console/", include("siyu.core.urls")),
    path("console/stores/", include("siyu.stores.urls")),
    path("console/catalog/", include("siyu.catalog.urls")),
    path("console/webhooks/", include("siyu.webhooks.urls")),
    path("console/customers/", include("siyu.customers.urls")),
    path("console/inventory/", include("siyu.inventory.urls")),
    path("console/orders/", include("siyu.orders.urls")),
    path("console/payments/", include("siyu.payments.urls")),
    path("console/community/", include("siyu.community.urls")),
    path("console/guides/", include("siyu.guides.urls")),
    path("console/marketing/", include("siyu.marketing.urls")),
    path("console/promotions/", include("siyu.promotions.urls")),
    path("console/distribution/", include("siyu.distribution.urls")),
    path("console/loyalty/", include("siyu.loyalty.urls")),
    path("console/referrals/", include("siyu.referrals.urls")),
    path("console/groupbuy/", include("siyu.groupbuy.urls")),
    path("console/bargain/", include("siyu.bargain.urls")),
    path("console/analytics/", include("siyu.analytics.urls")),
    path("guide/", include("siyu.guides.workbench_urls")),
    path("j/", include("siyu.community.link_urls")),
    path("sandbox/", include("siyu.payments.sandbox_urls")),
    path("s/<slug:merchant_slug>/community/", include("siyu.community.storefront_urls")),
    path("s/<slug:merchant_slug>/coupons/", include("siyu.promotions.storefront_urls")),
    path("s/<slug:merchant_slug>/distributor/", include("siyu.distribution.storefront_urls")),
    path("s/<slug:merchant_slug>/points/", include("siyu.loyalty.storefront_urls")),
    path("s/<slug:merchant_slug>/invite/", include("siyu.referrals.storefront_urls")),
    path("s/<slug:merchant_slug>/groupbuy/", include("siyu.groupbuy.storefront_urls")),
    path("s/<slug:merchant_slug>/bargain/", include("siyu.bargain.storefront_urls")),
    path("s/<slug:merchant_slug>/", include("siyu.storefront.urls")),
    path("admin/", admin.site.urls),
]

if settings.SERVE_MEDIA:
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", media)]

handler404 = "siyu.web.views.not_found"
