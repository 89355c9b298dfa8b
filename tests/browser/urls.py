"""The project's URLs, with uploads served from MEDIA_ROOT as it is during the test."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import re_path
from django.views.static import serve

from siyu.config.urls import urlpatterns as project_urls


def media(request: HttpRequest, path: str) -> HttpResponse:
    return serve(request, path, document_root=settings.MEDIA_ROOT)


urlpatterns = [re_path(r"^media/(?P<path>.*)$", media), *project_urls]
handler404 = "siyu.web.views.not_found"
