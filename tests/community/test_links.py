"""The scan landing ``/j/<token>``: visit, login and back, join, store finder, guide codes, full,
unknown and inactive codes, a login at another merchant."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from siyu.community import services
from siyu.community.models import GroupMember, JoinCode, JoinCodeScan
from siyu.community.testing import make_code, make_group
from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_staff
from siyu.customers.models import Customer
from siyu.customers.testing import last_code, make_customer, storefront_client
from siyu.stores.testing import make_store

pytestmark = pytest.mark.django_db

SHOP = "/s/lucky-coffee"


def text(response) -> str:
    return response.content.decode()


def join_url(code: JoinCode) -> str:
    return f"{SHOP}/community/join/{code.token}/"


def test_a_visitor_sees_the_code_and_is_counted(owner: Actor, store) -> None:
    group = make_group(owner, store=store.pk)
    code = make_code(owner, [group], poster_message="Coupons every Friday", store=store.pk)
    response = Client().get(f"/j/{code.token}")
    assert response.status_code == 200
    body = text(response)
    assert "Lucky Coffee" in body
    assert "Coupons every Friday" in body
    assert "Jing&#x27;an" in body or "Jing'an" in body
    assert f"/s/lucky-coffee/login/?next=%2Fs%2Flucky-coffee%2Fcommunity%2Fjoin%2F{code.token}" in (
        body
    )
    assert "Log in to join" in body
    scans = list(JoinCodeScan.unscoped.filter(code=code).values_list("outcome", flat=True))
    assert scans == ["visited"]
    code.refresh_from_db()
    assert code.scan_count == 1


def test_log_in_from_the_link_then_join_and_see_the_welcome(
    owner: Actor, merchant: Merchant
) -> None:
    group = make_group(owner, welcome={"text": "Coupons every Friday."}, announcement="Be kind")
    code = make_code(owner, [group])
    client = Client()
    landing = client.get(f"/j/{code.token}")
    phone = "138 1234 5678"
    next_url = f"{join_url(code)}?go=1"
    assert next_url.replace("/", "%2F").replace("?", "%3F").replace("=", "%3D") in text(landing)
    login = f"{SHOP}/login/"
    assert (
        client.post(login, {"action": "send", "phone": phone, "next": next_url}).status_code == 302
    )
    done = client.post(
        login, {"action": "verify", "code": last_code(merchant, phone), "next": next_url}
    )
    assert done.status_code == 302
    assert done["Location"] == next_url
    after = client.get(next_url)
    assert after.status_code == 200
    body = text(after)
    assert "data-join-auto" in body  # the page posts the join form by itself
    assert f'action="{join_url(code)}"' in body
    assert "csrfmiddlewaretoken" in body
    joined = client.post(join_url(code))
    assert joined.status_code == 302
    assert joined["Location"] == f"{SHOP}/community/groups/{group.pk}/"
    page = client.get(joined["Location"])
    assert page.status_code == 200
    body = text(page)
    assert "Coupons every Friday." in body
    assert "Be kind" in body
    customer = Customer.unscoped.get(merchant=merchant)
    assert GroupMember.unscoped.filter(group=group, customer=customer, left_at=None).exists()
    outcomes = sorted(JoinCodeScan.unscoped.filter(code=code).values_list("outcome", flat=True))
    assert outcomes == ["joined", "visited"]
    # scanning again lands in the same group; a logged-in visit is not counted as a visit
    assert client.get(f"/j/{code.token}").status_code == 200
    again = client.post(f"/j/{code.token}")
    assert again["Location"] == f"{SHOP}/community/groups/{group.pk}/"
    assert JoinCodeScan.unscoped.filter(code=code, outcome="visited").count() == 1


def test_posting_without_a_login_goes_to_the_login(owner: Actor) -> None:
    code = make_code(owner, [make_group(owner)])
    response = Client().post(f"/j/{code.token}")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{SHOP}/login/?next=")
    assert JoinCodeScan.unscoped.filter(code=code).count() == 0


def test_a_login_at_another_merchant_does_not_count(owner: Actor, other_merchant: Merchant) -> None:
    code = make_code(owner, [make_group(owner)])
    stranger = make_customer(other_merchant)
    client = storefront_client(stranger)
    page = client.get(f"/j/{code.token}")
    assert "Log in to join" in text(page)
    posted = client.post(f"/j/{code.token}")
    assert posted.status_code == 302
    assert posted["Location"].startswith(f"{SHOP}/login/")
    assert not GroupMember.unscoped.exists()


def test_store_finder_with_a_position_joins_the_nearest_store(
    owner: Actor, merchant: Merchant
) -> None:
    near = make_store(merchant, name="People's Square", latitude=Decimal("31.2304"))
    far = make_store(
        merchant, name="Pudong", latitude=Decimal("31.2000"), longitude=Decimal("121.6000")
    )
    near_group = make_group(owner, store=near.pk)
    make_group(owner, store=far.pk)
    code = make_code(owner, kind=JoinCode.Kind.STORE_FINDER)
    customer = make_customer(merchant)
    client = storefront_client(customer)
    page = text(client.get(f"/j/{code.token}"))
    assert 'name="latitude"' in page
    assert "data-store-chooser" in page
    response = client.post(f"/j/{code.token}", {"latitude": "31.2305", "longitude": "121.4737"})
    assert response.status_code == 302
    assert response["Location"] == f"{SHOP}/community/groups/{near_group.pk}/"


def test_store_finder_without_a_position_offers_the_chooser(
    owner: Actor, merchant: Merchant
) -> None:
    first = make_store(merchant, name="Jing'an Temple")
    second = make_store(merchant, name="Xintiandi")
    closed = make_store(merchant, name="Closed for good", status="closed")
    make_group(owner, store=first.pk)
    second_group = make_group(owner, store=second.pk)
    make_group(owner, store=closed.pk)
    make_store(merchant, name="No group here")
    code = make_code(owner, kind=JoinCode.Kind.STORE_FINDER)
    client = storefront_client(make_customer(merchant))
    chooser = client.post(join_url(code), {"latitude": "", "longitude": ""})
    assert chooser.status_code == 200
    body = text(chooser)
    assert "Choose your store" in body
    assert "Jing&#x27;an Temple" in body
    assert "Xintiandi" in body
    assert "Closed for good" not in body
    assert "No group here" not in body
    assert f'name="store_id" value="{second.pk}"' in body
    chosen = client.post(join_url(code), {"store_id": str(second.pk)})
    assert chosen.status_code == 302
    assert chosen["Location"] == f"{SHOP}/community/groups/{second_group.pk}/"


def test_store_finder_refuses_bad_input_naming_the_field(
    owner: Actor, merchant: Merchant, other_merchant: Merchant
) -> None:
    make_group(owner, store=make_store(merchant).pk)
    code = make_code(owner, kind=JoinCode.Kind.STORE_FINDER)
    client = storefront_client(make_customer(merchant))
    bad_store = client.post(join_url(code), {"store_id": "abc"})
    assert bad_store.status_code == 422
    assert "Choose a store from the list." in text(bad_store)
    foreign = client.post(join_url(code), {"store_id": str(make_store(other_merchant).pk)})
    assert foreign.status_code == 422
    bad_position = client.post(join_url(code), {"latitude": "95", "longitude": "121"})
    assert bad_position.status_code == 422
    assert 'data-testid="join-error"' in text(bad_position)
    assert not GroupMember.unscoped.exists()


def test_a_guide_code_lands_in_the_chat_with_the_guide(owner: Actor, merchant: Merchant) -> None:
    guide = make_staff(merchant, Role.SHOPPING_GUIDE, first_name="Lily")
    code = make_code(owner, kind=JoinCode.Kind.GUIDE, guide=guide.pk)
    customer = make_customer(merchant)
    client = storefront_client(customer)
    page = text(client.get(f"/j/{code.token}"))
    assert "Chat with my guide" in page
    response = client.post(f"/j/{code.token}")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{SHOP}/community/chats/")
    chat = client.get(response["Location"])
    assert chat.status_code == 200
    assert "data-chat" in text(chat)
    customer.refresh_from_db()
    assert customer.owner_guide_id == guide.pk
    assert client.get(f"{SHOP}/community/guide/").status_code == 200


def test_all_groups_full(owner: Actor, merchant: Merchant) -> None:
    group = make_group(owner, capacity=1)
    code = make_code(owner, [group])
    with merchant_context(merchant):
        services.scan(code, make_customer(merchant))
    client = storefront_client(make_customer(merchant))
    response = client.post(f"/j/{code.token}")
    assert response.status_code == 200
    assert "All groups are full" in text(response)


def test_unknown_and_inactive_codes(owner: Actor, other_merchant: Merchant) -> None:
    assert Client().get("/j/nosuchcode").status_code == 404
    assert "This code does not exist" in text(Client().get("/j/nosuchcode"))
    assert Client().get("/j/" + "x" * 40).status_code == 404
    code = make_code(owner, [make_group(owner)])
    with merchant_context(owner.merchant):
        services.update_code(owner, code, is_active=False)
    gone = Client().get(f"/j/{code.token}")
    assert gone.status_code == 410
    assert "no longer in use" in text(gone)
    # the storefront join page of another merchant's shop does not know the code
    assert Client().get(f"/s/rival-tea/community/join/{code.token}/").status_code == 404
