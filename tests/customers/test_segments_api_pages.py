"""The API (422 naming the clause, CRUD, bulk tag) and the console pages (render, preview,
CSV export)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import api_client, make_merchant, staff_client
from siyu.customers import segment_services
from siyu.customers.models import Customer, Segment
from siyu.customers.testing import make_customer, make_tag

pytestmark = pytest.mark.django_db

RICH = {"field": "total_spent", "op": "gte", "value": 50000}


def post(client: Any, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def people(merchant: Any) -> list[Customer]:
    rows = [make_customer(merchant, name=f"客户{i}") for i in range(3)]
    with merchant_context(merchant):
        Customer.objects.filter(pk=rows[0].pk).update(total_spent=80000, city="上海市")
    return rows


def test_preview_counts_and_names_the_clause_at_fault(merchant: Any, people: Any) -> None:
    client = api_client(merchant)
    answer = post(client, "/api/v1/segments/preview", {"rule": {"all": [RICH]}})
    assert answer.status_code == 200
    assert answer.json() == {"count": 1}
    bad = {"all": [RICH, {"any": [{"field": "total_spent", "op": "gte", "value": "lots"}]}]}
    answer = post(client, "/api/v1/segments/preview", {"rule": bad})
    assert answer.status_code == 422
    fields = answer.json()["fields"]
    assert fields["path"] == "all[1].any[0].value"
    assert fields["rule"] in ("must be a whole number.", "必须是整数。")  # the merchant's language


def test_segment_crud_customers_and_bulk_tag(merchant: Any, people: Any) -> None:
    client = api_client(merchant)
    answer = post(client, "/api/v1/segments", {"name": "高价值", "rule": RICH})
    assert answer.status_code == 201, answer.content
    segment = answer.json()
    assert segment["customer_count"] == 1
    assert post(client, "/api/v1/segments", {"name": "高价值", "rule": RICH}).status_code == 422
    listed = client.get(f"/api/v1/segments/{segment['id']}/customers").json()
    assert [c["id"] for c in listed["items"]] == [people[0].pk]
    tag = make_tag(merchant)
    answer = post(client, f"/api/v1/tags/{tag.pk}/bulk", {"segment_id": segment["id"]})
    assert answer.json() == {"count": 1}
    answer = client.put(f"/api/v1/tags/{tag.pk}/customers/{people[1].pk}")
    assert answer.json() == {"changed": True}
    assert client.get("/api/v1/tags/groups").json()[0]["tags"][0]["customer_count"] == 2
    assert client.delete(f"/api/v1/segments/{segment['id']}").status_code == 204


def test_another_merchants_rows_are_404(merchant: Any, people: Any) -> None:
    rival = make_merchant()
    foreign = make_tag(rival)
    client = api_client(merchant)
    assert client.put(f"/api/v1/tags/{foreign.pk}/customers/{people[0].pk}").status_code == 404
    rule = {"field": "tag", "op": "has_any", "value": [foreign.pk]}
    answer = post(client, "/api/v1/segments/preview", {"rule": rule})
    assert answer.status_code == 422
    assert answer.json()["fields"]["path"] == "value[0]"


def test_a_guide_may_not_tag_another_guides_customer(merchant: Any, people: Any) -> None:
    tag = make_tag(merchant)
    client = api_client(merchant, Role.SHOPPING_GUIDE)
    assert client.put(f"/api/v1/tags/{tag.pk}/customers/{people[0].pk}").status_code == 403


def test_auto_tag_rule_api(merchant: Any, people: Any) -> None:
    client = api_client(merchant)
    tag = make_tag(merchant)
    answer = post(
        client, "/api/v1/auto-tag-rules", {"name": "高消费", "tag_id": tag.pk, "rule": RICH}
    )
    assert answer.status_code == 201, answer.content
    run = post(client, f"/api/v1/auto-tag-rules/{answer.json()['id']}/run", {})
    assert run.json() == {"added": 1, "removed": 0}


def test_pages_render(merchant: Any, people: Any, owner: Any) -> None:
    tag = make_tag(merchant)
    segment = segment_services.create_segment(owner, name="上海", rule={
        "field": "city", "op": "in", "value": ["上海市"]})  # fmt: skip
    client = staff_client(merchant)
    for url in (
        "/console/customers/segments/",
        "/console/customers/segments/new/",
        f"/console/customers/segments/{segment.pk}/",
        f"/console/customers/segments/{segment.pk}/edit/",
        "/console/customers/segments/tags/",
        "/console/customers/segments/rules/",
        "/console/customers/segments/rules/new/",
    ):
        answer = client.get(url)
        assert answer.status_code == 200, url
    assert tag.name in client.get("/console/customers/segments/tags/").content.decode()
    preview = post(client, "/console/customers/segments/preview/", {"rule": {"all": [RICH]}})
    assert preview.json() == {"count": 1}
    bad = post(client, "/console/customers/segments/preview/", {"rule": {"not": {"field": "x"}}})
    assert bad.status_code == 422
    assert bad.json()["path"] == "not.field"
    saved = client.post(
        "/console/customers/segments/new/", {"name": "有钱", "rule": json.dumps(RICH)}
    )
    assert saved.status_code == 302
    with merchant_context(merchant):
        assert Segment.objects.get(name="有钱").customer_count == 1


def test_csv_export_streams_the_segment(merchant: Any, people: Any, owner: Any) -> None:
    segment = segment_services.create_segment(owner, name="有钱", rule=RICH)
    answer = staff_client(merchant).get(f"/console/customers/segments/{segment.pk}/export/")
    assert answer.status_code == 200
    text = b"".join(answer.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert len(lines) == 2
    assert lines[1].split(",")[:3] == [str(people[0].pk), people[0].phone, "客户0"]
    assert "800.00" in lines[1]
    guide = staff_client(merchant, Role.SHOPPING_GUIDE)
    assert guide.get(f"/console/customers/segments/{segment.pk}/export/").status_code == 403
