"""CRM core: timeline rendering and pruning, consent, profile fields, identities, notes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import translation

from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from siyu.core.models import AuditEntry, DomainEvent, Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for
from siyu.customers import consent, profile, timeline
from siyu.customers.models import Consent, Customer, CustomerIdentity, TimelineEntry
from siyu.customers.testing import make_customer
from siyu.stores.testing import make_store

Kind = TimelineEntry.Kind

SAMPLES: dict[str, tuple[dict, str]] = {
    Kind.CREATED: ({"channel": "store_qr"}, "Became a customer (channel: Store QR code)"),
    Kind.SCANNED: (
        {"code_id": 3, "code_name": "Door poster", "group_name": "静安店 1 群"},
        "Scanned “Door poster” → 静安店 1 群",
    ),
    Kind.JOINED: ({"group_id": 1, "group_name": "静安店 1 群"}, "Joined the group “静安店 1 群”"),
    Kind.LEFT: (
        {"group_id": 1, "group_name": "静安店 1 群", "reason": "removed"},
        "Removed from the group “静安店 1 群”",
    ),
    Kind.ORDERED: (
        {"order_id": 9, "number": "LC0001", "total": 3250},
        "Placed order LC0001 (¥32.50)",
    ),
    Kind.PAID: ({"order_id": 9, "number": "LC0001", "total": 3250}, "Paid order LC0001 (¥32.50)"),
    Kind.REFUNDED: (
        {"order_id": 9, "number": "LC0001", "amount": 1200},
        "Refund of ¥12.00 on order LC0001",
    ),
    Kind.MESSAGED: (
        {"broadcast_id": 4, "title": "New autumn latte", "channel": "inbox"},
        "Received “New autumn latte” (Shop messages)",
    ),
    Kind.TAGGED: (
        {"tag_id": 2, "tag_name": "Oat milk", "group_name": "Taste"},
        "Tagged “Taste: Oat milk”",
    ),
    Kind.UNTAGGED: ({"tag_id": 2, "tag_name": "VIP"}, "Tag “VIP” removed"),
    Kind.TRANSFERRED: (
        {"from_guide": "Ann", "to_guide": "Bo", "reason": "Ann left"},
        "Guide changed from Ann to Bo · Ann left",
    ),
    Kind.CONSENT: ({"channel": "sms", "status": "refused"}, "Refused marketing by SMS"),
    Kind.NOTE: ({"note_id": 1, "text": "Prefers oat milk"}, "Note: Prefers oat milk"),
    Kind.PROFILE: ({"changed": ["birthday", "city"]}, "Profile changed: birthday, city"),
    Kind.IMPORTED: ({"import_id": 1, "file_name": "members.csv"}, "Imported from members.csv"),
}


def test_every_kind_has_a_rendering() -> None:
    assert set(SAMPLES) == set(Kind.values)


@pytest.mark.parametrize("kind", list(Kind.values))
def test_timeline_describes_every_kind(kind: str) -> None:
    data, expected = SAMPLES[kind]
    assert timeline.describe(kind, data) == expected


@pytest.mark.parametrize("kind", list(Kind.values))
def test_timeline_describes_every_kind_in_chinese_and_with_missing_data(kind: str) -> None:
    data, english = SAMPLES[kind]
    with translation.override("zh-hans"):
        chinese = timeline.describe(kind, data)
    assert chinese
    assert chinese != english
    assert timeline.describe(kind, {})  # never fails on data an older writer did not give


def test_record_and_record_many_and_prune(merchant: Merchant, customer: Customer) -> None:
    old = clock.now() - timedelta(days=800)
    with merchant_context(merchant):
        timeline.record(customer, Kind.NOTE, {"text": "old"}, at=old)
        fresh = timeline.record(customer.pk, Kind.NOTE, {"text": "new"}, actor="Ann")
        assert timeline.record_many([(customer.pk, Kind.TAGGED, {"tag_name": "VIP"})] * 3) == 3
        with pytest.raises(ValueError, match="unknown timeline kind"):
            timeline.record(customer, "exploded")
    assert fresh.actor == "Ann"
    assert fresh.merchant_id == merchant.pk
    before = TimelineEntry.unscoped.filter(customer=customer).count()
    assert timeline.prune(days=730) == 1
    assert TimelineEntry.unscoped.filter(customer=customer).count() == before - 1
    assert not TimelineEntry.unscoped.filter(data__text="old").exists()


# --- consent -------------------------------------------------------------------------------


def test_refusal_is_honoured_and_can_be_lifted(
    merchant: Merchant, customer: Customer, owner: Actor
) -> None:
    other = make_customer(merchant)
    with merchant_context(merchant):
        assert not consent.refuses(customer, "inbox")
        consent.set_consent(customer, "inbox", "refused", source="storefront", actor="customer")
        assert consent.refuses(customer, "inbox")
        assert consent.refuses(customer.pk, "inbox")
        assert not consent.refuses(customer, "sms")
        assert list(Customer.objects.exclude(pk__in=consent.refused_customer_ids("inbox"))) == [
            other
        ]
        assert set(consent.refused_customer_ids("inbox").values_list("customer_id", flat=True)) == {
            customer.pk
        }
        # the same answer again writes nothing
        consent.set_consent(customer, "inbox", "refused", source="storefront", actor="customer")
        consent.set_consent(customer, "inbox", "granted", source="console", actor=owner)
        assert not consent.refuses(customer, "inbox")
        assert consent.consents_of(customer)["inbox"] == "granted"
    assert TimelineEntry.unscoped.filter(customer=customer, kind=Kind.CONSENT).count() == 2
    events = DomainEvent.unscoped.filter(event_type="customers.consent.changed")
    assert events.count() == 2
    assert AuditEntry.unscoped.filter(action="customer.consent").count() == 1  # staff only


def test_consent_rejects_unknown_channel_and_status(merchant: Merchant, customer: Customer) -> None:
    with pytest.raises(InvalidInput) as caught:
        consent.set_consent(customer, "pigeon", "maybe", source="x")
    assert set(caught.value.fields) == {"channel", "status"}
    assert not Consent.unscoped.exists()


def test_consent_of_another_merchant_is_not_seen(
    merchant: Merchant, other_merchant: Merchant, customer: Customer
) -> None:
    rival = make_customer(other_merchant)
    consent.set_consent(rival, "sms", "refused", source="storefront")
    with merchant_context(merchant):
        assert not consent.refused_customer_ids("sms").exists()


# --- profile -----------------------------------------------------------------------------


def test_profile_update_keeps_birth_month_and_writes_timeline(
    merchant: Merchant, customer: Customer, owner: Actor
) -> None:
    store = make_store(merchant)
    row = profile.update_profile(
        owner, customer, gender="female", birthday="1991-05-17", city="上海", home_store=store.pk
    )
    assert (row.gender, row.birthday, row.birth_month, row.city, row.home_store_id) == (
        "female",
        date(1991, 5, 17),
        5,
        "上海",
        store.pk,
    )
    entry = TimelineEntry.unscoped.get(customer=customer, kind=Kind.PROFILE)
    assert entry.data["changed"] == ["birthday", "city", "gender", "home_store"]
    assert AuditEntry.unscoped.filter(action="customer.profile").count() == 1
    # clearing the birthday clears the month; nothing else changes
    row = profile.update_profile(owner, customer, birthday="")
    assert row.birthday is None
    assert row.birth_month is None
    # the same values again write nothing
    profile.update_profile(owner, customer, city="上海")
    assert TimelineEntry.unscoped.filter(customer=customer, kind=Kind.PROFILE).count() == 2


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"birthday": "17/05/1991"}, "birthday", "YYYY-MM-DD"),
        ({"birthday": "2999-01-01"}, "birthday", "future"),
        ({"birthday": "1850-01-01"}, "birthday", "1900"),
        ({"gender": "robot"}, "gender", "female"),
        ({"city": "x" * 41}, "city", "40"),
        ({"colour": "blue"}, "colour", "Unknown"),
    ],
)
def test_profile_validation(
    customer: Customer, owner: Actor, changes: dict, field: str, reason: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        profile.update_profile(owner, customer, **changes)
    assert reason in caught.value.fields[field]
    customer.refresh_from_db()
    assert customer.birthday is None
    assert customer.gender == ""


def test_home_store_of_another_merchant_is_refused(
    customer: Customer, owner: Actor, other_merchant: Merchant
) -> None:
    rival_store = make_store(other_merchant)
    with pytest.raises(InvalidInput) as caught:
        profile.update_profile(owner, customer, home_store=rival_store.pk, city="杭州")
    assert caught.value.status == 422
    assert caught.value.fields == {"home_store": "No such store."}
    customer.refresh_from_db()
    assert customer.home_store_id is None
    assert customer.city == ""


def test_profile_needs_manage_permission(merchant: Merchant, customer: Customer) -> None:
    with pytest.raises(Forbidden):
        profile.update_profile(actor_for(merchant, Role.STORE_MANAGER), customer, city="上海")


def test_identities_unique_per_merchant_and_findable(
    merchant: Merchant, other_merchant: Merchant, customer: Customer, owner: Actor
) -> None:
    other = make_customer(merchant)
    first = profile.add_identity(owner, customer, "wechat_openid", " oABC123 ")
    again = profile.add_identity(owner, customer, "wechat_openid", "oABC123")
    assert first.pk == again.pk
    assert first.value == "oABC123"
    with pytest.raises(Conflict) as caught:
        profile.add_identity(owner, other, "wechat_openid", "oABC123")
    assert caught.value.status == 409
    assert "value" in caught.value.fields
    with pytest.raises(InvalidInput) as bad:
        profile.add_identity(owner, other, "fax", "")
    assert set(bad.value.fields) == {"kind", "value"}
    # another merchant may hold the same value
    rival = make_customer(other_merchant)
    profile.add_identity(actor_for(other_merchant), rival, "wechat_openid", "oABC123")
    with merchant_context(merchant):
        assert profile.find_by_identity("wechat_openid", "oABC123") == customer
        assert profile.find_by_identity("wechat_unionid", "oABC123") is None
    profile.remove_identity(owner, customer, first.pk)
    assert not CustomerIdentity.unscoped.filter(pk=first.pk).exists()
    with pytest.raises(NotFound):
        profile.remove_identity(owner, customer, first.pk)
    kinds = list(
        TimelineEntry.unscoped.filter(customer=customer, kind=Kind.PROFILE).values_list(
            "data__action", flat=True
        )
    )
    assert sorted(kinds) == ["identity_added", "identity_removed"]


def test_notes_own_customers_and_own_notes(merchant: Merchant, customer: Customer) -> None:
    guide = actor_for(merchant, Role.SHOPPING_GUIDE)
    other_guide = actor_for(merchant, Role.SHOPPING_GUIDE)
    operator = actor_for(merchant, Role.OPERATOR)
    with pytest.raises(NotFound):  # not their customer
        profile.add_note(guide, customer, "hello")
    Customer.unscoped.filter(pk=customer.pk).update(owner_guide=guide.membership)
    customer.refresh_from_db()
    note = profile.add_note(guide, customer, "  Prefers oat milk ")
    assert note.text == "Prefers oat milk"
    assert note.author == guide.membership
    with pytest.raises(InvalidInput) as empty:
        profile.add_note(guide, customer, "   ")
    assert "text" in empty.value.fields
    with pytest.raises(NotFound):
        profile.delete_note(other_guide, customer, note.pk)
    store_manager = actor_for(merchant, Role.STORE_MANAGER)
    with pytest.raises(Forbidden):
        profile.delete_note(store_manager, customer, note.pk)
    profile.delete_note(operator, customer, note.pk)  # customers.manage may
    entry = TimelineEntry.unscoped.get(customer=customer, kind=Kind.NOTE)
    assert timeline.describe(entry.kind, entry.data) == "Note: Prefers oat milk"
