"""Staff services: adding people, roles, stores, (de)activation, passwords, and every guard."""

from __future__ import annotations

import pytest

from siyu.core.actors import Actor
from siyu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from siyu.core.models import AuditEntry, DomainEvent, Membership, User
from siyu.core.permissions import Role
from siyu.core.testing import actor_for, make_staff, make_user
from siyu.stores import staff
from siyu.stores.models import Store, StoreStaff
from siyu.stores.testing import make_store, make_store_staff

pytestmark = pytest.mark.django_db

NEW_PERSON = {
    "username": "zhang.yue",
    "display_name": "张悦",
    "phone": "138 0013 8000",
    "email": "zhang.yue@example.com",
    "password": "Latte-art-2026",
}


def store_ids(membership: Membership) -> set[int]:
    return set(StoreStaff.unscoped.filter(membership=membership).values_list("store_id", flat=True))


def test_owner_adds_a_new_shopping_guide_at_two_stores(bound):
    a, b = make_store(bound), make_store(bound)
    owner = actor_for(bound)
    membership = staff.add_staff(owner, role=Role.SHOPPING_GUIDE, stores=[a.pk, b.pk], **NEW_PERSON)
    user = membership.user
    assert user.check_password("Latte-art-2026")
    assert (user.display_name, user.phone, user.email) == (
        "张悦",
        "+8613800138000",
        "zhang.yue@example.com",
    )
    assert membership.role == Role.SHOPPING_GUIDE
    assert membership.merchant == bound
    assert store_ids(membership) == {a.pk, b.pk}
    entry = AuditEntry.objects.get(action="staff.add")
    assert entry.after == {
        "username": "zhang.yue",
        "role": "shopping_guide",
        "is_active": True,
        "stores": sorted([a.pk, b.pk]),
    }
    assert "password" not in str(entry.after)
    event = DomainEvent.objects.get(event_type="staff.member.added")
    assert event.payload["id"] == membership.pk
    assert event.payload["stores"] == sorted([a.pk, b.pk])


def test_an_existing_account_joins_without_its_profile_or_password_changing(other_merchant, bound):
    person = make_user("li.na", password="Her-own-pass-99", display_name="李娜")
    make_staff(other_merchant, Role.OWNER, user=person)
    membership = staff.add_staff(actor_for(bound), username="LI.NA", role=Role.FINANCE)
    person.refresh_from_db()
    assert membership.user == person
    assert membership.role == Role.FINANCE
    assert person.check_password("Her-own-pass-99")
    assert person.display_name == "李娜"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"username": "ab"}, "username"),
        ({"username": "has space"}, "username"),
        ({"display_name": ""}, "display_name"),
        ({"phone": "12345"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "password123"}, "password"),  # too common
        ({"role": "barista"}, "role"),
        ({"stores": [999_999]}, "stores"),
        ({"role": Role.OPERATOR, "stores": "STORE"}, "stores"),
        ({"role": Role.STORE_MANAGER}, "stores"),  # a store manager needs a store
    ],
)
def test_bad_input_names_the_field_and_creates_nobody(bound, changes, field):
    data = {**NEW_PERSON, "role": Role.SHOPPING_GUIDE, **changes}
    if changes.get("stores") == "STORE":
        data["stores"] = [make_store(bound).pk]  # operators work at no store
    with pytest.raises(InvalidInput) as exc:
        staff.add_staff(actor_for(bound), **data)
    assert field in exc.value.fields
    assert not User.objects.filter(username="zhang.yue").exists()
    assert not AuditEntry.objects.filter(action="staff.add").exists()


def test_usernames_and_memberships_are_not_taken_twice(bound):
    owner = actor_for(bound)
    staff.add_staff(owner, role=Role.FINANCE, **NEW_PERSON)
    with pytest.raises(InvalidInput) as exc:  # new account with a taken name
        staff.add_staff(owner, role=Role.FINANCE, **{**NEW_PERSON, "username": "Zhang.Yue"})
    assert "username" in exc.value.fields
    with pytest.raises(InvalidInput) as exc:  # existing account already on the staff
        staff.add_staff(owner, role=Role.FINANCE, username="zhang.yue")
    assert "username" in exc.value.fields
    with pytest.raises(InvalidInput) as exc:  # no such account
        staff.add_staff(owner, role=Role.FINANCE, username="nobody.here")
    assert "username" in exc.value.fields
    assert Membership.objects.filter(merchant=bound).count() == 2  # owner + finance


def test_stores_of_another_merchant_or_closed_ones_are_refused(other_merchant, bound):
    theirs = make_store(other_merchant)
    closed = make_store(bound, status=Store.Status.CLOSED)
    owner = actor_for(bound)
    for store in (theirs, closed):
        with pytest.raises(InvalidInput) as exc:
            staff.add_staff(owner, role=Role.SHOPPING_GUIDE, stores=[store.pk], **NEW_PERSON)
        assert "stores" in exc.value.fields


@pytest.mark.parametrize(
    "role", [Role.OPERATOR, Role.STORE_MANAGER, Role.SHOPPING_GUIDE, Role.FINANCE]
)
def test_only_staff_managers_manage_staff(bound, role):
    actor = actor_for(bound, role)
    target = make_staff(bound, Role.FINANCE)
    with pytest.raises(Forbidden):
        staff.add_staff(actor, role=Role.FINANCE, **NEW_PERSON)
    with pytest.raises(Forbidden):
        staff.update_staff(actor, target, role=Role.OPERATOR)
    with pytest.raises(Forbidden):
        staff.reset_password(actor, target, "A-new-pass-2026")
    target.refresh_from_db()
    assert target.role == Role.FINANCE


def test_roles_are_granted_only_from_the_grantable_set(bound, monkeypatch):
    # a role that may manage staff but grant nothing (as an operator would, if allowed)
    monkeypatch.setitem(staff.GRANTABLE_ROLES, Role.OWNER, frozenset({Role.SHOPPING_GUIDE}))
    owner = actor_for(bound)
    with pytest.raises(Forbidden) as exc:
        staff.add_staff(owner, role=Role.OPERATOR, **NEW_PERSON)
    assert "role" in exc.value.fields
    guide = make_staff(bound, Role.SHOPPING_GUIDE)
    with pytest.raises(Forbidden):
        staff.update_staff(owner, guide, role=Role.OPERATOR)
    finance = make_staff(bound, Role.FINANCE)
    with pytest.raises(Forbidden):  # may not touch someone whose role it could not grant
        staff.update_staff(owner, finance, is_active=False)


def test_change_role_and_stores_with_audit_and_event(bound):
    a, b, c = make_store(bound), make_store(bound), make_store(bound)
    guide = make_store_staff(bound, Role.SHOPPING_GUIDE, a, b)
    staff.update_staff(actor_for(bound), guide, role=Role.STORE_MANAGER, stores=[b.pk, c.pk])
    guide.refresh_from_db()
    assert guide.role == Role.STORE_MANAGER
    assert store_ids(guide) == {b.pk, c.pk}
    entry = AuditEntry.objects.get(action="staff.update")
    assert entry.before["stores"] == sorted([a.pk, b.pk])
    assert entry.after["stores"] == sorted([b.pk, c.pk])
    assert entry.after["role"] == "store_manager"
    assert DomainEvent.objects.get(event_type="staff.member.updated").payload["role"] == (
        "store_manager"
    )


def test_a_role_without_stores_drops_them_and_a_store_manager_keeps_one(bound):
    a = make_store(bound)
    manager = make_store_staff(bound, Role.STORE_MANAGER, a)
    owner = actor_for(bound)
    with pytest.raises(InvalidInput) as exc:
        staff.update_staff(owner, manager, stores=[])
    assert "stores" in exc.value.fields
    staff.update_staff(owner, manager, role=Role.OPERATOR)
    assert store_ids(manager) == set()
    finance = make_staff(bound, Role.FINANCE)
    with pytest.raises(InvalidInput):  # becoming a store manager needs a store
        staff.update_staff(owner, finance, role=Role.STORE_MANAGER)
    staff.update_staff(owner, finance, role=Role.STORE_MANAGER, stores=[a.pk])
    assert store_ids(finance) == {a.pk}


def test_nobody_changes_their_own_role_or_deactivates_themselves(bound):
    me = make_staff(bound, Role.OWNER)
    make_staff(bound, Role.OWNER)  # not the last owner: the self-rule alone must refuse
    actor = Actor.for_membership(me)
    with pytest.raises(Forbidden) as exc:
        staff.update_staff(actor, me, role=Role.OPERATOR)
    assert "role" in exc.value.fields
    with pytest.raises(Forbidden) as exc:
        staff.update_staff(actor, me, is_active=False)
    assert "is_active" in exc.value.fields
    me.refresh_from_db()
    assert me.role == Role.OWNER
    assert me.is_active


def test_the_last_active_owner_stays(bound):
    only_owner = make_staff(bound, Role.OWNER)
    inactive_owner = make_staff(bound, Role.OWNER)
    inactive_owner.is_active = False
    inactive_owner.save()
    key = Actor(merchant=bound, role=Role.OWNER, label="owner key")  # not the owner themselves
    with pytest.raises(Conflict) as exc:
        staff.update_staff(key, only_owner, role=Role.OPERATOR)
    assert "role" in exc.value.fields
    with pytest.raises(Conflict) as exc:
        staff.deactivate_staff(key, only_owner)
    assert "is_active" in exc.value.fields
    # with a second active owner, one of them may go
    staff.reactivate_staff(key, inactive_owner)
    staff.deactivate_staff(key, only_owner)
    only_owner.refresh_from_db()
    assert not only_owner.is_active
    assert AuditEntry.objects.filter(action="staff.deactivate").count() == 1
    assert DomainEvent.objects.filter(event_type="staff.member.deactivated").count() == 1
    with pytest.raises(Conflict):
        staff.update_staff(key, inactive_owner, role=Role.FINANCE)


def test_deactivate_and_reactivate(bound):
    guide = make_staff(bound, Role.SHOPPING_GUIDE)
    owner = actor_for(bound)
    staff.deactivate_staff(owner, guide)
    staff.deactivate_staff(owner, guide)  # twice: nothing more happens
    guide.refresh_from_db()
    assert not guide.is_active
    assert guide.user.is_active
    staff.reactivate_staff(owner, guide)
    guide.refresh_from_db()
    assert guide.is_active
    assert list(
        AuditEntry.objects.filter(action__startswith="staff.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["staff.deactivate", "staff.reactivate"]


def test_another_merchants_staff_is_not_found(other_merchant, bound):
    theirs = make_staff(other_merchant, Role.SHOPPING_GUIDE)
    with pytest.raises(NotFound):
        staff.update_staff(actor_for(bound), theirs, is_active=False)
    with pytest.raises(NotFound):
        staff.reset_password(actor_for(bound), theirs, "A-new-pass-2026")
    theirs.refresh_from_db()
    assert theirs.is_active


def test_reset_password(bound):
    guide = make_staff(bound, Role.SHOPPING_GUIDE)
    owner = actor_for(bound)
    with pytest.raises(InvalidInput) as exc:
        staff.reset_password(owner, guide, "123")
    assert "password" in exc.value.fields
    staff.reset_password(owner, guide, "Flat-white-2026")
    guide.user.refresh_from_db()
    assert guide.user.check_password("Flat-white-2026")
    entry = AuditEntry.objects.get(action="staff.password_reset")
    assert entry.before is None
    assert entry.after is None


def test_a_shared_account_keeps_its_password(other_merchant, bound):
    person = make_user(password="Her-own-pass-99")
    make_staff(other_merchant, Role.OWNER, user=person)
    here = make_staff(bound, Role.SHOPPING_GUIDE, user=person)
    with pytest.raises(Forbidden) as exc:
        staff.reset_password(actor_for(bound), here, "Taken-over-2026")
    assert "password" in exc.value.fields
    person.refresh_from_db()
    assert person.check_password("Her-own-pass-99")
