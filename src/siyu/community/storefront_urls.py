"""URLs (filled by the capability's pages)."""

from django.urls import URLPattern, URLResolver

app_name = "shop_community"

urlpatterns: list[URLPattern | URLResolver] = []
