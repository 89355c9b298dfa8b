"""API: /api/v1/stores and /api/v1/staff."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from siyu.core.models import AuditEntry, Membership, User
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import api_client, make_staff, staff_client
from siyu.stores.models import Store, StoreStaff
from siyu.stores.testing import login, make_store, make_store_staff

pytestmark = pytest.mark.django_db

STORES = "/api/v1/stores"
STAFF = "/api/v1/staff"
NEW_STORE = {
    "code": "SH-XH-001",
    "name": "徐家汇店",
    "city": "上海市",
    "district": "徐汇区",
    "address": "漕溪北路88号",
    "latitude": 31.195533,
    "longitude": 121.437332,
    "phone": "021-6468 0000",
    "opening_hours": {"mon": [["07:00", "21:00"]], "fri": [["07:00", "02:00"]]},
}


def post(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


def store_count(merchant):
    with merchant_context(merchant):
        return Store.objects.count()


# --- stores ------------------------------------------------------------------------


def test_list_filters_and_paginates(merchant):
    for i in range(5):
        make_store(merchant, code=f"A{i}", city="上海市", pickup_enabled=i % 2 == 0)
    make_store(merchant, code="B0", city="北京市", name="国贸店")
    client = api_client(merchant, Role.SHOPPING_GUIDE)
    first = client.get(STORES, {"limit": 2}).json()
    assert first["count"] == 6
    assert first["next_offset"] == 2
    assert [s["code"] for s in first["items"]] == ["A0", "A1"]
    last = client.get(STORES, {"limit": 2, "offset": 4}).json()
    assert [s["code"] for s in last["items"]] == ["A4", "B0"]
    assert last["next_offset"] is None
    assert [s["code"] for s in client.get(STORES, {"city": "北京市"}).json()["items"]] == ["B0"]
    assert [s["code"] for s in client.get(STORES, {"q": "国贸"}).json()["items"]] == ["B0"]
    no_pickup = client.get(STORES, {"pickup": "false"}).json()["items"]
    assert [s["code"] for s in no_pickup] == ["A1", "A3"]
    item = first["items"][0]
    assert item["latitude"] == 31.230416
    assert isinstance(item["open_now"], bool)
    assert item["opening_hours"]["mon"] == [["07:00", "22:00"]]
    assert client.get(STORES, {"limit": 500}).status_code == 422


def test_create_answers_201_with_the_store(merchant):
    response = post(api_client(merchant, Role.OPERATOR), STORES, NEW_STORE)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == "SH-XH-001"
    assert body["phone"] == "+862164680000"
    assert body["opening_hours"]["fri"] == [["07:00", "02:00"]]
    assert body["opening_hours"]["sun"] == []
    assert body["status"] == "open"
    assert body["closed_at"] is None
    with merchant_context(merchant):
        assert Store.objects.get(pk=body["id"]).latitude == Decimal("31.195533")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"latitude": 91}, "latitude"),
        ({"latitude": "north"}, "latitude"),  # not a number: the schema says so
        ({"code": "no spaces please"}, "code"),
        ({"name": ""}, "name"),
        ({"phone": "110"}, "phone"),
        (
            {"opening_hours": {"mon": [["07:00", "14:00"], ["13:00", "21:00"]]}},
            "opening_hours.mon.1",
        ),
        ({"opening_hours": {"mon": [["07:00"]]}}, "opening_hours.mon.0"),
        ({"opening_hours": {"mon": "all day"}}, "opening_hours.mon"),
        ({"status": "closed"}, "status"),
    ],
)
def test_create_with_bad_input_is_422_naming_the_field_and_writes_nothing(merchant, changes, field):
    response = post(api_client(merchant), STORES, {**NEW_STORE, **changes})
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["error"] == "invalid"
    assert field in body["fields"], body
    assert store_count(merchant) == 0
    with merchant_context(merchant):
        assert not AuditEntry.objects.filter(action="store.create").exists()


def test_missing_fields_are_named(merchant):
    response = post(api_client(merchant), STORES, {"code": "X1"})
    assert response.status_code == 422
    assert {"name", "city", "address", "latitude", "longitude"} <= set(response.json()["fields"])


def test_duplicate_code_is_409(merchant):
    client = api_client(merchant)
    assert post(client, STORES, NEW_STORE).status_code == 201
    response = post(client, STORES, {**NEW_STORE, "name": "Another"})
    assert response.status_code == 409
    assert "code" in response.json()["fields"]
    assert store_count(merchant) == 1


def test_idempotency_key_creates_once(merchant):
    client = api_client(merchant)
    first = post(client, STORES, NEW_STORE, **{"Idempotency-Key": "create-xh-001"})
    again = post(client, STORES, NEW_STORE, **{"Idempotency-Key": "create-xh-001"})
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert store_count(merchant) == 1
    other = post(
        client, STORES, {**NEW_STORE, "code": "SH-XH-002"}, **{"Idempotency-Key": "create-xh-001"}
    )
    assert other.status_code == 422
    assert other.json()["error"] == "idempotency_key_reused"
    assert store_count(merchant) == 1


@pytest.mark.parametrize("role", [Role.SHOPPING_GUIDE, Role.FINANCE, Role.STORE_MANAGER])
def test_roles_without_store_management_cannot_create_or_close(merchant, role):
    store = make_store(merchant)
    client = api_client(merchant, role)
    assert post(client, STORES, NEW_STORE).status_code == 403
    assert client.post(f"{STORES}/{store.pk}/close").status_code == 403
    assert store_count(merchant) == 1
    store.refresh_from_db()
    assert store.status == Store.Status.OPEN


def test_another_merchants_store_is_404_everywhere(merchant, other_merchant):
    theirs = make_store(other_merchant, name="Theirs")
    client = api_client(merchant)
    assert client.get(f"{STORES}/{theirs.pk}").status_code == 404
    assert patch(client, f"{STORES}/{theirs.pk}", {"name": "Mine now"}).status_code == 404
    assert client.post(f"{STORES}/{theirs.pk}/close").status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"
    assert theirs.status == Store.Status.OPEN
    assert client.get(f"{STORES}/999999").json()["error"] == "not_found"


def test_patch_changes_given_fields_and_close(merchant):
    store = make_store(merchant, name="Old")
    client = api_client(merchant, Role.OPERATOR)
    response = patch(
        client,
        f"{STORES}/{store.pk}",
        {"name": "新名字", "opening_hours": {"sun": [["00:00", "24:00"]]}},
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "新名字"
    assert response.json()["hours_summary"]
    store.refresh_from_db()
    assert store.opening_hours["sun"] == [["00:00", "24:00"]]
    assert store.opening_hours["mon"] == []
    bad = patch(client, f"{STORES}/{store.pk}", {"name": "Fine", "longitude": 181})
    assert bad.status_code == 422
    assert set(bad.json()["fields"]) == {"longitude"}
    store.refresh_from_db()
    assert store.name == "新名字"
    closed = client.post(f"{STORES}/{store.pk}/close")
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_at"] is not None


def test_store_manager_edits_own_store_only_in_their_fields(merchant):
    mine, theirs = make_store(merchant), make_store(merchant, phone="")
    manager = make_store_staff(merchant, Role.STORE_MANAGER, mine)
    client = login(manager)
    ok = patch(
        client, f"{STORES}/{mine.pk}", {"phone": "021 6288 1234", "status": "temporarily_closed"}
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["status"] == "temporarily_closed"
    assert ok.json()["open_now"] is False
    # another store of the same merchant: visible (GET 200) but not theirs to change (403)
    assert client.get(f"{STORES}/{theirs.pk}").status_code == 200
    assert patch(client, f"{STORES}/{theirs.pk}", {"phone": "021 6288 1234"}).status_code == 403
    # their own store, a field reserved for owners and operators: 403 naming it
    denied = patch(client, f"{STORES}/{mine.pk}", {"name": "Renamed", "phone": "021 6288 9999"})
    assert denied.status_code == 403
    assert denied.json()["fields"] == {"name": denied.json()["fields"]["name"]}
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.phone == "+862162881234"
    assert mine.name != "Renamed"
    assert theirs.phone == ""


def test_nearest_sorted_with_distances(merchant, django_assert_max_num_queries):
    north = make_store(
        merchant, code="N", latitude=Decimal("31.240416"), longitude=Decimal("121.473701")
    )
    east = make_store(
        merchant, code="E", latitude=Decimal("31.230416"), longitude=Decimal("121.483701")
    )
    make_store(
        merchant,
        code="X",
        latitude=Decimal("31.2305"),
        longitude=Decimal("121.4737"),
        status="closed",
    )
    paused = make_store(
        merchant,
        code="P",
        latitude=Decimal("31.210416"),
        longitude=Decimal("121.473701"),
        status="temporarily_closed",
    )
    client = api_client(merchant, Role.SHOPPING_GUIDE)
    url = f"{STORES}/nearest"
    client.get(url, {"lat": 31.230416, "lng": 121.473701})  # the key's last-used stamp
    # the API key, the ranking query within the radius, the winners' rows
    with django_assert_max_num_queries(3):
        response = client.get(url, {"lat": 31.230416, "lng": 121.473701, "radius": 5000})
    assert response.status_code == 200, response.content
    assert [(s["id"], s["distance_m"]) for s in response.json()] == [
        (east.pk, 951),
        (north.pk, 1112),
        (paused.pk, 2224),
    ]
    pickup = client.get(
        url, {"lat": 31.230416, "lng": 121.473701, "pickup": "true", "limit": 1}
    ).json()
    assert [s["id"] for s in pickup] == [east.pk]
    bad = client.get(url, {"lat": 100, "lng": 121.47})
    assert bad.status_code == 422
    assert "lat" in bad.json()["fields"]
    assert "lng" in client.get(url, {"lat": 31}).json()["fields"]


# --- staff -------------------------------------------------------------------------


def test_staff_list_with_filters(merchant, other_merchant):
    store = make_store(merchant, code="JA01")
    guide = make_store_staff(merchant, Role.SHOPPING_GUIDE, store, display_name="张悦")
    make_staff(other_merchant, Role.SHOPPING_GUIDE)
    client = api_client(merchant, Role.STORE_MANAGER)  # store managers may look
    body = client.get(STAFF, {"role": "shopping_guide"}).json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["id"] == guide.pk
    assert item["display_name"] == "张悦"
    assert item["stores"] == [{"id": store.pk, "code": "JA01", "name": store.name}]
    assert client.get(STAFF, {"store": store.pk}).json()["count"] == 1
    assert client.get(STAFF, {"active": "false"}).json()["count"] == 0
    assert api_client(merchant, Role.SHOPPING_GUIDE).get(STAFF).status_code == 403


def test_add_staff_and_patch(merchant):
    a, b = make_store(merchant), make_store(merchant)
    client = api_client(merchant, Role.OWNER)
    response = post(
        client,
        STAFF,
        {
            "username": "wang.lei",
            "display_name": "王磊",
            "role": "store_manager",
            "password": "Cold-brew-2026",
            "stores": [a.pk],
        },
    )
    assert response.status_code == 201, response.content
    member = response.json()
    assert member["role"] == "store_manager"
    assert [s["id"] for s in member["stores"]] == [a.pk]
    assert User.objects.get(username="wang.lei").check_password("Cold-brew-2026")
    changed = patch(client, f"{STAFF}/{member['id']}", {"stores": [a.pk, b.pk]})
    assert changed.status_code == 200
    assert {s["id"] for s in changed.json()["stores"]} == {a.pk, b.pk}
    off = patch(client, f"{STAFF}/{member['id']}", {"is_active": False})
    assert off.json()["is_active"] is False
    assert client.get(f"{STAFF}/{member['id']}").json()["is_active"] is False


def test_add_staff_bad_input_is_422_and_creates_nobody(merchant):
    client = api_client(merchant)
    response = post(
        client, STAFF, {"username": "li", "role": "guide", "password": "x", "display_name": ""}
    )
    assert response.status_code == 422
    assert {"username", "role"} <= set(response.json()["fields"])
    assert not User.objects.filter(username="li").exists()
    missing = post(client, STAFF, {"display_name": "No name"})
    assert missing.status_code == 422
    assert {"username", "role"} <= set(missing.json()["fields"])


def test_only_owners_manage_staff(merchant):
    guide = make_staff(merchant, Role.SHOPPING_GUIDE)
    client = api_client(merchant, Role.OPERATOR)
    assert client.get(STAFF).status_code == 200
    assert post(client, STAFF, {"username": "new.one", "role": "finance"}).status_code == 403
    assert patch(client, f"{STAFF}/{guide.pk}", {"role": "operator"}).status_code == 403
    guide.refresh_from_db()
    assert guide.role == Role.SHOPPING_GUIDE


def test_another_merchants_staff_is_404(merchant, other_merchant):
    theirs = make_staff(other_merchant, Role.SHOPPING_GUIDE)
    client = api_client(merchant)
    assert client.get(f"{STAFF}/{theirs.pk}").status_code == 404
    assert patch(client, f"{STAFF}/{theirs.pk}", {"is_active": False}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active


def test_own_role_and_last_owner_guards(merchant):
    client = staff_client(merchant, Role.OWNER)
    me = client.membership
    own = patch(client, f"{STAFF}/{me.pk}", {"role": "operator"})
    assert own.status_code == 403
    assert "role" in own.json()["fields"]
    key = api_client(merchant, Role.OWNER)
    last = patch(key, f"{STAFF}/{me.pk}", {"is_active": False})
    assert last.status_code == 409
    assert "is_active" in last.json()["fields"]
    me.refresh_from_db()
    assert me.role == Role.OWNER
    assert me.is_active


def test_patch_staff_with_unknown_store_is_422(merchant, other_merchant):
    theirs = make_store(other_merchant)
    guide = make_staff(merchant, Role.SHOPPING_GUIDE)
    response = patch(api_client(merchant), f"{STAFF}/{guide.pk}", {"stores": [theirs.pk]})
    assert response.status_code == 422
    assert "stores" in response.json()["fields"]
    assert not StoreStaff.unscoped.filter(membership=guide).exists()
    assert Membership.objects.get(pk=guide.pk).role == Role.SHOPPING_GUIDE
