"""The project's URLs, plus the storefront account API when the project does not mount it yet.

``siyu.customers.storefront_api.router`` belongs at ``/api/v1/storefront/{merchant_slug}/account``
of the project's API. Until ``siyu.config.api`` mounts it there, these tests mount it on an API
of their own at that same address, configured like the project's (errors, renderer), so the
middleware (merchant binding, customer session, idempotency) runs exactly as in production.
"""

from __future__ import annotations

from django.urls import Resolver404, get_resolver, path
from ninja import NinjaAPI

from siyu.config import urls as project_urls
from siyu.config.api import Utf8JSONRenderer
from siyu.core.apikit import AUTH, install_error_handlers
from siyu.customers.storefront_api import router

PROBE = "/api/v1/storefront/probe/account/me"


def _project_mounts_the_router() -> bool:
    try:
        match = get_resolver(project_urls).resolve(PROBE)
    except Resolver404:
        return False
    return match.url_name == "me"


urlpatterns = list(project_urls.urlpatterns)
if not _project_mounts_the_router():
    account_api = NinjaAPI(
        renderer=Utf8JSONRenderer(),
        title="Siyu API (storefront account, tests)",
        version="test",
        auth=AUTH,
        urls_namespace="api-v1-account-tests",
        docs_url=None,
        openapi_url=None,
    )
    install_error_handlers(account_api)
    account_api.add_router("/storefront/{merchant_slug}/account", router)
    urlpatterns = [path("api/v1/", account_api.urls), *urlpatterns]

handler404 = project_urls.handler404
