"""The Django admin lists referrals of every merchant and never changes them."""

from __future__ import annotations

import pytest
from django.test import Client

from siyu.core.models import Merchant
from siyu.core.testing import make_user
from siyu.customers.testing import make_customer
from siyu.promotions.testing import make_template
from siyu.referrals.testing import invite, make_programme

pytestmark = pytest.mark.django_db


def test_a_superuser_reads_referrals_and_cannot_change_them(merchant: Merchant) -> None:
    gift = make_template(merchant)
    make_programme(merchant, invitee_reward="coupon", invitee_template=gift)
    referral = invite(make_customer(merchant), make_customer(merchant))
    client = Client()
    client.force_login(make_user(is_superuser=True, is_staff=True))
    for name in ("referralprogramme", "invitecode", "referral", "referralreward"):
        assert client.get(f"/admin/referrals/{name}/").status_code == 200, name
    assert referral.code.encode() in client.get("/admin/referrals/invitecode/").content
    assert client.get(f"/admin/referrals/referral/{referral.pk}/change/").status_code == 200
    assert client.get("/admin/referrals/referral/add/").status_code == 403
    answer = client.post(f"/admin/referrals/referral/{referral.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 403
