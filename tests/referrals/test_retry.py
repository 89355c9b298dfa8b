"""A reward that could not be issued (the coupon had run out) is tried again from the console or
the API once the operator has topped the coupon up: issued once, the referral rewarded, and
never given twice."""

from __future__ import annotations

import pytest
from django.db.models import F

from siyu.core.actors import Actor
from siyu.core.errors import Conflict
from siyu.core.models import AuditEntry, DomainEvent, Merchant
from siyu.core.outbox import dispatch_pending
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import api_client, staff_client
from siyu.customers.testing import make_customer
from siyu.orders.testing import make_order, make_shop
from siyu.promotions.models import Coupon, CouponTemplate
from siyu.promotions.testing import make_template
from siyu.referrals import services
from siyu.referrals.models import Referral, ReferralReward
from siyu.referrals.testing import invite, make_programme

pytestmark = pytest.mark.django_db

API = "/api/v1/referrals"


def _second_reward_failed(merchant: Merchant) -> tuple[CouponTemplate, Referral, ReferralReward]:
    """Two friends complete their first orders; the inviter's coupon has one left: the second
    reward fails."""
    thanks = make_template(merchant, name="Thank you", quantity=1, per_customer_limit=5)
    make_programme(merchant, inviter_reward="coupon", inviter_template=thanks)
    inviter = make_customer(merchant)
    friends = [make_customer(merchant) for _ in range(2)]
    referrals = [invite(inviter, f) for f in friends]
    shop = make_shop(merchant)
    for friend in friends:
        make_order(merchant, status="completed", customer=friend, shop=shop)
    dispatch_pending()
    with merchant_context(merchant):
        second = Referral.objects.get(pk=referrals[1].pk)
        failed = ReferralReward.objects.get(referral=second)
    assert (second.status, failed.status) == ("qualified", "failed")
    return thanks, second, failed


def _top_up(template: CouponTemplate, more: int) -> None:
    """The operator raises the coupon's quantity by ``more``."""
    CouponTemplate.unscoped.filter(pk=template.pk).update(
        total_quantity=F("total_quantity") + more, remaining=F("remaining") + more
    )


def test_retrying_after_a_top_up_issues_the_reward_once_and_rewards_the_referral(
    merchant: Merchant,
) -> None:
    thanks, referral, failed = _second_reward_failed(merchant)
    staff = Actor.system(merchant, label="operator")
    with merchant_context(merchant):
        still = services.retry_reward(staff, failed.pk)  # not topped up yet
    assert still.status == "failed"
    assert still.problem
    _top_up(thanks, 5)
    with merchant_context(merchant):
        issued = services.retry_reward(staff, failed.pk)
        assert issued.status == "issued"
        assert issued.coupon_id is not None
        assert Referral.objects.get(pk=referral.pk).status == "rewarded"
        assert Coupon.objects.filter(customer_id=referral.inviter_id).count() == 2
        with pytest.raises(Conflict) as twice:
            services.retry_reward(staff, failed.pk)
        assert twice.value.code == "already_issued"
        assert Coupon.objects.filter(customer_id=referral.inviter_id).count() == 2
    rewarded = DomainEvent.unscoped.filter(event_type="referrals.referral.rewarded")
    assert rewarded.filter(payload__referral_id=referral.pk).count() == 1
    assert AuditEntry.unscoped.filter(action="referrals.reward.retried").count() == 2


def test_the_console_lists_rewards_not_issued_and_tries_again(merchant: Merchant) -> None:
    thanks, _referral, failed = _second_reward_failed(merchant)
    client = staff_client(merchant, Role.OWNER)
    listed = client.get("/console/referrals/list/?reward_failed=on")
    assert listed.status_code == 200
    body = listed.content.decode()
    assert f'data-reward-failed="{failed.pk}"' in body
    assert "Try again" in body
    _top_up(thanks, 5)
    done = client.post(
        f"/console/referrals/rewards/{failed.pk}/retry/",
        {"next": "/console/referrals/list/?reward_failed=on"},
        follow=True,
    )
    assert done.status_code == 200
    assert "The reward was issued." in done.content.decode()
    assert 'data-reward-failed="' not in done.content.decode()
    viewer = staff_client(merchant, Role.SHOPPING_GUIDE)
    assert viewer.post(f"/console/referrals/rewards/{failed.pk}/retry/").status_code in (302, 403)


def test_the_api_retries_and_refuses_twice(merchant: Merchant) -> None:
    thanks, referral, failed = _second_reward_failed(merchant)
    client = api_client(merchant)
    listed = client.get(f"{API}/referrals?reward_failed=true").json()
    assert [r["id"] for r in listed["items"]] == [referral.pk]
    _top_up(thanks, 5)
    answer = client.post(f"{API}/rewards/{failed.pk}/retry")
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "issued"
    again = client.post(f"{API}/rewards/{failed.pk}/retry")
    assert again.status_code == 409
    assert again.json()["error"] == "already_issued"
    assert client.post(f"{API}/rewards/999999/retry").status_code == 404
    assert (
        api_client(merchant, Role.FINANCE).post(f"{API}/rewards/{failed.pk}/retry").status_code
        == 403
    )
