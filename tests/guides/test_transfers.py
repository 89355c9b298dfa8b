"""Transfers: the limit within the window, departures, groups, messages and history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import translation

from siyu.community.models import CommunityGroup, Conversation, Message
from siyu.core import clock
from siyu.core.errors import Forbidden, InvalidInput
from siyu.core.models import DomainEvent
from siyu.core.permissions import Role
from siyu.core.testing import actor_for, make_staff
from siyu.customers.models import Customer, TimelineEntry
from siyu.customers.testing import make_customer
from siyu.guides import services, transfers
from siyu.guides.models import OwnershipChange, Transfer

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(bound):
    return {
        "li": make_staff(bound, Role.SHOPPING_GUIDE, display_name="Li"),
        "wang": make_staff(bound, Role.SHOPPING_GUIDE, display_name="Wang"),
        "zhao": make_staff(bound, Role.SHOPPING_GUIDE, display_name="Zhao"),
        "operator": actor_for(bound, Role.OPERATOR),
    }


def owned_by(merchant, guide, n=1, **fields):
    customers = [make_customer(merchant, **fields) for _ in range(n)]
    for customer in customers:
        services.bind_to_guide(customer, guide, kind="bound")
    return customers


def past_transfers(customer, guide_from, guide_to, days_ago):
    for days in days_ago:
        OwnershipChange.objects.create(
            customer=customer,
            from_guide=guide_from,
            to_guide=guide_to,
            kind="transfer",
            changed_at=clock.now() - timedelta(days=days),
        )


def move(team, kind="in_service", **kwargs):
    defaults = {"from_guide": team["li"], "to_guide": team["wang"], "reason": "store closed"}
    defaults.update(kwargs)
    return services.transfer_customers(team["operator"], kind=kind, **defaults)


def test_all_customers_move_with_history_messages_and_events(bound, team):
    customers = owned_by(bound, team["li"], 3)
    transfer = move(team, message="Hello, I am Wang, your new guide.")
    assert (transfer.status, transfer.customers_moved, transfer.customers_refused) == (
        "done",
        3,
        0,
    )
    assert set(Customer.objects.filter(owner_guide=team["wang"]).values_list("pk", flat=True)) == {
        c.pk for c in customers
    }
    changes = OwnershipChange.objects.filter(transfer=transfer)
    assert changes.count() == 3
    assert {c.kind for c in changes} == {"transfer"}
    assert all(c.from_guide_id == team["li"].pk for c in changes)
    entry = TimelineEntry.objects.filter(customer=customers[0], kind="transferred").first()
    assert entry.data["to_guide"] == "Wang"
    assert entry.data["from_guide"] == "Li"
    for customer in customers:
        chat = Conversation.objects.get(kind="direct", customer=customer, staff=team["wang"])
        message = Message.objects.get(conversation=chat)
        assert message.text == "Hello, I am Wang, your new guide."
        assert message.sender_staff_id == team["wang"].pk
    assert DomainEvent.unscoped.filter(event_type="guides.customer.transferred").count() == 3


def test_third_transfer_within_the_window_is_refused_with_reason(bound, team):
    tired, fresh = owned_by(bound, team["li"], 2)
    past_transfers(tired, team["zhao"], team["li"], [10, 40])
    transfer = move(team)
    assert transfer.customers_moved == 1
    assert transfer.customers_refused == 1
    assert Customer.objects.get(pk=tired.pk).owner_guide_id == team["li"].pk  # stays
    assert Customer.objects.get(pk=fresh.pk).owner_guide_id == team["wang"].pk
    [refusal] = transfer.refused
    assert refusal["customer_id"] == tired.pk
    assert refusal["transfers"] == 2
    assert refusal["reason"] == "transfer_limit"
    assert refusal["released"] is False


def test_transfers_outside_the_window_do_not_count(bound, team):
    [customer] = owned_by(bound, team["li"])
    past_transfers(customer, team["zhao"], team["li"], [10, 91])
    transfer = move(team)
    assert transfer.customers_moved == 1
    assert transfer.customers_refused == 0


def test_settings_change_the_rule(bound, team):
    [customer] = owned_by(bound, team["li"])
    past_transfers(customer, team["zhao"], team["li"], [10, 40])
    services.update_settings(team["operator"], {"transfer_limit": 3})
    assert move(team).customers_moved == 1
    # ... and a shorter window lets older transfers fall out of it
    [other] = owned_by(bound, team["zhao"])
    past_transfers(other, team["li"], team["zhao"], [5, 20, 25])
    services.update_settings(team["operator"], {"transfer_window_days": 15})
    transfer = move(team, from_guide=team["zhao"])
    assert transfer.customers_moved == 1


def test_a_customer_moved_twice_is_refused_the_third_time(bound, team):
    [customer] = owned_by(bound, team["li"])
    move(team)
    move(team, from_guide=team["wang"], to_guide=team["zhao"])
    third = move(team, from_guide=team["zhao"], to_guide=team["li"])
    assert third.customers_refused == 1
    assert Customer.objects.get(pk=customer.pk).owner_guide_id == team["zhao"].pk


def test_departure_releases_customers_over_the_limit(bound, team):
    tired, fresh = owned_by(bound, team["li"], 2)
    past_transfers(tired, team["zhao"], team["li"], [1, 2])
    with translation.override("en"):
        transfer = move(team, kind="departure", reason="Li left the company")
    assert transfer.customers_moved == 1
    assert transfer.customers_refused == 1
    assert transfer.refused[0]["released"] is True
    tired.refresh_from_db()
    assert tired.owner_guide_id is None
    assert tired.owner_since is None
    release = OwnershipChange.objects.get(customer=tired, kind="released")
    assert release.transfer_id == transfer.pk
    assert "limit 2" in release.reason
    assert not Customer.objects.filter(owner_guide=team["li"]).exists()
    assert Customer.objects.get(pk=fresh.pk).owner_guide_id == team["wang"].pk


def test_groups_move_unless_left_out(bound, team):
    owned_by(bound, team["li"], 1)
    group = CommunityGroup.objects.create(name="Store 1 fans", owner=team["li"])
    other = CommunityGroup.objects.create(name="Store 2 fans", owner=team["zhao"])
    assert move(team).groups_moved == 1
    assert CommunityGroup.objects.get(pk=group.pk).owner_id == team["wang"].pk
    assert CommunityGroup.objects.get(pk=other.pk).owner_id == team["zhao"].pk
    owned_by(bound, team["zhao"], 1)
    kept = move(team, from_guide=team["zhao"], include_groups=False)
    assert kept.groups_moved == 0
    assert CommunityGroup.objects.get(pk=other.pk).owner_id == team["zhao"].pk


def test_chosen_customers_only(bound, team):
    first, second, third = owned_by(bound, team["li"], 3)
    transfer = move(team, customer_ids=[first.pk, third.pk])
    assert transfer.customers_moved == 2
    assert Customer.objects.get(pk=second.pk).owner_guide_id == team["li"].pk


def test_bad_requests_name_the_field_and_write_nothing(bound, team):
    [mine] = owned_by(bound, team["li"])
    [theirs] = owned_by(bound, team["zhao"])
    cases = [
        ({"to_guide": team["li"]}, "to_guide"),
        ({"reason": ""}, "reason"),
        ({"kind": "holiday"}, "kind"),
        ({"message": "x" * 501}, "message"),
        ({"customer_ids": [mine.pk, theirs.pk]}, "customer_ids"),
        ({"customer_ids": ["one"]}, "customer_ids"),
        ({"customer_ids": []}, "customer_ids"),
    ]
    for changes, field in cases:
        kind = changes.pop("kind", "in_service")
        with pytest.raises(InvalidInput) as refused:
            move(team, kind=kind, **changes)
        assert field in refused.value.fields, changes
    team["wang"].is_active = False
    team["wang"].save()
    with pytest.raises(InvalidInput) as inactive:
        move(team)
    assert "to_guide" in inactive.value.fields
    assert not Transfer.objects.exists()
    assert Customer.objects.get(pk=mine.pk).owner_guide_id == team["li"].pk


def test_nothing_to_transfer_and_guides_may_not(bound, team):
    with pytest.raises(InvalidInput) as empty:
        move(team)
    assert "from_guide" in empty.value.fields
    owned_by(bound, team["li"])
    with pytest.raises(Forbidden):
        services.transfer_customers(
            actor_for(bound, Role.SHOPPING_GUIDE),
            from_guide=team["li"],
            to_guide=team["wang"],
            kind="in_service",
            reason="mine now",
        )


def test_large_transfer_runs_in_batches_and_records_progress(
    bound, team, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(transfers, "SYNC_LIMIT", 2)
    monkeypatch.setattr(transfers, "BATCH", 2)
    customers = owned_by(bound, team["li"], 5)
    past_transfers(customers[2], team["zhao"], team["li"], [3, 4])
    with django_capture_on_commit_callbacks(execute=True):
        transfer = move(team)  # queued; the immediate backend runs it on commit
    assert transfer.status == "queued"
    transfer.refresh_from_db()
    assert transfer.status == "done"
    assert (transfer.total, transfer.processed) == (5, 5)
    assert (transfer.customers_moved, transfer.customers_refused) == (4, 1)
    assert transfer.last_customer_id == max(c.pk for c in customers)
    # a finished transfer run again changes nothing
    assert transfers.run_transfer(transfer.pk).customers_moved == 4
    assert OwnershipChange.objects.filter(transfer=transfer).count() == 4
