"""The distributor centre in the storefront, mounted at ``/s/<merchant_slug>/distributor/``."""

from django.urls import URLPattern, URLResolver, path

from siyu.distribution import views_storefront as views

app_name = "shop_distribution"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("orders/", views.orders, name="orders"),
    path("customers/", views.customers, name="customers"),
    path("team/", views.team, name="team"),
    path("share/", views.share, name="share"),
    path("share/<int:pk>/poster.svg", views.poster, name="poster"),
    path("withdraw/", views.withdraw, name="withdraw"),
    path("apply/", views.apply, name="apply"),
]
