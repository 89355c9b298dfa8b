"""Staff API of the CRM and the console's guide scoping: 422s naming fields, 404 across tenants."""

from __future__ import annotations

import json
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.testing import api_client, make_staff, staff_client
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer
from siyu.stores.testing import make_store

API = "/api/v1/customers"


def _json(response: Any) -> Any:
    return json.loads(response.content)


def _patch(client: Any, url: str, body: dict) -> Any:
    return client.patch(
        url, json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )


def test_patch_profile_and_read_it_back(merchant: Merchant, customer: Customer) -> None:
    store = make_store(merchant)
    client = api_client(merchant)
    response = _patch(
        client,
        f"{API}/{customer.pk}",
        {"gender": "female", "birthday": "1992-03-04", "city": "上海", "home_store_id": store.pk},
    )
    assert response.status_code == 200, response.content
    body = _json(response)
    assert (body["gender"], body["birthday"], body["city"], body["home_store_id"]) == (
        "female",
        "1992-03-04",
        "上海",
        store.pk,
    )
    assert body["order_count"] == 0
    assert body["rfm_recency"] == 0


def test_patch_rejects_bad_fields_with_422_and_writes_nothing(
    merchant: Merchant, other_merchant: Merchant, customer: Customer
) -> None:
    client = api_client(merchant)
    rival_store = make_store(other_merchant)
    response = _patch(
        client,
        f"{API}/{customer.pk}",
        {"name": "New name", "birthday": "1992-13-40", "home_store_id": rival_store.pk},
    )
    assert response.status_code == 422
    fields = _json(response)["fields"]
    assert "YYYY-MM-DD" in fields["birthday"]
    assert fields["home_store"] == "No such store."
    customer.refresh_from_db()
    assert customer.name == "王小明"
    assert _patch(client, f"{API}/{customer.pk}", {"gender": "robot"}).status_code == 422


def test_identities_consents_notes_timeline(merchant: Merchant, customer: Customer) -> None:
    client = api_client(merchant)
    other = make_customer(merchant)
    url = f"{API}/{customer.pk}"
    added = client.post(
        f"{url}/identities",
        json.dumps({"kind": "wechat_unionid", "value": "u-1"}),
        content_type="application/json",
    )
    assert added.status_code == 201
    taken = client.post(
        f"{API}/{other.pk}/identities",
        json.dumps({"kind": "wechat_unionid", "value": "u-1"}),
        content_type="application/json",
    )
    assert taken.status_code == 409
    assert "value" in _json(taken)["fields"]
    bad = client.post(
        f"{url}/identities",
        json.dumps({"kind": "fax", "value": ""}),
        content_type="application/json",
    )
    assert bad.status_code == 422
    refused = client.put(
        f"{url}/consents/sms", json.dumps({"status": "refused"}), content_type="application/json"
    )
    assert refused.status_code == 200
    assert {c["channel"]: c["status"] for c in _json(refused)}["sms"] == "refused"
    wrong = client.put(
        f"{url}/consents/pigeon", json.dumps({"status": "refused"}), content_type="application/json"
    )
    assert wrong.status_code == 422
    assert "channel" in _json(wrong)["fields"]
    note = client.post(
        f"{url}/notes", json.dumps({"text": "VIP, call first"}), content_type="application/json"
    )
    assert note.status_code == 201
    empty = client.post(f"{url}/notes", json.dumps({"text": ""}), content_type="application/json")
    assert empty.status_code == 422
    timeline = _json(client.get(f"{url}/timeline", HTTP_ACCEPT_LANGUAGE="en"))
    texts = [item["text"] for item in timeline["items"]]
    assert "Note: VIP, call first" in texts
    assert "Refused marketing by SMS" in texts
    assert client.delete(f"{url}/notes/{_json(note)['id']}").status_code == 204
    listed = client.get(f"{API}?refused=sms")
    assert [c["id"] for c in _json(listed)["items"]] == [customer.pk]


def test_import_upload_and_status(
    merchant: Merchant, django_capture_on_commit_callbacks: Any
) -> None:
    client = api_client(merchant)
    upload = SimpleUploadedFile("m.csv", b"phone,name\n13800138000,Ann\nbad,Bob\n", "text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/customer-imports", {"file": upload})
    assert response.status_code == 201, response.content
    status = _json(client.get(f"/api/v1/customer-imports/{_json(response)['id']}"))
    assert status["status"] == "done"
    assert (status["created_count"], status["error_count"]) == (1, 1)
    assert status["errors"][0]["row"] == 3
    assert status["errors"][0]["field"] == "phone"
    no_phone = client.post(
        "/api/v1/customer-imports", {"file": SimpleUploadedFile("x.csv", b"name\nAnn\n")}
    )
    assert no_phone.status_code == 422
    assert "file" in _json(no_phone)["fields"]
    guide_key = api_client(merchant, Role.SHOPPING_GUIDE)
    assert guide_key.get("/api/v1/customer-imports").status_code == 403


def test_another_merchants_customer_is_404(merchant: Merchant, other_merchant: Merchant) -> None:
    theirs = make_customer(other_merchant)
    client = api_client(merchant)
    assert client.get(f"{API}/{theirs.pk}/timeline").status_code == 404
    assert _patch(client, f"{API}/{theirs.pk}", {"city": "上海"}).status_code == 404


def test_guide_sees_only_own_customers_in_console_and_api(
    merchant: Merchant, customer: Customer
) -> None:
    mine = make_customer(merchant, name="我的顾客")
    client = staff_client(merchant, Role.SHOPPING_GUIDE)
    Customer.unscoped.filter(pk=mine.pk).update(owner_guide=client.membership)
    body = client.get("/console/customers/").content.decode()
    assert "我的顾客" in body
    assert "王小明" not in body
    assert client.get(f"/console/customers/{customer.pk}/").status_code == 404
    page = client.get(f"/console/customers/{mine.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Timeline" in page.content.decode()
    assert client.post(f"/console/customers/{customer.pk}/notes/", {"text": "x"}).status_code == 404
    assert (
        client.post(f"/console/customers/{mine.pk}/notes/", {"text": "Likes tea"}).status_code
        == 302
    )
    # the API narrows the same way for a guide's key
    key = api_client(merchant, Role.SHOPPING_GUIDE)
    assert _json(key.get(API))["count"] == 0
    assert key.get(f"{API}/{mine.pk}").status_code == 404


def test_console_filters_and_profile_edit(merchant: Merchant, customer: Customer) -> None:
    store = make_store(merchant, name="静安店")
    ann = make_staff(merchant, Role.SHOPPING_GUIDE)
    other = make_customer(merchant, name="林小雨")
    Customer.unscoped.filter(pk=other.pk).update(home_store=store, owner_guide=ann, order_count=2)
    client = staff_client(merchant)
    for params, shown, hidden in [
        ({"home_store": store.pk}, "林小雨", "王小明"),
        ({"owner_guide": ann.pk}, "林小雨", "王小明"),
        ({"has_ordered": "yes"}, "林小雨", "王小明"),
        ({"has_ordered": "no"}, "王小明", "林小雨"),
    ]:
        body = client.get("/console/customers/", params).content.decode()
        assert shown in body, params
        assert hidden not in body, params
    response = client.post(
        f"/console/customers/{customer.pk}/profile/",
        {
            "name": "王小明",
            "gender": "male",
            "birthday": "1990-01-02",
            "city": "上海",
            "home_store": store.pk,
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.gender, customer.birth_month, customer.home_store_id) == ("male", 1, store.pk)
    refused = client.post(
        f"/console/customers/{customer.pk}/consent/", {"channel": "inbox", "status": "refused"}
    )
    assert refused.status_code == 302
    body = client.get("/console/customers/", {"refused": "any"}).content.decode()
    assert "王小明" in body
    assert "林小雨" not in body
