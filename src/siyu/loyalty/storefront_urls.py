"""The loyalty storefront pages, mounted at ``/s/<merchant_slug>/points/``."""

from django.urls import URLPattern, URLResolver, path

from siyu.loyalty import views_storefront

app_name = "shop_loyalty"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_storefront.points, name="points"),
    path("sign-in/", views_storefront.sign_in, name="sign_in"),
    path("reviews/<int:line_id>/", views_storefront.review, name="review"),
]
