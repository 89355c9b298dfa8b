"""The groupbuy storefront pages, mounted at ``/s/<merchant_slug>/groupbuy/``."""

from django.urls import URLPattern, URLResolver, path

from siyu.groupbuy import views_storefront

app_name = "shop_groupbuy"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_storefront.activity_list, name="activity_list"),
    path("mine/", views_storefront.mine, name="mine"),
    path("<int:pk>/", views_storefront.activity, name="activity"),
    path("<int:pk>/buy/", views_storefront.buy, name="buy"),
    path("teams/<int:pk>/", views_storefront.team, name="team"),
    path("teams/<int:pk>/share/", views_storefront.share, name="team_share"),
]
