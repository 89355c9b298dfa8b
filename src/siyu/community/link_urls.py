"""URLs (filled by the capability's pages)."""

from django.urls import URLPattern, URLResolver

app_name = "links"

urlpatterns: list[URLPattern | URLResolver] = []
