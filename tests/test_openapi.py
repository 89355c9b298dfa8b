"""The OpenAPI document is checked in, current, and describes every operation fully."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siyu.core.testing import openapi_schema

CHECKED_IN = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(json.dumps(openapi_schema(), sort_keys=True))


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def test_the_checked_in_document_is_current(schema):
    assert CHECKED_IN.exists(), "docs/openapi.json is missing: run `siyu openapi`"
    checked_in = json.loads(CHECKED_IN.read_text(encoding="utf-8"))
    assert checked_in == schema, "docs/openapi.json is stale: run `siyu openapi` and commit it"


# Before a customer logs in: a CSRF token, a login code, its verification, and browsing the
# shop (see tests/test_security_surface.py, which pins this list).
PUBLIC = {
    "/account/csrf",
    "/account/request-code",
    "/account/verify-code",
    "/catalog/categories",
    "/catalog/products",
    "/catalog/products/{product_id}",
    "/stores/nearest",
}


def test_every_operation_is_described_secured_and_documents_its_errors(schema):
    problems = []
    for method, path, operation in operations(schema):
        name = f"{method} {path}"
        if not operation.get("summary"):
            problems.append(f"{name}: no summary")
        if not operation.get("tags"):
            problems.append(f"{name}: no tag")
        public = path.startswith("/api/v1/storefront/") and any(path.endswith(p) for p in PUBLIC)
        if not operation.get("security") and not public:
            problems.append(f"{name}: no security requirement")
        for status in ("401", "403", "404", "422"):
            content = operation["responses"].get(status, {}).get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
            if not ref.endswith("/ErrorOut"):
                problems.append(f"{name}: {status} does not answer ErrorOut")
    assert not problems, "\n".join(problems)


def test_money_fields_are_integers(schema):
    """Prices and amounts are integer fen in every schema, never numbers with decimals."""
    money_words = ("price", "amount", "fee", "total")
    offenders = []
    for name, component in schema["components"]["schemas"].items():
        for field, spec in component.get("properties", {}).items():
            if any(word in field for word in money_words):
                types = {spec.get("type")} | {s.get("type") for s in spec.get("anyOf", [])}
                if "number" in types:
                    offenders.append(f"{name}.{field}")
    assert not offenders, f"money must be integer fen: {offenders}"


def test_every_path_is_under_the_api_prefix(schema):
    """A router mounted with an empty prefix once produced "/api/v1customers/…"."""
    assert [p for p in schema["paths"] if not p.startswith("/api/v1/")] == []
