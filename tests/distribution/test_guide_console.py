"""The console page of shopping guides' commission: rules (set, edit, remove, bad input beside
the field), the ledger with each guide's totals, the CSV export, permissions."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from siyu.catalog.testing import make_category
from siyu.core import clock
from siyu.core.actors import Actor
from siyu.core.models import AuditEntry, DomainEvent
from siyu.core.outbox import dispatch_pending
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import make_staff, staff_client
from siyu.distribution import guide_commission
from siyu.distribution.models import GuideCommissionEntry, GuideCommissionRule
from siyu.orders import services as orders
from siyu.orders.models import OrderLine
from siyu.orders.testing import make_order, make_shop

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"distribution:{name}", args=args)


def client_for(merchant, role=Role.OWNER):
    client = staff_client(merchant, role)
    client.cookies["siyu_language"] = "en"
    return client


def field_errors(html, name):
    """The errors shown inside the form field block that holds the input ``name``."""
    for block in html.split('<div class="field')[1:]:
        if f'name="{name}"' in block.split("</div>")[0]:
            return re.findall(r'<small class="error" role="alert">([^<]*)</small>', block)
    raise AssertionError(f"no field {name!r} on the page")


def rules_of(merchant):
    return sorted(
        (r.scope, r.category_id, r.product_id, r.kind, r.rate_bp, r.fixed_fen)
        for r in GuideCommissionRule.unscoped.filter(merchant=merchant)
    )


def set_guide_rate(merchant, **rule):
    with merchant_context(merchant):
        return guide_commission.set_guide_rule(Actor.system(merchant), **rule)


def guided_order(merchant, guide, price, **fields):
    order = make_order(
        merchant,
        attribution={"guide_id": guide.pk},
        shop=make_shop(merchant, price=price),
        **fields,
    )
    dispatch_pending()
    return order


def named_guide(merchant, first_name):
    guide = make_staff(merchant, Role.SHOPPING_GUIDE)
    guide.user.first_name = first_name
    guide.user.save(update_fields=["first_name"])
    return guide


def streamed(response):
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_the_tab_links_the_guides_page_from_every_distribution_page(merchant):
    client = client_for(merchant)
    for name in ("overview", "rules", "ledger", "guides", "guide_rules", "guide_ledger"):
        html = client.get(url(name)).content.decode()
        assert f'href="{url("guides")}"' in html, name
    html = client.get(url("guides")).content.decode()
    assert 'data-testid="no-guide-rules"' in html  # no rule yet: nobody earns


def test_an_operator_sets_a_category_rule_and_a_default(merchant):
    beans = make_category(merchant, "Beans")
    client = client_for(merchant, Role.OPERATOR)
    saved = client.post(
        url("guide_rules"),
        {"scope": "category", "category": beans.pk, "kind": "percent", "rate": "2.5"},
    )
    assert saved.status_code == 302
    client.post(url("guide_rules"), {"scope": "default", "kind": "fixed", "fixed": "1.20"})
    assert rules_of(merchant) == [
        ("category", beans.pk, None, "percent", 250, 0),
        ("default", None, None, "fixed", 0, 120),
    ]
    html = client.get(url("guide_rules")).content.decode()
    assert "Beans" in html
    assert "2.5 %" in html
    assert "¥1.20 per unit" in html
    assert (
        AuditEntry.unscoped.filter(merchant=merchant, action="distribution.guide_rule.set").count()
        == 2
    )


def test_bad_input_is_shown_beside_the_field_and_writes_nothing(merchant):
    client = client_for(merchant)
    not_a_rate = client.post(
        url("guide_rules"), {"scope": "default", "kind": "percent", "rate": "x"}
    )
    assert not_a_rate.status_code == 422
    assert field_errors(not_a_rate.content.decode(), "rate") == [
        "Give a percentage, e.g. 10 or 2.5."  # its own reason only, not "give the rate" too
    ]
    no_category = client.post(
        url("guide_rules"), {"scope": "category", "kind": "percent", "rate": "3"}
    )
    assert no_category.status_code == 422  # the service's reason, beside the form's field
    html = no_category.content.decode()
    assert field_errors(html, "category") == ["Not a category of this shop."]
    assert field_errors(html, "rate") == []
    no_amount = client.post(url("guide_rules"), {"scope": "default", "kind": "fixed"})
    assert field_errors(no_amount.content.decode(), "fixed") == ["Give the amount per unit."]
    assert rules_of(merchant) == []
    assert not AuditEntry.unscoped.filter(action__startswith="distribution.guide_rule").exists()
    assert not DomainEvent.unscoped.filter(event_type="distribution.guide_rule.changed").exists()


def test_editing_changes_the_rate_and_keeps_the_target_and_removing_deletes(merchant):
    beans = make_category(merchant, "Beans")
    rule = set_guide_rate(
        merchant, scope="category", kind="percent", rate_bp=300, category_id=beans.pk
    )
    client = client_for(merchant)
    form = client.get(f"{url('guide_rules')}?edit={rule.pk}").content.decode()
    assert 'value="3"' in form  # the form shows the rule's rate
    edited = client.post(
        f"{url('guide_rules')}?edit={rule.pk}",
        {"scope": "default", "kind": "fixed", "fixed": "0.80"},  # the target cannot change
    )
    assert edited.status_code == 302
    assert rules_of(merchant) == [("category", beans.pk, None, "fixed", 0, 80)]
    assert client.get(f"{url('guide_rules')}?edit=999999").status_code == 404
    assert client.post(url("guide_rule_delete", rule.pk)).status_code == 302
    assert rules_of(merchant) == []
    assert client.post(url("guide_rule_delete", rule.pk)).status_code == 404


def test_another_merchants_rule_is_not_found(merchant, other_merchant):
    theirs = set_guide_rate(other_merchant, scope="default", kind="percent", rate_bp=100)
    client = client_for(merchant)
    assert client.get(f"{url('guide_rules')}?edit={theirs.pk}").status_code == 404
    assert client.post(url("guide_rule_delete", theirs.pk)).status_code == 404
    assert rules_of(other_merchant) == [("default", None, None, "percent", 100, 0)]


def test_finance_may_look_but_not_change_and_a_guide_may_not_look(merchant):
    rule = set_guide_rate(merchant, scope="default", kind="percent", rate_bp=100)
    finance = client_for(merchant, Role.FINANCE)
    page = finance.get(url("guide_rules"))
    assert page.status_code == 200
    assert 'data-testid="rule-form"' not in page.content.decode()
    assert (
        finance.post(
            url("guide_rules"), {"scope": "default", "kind": "percent", "rate": "9"}
        ).status_code
        == 403
    )
    assert finance.post(url("guide_rule_delete", rule.pk)).status_code == 403
    assert rules_of(merchant) == [("default", None, None, "percent", 100, 0)]
    guide = client_for(merchant, Role.SHOPPING_GUIDE)
    for name in ("guides", "guide_rules", "guide_ledger", "guide_ledger_export"):
        assert guide.get(url(name)).status_code == 403, name


@pytest.fixture
def two_guides(merchant):
    """Ann (3 %): a ¥100.00 order refunded by ¥20.00 and a settled ¥50.00 order; Bo: ¥40.00."""
    set_guide_rate(merchant, scope="default", kind="percent", rate_bp=300)
    ann, bo = named_guide(merchant, "Ann"), named_guide(merchant, "Bo")
    refunded = guided_order(merchant, ann, 10_000, status="paid")
    line = OrderLine.unscoped.get(order=refunded)
    with merchant_context(merchant):
        orders.apply_refund(
            refunded, lines=[(line.pk, 0, 2000)], amount=2000, restock=False, reference="R-20"
        )
    dispatch_pending()
    done = guided_order(merchant, ann, 5_000, status="completed")
    guide_commission.settle_guides_of(merchant, now=clock.now() + timedelta(days=8))
    bos = guided_order(merchant, bo, 4_000, status="paid")
    return {"ann": ann, "bo": bo, "refunded": refunded, "done": done, "bos": bos}


def test_the_ledger_lists_a_guides_pending_entry_after_a_paid_order(merchant, two_guides):
    bo, bos = two_guides["bo"], two_guides["bos"]
    client = client_for(merchant)
    html = client.get(f"{url('guide_ledger')}?guide={bo.pk}&kind=pending").content.decode()
    entry = GuideCommissionEntry.unscoped.get(order=bos)
    assert (entry.guide_id, entry.kind, entry.amount) == (bo.pk, "pending", 120)
    row = html.split(f'data-testid="entry-{entry.pk}"')[1].split("</tr>")[0]
    assert bos.number in row
    assert "Bo" in row
    assert "¥1.20" in row
    assert html.count('data-testid="entry-') == 1  # only Bo's, only pending
    totals = html.split('data-testid="guide-totals"')[1]
    assert f'data-testid="guide-{bo.pk}"' in totals
    assert f'data-testid="guide-{two_guides["ann"].pk}"' not in totals


def test_totals_per_guide_split_pending_settled_and_reversed(merchant, two_guides):
    ann = two_guides["ann"]
    html = client_for(merchant).get(url("guides")).content.decode()
    row = html.split(f'data-testid="guide-{ann.pk}"')[1].split("</tr>")[0]
    # 3 % of ¥100 = 300, less 60 for the ¥20 refund: 240 pending; 150 settled of ¥50
    assert 'data-testid="pending">¥2.40<' in row
    assert 'data-testid="settled">¥1.50<' in row
    assert 'data-testid="reversed">¥0.60<' in row
    assert 'data-testid="total-pending">¥3.60<' in html  # Ann's 240 + Bo's 120
    bad = client_for(merchant).get(f"{url('guide_ledger')}?guide=abc")
    assert bad.status_code == 422
    assert field_errors(bad.content.decode(), "guide")


def test_the_csv_export_follows_the_filters(merchant, two_guides):
    ann = two_guides["ann"]
    client = client_for(merchant)
    response = client.get(f"{url('guide_ledger_export')}?guide={ann.pk}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "guide-commission-ledger-" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(streamed(response))))
    expected = GuideCommissionEntry.unscoped.filter(guide=ann).order_by("created_at", "id")
    assert [(int(r["entry_id"]), r["kind"], int(r["amount_fen"])) for r in rows] == [
        (e.pk, e.kind, e.amount) for e in expected
    ]
    assert {r["guide"] for r in rows} == {"Ann"}
    assert sum(int(r["amount_fen"]) for r in rows if r["kind"] != "settled") == 240 + 150
    reversed_rows = [r for r in rows if r["kind"] == "reversed"]
    assert [(r["amount_yuan"], r["order_number"]) for r in reversed_rows] == [
        ("-0.60", two_guides["refunded"].number)
    ]
    bad = client.get(f"{url('guide_ledger_export')}?kind=nope")
    assert bad.status_code == 302  # back to the page, which names the bad filter
