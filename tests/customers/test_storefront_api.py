"""The storefront account API end to end: login with the outbox, session, CSRF, addresses."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from siyu.core.models import IdempotencyRecord
from siyu.customers.models import Customer, CustomerAddress, LoginCode
from siyu.customers.testing import (
    address_fields,
    last_code,
    make_address,
    make_customer,
    storefront_client,
)


@pytest.fixture
def base(account_api, merchant) -> str:
    return account_api.format(slug=merchant.slug)


def post(client, url, body=None, **extra):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json", **extra)


def patch(client, url, body):
    return client.patch(url, data=json.dumps(body), content_type="application/json")


def log_in_through_the_api(client, base, merchant, phone="138 1234 5678"):
    sent = post(client, f"{base}/request-code", {"phone": phone})
    assert sent.status_code == 202, sent.content
    return post(client, f"{base}/verify-code", {"phone": phone, "code": last_code(merchant, phone)})


def test_login_flow_with_the_outbox(base, merchant):
    client = Client()
    sent = post(client, f"{base}/request-code", {"phone": "138 1234 5678"})
    assert sent.status_code == 202
    assert sent.json() == {"phone": "+8613812345678", "expires_in": 300, "resend_after": 60}
    assert client.get(f"{base}/me").status_code == 401
    code = last_code(merchant, "13812345678")
    response = post(client, f"{base}/verify-code", {"phone": "+86 138-1234-5678", "code": code})
    assert response.status_code == 200, response.content
    me = response.json()
    assert me["phone"] == "+8613812345678"
    assert me["phone_display"] == "138 1234 5678"
    assert client.get(f"{base}/me").json()["id"] == me["id"]
    assert Customer.unscoped.get(pk=me["id"]).merchant_id == merchant.pk
    assert post(client, f"{base}/logout").status_code == 204
    assert client.get(f"{base}/me").status_code == 401


def test_not_logged_in_is_401_unauthorized(base):
    response = Client().get(f"{base}/addresses")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert "Log in" in response.json()["message"]


def test_known_and_unknown_numbers_get_the_same_answer(base, merchant):
    make_customer(merchant, "+8613900000001")
    known = post(
        Client(REMOTE_ADDR="198.51.100.1"), f"{base}/request-code", {"phone": "13900000001"}
    )
    unknown = post(
        Client(REMOTE_ADDR="198.51.100.2"), f"{base}/request-code", {"phone": "13900000002"}
    )
    assert known.status_code == unknown.status_code == 202
    assert set(known.json()) == set(unknown.json())
    assert known.json()["expires_in"] == unknown.json()["expires_in"]


def test_bad_phone_is_422_naming_the_field(base):
    response = post(Client(), f"{base}/request-code", {"phone": "021 6288 1234"})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"phone"}
    missing = post(Client(), f"{base}/request-code", {})
    assert missing.status_code == 422
    assert "phone" in missing.json()["fields"]
    assert not LoginCode.unscoped.exists()


def test_too_early_is_429_with_retry_after(base):
    client = Client()
    post(client, f"{base}/request-code", {"phone": "13812345678"})
    again = post(client, f"{base}/request-code", {"phone": "13812345678"})
    assert again.status_code == 429
    body = again.json()
    assert body["error"] == "throttled"
    assert 0 < body["retry_after"] <= 60
    assert again["Retry-After"] == str(body["retry_after"])
    assert "phone" in body["fields"]
    assert LoginCode.unscoped.count() == 1


def test_wrong_codes_are_counted_although_the_api_rolls_the_request_back(base, merchant, settings):
    settings.OTP_MAX_ATTEMPTS = 3
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    post(client, f"{base}/request-code", {"phone": "13812345678"})
    code = last_code(merchant, "13812345678")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answers = [
        post(client, f"{base}/verify-code", {"phone": "13812345678", "code": wrong}).json()
        for _ in range(3)
    ]
    assert [a["fields"]["code"] for a in answers[:2]] == [
        "Wrong code: 2 tries left.",
        "Wrong code: 1 try left.",
    ]
    assert LoginCode.unscoped.get().attempts == 3
    right = post(client, f"{base}/verify-code", {"phone": "13812345678", "code": code})
    assert right.status_code == 422
    assert right.json()["fields"]["code"] == "Too many wrong codes: ask for a new one."
    assert not Customer.unscoped.exists()


def test_a_blocked_customer_gets_403(base, merchant, owner):
    from siyu.customers import services

    services.block_customer(owner, make_customer(merchant, "+8613812345678"))
    response = log_in_through_the_api(Client(), base, merchant)
    assert response.status_code == 403
    assert response.json()["error"] == "customer_blocked"


def test_writes_need_the_csrf_token(base, merchant):
    client = Client(enforce_csrf_checks=True)
    refused = post(client, f"{base}/request-code", {"phone": "13812345678"})
    assert refused.status_code == 403
    token = client.get(f"{base}/csrf").json()["csrf_token"]
    sent = post(client, f"{base}/request-code", {"phone": "13812345678"}, HTTP_X_CSRFTOKEN=token)
    assert sent.status_code == 202
    code = last_code(merchant, "13812345678")
    body = {"phone": "13812345678", "code": code}
    assert post(client, f"{base}/verify-code", body).status_code == 403
    logged_in = post(client, f"{base}/verify-code", body, HTTP_X_CSRFTOKEN=token)
    assert logged_in.status_code == 200
    token = client.cookies["csrftoken"].value  # rotated at login
    assert post(client, f"{base}/addresses", address_fields()).status_code == 403
    added = post(client, f"{base}/addresses", address_fields(), HTTP_X_CSRFTOKEN=token)
    assert added.status_code == 201
    assert client.get(f"{base}/addresses").status_code == 200  # reads need no token


def test_addresses_crud(base, customer):
    client = storefront_client(customer)
    first = post(client, f"{base}/addresses", address_fields(district="静安区"))
    assert first.status_code == 201, first.content
    assert first.json()["is_default"] is True
    assert first.json()["phone"] == "+8613812345678"
    assert first.json()["one_line"].startswith("上海市静安区")
    second = post(client, f"{base}/addresses", address_fields(district="黄浦区")).json()
    assert second["is_default"] is False
    made_default = post(client, f"{base}/addresses/{second['id']}/default")
    assert made_default.json()["is_default"] is True
    listed = client.get(f"{base}/addresses").json()
    assert [a["id"] for a in listed] == [second["id"], first.json()["id"]]
    changed = patch(client, f"{base}/addresses/{second['id']}", {"street": "淮海中路1号"})
    assert changed.status_code == 200
    assert changed.json()["street"] == "淮海中路1号"
    assert client.get(f"{base}/addresses/{second['id']}").json()["street"] == "淮海中路1号"
    assert client.delete(f"{base}/addresses/{second['id']}").status_code == 204
    left = client.get(f"{base}/addresses").json()
    assert [(a["id"], a["is_default"]) for a in left] == [(first.json()["id"], True)]


def test_bad_address_is_422_and_writes_nothing(base, customer):
    client = storefront_client(customer)
    response = post(client, f"{base}/addresses", address_fields(phone="12", postal_code="1"))
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"phone", "postal_code"}
    missing = post(client, f"{base}/addresses", {"recipient": "王"})
    assert missing.status_code == 422
    assert "street" in missing.json()["fields"]
    assert not CustomerAddress.unscoped.exists()


def test_someone_elses_address_is_404(base, merchant, other_merchant, customer):
    neighbour = make_address(make_customer(merchant))
    foreign = make_address(make_customer(other_merchant, "+8613812345678"))
    client = storefront_client(customer)
    for address in (neighbour, foreign):
        assert client.get(f"{base}/addresses/{address.pk}").status_code == 404
        assert patch(client, f"{base}/addresses/{address.pk}", {"city": "x"}).status_code == 404
        assert client.delete(f"{base}/addresses/{address.pk}").status_code == 404
        assert post(client, f"{base}/addresses/{address.pk}/default").status_code == 404
    assert CustomerAddress.unscoped.count() == 2


def test_a_session_of_another_shop_is_not_a_login_here(account_api, merchant, other_merchant):
    theirs = make_customer(other_merchant, "+8613812345678")
    client = storefront_client(theirs)
    assert client.get(account_api.format(slug=other_merchant.slug) + "/me").status_code == 200
    assert client.get(account_api.format(slug=merchant.slug) + "/me").status_code == 401


def test_an_address_post_with_an_idempotency_key_takes_effect_once(base, customer):
    client = storefront_client(customer)
    body = address_fields()
    first = post(client, f"{base}/addresses", body, HTTP_IDEMPOTENCY_KEY="add-home-1")
    again = post(client, f"{base}/addresses", body, HTTP_IDEMPOTENCY_KEY="add-home-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert first.json() == again.json()
    assert CustomerAddress.unscoped.count() == 1
    record = IdempotencyRecord.unscoped.get()
    assert record.principal == f"customer:{customer.pk}"


def test_profile_name(base, customer):
    client = storefront_client(customer)
    response = patch(client, f"{base}/me", {"name": "小明"})
    assert response.status_code == 200
    assert response.json()["name"] == "小明"
    too_long = patch(client, f"{base}/me", {"name": "名" * 81})
    assert too_long.status_code == 422
    assert "name" in too_long.json()["fields"]


def test_unknown_shop_is_404_json(account_api, db):
    response = Client().get(account_api.format(slug="no-such-shop") + "/me")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_errors_follow_the_customers_language(base):
    chinese = post(Client(), f"{base}/request-code", {"phone": "021 6288 1234"})
    assert chinese.json()["fields"]["phone"] == "请输入手机号码：验证码会通过短信发送。"
    english = post(Client(HTTP_ACCEPT_LANGUAGE="en"), f"{base}/request-code", {"phone": "12"})
    assert english.json()["fields"]["phone"] == "Enter a valid phone number, e.g. 138 1234 5678."


def test_login_rotates_the_csrf_token(base, merchant):
    client = Client()
    client.get(f"{base}/csrf")
    before = client.cookies["csrftoken"].value  # the secret behind every masked token
    response = log_in_through_the_api(client, base, merchant)
    assert response.status_code == 200
    assert client.cookies["csrftoken"].value != before
