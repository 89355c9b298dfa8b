"""The loyalty console pages, mounted at ``/console/loyalty/``."""

from django.urls import URLPattern, URLResolver, path

from siyu.loyalty import views

app_name = "loyalty"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.overview, name="overview"),
    path("settings/", views.settings_page, name="settings"),
    path("tiers/", views.tier_list, name="tier_list"),
    path("tiers/new/", views.tier_create, name="tier_create"),
    path("tiers/<int:pk>/", views.tier_edit, name="tier_edit"),
    path("tiers/<int:pk>/move/", views.tier_move, name="tier_move"),
    path("tiers/<int:pk>/delete/", views.tier_delete, name="tier_delete"),
    path("customers/<int:pk>/", views.customer_points, name="customer"),
    path("reviews/", views.review_list, name="review_list"),
    path("reviews/<int:pk>/hide/", views.review_hide, name="review_hide"),
]
