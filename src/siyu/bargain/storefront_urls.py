"""The bargain storefront pages, mounted at ``/s/<merchant_slug>/bargain/``."""

from django.urls import URLPattern, URLResolver, path

from siyu.bargain import views_storefront

app_name = "shop_bargain"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_storefront.my_bargains, name="my_bargains"),
    path("<int:pk>/", views_storefront.activity, name="activity"),
    path("b/<str:code>/", views_storefront.bargain, name="bargain"),
    path("b/<str:code>/buy/", views_storefront.buy, name="buy"),
    path("b/<str:code>/share/", views_storefront.share, name="share"),
]
