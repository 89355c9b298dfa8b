"""Store services: validation, permissions, audit and events, nothing half-written."""

from __future__ import annotations

from decimal import Decimal

import pytest

from siyu.core.actors import Actor
from siyu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from siyu.core.models import AuditEntry, DomainEvent
from siyu.core.permissions import Role
from siyu.core.testing import actor_for
from siyu.stores import services
from siyu.stores.models import Store
from siyu.stores.testing import make_store, store_manager_of

pytestmark = pytest.mark.django_db

VALID = {
    "code": "SH-JA-001",
    "name": "南京西路店",
    "city": "上海市",
    "district": "静安区",
    "address": "南京西路1618号",
    "latitude": "31.2291151",
    "longitude": 121.454906,
    "phone": "021-6288 1234",
    "opening_hours": {"mon": [["07:00", "21:00"]], "sat": [["22:00", "02:00"]]},
}


def test_owner_creates_a_store_with_normalized_fields_audit_and_event(bound):
    actor = actor_for(bound, Role.OPERATOR)
    store = services.create_store(actor, **VALID)
    store.refresh_from_db()
    assert store.latitude == Decimal("31.229115")  # rounded to the column's 6 places
    assert store.longitude == Decimal("121.454906")
    assert store.phone == "+862162881234"
    assert store.opening_hours["mon"] == [["07:00", "21:00"]]
    assert store.opening_hours["sun"] == []
    assert store.status == Store.Status.OPEN
    assert store.pickup_enabled
    entry = AuditEntry.objects.get(action="store.create")
    assert entry.object_id == str(store.pk)
    assert entry.after["code"] == "SH-JA-001"
    event = DomainEvent.objects.get(event_type="stores.store.created")
    assert event.payload["code"] == "SH-JA-001"
    assert event.payload["latitude"] == "31.229115"


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"code": ""}, {"code"}),
        ({"code": "has space"}, {"code"}),
        ({"name": "   "}, {"name"}),
        ({"name": "x" * 101}, {"name"}),
        ({"city": ""}, {"city"}),
        ({"address": ""}, {"address"}),
        ({"latitude": "91"}, {"latitude"}),
        ({"longitude": "east"}, {"longitude"}),
        ({"phone": "12345"}, {"phone"}),
        ({"opening_hours": {"mon": [["21:00", "21:00"]]}}, {"opening_hours.mon.0"}),
        ({"status": "closed"}, {"status"}),
        ({"status": "sleeping"}, {"status"}),
        ({"pickup_enabled": "yes"}, {"pickup_enabled"}),
        ({"name": "", "latitude": 200, "phone": "x"}, {"name", "latitude", "phone"}),
    ],
)
def test_bad_input_names_every_field_and_writes_nothing(bound, changes, fields):
    actor = actor_for(bound, Role.OWNER)
    with pytest.raises(InvalidInput) as exc:
        services.create_store(actor, **{**VALID, **changes})
    assert set(exc.value.fields) == fields
    assert not Store.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="store.").exists()
    assert not DomainEvent.objects.exists()


def test_codes_are_unique_per_merchant_ignoring_case(other_merchant, bound):
    make_store(other_merchant, code="SH-JA-001")  # another merchant may use the same code
    actor = actor_for(bound)
    services.create_store(actor, **VALID)
    with pytest.raises(Conflict) as exc:
        services.create_store(actor, **{**VALID, "code": "sh-ja-001"})
    assert "code" in exc.value.fields
    assert Store.objects.count() == 1


@pytest.mark.parametrize("role", [Role.STORE_MANAGER, Role.SHOPPING_GUIDE, Role.FINANCE])
def test_only_owners_and_operators_create_stores(bound, role):
    with pytest.raises(Forbidden):
        services.create_store(actor_for(bound, role), **VALID)
    assert not Store.objects.exists()


def test_update_changes_only_what_is_given_and_records_before_after(bound):
    store = make_store(bound, name="Old", phone="")
    actor = actor_for(bound, Role.OPERATOR)
    services.update_store(actor, store, {"name": "新天地店", "pickup_enabled": False})
    store.refresh_from_db()
    assert (store.name, store.pickup_enabled, store.city) == ("新天地店", False, "上海市")
    entry = AuditEntry.objects.get(action="store.update")
    assert entry.before["name"] == "Old"
    assert entry.after["name"] == "新天地店"
    event = DomainEvent.objects.get(event_type="stores.store.updated")
    assert event.payload["changed"] == ["name", "pickup_enabled"]


def test_an_unchanged_update_writes_no_audit_and_no_event(bound):
    store = make_store(bound, name="Same")
    services.update_store(actor_for(bound), store, {"name": "Same"})
    assert not AuditEntry.objects.filter(action="store.update").exists()
    assert not DomainEvent.objects.exists()


def test_update_rejects_bad_input_and_a_taken_code(bound):
    store = make_store(bound, code="A1", name="Keep")
    make_store(bound, code="B2")
    actor = actor_for(bound)
    with pytest.raises(InvalidInput) as exc:
        services.update_store(actor, store, {"name": "", "colour": "red"})
    assert set(exc.value.fields) == {"name", "colour"}
    with pytest.raises(Conflict):
        services.update_store(actor, store, {"code": "B2", "name": "Changed"})
    store.refresh_from_db()
    assert (store.code, store.name) == ("A1", "Keep")


def test_store_manager_edits_allowed_fields_of_their_store_only(bound):
    mine, theirs = make_store(bound), make_store(bound)
    manager = store_manager_of(bound, mine)
    services.update_store(
        manager,
        mine,
        {"phone": "13800138000", "status": "temporarily_closed", "pickup_enabled": False},
    )
    mine.refresh_from_db()
    assert (mine.phone, mine.status, mine.pickup_enabled) == (
        "+8613800138000",
        "temporarily_closed",
        False,
    )
    with pytest.raises(Forbidden):
        services.update_store(manager, theirs, {"phone": "13800138000"})
    with pytest.raises(Forbidden) as exc:
        services.update_store(manager, mine, {"name": "Renamed", "latitude": 31.1, "phone": ""})
    assert set(exc.value.fields) == {"name", "latitude"}
    with pytest.raises(Forbidden) as exc:
        services.update_store(manager, mine, {"status": "closed"})
    assert set(exc.value.fields) == {"status"}
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == "temporarily_closed"
    assert mine.phone == "+8613800138000"
    assert theirs.phone == ""


def test_store_manager_cannot_touch_a_store_closed_for_good(bound):
    store = make_store(bound, status=Store.Status.CLOSED)
    with pytest.raises(Forbidden):
        services.update_store(store_manager_of(bound, store), store, {"status": "open"})


@pytest.mark.parametrize("role", [Role.SHOPPING_GUIDE, Role.FINANCE])
def test_guides_and_finance_cannot_update(bound, role):
    store = make_store(bound)
    with pytest.raises(Forbidden):
        services.update_store(actor_for(bound, role), store, {"phone": "13800138000"})


def test_api_key_with_store_manager_role_has_no_stores(bound):
    store = make_store(bound)
    key_actor = Actor(merchant=bound, role=Role.STORE_MANAGER, label="key")
    with pytest.raises(Forbidden):
        services.update_store(key_actor, store, {"phone": "13800138000"})


def test_another_merchants_store_is_not_found(other_merchant, bound):
    theirs = make_store(other_merchant)
    with pytest.raises(NotFound):
        services.update_store(actor_for(bound), theirs, {"name": "Hijacked"})
    with pytest.raises(NotFound):
        services.close_store(actor_for(bound), theirs)
    theirs.refresh_from_db()
    assert theirs.status == Store.Status.OPEN
    assert theirs.name != "Hijacked"


def test_close_is_once_and_reopen_clears_the_date(bound):
    store = make_store(bound)
    actor = actor_for(bound)
    services.close_store(actor, store)
    services.close_store(actor, store)
    store.refresh_from_db()
    assert store.status == Store.Status.CLOSED
    assert store.closed_at is not None
    assert DomainEvent.objects.filter(event_type="stores.store.closed").count() == 1
    assert AuditEntry.objects.filter(action="store.close").count() == 1
    with pytest.raises(Forbidden):
        services.close_store(store_manager_of(bound, store), store)
    services.update_store(actor, store, {"status": "open"})
    store.refresh_from_db()
    assert store.status == Store.Status.OPEN
    assert store.closed_at is None


def test_closing_through_update_emits_closed_too(bound):
    store = make_store(bound)
    services.update_store(actor_for(bound, Role.OPERATOR), store, {"status": "closed"})
    store.refresh_from_db()
    assert store.closed_at is not None
    assert list(DomainEvent.objects.values_list("event_type", flat=True)) == [
        "stores.store.updated",
        "stores.store.closed",
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("021-6288 1234", "+862162881234"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("400-820-0000", "+864008200000"),
        ("", ""),
        ("  ", ""),
        ("12345", None),
        ("call us", None),
    ],
)
def test_phone_numbers_are_e164(raw, expected):
    assert services.normalize_phone(raw) == expected
