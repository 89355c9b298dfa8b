"""The staff API /api/v1/referrals and the customer API /api/v1/storefront/<slug>/invite."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import api_client
from siyu.customers.testing import make_customer, storefront_client
from siyu.orders.testing import make_order
from siyu.promotions.models import CouponTemplate
from siyu.promotions.testing import make_template
from siyu.referrals import services
from siyu.referrals.testing import invite, make_programme

pytestmark = pytest.mark.django_db

API = "/api/v1/referrals"


def send(client: Client, method: str, url: str, body: dict[str, Any]) -> Any:
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def test_programme_read_changed_and_run(merchant: Merchant) -> None:
    client = api_client(merchant)
    gift = make_template(merchant, name="Welcome")
    first = client.get(f"{API}/programme").json()
    assert (first["status"], first["running"], first["invitee_reward"]) == (
        "paused",
        False,
        "none",
    )
    changed = send(
        client,
        "patch",
        f"{API}/programme",
        {"invitee_reward": "coupon", "invitee_template_id": gift.pk, "cap_per_month": 5},
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["invitee_template_id"], changed.json()["cap_per_month"]) == (gift.pk, 5)
    running = send(client, "post", f"{API}/programme/status", {"status": "active"})
    assert running.json()["running"] is True
    cleared = send(client, "patch", f"{API}/programme", {"cap_per_month": None})
    assert cleared.json()["cap_per_month"] is None


def test_bad_programme_fields_are_422_by_name_and_change_nothing(merchant: Merchant) -> None:
    client = api_client(merchant)
    draft = make_template(merchant, status=CouponTemplate.Status.DRAFT)
    answer = send(
        client,
        "patch",
        f"{API}/programme",
        {
            "invitee_reward": "coupon",
            "inviter_reward": "coupon",
            "inviter_template_id": draft.pk,
            "cap_total": 0,
            "code_entry_days": 400,
            "starts_at": "2026-05-02T00:00:00+08:00",
            "ends_at": "2026-05-01T00:00:00+08:00",
        },
    )
    assert answer.status_code == 422
    assert set(answer.json()["fields"]) == {
        "invitee_template_id",
        "inviter_template_id",
        "cap_total",
        "code_entry_days",
        "ends_at",
    }
    assert client.get(f"{API}/programme").json()["invitee_reward"] == "none"
    wrong = send(client, "patch", f"{API}/programme", {"invitee_reward": "cash"})
    assert wrong.status_code == 422
    assert "invitee_reward" in wrong.json()["fields"]
    status = send(client, "post", f"{API}/programme/status", {"status": "ended"})
    assert status.status_code == 422


def test_permissions_and_authentication(merchant: Merchant) -> None:
    assert Client().get(f"{API}/programme").status_code == 401
    assert api_client(merchant, Role.SHOPPING_GUIDE).get(f"{API}/programme").status_code == 403
    finance = api_client(merchant, Role.FINANCE)
    assert finance.get(f"{API}/programme").status_code == 200
    assert send(finance, "patch", f"{API}/programme", {"cap_total": 3}).status_code == 403


def test_referrals_blocked_list_detail_results_and_tree(
    merchant: Merchant, other_merchant: Merchant
) -> None:
    gift = make_template(merchant, quantity=10)
    make_programme(merchant, invitee_reward="coupon", invitee_template=gift)
    inviter, friend, twin = (make_customer(merchant) for _ in range(3))
    good = invite(inviter, friend, device="phone-a")
    bad = invite(inviter, twin, device="phone-a")
    make_order(merchant, status="completed", customer=friend)
    client = api_client(merchant)
    listed = client.get(f"{API}/referrals").json()
    assert listed["count"] == 2
    blocked = client.get(f"{API}/referrals", {"status": "blocked"}).json()["items"]
    assert [(r["id"], r["block_reason"], r["block_detail"]) for r in blocked] == [
        (bad.pk, "same_device", "another invitee")
    ]
    assert blocked[0]["block_reason_text"]
    assert "****" in blocked[0]["invitee_phone"]
    detail = client.get(f"{API}/referrals/{good.pk}").json()
    assert [(r["side"], r["kind"], r["status"]) for r in detail["rewards"]] == [
        ("invitee", "coupon", "issued")
    ]
    results = client.get(f"{API}/results").json()
    assert (results["inviters"], results["registered"], results["blocked"]) == (1, 1, 1)
    assert (results["orders"], results["k_factor"]) == (1, 1.0)
    assert results["blocked_by_reason"][0]["reason"] == "same_device"
    tree = client.get(f"{API}/customers/{inviter.pk}/tree").json()
    assert (tree["size"], tree["depth"], tree["levels"]) == (
        1,
        1,
        [{"level": 1, "customers": 1}],
    )
    assert tree["nodes"][0]["customer_id"] == friend.pk
    # another merchant's rows are 404
    other = api_client(other_merchant)
    assert other.get(f"{API}/referrals/{good.pk}").status_code == 404
    assert other.get(f"{API}/customers/{inviter.pk}/tree").status_code == 404
    assert client.get(f"{API}/customers/999999/tree").status_code == 404
    bad_period = client.get(
        f"{API}/results", {"start": "2026-05-02T00:00:00+08:00", "end": "2026-05-01T00:00:00+08:00"}
    )
    assert bad_period.status_code == 422
    assert "end" in bad_period.json()["fields"]
    assert client.get(f"{API}/referrals", {"status": "lost"}).status_code == 422


def _shop_api(merchant: Merchant) -> str:
    return f"/api/v1/storefront/{merchant.slug}/invite"


def test_customer_api_my_invitations_and_accepting_a_code(merchant: Merchant) -> None:
    gift = make_template(merchant, name="Welcome", amount=500, quantity=10)
    make_programme(merchant, invitee_reward="coupon", invitee_template=gift)
    inviter, friend = make_customer(merchant), make_customer(merchant)
    assert Client().get(_shop_api(merchant)).status_code == 401
    mine = storefront_client(inviter, HTTP_ACCEPT_LANGUAGE="en").get(_shop_api(merchant)).json()
    assert len(mine["code"]) == 6
    assert mine["link"].endswith(f"/s/{merchant.slug}/invite/{mine['code']}/")
    assert mine["invitee_reward"] == "A coupon: ¥5.00 off"
    assert (mine["friends_joined"], mine["running"]) == (0, True)
    client = storefront_client(friend, HTTP_ACCEPT_LANGUAGE="en")
    view = client.get(f"{_shop_api(merchant)}/codes/{mine['code'].lower()}").json()
    assert view["code"] == mine["code"]
    assert client.get(f"{_shop_api(merchant)}/codes/ZZZZZZ").status_code == 404
    unknown = send(client, "post", f"{_shop_api(merchant)}/accept", {"code": "ZZZZZZ"})
    assert unknown.status_code == 422
    assert "code" in unknown.json()["fields"]
    accepted = send(client, "post", f"{_shop_api(merchant)}/accept", {"code": mine["code"]})
    assert accepted.status_code == 201, accepted.json()
    assert accepted.json()["status"] == "registered"
    again = send(client, "post", f"{_shop_api(merchant)}/accept", {"code": mine["code"]})
    assert again.status_code == 201
    after = storefront_client(inviter).get(_shop_api(merchant)).json()
    assert after["friends_joined"] == 1
    assert "****" in after["friends"][0]["phone"]
    friend_view = client.get(_shop_api(merchant)).json()
    assert friend_view["invited_by"]
    assert friend_view["may_enter_code"] is False
    assert [r["side"] for r in friend_view["rewards"]] == ["invitee"]
    too_long = send(client, "post", f"{_shop_api(merchant)}/accept", {"code": "X" * 41})
    assert too_long.status_code == 422
    with merchant_context(merchant):
        assert services.code_of(inviter).code == mine["code"]
