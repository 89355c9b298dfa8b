"""Every API operation and every console page refuses anonymous callers.

The lists come from the running URL configuration and the OpenAPI document,
so an endpoint added later is covered without touching this file.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from siyu.core.testing import openapi_schema

PUBLIC_API_PATHS = {"/api/v1/openapi.json", "/api/v1/docs"}
# Operations that payment providers call: no API key, the provider's signature over the
# body authenticates them. Without a signature header they are 401 like every operation.
SIGNED_API_OPERATIONS = {("POST", "/api/v1/payments/notify/{gateway}")}
# What a customer does before logging in to a storefront: fetch a CSRF token, ask for a login
# code, verify it; and browse the shop (catalog reads, nearest stores). Everything else of the
# storefront API needs the customer session.
PUBLIC_STOREFRONT_OPERATIONS = {
    ("GET", "/api/v1/storefront/{merchant_slug}/account/csrf"),
    ("POST", "/api/v1/storefront/{merchant_slug}/account/request-code"),
    ("POST", "/api/v1/storefront/{merchant_slug}/account/verify-code"),
    ("GET", "/api/v1/storefront/{merchant_slug}/catalog/categories"),
    ("GET", "/api/v1/storefront/{merchant_slug}/catalog/products"),
    ("GET", "/api/v1/storefront/{merchant_slug}/catalog/products/{product_id}"),
    ("GET", "/api/v1/storefront/{merchant_slug}/stores/nearest"),
}
SHOP_SLUG = "lucky-coffee"  # the `merchant` fixture's slug: storefront paths need a real shop


def unsecured_operations() -> set[tuple[str, str]]:
    schema = openapi_schema()
    return {
        (method.upper(), path)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if not operation.get("security")
    }


def api_operations() -> list[tuple[str, str]]:
    schema = openapi_schema()
    operations = []
    for path, methods in schema["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "999999", path.replace("{merchant_slug}", SHOP_SLUG))
        for method in methods:
            if (method.upper(), path) in PUBLIC_STOREFRONT_OPERATIONS:
                continue
            operations.append((method.upper(), concrete))
    return sorted(operations)


def console_paths() -> list[str]:
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + route)
            elif isinstance(pattern, URLPattern):
                full = prefix + route
                full = re.sub(r"<int:[^>]+>", "999999", full)
                full = re.sub(r"<(str:|slug:)?[^>]+>", "x", full)
                found.append("/" + full)

    walk(get_resolver().url_patterns, "")
    skip = {"/console/login/", "/console/logout/"}
    return sorted(p for p in found if p.startswith("/console/") and p not in skip)


@pytest.mark.parametrize(("method", "path"), api_operations())
def test_every_api_operation_needs_authentication(merchant, method, path):
    response = Client().generic(method, path, data="{}", content_type="application/json")
    assert response.status_code == 401, f"{method} {path} answered {response.status_code}"
    assert response.json()["error"] in {"unauthorized", "invalid_api_key"}


def test_the_operation_list_is_not_empty():
    assert len(api_operations()) >= 4
    assert len(console_paths()) >= 4


@pytest.mark.parametrize("path", console_paths())
def test_every_console_page_needs_a_staff_login(db, path):
    response = Client().get(path)
    # 302 to the login page; 405 for POST-only actions (nothing is read or written)
    assert response.status_code in (302, 405), f"GET {path} answered {response.status_code}"
    if response.status_code == 302:
        assert response["Location"].startswith("/console/login/")


def test_the_only_operations_without_authentication_are_the_storefront_login_ones():
    assert unsecured_operations() == PUBLIC_STOREFRONT_OPERATIONS


def test_an_unknown_storefront_is_404_not_401(db):
    response = Client().get("/api/v1/storefront/no-such-shop/account/me")
    assert response.status_code == 404


def test_public_api_paths_are_only_the_documentation(db, openapi_generated_once):
    for path in PUBLIC_API_PATHS:
        assert Client().get(path).status_code == 200


def test_signed_operations_are_the_payment_notification_endpoint_only():
    schema = openapi_schema()
    signed = {
        (method.upper(), path)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if {name for requirement in operation.get("security", []) for name in requirement}
        == {"ProviderSignature"}
    }
    assert signed == SIGNED_API_OPERATIONS


def test_an_unsigned_or_badly_signed_payment_notification_is_refused(db):
    from siyu.payments.models import PaymentNotification

    body = (
        b'{"id":"evt_x","type":"payment.succeeded","out_trade_no":"P1","transaction_id":"sbx_1",'
        b'"amount":1,"currency":"CNY","occurred_at":"2026-01-01T00:00:00+00:00"}'
    )
    path = "/api/v1/payments/notify/sandbox"
    unsigned = Client().post(path, data=body, content_type="application/json")
    assert unsigned.status_code == 401
    forged = Client().post(
        path,
        data=body,
        content_type="application/json",
        headers={"Siyu-Sandbox-Signature": "t=1767225600,v1=" + "0" * 64},
    )
    assert forged.status_code == 400
    assert forged.json()["error"] == "invalid_signature"
    assert PaymentNotification.unscoped.count() == 0
