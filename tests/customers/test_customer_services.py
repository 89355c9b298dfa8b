"""Customer accounts: get-or-create, staff changes (roles, audit, events), the profile."""

from __future__ import annotations

import pytest

from siyu.core.errors import Forbidden, InvalidInput
from siyu.core.models import AuditEntry, DomainEvent
from siyu.core.permissions import Role
from siyu.core.testing import actor_for
from siyu.customers import services
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer


def events(event_type: str) -> list[DomainEvent]:
    return list(DomainEvent.unscoped.filter(event_type=event_type).order_by("id"))


def test_get_or_create_customer_is_idempotent(merchant, owner):
    first = services.get_or_create_customer(
        merchant, "138 1234 5678", actor=owner, name="王小明", join_channel="guide"
    )
    again = services.get_or_create_customer(merchant, "+8613812345678", name="Somebody else")
    assert again.pk == first.pk
    assert again.name == "王小明"
    assert first.join_channel == "guide"
    assert len(events("customers.customer.created")) == 1
    entry = AuditEntry.unscoped.get(action="customer.create")
    assert entry.actor_user == owner.user


def test_get_or_create_customer_refuses_bad_input(merchant):
    with pytest.raises(InvalidInput) as caught:
        services.get_or_create_customer(merchant, "12", name="x")
    assert set(caught.value.fields) == {"phone"}
    with pytest.raises(InvalidInput) as fields:
        services.get_or_create_customer(merchant, "13812345678", name="名" * 81, status="blocked")
    assert set(fields.value.fields) == {"name", "status"}
    assert not Customer.unscoped.exists()


def test_the_same_phone_is_two_customers_at_two_merchants(merchant, other_merchant):
    mine = make_customer(merchant, "+8613812345678")
    theirs = make_customer(other_merchant, "+8613812345678")
    assert mine.pk != theirs.pk


def test_staff_block_and_unblock_with_audit_and_events(customer, owner):
    services.block_customer(owner, customer)
    customer.refresh_from_db()
    assert customer.is_blocked
    services.unblock_customer(owner, customer)
    customer.refresh_from_db()
    assert not customer.is_blocked
    actions = list(
        AuditEntry.unscoped.filter(object_type="customers.customer")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["customer.create", "customer.block", "customer.unblock"]
    assert len(events("customers.customer.blocked")) == 1
    assert len(events("customers.customer.unblocked")) == 1
    assert [e.payload["changed"] for e in events("customers.customer.updated")] == [
        ["status"],
        ["status"],
    ]


def test_an_unchanged_value_writes_nothing(customer, owner):
    services.update_customer(owner, customer, name=customer.name)
    assert not AuditEntry.unscoped.filter(action="customer.update").exists()


@pytest.mark.parametrize("role", [Role.STORE_MANAGER, Role.SHOPPING_GUIDE, Role.FINANCE])
def test_roles_without_customers_manage_cannot_change_customers(merchant, customer, role):
    with pytest.raises(Forbidden):
        services.block_customer(actor_for(merchant, role), customer)
    customer.refresh_from_db()
    assert not customer.is_blocked


def test_operators_may(merchant, customer):
    services.update_customer(actor_for(merchant, Role.OPERATOR), customer, name="Wang")
    customer.refresh_from_db()
    assert customer.name == "Wang"


def test_bad_staff_input_is_refused(customer, owner):
    with pytest.raises(InvalidInput) as caught:
        services.update_customer(owner, customer, status="deleted", name="x" * 81)
    assert set(caught.value.fields) == {"status", "name"}


def test_the_customer_changes_their_own_name(customer):
    services.update_profile(customer, name="  小明 ", ip="203.0.113.9")
    customer.refresh_from_db()
    assert customer.name == "小明"
    entry = AuditEntry.unscoped.get(action="customer.update")
    assert entry.actor_label.startswith("customer 138 1234 5678")
    assert entry.actor_user is None
