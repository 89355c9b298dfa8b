"""The console pages of points and tiers: results with members per tier, settings with bad
fields named, tiers created/edited/ordered/removed (members placed again), a customer's
points adjusted with a reason; permissions and another merchant's rows."""

from __future__ import annotations

import pytest
from django.test import Client

from siyu.core.models import AuditEntry, Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import staff_client
from siyu.customers.testing import make_customer
from siyu.loyalty import selectors, services, tiers
from siyu.loyalty.models import CustomerTier, LoyaltySettings, MemberTier

pytestmark = pytest.mark.django_db
BASE = "/console/loyalty/"


@pytest.fixture
def owner(merchant: Merchant) -> Client:
    client = staff_client(merchant, Role.OWNER)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_settings_are_saved_and_bad_values_named(merchant: Merchant, owner: Client) -> None:
    form = {
        "enabled": "on",
        "earn_per_yuan": "2",
        "fen_per_point": "1",
        "max_redeem_percent": "30",
        "expiry": "days",
        "expiry_days": "90",
        "sign_in_points": "3",
        "first_order_points": "50",
        "review_points": "10",
    }
    bad = owner.post(
        f"{BASE}settings/", {**form, "fen_per_point": "0", "max_redeem_percent": "120"}
    )
    assert bad.status_code == 200
    assert bad.context["form"].errors.keys() == {"fen_per_point", "max_redeem_percent"}
    saved = owner.post(f"{BASE}settings/", form)
    assert saved.status_code == 302
    with merchant_context(merchant):
        row = LoyaltySettings.objects.get()
        assert (row.earn_per_yuan, row.max_redeem_bp, row.expiry_days) == (2, 3_000, 90)
        assert AuditEntry.objects.filter(action="loyalty.settings.saved").exists()
    page = owner.get(BASE)
    assert "Customers earn 2 points per ¥1 paid" in page.content.decode()


def test_tiers_created_ordered_edited_and_removed(merchant: Merchant, owner: Client) -> None:
    base = {"basis": "spend", "discount_percent": "0", "points_multiplier": "1"}
    assert (
        owner.post(f"{BASE}tiers/new/", {**base, "name": "Silver", "threshold": "0"}).status_code
        == 302
    )
    gold = {
        **base,
        "name": "Gold",
        "threshold": "1000",
        "discount_percent": "5",
        "points_multiplier": "1.5",
        "free_shipping": "on",
    }
    assert owner.post(f"{BASE}tiers/new/", gold).status_code == 302
    duplicate = owner.post(f"{BASE}tiers/new/", {**base, "name": "Gold", "threshold": "5"})
    assert duplicate.context["form"].errors == {"name": ["Another tier has this name."]}
    with merchant_context(merchant):
        found = {t.name: t for t in MemberTier.objects.all()}
        assert found["Gold"].threshold == 100_000
        assert (found["Gold"].discount_bp, found["Gold"].points_multiplier_bp) == (500, 15_000)
        customer = make_customer(merchant)
        CustomerTier.objects.create(
            customer=customer, tier=found["Gold"], evaluated_at=found["Gold"].created_at
        )
    listing = owner.get(f"{BASE}tiers/").content.decode()
    assert "5% off every order · 1.5× points · Free delivery" in listing
    owner.post(f"{BASE}tiers/{found['Gold'].pk}/move/", {"direction": "down"})
    with merchant_context(merchant):
        assert [t.name for t in selectors.tiers()] == ["Gold", "Silver"]
    owner.post(f"{BASE}tiers/{found['Gold'].pk}/", {**gold, "name": "Gold+"})
    owner.post(f"{BASE}tiers/{found['Gold'].pk}/delete/")
    with merchant_context(merchant):
        assert [t.name for t in selectors.tiers()] == ["Silver"]
        assert selectors.customer_tier(customer).name == "Silver"  # type: ignore[union-attr]
    overview = owner.get(BASE).content.decode()
    assert "loyalty-members-chart" in overview


def test_a_customers_points_are_adjusted_with_a_reason(merchant: Merchant, owner: Client) -> None:
    customer = make_customer(merchant)
    with merchant_context(merchant):
        services.award(customer, 40, reason="referral_inviter", reference="x")
    url = f"{BASE}customers/{customer.pk}/"
    page = owner.get(url)
    assert page.status_code == 200
    assert "Invited a friend" in page.content.decode()
    refused = owner.post(url, {"points": "-41", "reason": "wrong", "client_key": "a"})
    assert refused.context["form"].errors == {"points": ["The customer has only 40 points."]}
    missing = owner.post(url, {"points": "5", "reason": "", "client_key": "b"})
    assert "reason" in missing.context["form"].errors
    done = owner.post(url, {"points": "-15", "reason": "duplicate reward", "client_key": "c"})
    assert done.status_code == 302
    owner.post(url, {"points": "-15", "reason": "duplicate reward", "client_key": "c"})  # resent
    with merchant_context(merchant):
        assert selectors.balance_of(customer) == 25
    found = owner.get(BASE, {"q": customer.phone[-6:]}).content.decode()
    assert url in found


def test_permissions_and_another_merchants_rows(
    merchant: Merchant, other_merchant: Merchant
) -> None:
    theirs = make_customer(other_merchant)
    with merchant_context(other_merchant):
        tier = MemberTier.objects.create(name="Theirs", rank=1)
    owner = staff_client(merchant, Role.OWNER)
    assert owner.get(f"{BASE}customers/{theirs.pk}/").status_code == 404
    assert owner.get(f"{BASE}tiers/{tier.pk}/").status_code == 404
    assert owner.post(f"{BASE}tiers/{tier.pk}/delete/").status_code == 404
    finance = staff_client(merchant, Role.FINANCE)
    assert finance.get(BASE).status_code == 200
    assert finance.get(f"{BASE}settings/").status_code == 403
    guide = staff_client(merchant, Role.SHOPPING_GUIDE)
    assert guide.get(BASE).status_code == 403


def test_the_pages_read_in_chinese(merchant: Merchant) -> None:
    client = staff_client(merchant, Role.OWNER)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    with merchant_context(merchant):
        MemberTier.objects.create(name="金卡", rank=1, discount_bp=500)
        tiers.evaluate(make_customer(merchant))
    for path in ("", "settings/", "tiers/", "tiers/new/"):
        text = client.get(f"{BASE}{path}").content.decode()
        assert "积分" in text or "等级" in text, path
