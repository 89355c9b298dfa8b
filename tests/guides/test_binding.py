"""bind_to_guide: one owner at a time, idempotent, history, timeline and event."""

from __future__ import annotations

import pytest

from siyu.core.errors import InvalidInput, NotFound
from siyu.core.models import DomainEvent, Membership
from siyu.core.permissions import Role
from siyu.core.testing import actor_for, make_staff, make_user
from siyu.customers.models import Customer, TimelineEntry
from siyu.customers.testing import make_customer
from siyu.guides import services
from siyu.guides.models import OwnershipChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def guides(bound):
    return (
        make_staff(bound, Role.SHOPPING_GUIDE, display_name="Xiao Li"),
        make_staff(bound, Role.SHOPPING_GUIDE, display_name="Xiao Wang"),
    )


def test_first_scan_binds_and_records_history(bound, guides):
    li, _wang = guides
    customer = make_customer(bound)
    assert services.bind_to_guide(customer, li, kind="bound", state="guide_card") is True
    customer.refresh_from_db()
    assert customer.owner_guide_id == li.pk
    assert customer.owner_since is not None
    change = OwnershipChange.objects.get(customer=customer)
    assert (change.kind, change.to_guide_id, change.from_guide_id, change.state) == (
        "bound",
        li.pk,
        None,
        "guide_card",
    )
    entry = TimelineEntry.objects.get(customer=customer, kind="transferred")
    assert entry.data["to_guide"] == "Xiao Li"
    event = DomainEvent.unscoped.get(event_type="guides.customer.bound")
    assert event.payload["guide_id"] == li.pk
    assert event.payload["customer_id"] == customer.pk


def test_same_guide_again_writes_nothing(bound, guides):
    li, _ = guides
    customer = make_customer(bound)
    services.bind_to_guide(customer, li, kind="bound")
    assert services.bind_to_guide(customer, li, kind="bound") is True
    assert OwnershipChange.objects.filter(customer=customer).count() == 1
    assert DomainEvent.unscoped.filter(event_type="guides.customer.bound").count() == 1


def test_another_guides_code_does_not_steal(bound, guides):
    li, wang = guides
    customer = make_customer(bound)
    services.bind_to_guide(customer, li, kind="bound")
    assert services.bind_to_guide(customer, wang, kind="bound") is False
    assert services.bind_to_guide(customer, wang, kind="imported") is False
    assert Customer.objects.get(pk=customer.pk).owner_guide_id == li.pk
    assert OwnershipChange.objects.filter(customer=customer).count() == 1


def test_assignment_replaces_the_owner(bound, guides):
    li, wang = guides
    customer = make_customer(bound)
    services.bind_to_guide(customer, li, kind="bound")
    actor = actor_for(bound, Role.OPERATOR)
    assert services.assign_guide(actor, customer, wang, "Li moved to another store") is True
    customer.refresh_from_db()
    assert customer.owner_guide_id == wang.pk
    latest = OwnershipChange.objects.filter(customer=customer).first()
    assert (latest.kind, latest.from_guide_id, latest.to_guide_id) == ("assigned", li.pk, wang.pk)
    assert latest.reason == "Li moved to another store"


def test_inactive_or_foreign_guide_is_refused(other_merchant, bound, guides):
    li, _ = guides
    customer = make_customer(bound)
    li.is_active = False
    li.save()
    with pytest.raises(InvalidInput) as refused:
        services.bind_to_guide(customer, li, kind="bound")
    assert "guide" in refused.value.fields
    stranger = Membership.objects.create(
        user=make_user(), merchant=other_merchant, role=Role.SHOPPING_GUIDE
    )
    with pytest.raises(NotFound):
        services.bind_to_guide(customer, stranger, kind="bound")
    with pytest.raises(InvalidInput):
        services.bind_to_guide(customer, guides[1], kind="nonsense")
    assert not OwnershipChange.objects.exists()


def test_guide_settings_created_once_and_window(bound):
    first = services.guide_settings(bound)
    assert services.guide_settings(bound).pk == first.pk
    assert services.attribution_window(bound).days == 7


def test_settings_update_validates_every_field(bound):
    actor = actor_for(bound, Role.OPERATOR)
    with pytest.raises(InvalidInput) as refused:
        services.update_settings(actor, {"transfer_limit": "0", "dormant_days": "x"})
    assert set(refused.value.fields) == {"transfer_limit", "dormant_days"}
    assert services.guide_settings(bound).transfer_limit == 2
    services.update_settings(actor, {"transfer_limit": 3, "attribution_window_days": "14"})
    assert services.guide_settings(bound).transfer_limit == 3
    assert services.attribution_window(bound).days == 14
