"""The referrals storefront pages, mounted at ``/s/<merchant_slug>/invite/``."""

from django.urls import URLPattern, URLResolver, path

from siyu.referrals import views_storefront

app_name = "shop_referrals"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_storefront.invite, name="invite"),
    path("poster.png", views_storefront.poster, name="poster"),
    path("<str:code>/", views_storefront.landing, name="landing"),
]
