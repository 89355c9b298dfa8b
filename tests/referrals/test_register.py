"""Registering a friend: only new customers, every guard, the caps, the invitee's reward."""

from __future__ import annotations

from datetime import timedelta

import pytest

from siyu.core import clock
from siyu.core.errors import InvalidInput
from siyu.core.models import DomainEvent, Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.customers.testing import make_address, make_customer, phone_number
from siyu.orders.testing import make_order
from siyu.promotions.models import Coupon
from siyu.promotions.testing import make_template
from siyu.referrals import services
from siyu.referrals.models import Referral, ReferralReward
from siyu.referrals.testing import invite, make_programme

pytestmark = pytest.mark.django_db


def _events(merchant: Merchant, kind: str) -> list[dict]:
    with merchant_context(merchant):
        return [
            e.payload
            for e in DomainEvent.objects.filter(event_type=f"referrals.referral.{kind}").order_by(
                "pk"
            )
        ]


def test_a_new_customer_through_a_link_is_registered_and_gets_the_invitee_coupon(
    merchant: Merchant,
) -> None:
    welcome = make_template(merchant, name="Welcome gift", quantity=10)
    make_programme(merchant, invitee_reward="coupon", invitee_template=welcome)
    inviter = make_customer(merchant)
    friend = make_customer(merchant)
    referral = invite(inviter, friend, device="d-friend")
    assert (referral.status, referral.block_reason) == ("registered", "")
    assert referral.invitee_phone == friend.phone
    with merchant_context(merchant):
        coupon = Coupon.objects.get(customer=friend)
        reward = ReferralReward.objects.get(referral=referral)
    assert (coupon.template_id, coupon.source) == (welcome.pk, "referral")
    assert (reward.side, reward.status, reward.coupon_id) == ("invitee", "issued", coupon.pk)
    assert _events(merchant, "registered") == [
        {
            "referral_id": referral.pk,
            "inviter_id": inviter.pk,
            "invitee_id": friend.pk,
            "source": "link",
        }
    ]


def test_registering_again_with_the_same_code_answers_the_first_referral(
    merchant: Merchant,
) -> None:
    welcome = make_template(merchant, quantity=10)
    make_programme(merchant, invitee_reward="coupon", invitee_template=welcome)
    inviter, other, friend = (make_customer(merchant) for _ in range(3))
    first = invite(inviter, friend)
    again = invite(inviter, friend)
    assert again.pk == first.pk
    with pytest.raises(InvalidInput) as exc:
        invite(other, friend)
    assert exc.value.code == "already_invited"
    with merchant_context(merchant):
        assert Coupon.objects.filter(customer=friend).count() == 1
        assert Referral.objects.count() == 1


def test_a_customer_who_existed_before_opening_the_link_is_not_an_invitee(
    merchant: Merchant,
) -> None:
    make_programme(merchant)
    inviter, old = make_customer(merchant), make_customer(merchant)
    with pytest.raises(InvalidInput) as exc:
        invite(inviter, old, tapped_at=clock.now())
    assert exc.value.code == "not_new"
    assert "code" in exc.value.fields
    with merchant_context(merchant):
        assert not Referral.objects.exists()


def test_a_typed_code_counts_only_soon_after_joining_and_before_paying(
    merchant: Merchant,
) -> None:
    make_programme(merchant, code_entry_days=7)
    inviter = make_customer(merchant)
    late, payer, fresh = (make_customer(merchant) for _ in range(3))
    with merchant_context(merchant):
        Customer.objects.filter(pk=late.pk).update(created_at=clock.now() - timedelta(days=8))
        late.refresh_from_db()
    make_order(merchant, status="paid", customer=payer)
    for customer in (late, payer):
        with pytest.raises(InvalidInput) as exc:
            invite(inviter, customer, source="code")
        assert exc.value.code == "not_new"
    assert invite(inviter, fresh, source="code").status == "registered"


def test_a_code_of_someone_who_joined_later_is_refused(merchant: Merchant) -> None:
    make_programme(merchant)
    earlier = make_customer(merchant)
    later = make_customer(merchant)
    with pytest.raises(InvalidInput) as exc:
        invite(later, earlier, source="code")
    assert exc.value.code == "not_new"


def test_unknown_codes_and_a_paused_or_ended_programme_are_refused(merchant: Merchant) -> None:
    current = make_programme(merchant)
    inviter, friend = make_customer(merchant), make_customer(merchant)
    with merchant_context(merchant):
        code = services.code_of(inviter).code
        for raw, expected in (("ZZZZZZ", "unknown_code"), ("no!", "invalid"), (None, "invalid")):
            with pytest.raises(InvalidInput) as exc:
                services.register(friend, raw, source="code")
            assert exc.value.code == expected
        current.status = "paused"
        current.save()
        with pytest.raises(InvalidInput) as exc:
            services.register(friend, code, source="code")
        assert exc.value.code == "not_running"
        current.status = "active"
        current.ends_at = clock.now() - timedelta(minutes=1)
        current.save()
        with pytest.raises(InvalidInput) as exc:
            services.register(friend, code, source="code")
        assert exc.value.code == "not_running"
        current.ends_at = None
        current.save()
        # typed in lower case with a space: the same code
        typed = f"{code[:3].lower()} {code[3:]}"
        assert services.register(friend, typed, source="code").status == "registered"


def test_a_new_customer_typing_their_own_code_is_a_blocked_self_invite(
    merchant: Merchant,
) -> None:
    welcome = make_template(merchant, quantity=10)
    make_programme(merchant, invitee_reward="coupon", invitee_template=welcome)
    me = make_customer(merchant)
    referral = invite(me, me, source="code")
    assert (referral.status, referral.block_reason) == ("blocked", "self_invite")
    assert referral.blocked_at is not None
    with merchant_context(merchant):
        assert not Coupon.objects.exists()  # blocked: no reward
    assert _events(merchant, "blocked")[0]["reason"] == "self_invite"
    assert _events(merchant, "registered") == []


def test_the_inviters_own_number_on_their_address_is_a_self_invite(merchant: Merchant) -> None:
    make_programme(merchant)
    second_sim = phone_number()
    inviter = make_customer(merchant)
    make_address(inviter, phone=second_sim)
    friend = make_customer(merchant, phone=second_sim)
    referral = invite(inviter, friend)
    assert (referral.status, referral.block_reason) == ("blocked", "self_invite")


def test_the_same_phone_as_another_friend_of_the_inviter_is_blocked(merchant: Merchant) -> None:
    make_programme(merchant)
    inviter = make_customer(merchant)
    number = phone_number()
    first = make_customer(merchant, phone=number)
    assert invite(inviter, first).status == "registered"
    # the first friend's account moved to another number; a new account takes the old one
    with merchant_context(merchant):
        Customer.objects.filter(pk=first.pk).update(phone=phone_number())
    again = make_customer(merchant, phone=number)
    referral = invite(inviter, again)
    assert (referral.status, referral.block_reason) == ("blocked", "same_phone")


def test_the_phone_guard_can_be_turned_off(merchant: Merchant) -> None:
    make_programme(merchant, guard_phone=False)
    inviter = make_customer(merchant)
    number = phone_number()
    first = make_customer(merchant, phone=number)
    invite(inviter, first)
    with merchant_context(merchant):
        Customer.objects.filter(pk=first.pk).update(phone=phone_number())
    assert invite(inviter, make_customer(merchant, phone=number)).status == "registered"


def test_the_inviters_device_is_blocked_unless_the_guard_is_off(merchant: Merchant) -> None:
    current = make_programme(merchant)
    inviter = make_customer(merchant)
    with merchant_context(merchant):
        services.record_device(inviter, services.Device("shared-phone", "ua"))
    friend = make_customer(merchant)
    referral = invite(inviter, friend, device="shared-phone")
    assert (referral.status, referral.block_reason, referral.block_detail) == (
        "blocked",
        "same_device",
        "inviter",
    )
    current.guard_device = False
    with merchant_context(merchant):
        current.save()
    assert invite(inviter, make_customer(merchant), device="shared-phone").status == "registered"


def test_the_device_of_another_friend_of_the_same_inviter_is_blocked(merchant: Merchant) -> None:
    make_programme(merchant)
    inviter, other_inviter = make_customer(merchant), make_customer(merchant)
    assert invite(inviter, make_customer(merchant), device="phone-1").status == "registered"
    # a device the friend logged in from later counts too
    second = make_customer(merchant)
    with merchant_context(merchant):
        services.record_device(second, services.Device("phone-2"))
    assert invite(inviter, second, device="phone-3").status == "registered"
    blocked = invite(inviter, make_customer(merchant), device="phone-2")
    assert (blocked.status, blocked.block_reason) == ("blocked", "same_device")
    # another inviter's friend on that device is fine
    assert invite(other_inviter, make_customer(merchant), device="phone-1").status == "registered"


def test_the_total_cap_counts_only_referrals_that_were_not_blocked(merchant: Merchant) -> None:
    make_programme(merchant, cap_total=2)
    inviter = make_customer(merchant)
    assert invite(inviter, make_customer(merchant), device="a").status == "registered"
    assert invite(inviter, make_customer(merchant), device="a").block_reason == "same_device"
    assert invite(inviter, make_customer(merchant), device="b").status == "registered"
    third = invite(inviter, make_customer(merchant), device="c")
    assert (third.status, third.block_reason, third.block_detail) == ("blocked", "cap_total", "2/2")


def test_the_monthly_cap_counts_this_calendar_month(merchant: Merchant) -> None:
    make_programme(merchant, cap_per_month=1)
    inviter = make_customer(merchant)
    first = invite(inviter, make_customer(merchant))
    assert first.status == "registered"
    assert invite(inviter, make_customer(merchant)).block_reason == "cap_month"
    with merchant_context(merchant):  # last month's friend does not count this month
        Referral.objects.filter(pk=first.pk).update(created_at=clock.now() - timedelta(days=40))
    assert invite(inviter, make_customer(merchant)).status == "registered"


def test_a_sold_out_invitee_coupon_is_recorded_as_not_given(merchant: Merchant) -> None:
    welcome = make_template(merchant, quantity=1)
    make_programme(merchant, invitee_reward="coupon", invitee_template=welcome)
    inviter = make_customer(merchant)
    invite(inviter, make_customer(merchant))
    late = invite(inviter, make_customer(merchant))
    assert late.status == "registered"  # the friend counts; only the coupon ran out
    with merchant_context(merchant):
        reward = ReferralReward.objects.get(referral=late)
    assert reward.status == "failed"
    assert reward.problem


def test_invite_codes_are_short_unique_and_made_once(merchant: Merchant) -> None:
    customers = [make_customer(merchant) for _ in range(20)]
    with merchant_context(merchant):
        codes = [services.code_of(c).code for c in customers]
        assert services.code_of(customers[0]).code == codes[0]
    assert len(set(codes)) == 20
    assert all(len(c) == 6 and not set(c) & set("01OI") for c in codes)
