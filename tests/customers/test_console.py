"""Console pages: customer list and detail, block/unblock, the SMS outbox; roles and tenancy."""

from __future__ import annotations

import pytest

from siyu.core.models import AuditEntry
from siyu.core.permissions import Role
from siyu.core.testing import staff_client
from siyu.customers import services
from siyu.customers.models import Customer
from siyu.customers.testing import make_address, make_customer

LIST = "/console/customers/"
OUTBOX = "/console/customers/sms/"
ALL_ROLES = [Role.OWNER, Role.OPERATOR, Role.STORE_MANAGER, Role.SHOPPING_GUIDE, Role.FINANCE]


def detail(customer) -> str:
    return f"/console/customers/{customer.pk}/"


def page(client, url, **params):
    response = client.get(url, params, HTTP_ACCEPT_LANGUAGE="en")
    return response, response.content.decode()


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_sees_the_list(merchant, customer, role):
    client = staff_client(merchant, role)
    if role == Role.SHOPPING_GUIDE:  # a guide sees the customers they own (test_crm_console)
        Customer.unscoped.filter(pk=customer.pk).update(owner_guide=client.membership)
    response, body = page(client, LIST)
    assert response.status_code == 200
    assert "王小明" in body
    full = role in (Role.OWNER, Role.OPERATOR)
    assert ("138 1234 5678" in body) is full
    assert ("138 **** 5678" in body) is not full


def test_search_by_phone_digits_or_name_and_filters(merchant, owner):
    make_customer(merchant, "+8613900000001", name="林小雨", join_channel="guide")
    blocked = make_customer(merchant, "+8613700000002", name="周子航", join_channel="group")
    services.block_customer(owner, blocked)
    client = staff_client(merchant)
    for params, shown, hidden in [
        ({"q": "139 0000"}, "林小雨", "周子航"),
        ({"q": "+86 137"}, "周子航", "林小雨"),
        ({"q": "小雨"}, "林小雨", "周子航"),
        ({"status": "blocked"}, "周子航", "林小雨"),
        ({"join_channel": "guide"}, "林小雨", "周子航"),
    ]:
        response, body = page(client, LIST, **params)
        assert response.status_code == 200
        assert shown in body, params
        assert hidden not in body, params
    _response, body = page(client, LIST)
    assert "Shopping guide" in body
    assert "Community group" in body


def test_the_list_is_paginated_newest_first(merchant):
    for n in range(30):
        make_customer(merchant, f"+861390000{n:04d}", name=f"客户{n:02d}")
    client = staff_client(merchant)
    _response, first = page(client, LIST)
    assert "客户29" in first
    assert "客户04" not in first
    _response, second = page(client, LIST, page=2)
    assert "客户04" in second
    assert "客户29" not in second


def test_detail_shows_profile_addresses_and_orders(merchant, customer):
    from siyu.orders.testing import make_order

    make_address(customer, district="黄浦区", street="淮海中路283号")
    order = make_order(merchant, customer=customer)
    response, body = page(staff_client(merchant), detail(customer))
    assert response.status_code == 200
    assert "王小明" in body
    assert "138 1234 5678" in body
    assert "上海市黄浦区淮海中路283号" in body
    assert order.number in body
    assert "Block" in body


def test_detail_without_orders_says_so(merchant, customer):
    client = staff_client(merchant, Role.SHOPPING_GUIDE)
    Customer.unscoped.filter(pk=customer.pk).update(owner_guide=client.membership)
    _response, body = page(client, detail(customer))
    assert "No orders yet." in body
    assert "138 **** 5678" in body
    assert "138 1234 5678" not in body
    assert "Block" not in body


def test_another_merchants_customer_is_404(merchant, other_merchant):
    theirs = make_customer(other_merchant, "+8613812345678")
    client = staff_client(merchant)
    assert client.get(detail(theirs)).status_code == 404
    response = client.post(f"/console/customers/{theirs.pk}/status/", {"status": "blocked"})
    assert response.status_code == 404
    assert not Customer.unscoped.get(pk=theirs.pk).is_blocked


def test_block_and_unblock_from_the_detail_page(merchant, customer):
    client = staff_client(merchant, Role.OPERATOR)
    url = f"/console/customers/{customer.pk}/status/"
    response = client.post(url, {"status": "blocked"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.is_blocked
    _response, body = page(client, detail(customer))
    assert "Unblock" in body
    client.post(url, {"status": "active"})
    customer.refresh_from_db()
    assert not customer.is_blocked
    assert (
        AuditEntry.unscoped.filter(action__in=["customer.block", "customer.unblock"]).count() == 2
    )


def test_a_bad_status_is_refused_with_a_message(merchant, customer):
    client = staff_client(merchant)
    response = client.post(
        f"/console/customers/{customer.pk}/status/",
        {"status": "gone"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "Choose active or blocked." in response.content.decode()
    customer.refresh_from_db()
    assert customer.status == "active"


@pytest.mark.parametrize("role", [Role.STORE_MANAGER, Role.SHOPPING_GUIDE, Role.FINANCE])
def test_roles_without_customers_manage_cannot_block_or_read_sms(merchant, customer, role):
    client = staff_client(merchant, role)
    assert (
        client.post(f"/console/customers/{customer.pk}/status/", {"status": "blocked"}).status_code
        == 403
    )
    customer.refresh_from_db()
    assert not customer.is_blocked
    assert client.get(OUTBOX).status_code == 403


def test_the_sms_outbox_lists_newest_first_masked_and_shows_one_in_full(merchant, customer):
    services.request_login_code(merchant, "138 1234 5678", ip=None)
    services.request_login_code(merchant, "139 0000 0001", ip=None)
    client = staff_client(merchant, Role.OPERATOR)
    response, body = page(client, OUTBOX)
    assert response.status_code == 200
    assert body.index("139 **** 0001") < body.index("138 **** 5678")
    assert "138 1234 5678" not in body
    assert "Your login code is" in body
    from siyu.customers.models import SmsMessage

    message = SmsMessage.unscoped.get(to="+8613812345678")
    response, body = page(client, f"{OUTBOX}{message.pk}/")
    assert "138 1234 5678" in body
    assert message.text in body
    assert "王小明" in body  # links to the customer
    _response, found = page(client, OUTBOX, q="139")
    assert "139 **** 0001" in found
    assert "138 **** 5678" not in found


def test_another_merchants_message_is_404(merchant, other_merchant):
    from siyu.customers.models import SmsMessage

    services.request_login_code(other_merchant, "138 1234 5678", ip=None)
    theirs = SmsMessage.unscoped.get(merchant=other_merchant)
    assert staff_client(merchant).get(f"{OUTBOX}{theirs.pk}/").status_code == 404


def test_the_navigation_links_to_customers(merchant):
    _response, body = page(staff_client(merchant, Role.FINANCE), "/console/")
    assert 'href="/console/customers/"' in body


def test_pages_render_in_chinese(merchant, customer):
    client = staff_client(merchant)
    body = client.get(LIST, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "客户" in body
    assert "加入渠道" in body
    body = client.get(OUTBOX, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "短信发件箱" in body
