"""The coupon pages of the storefront, mounted at ``/s/<merchant_slug>/coupons/``."""

from django.urls import URLPattern, URLResolver, path

from siyu.promotions import views_storefront

app_name = "shop_promotions"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_storefront.my_coupons, name="my_coupons"),
    path("<int:pk>/", views_storefront.claim, name="claim"),
]
