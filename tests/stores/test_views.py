"""Console pages: who sees what, forms with field errors, 404 across merchants."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from siyu.core.models import Membership, User
from siyu.core.permissions import Role
from siyu.core.testing import make_staff, staff_client
from siyu.stores.models import Store, StoreStaff
from siyu.stores.testing import login, make_store, make_store_staff

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}
ALL_ROLES = list(Role.values)
STORE_POST = {
    "code": "SH-HP-001",
    "name": "新天地店",
    "city": "上海市",
    "district": "黄浦区",
    "address": "马当路245号",
    "latitude": "31.219300",
    "longitude": "121.474500",
    "phone": "021-6326 0000",
    "status": "open",
    "pickup_enabled": "on",
    "hours-mon-open": ["07:00", "16:00"],
    "hours-mon-close": ["14:00", "21:00"],
    "hours-fri-open": ["07:00"],
    "hours-fri-close": ["00:00"],
    "hours-sun-open": ["00:00"],
    "hours-sun-close": ["00:00"],
    "hours-tue-open": [""],
    "hours-tue-close": [""],
}


def html(response) -> str:
    return response.content.decode()


def client_for(merchant, role, *stores):
    return login(make_store_staff(merchant, role, *stores))


def store_names_in_order(page: str, names: list[str]) -> list[str]:
    return sorted(names, key=page.index)


# --- who may open which page ---------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_sees_stores_detail_and_nearest(merchant, role):
    store = make_store(merchant, name="静安寺店")
    client = client_for(merchant, role)
    for url in (
        reverse("stores:store_list"),
        reverse("stores:store_detail", args=[store.pk]),
        reverse("stores:store_nearest"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    assert "静安寺店" in html(client.get(reverse("stores:store_list")))


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.OWNER, 200),
        (Role.OPERATOR, 200),
        (Role.STORE_MANAGER, 403),
        (Role.SHOPPING_GUIDE, 403),
        (Role.FINANCE, 403),
    ],
)
def test_create_page_for_store_managers_only(merchant, role, status):
    client = client_for(merchant, role)
    assert client.get(reverse("stores:store_create")).status_code == status
    page = html(client.get(reverse("stores:store_list")))
    assert (reverse("stores:store_create") in page) is (status == 200)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.OWNER, 200),
        (Role.OPERATOR, 200),
        (Role.STORE_MANAGER, 200),
        (Role.SHOPPING_GUIDE, 403),
        (Role.FINANCE, 403),
    ],
)
def test_staff_list_for_roles_that_may_see_staff(merchant, role, status):
    make_staff(merchant, Role.SHOPPING_GUIDE, display_name="张悦")
    response = client_for(merchant, role).get(reverse("stores:staff_list"))
    assert response.status_code == status
    if status == 200:
        assert "张悦" in html(response)


@pytest.mark.parametrize(
    "role", [Role.OPERATOR, Role.STORE_MANAGER, Role.SHOPPING_GUIDE, Role.FINANCE]
)
def test_only_owners_add_and_edit_staff(merchant, role):
    target = make_staff(merchant, Role.SHOPPING_GUIDE)
    client = client_for(merchant, role)
    assert client.get(reverse("stores:staff_add")).status_code == 403
    assert client.get(reverse("stores:staff_edit", args=[target.pk])).status_code == 403
    response = client.post(
        reverse("stores:staff_edit", args=[target.pk]), {"role": "owner", "is_active": "on"}
    )
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.role == Role.SHOPPING_GUIDE


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(reverse("stores:store_list"))
    assert response.status_code == 302
    assert reverse("console:login") in response["Location"]


def test_another_merchants_ids_are_404(merchant, other_merchant):
    theirs = make_store(other_merchant)
    their_staff = make_staff(other_merchant, Role.SHOPPING_GUIDE)
    client = staff_client(merchant, Role.OWNER)
    assert client.get(reverse("stores:store_detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("stores:store_edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("stores:store_close", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("stores:staff_edit", args=[their_staff.pk])).status_code == 404
    assert (
        client.post(
            reverse("stores:staff_password", args=[their_staff.pk]),
            {"password": "x", "password_again": "x"},
        ).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert theirs.status == Store.Status.OPEN


# --- stores --------------------------------------------------------------------------------------


def test_create_store_from_the_form_with_hours(merchant):
    client = staff_client(merchant, Role.OPERATOR)
    response = client.post(reverse("stores:store_create"), STORE_POST)
    assert response.status_code == 302
    store = Store.unscoped.get(merchant=merchant, code="SH-HP-001")
    assert response["Location"] == reverse("stores:store_detail", args=[store.pk])
    assert store.latitude == Decimal("31.219300")
    assert store.pickup_enabled
    assert store.opening_hours["mon"] == [["07:00", "14:00"], ["16:00", "21:00"]]
    assert store.opening_hours["fri"] == [["07:00", "24:00"]]  # closes at midnight
    assert store.opening_hours["sun"] == [["00:00", "24:00"]]  # 00:00–00:00: all day
    assert store.opening_hours["tue"] == []  # an empty row is no range


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"latitude": "95"}, "latitude", "Ensure this value is less than or equal to 90."),
        ({"name": ""}, "name", "This field is required."),
        ({"phone": "12345"}, "phone", "Enter a valid phone number"),
        (
            {"hours-mon-open": ["07:00", "13:00"], "hours-mon-close": ["14:00", "21:00"]},
            "opening_hours",
            "Monday, hours 2: This range overlaps another one.",
        ),
        (
            {"hours-wed-open": ["07:00"], "hours-wed-close": [""]},
            "opening_hours",
            "Wednesday, hours 1",
        ),
    ],
)
def test_store_form_shows_field_errors_and_creates_nothing(merchant, changes, field, reason):
    client = staff_client(merchant, Role.OWNER)
    response = client.post(reverse("stores:store_create"), {**STORE_POST, **changes}, headers=EN)
    assert response.status_code == 422
    page = html(response)
    assert reason in page
    if field != "opening_hours":  # the hours editor is not one input
        # the field itself is marked invalid, so the reason sits next to it
        assert re.search(
            rf'aria-invalid="true"[^>]*id="id_{field}"|id="id_{field}"[^>]*aria-invalid', page
        )
    assert not Store.unscoped.filter(merchant=merchant).exists()


def test_duplicate_code_is_shown_on_the_code_field(merchant):
    make_store(merchant, code="SH-HP-001")
    response = staff_client(merchant).post(reverse("stores:store_create"), STORE_POST, headers=EN)
    assert response.status_code == 422
    assert "Another store has this code." in html(response)
    assert Store.unscoped.filter(merchant=merchant).count() == 1


def test_store_list_filters(merchant):
    make_store(merchant, name="静安寺店", district="静安区")
    make_store(merchant, name="徐家汇店", district="徐汇区", pickup_enabled=False)
    make_store(
        merchant, name="国贸店", city="北京市", district="朝阳区", status="temporarily_closed"
    )
    client = staff_client(merchant, Role.FINANCE)
    url = reverse("stores:store_list")

    def names(**query):
        page = html(client.get(url, query))
        return {n for n in ("静安寺店", "徐家汇店", "国贸店") if n in page}

    assert names() == {"静安寺店", "徐家汇店", "国贸店"}
    assert names(city="上海市") == {"静安寺店", "徐家汇店"}
    assert names(city="上海市", district="徐汇区") == {"徐家汇店"}
    assert names(status="temporarily_closed") == {"国贸店"}
    assert names(pickup="no") == {"徐家汇店"}
    assert names(q="静安") == {"静安寺店"}


def test_store_manager_edits_their_store_with_the_small_form(merchant):
    mine, other = make_store(merchant, name="Mine"), make_store(merchant, name="Other")
    client = client_for(merchant, Role.STORE_MANAGER, mine)
    page = html(client.get(reverse("stores:store_edit", args=[mine.pk])))
    assert 'name="phone"' in page
    assert 'name="code"' not in page
    assert 'name="latitude"' not in page
    response = client.post(
        reverse("stores:store_edit", args=[mine.pk]),
        {
            "phone": "13800138000",
            "status": "temporarily_closed",
            "hours-sat-open": ["09:00"],
            "hours-sat-close": ["18:00"],
            "name": "Sneaky rename",  # not in the form: ignored
        },
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.phone == "+8613800138000"
    assert mine.status == "temporarily_closed"
    assert mine.opening_hours["sat"] == [["09:00", "18:00"]]
    assert mine.opening_hours["mon"] == []
    assert mine.pickup_enabled is False  # an unticked box is off
    assert mine.name == "Mine"
    assert client.get(reverse("stores:store_edit", args=[other.pk])).status_code == 403
    assert (
        client.post(
            reverse("stores:store_edit", args=[other.pk]),
            {"phone": "13800138000", "status": "open"},
        ).status_code
        == 403
    )
    other.refresh_from_db()
    assert other.phone == ""
    # the list offers "Edit" only for their own store
    listing = html(client.get(reverse("stores:store_list")))
    assert reverse("stores:store_edit", args=[mine.pk]) in listing
    assert reverse("stores:store_edit", args=[other.pk]) not in listing


@pytest.mark.parametrize("role", [Role.SHOPPING_GUIDE, Role.FINANCE])
def test_read_only_roles_get_no_edit_page(merchant, role):
    store = make_store(merchant)
    client = (
        client_for(merchant, role, store)
        if role == Role.SHOPPING_GUIDE
        else client_for(merchant, role)
    )
    assert client.get(reverse("stores:store_edit", args=[store.pk])).status_code == 403
    detail = html(client.get(reverse("stores:store_detail", args=[store.pk])))
    assert reverse("stores:store_edit", args=[store.pk]) not in detail
    assert reverse("stores:store_close", args=[store.pk]) not in detail
    assert client.post(reverse("stores:store_close", args=[store.pk])).status_code == 403


def test_operator_edits_every_field_and_closes(merchant):
    store = make_store(merchant, name="Old name")
    client = staff_client(merchant, Role.OPERATOR)
    page = html(client.get(reverse("stores:store_edit", args=[store.pk])))
    assert 'name="code"' in page
    assert 'value="Old name"' in page
    assert "days: {" in page  # the hours editor got its data
    response = client.post(
        reverse("stores:store_edit", args=[store.pk]), {**STORE_POST, "name": "New name"}
    )
    assert response.status_code == 302
    store.refresh_from_db()
    assert store.name == "New name"
    assert client.post(reverse("stores:store_close", args=[store.pk])).status_code == 302
    store.refresh_from_db()
    assert store.status == Store.Status.CLOSED


def test_detail_shows_hours_open_state_and_staff(merchant):
    store = make_store(merchant, name="陆家嘴店", phone="+862150000000", opening_hours={})
    make_store_staff(merchant, Role.SHOPPING_GUIDE, store, display_name="刘洋")
    page = html(
        staff_client(merchant).get(reverse("stores:store_detail", args=[store.pk]), headers=EN)
    )
    assert "陆家嘴店" in page
    assert "刘洋" in page
    assert "021 5000 0000" in page  # shown the way people dial it
    assert "Every day" in page
    assert "Closed now" in page  # no opening hours at all


def test_nearest_page_lists_stores_by_distance(merchant):
    make_store(merchant, name="Far", latitude=Decimal("31.330416"), longitude=Decimal("121.473701"))
    make_store(
        merchant, name="Near", latitude=Decimal("31.231416"), longitude=Decimal("121.473701")
    )
    make_store(
        merchant, name="Middle", latitude=Decimal("31.240416"), longitude=Decimal("121.473701")
    )
    client = client_for(merchant, Role.SHOPPING_GUIDE)
    response = client.get(
        reverse("stores:store_nearest"), {"lat": "31.230416", "lng": "121.473701"}
    )
    page = html(response)
    assert store_names_in_order(page, ["Far", "Middle", "Near"]) == ["Near", "Middle", "Far"]
    assert "111 m" in page
    assert "1.1 km" in page
    assert "11.1 km" in page
    bad = client.get(reverse("stores:store_nearest"), {"lat": "100", "lng": "121"}, headers=EN)
    assert bad.status_code == 422
    assert "Ensure this value is less than or equal to 90." in html(bad)


# --- staff ----------------------------------------------------------------------------------


def test_staff_list_filters_and_role_table(merchant):
    store = make_store(merchant, name="静安寺店")
    make_store_staff(merchant, Role.SHOPPING_GUIDE, store, display_name="张悦")
    make_staff(merchant, Role.FINANCE, display_name="陈静")
    client = staff_client(merchant, Role.OWNER)
    page = html(client.get(reverse("stores:staff_list"), {"role": "shopping_guide"}, headers=EN))
    assert "张悦" in page
    assert "陈静" not in page
    assert "静安寺店" in page
    assert "What each role may do" in page
    assert "Create, edit and close any store" in page
    by_store = html(client.get(reverse("stores:staff_list"), {"store": store.pk}))
    assert "张悦" in by_store
    assert "陈静" not in by_store


def test_add_a_new_person_from_the_form(merchant):
    store = make_store(merchant)
    client = staff_client(merchant, Role.OWNER)
    response = client.post(
        reverse("stores:staff_add"),
        {
            "mode": "new",
            "username": "liu.yang",
            "display_name": "刘洋",
            "phone": "13900001111",
            "password": "Iced-latte-2026",
            "role": "shopping_guide",
            "stores": [str(store.pk)],
        },
    )
    assert response.status_code == 302
    member = Membership.objects.get(merchant=merchant, user__username="liu.yang")
    assert member.role == Role.SHOPPING_GUIDE
    assert StoreStaff.unscoped.filter(membership=member, store=store).exists()
    assert member.user.check_password("Iced-latte-2026")


def test_add_form_shows_errors_and_creates_nobody(merchant):
    client = staff_client(merchant, Role.OWNER)
    response = client.post(
        reverse("stores:staff_add"),
        {
            "mode": "new",
            "username": "x",
            "display_name": "",
            "password": "",
            "role": "store_manager",
        },
        headers=EN,
    )
    assert response.status_code == 422
    page = html(response)
    assert "A new person needs an initial password." in page
    response = client.post(
        reverse("stores:staff_add"),
        {
            "mode": "new",
            "username": "ok.name",
            "display_name": "OK",
            "password": "Iced-latte-2026",
            "role": "store_manager",
        },
        headers=EN,
    )
    assert response.status_code == 422
    assert "A store manager needs at least one store." in html(response)
    assert not User.objects.filter(username="ok.name").exists()


def test_edit_role_stores_and_password(merchant):
    a = make_store(merchant)
    guide = make_store_staff(merchant, Role.SHOPPING_GUIDE, a)
    client = staff_client(merchant, Role.OWNER)
    url = reverse("stores:staff_edit", args=[guide.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"role": "store_manager", "stores": [str(a.pk)], "is_active": "on"})
    assert response.status_code == 302
    guide.refresh_from_db()
    assert guide.role == Role.STORE_MANAGER
    mismatch = client.post(
        reverse("stores:staff_password", args=[guide.pk]),
        {"password": "Mocha-2026-pass", "password_again": "Other-2026-pass"},
        headers=EN,
    )
    assert mismatch.status_code == 422
    assert "The two passwords differ." in html(mismatch)
    ok = client.post(
        reverse("stores:staff_password", args=[guide.pk]),
        {"password": "Mocha-2026-pass", "password_again": "Mocha-2026-pass"},
    )
    assert ok.status_code == 302
    guide.user.refresh_from_db()
    assert guide.user.check_password("Mocha-2026-pass")


def test_owner_cannot_change_their_own_role_from_the_page(merchant):
    client = staff_client(merchant, Role.OWNER)
    me = client.membership
    url = reverse("stores:staff_edit", args=[me.pk])
    assert "disabled" in html(client.get(url))
    response = client.post(url, {"role": "finance", "is_active": ""})
    assert response.status_code == 302  # disabled fields keep their value
    me.refresh_from_db()
    assert me.role == Role.OWNER
    assert me.is_active


def test_pages_are_translated(merchant):
    store = make_store(merchant)
    client = staff_client(merchant, Role.OWNER)
    zh = {"Accept-Language": "zh-hans"}
    assert "门店" in html(client.get(reverse("stores:store_list"), headers=zh))
    assert "营业时间" in html(
        client.get(reverse("stores:store_detail", args=[store.pk]), headers=zh)
    )
    assert "员工与角色" in html(client.get(reverse("stores:staff_list"), headers=zh))
    assert "附近门店" in html(client.get(reverse("stores:store_nearest"), headers=zh))


def test_platform_admin_lists_stores_of_every_merchant(client, merchant, other_merchant):
    make_store(merchant, name="Ours")
    make_store(other_merchant, name="Theirs")
    admin = User.objects.create_superuser("root", "root@example.com", "Admin-pass-2026")
    client.force_login(admin)
    page = html(client.get("/admin/stores/store/"))
    assert "Ours" in page
    assert "Theirs" in page
