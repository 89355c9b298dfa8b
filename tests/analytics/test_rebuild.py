"""``siyu analytics rebuild``: the facts written again from the operational tables.

A small history is made through the real services (paid, refunded, cancelled and unpaid
orders; joins and leaves; an invitation and a distributor binding) and the outbox delivered;
the rebuild must then write exactly the rows the consumers wrote, write them again without
change, fill empty tables the same way, and leave imported rows alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from django.core.management import CommandError, call_command

from siyu.analytics import rebuild, rollups
from siyu.analytics.models import ActiveDay, GroupSpan, ReferralLink, Sale
from siyu.community import chat
from siyu.community import services as community
from siyu.community.testing import make_group
from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.outbox import dispatch_pending
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.distribution import services as distribution
from siyu.distribution.testing import make_distributor
from siyu.orders import services as order_services
from siyu.orders.models import Order
from siyu.orders.testing import make_customer, make_order, make_shop
from siyu.referrals.testing import invite, make_programme

pytestmark = pytest.mark.django_db

FACTS = (Sale, ActiveDay, GroupSpan, ReferralLink)


def facts(merchant: Merchant) -> dict[str, set[tuple[object, ...]]]:
    """Every fact row of ``merchant`` but its primary key, per table."""
    rows: dict[str, set[tuple[object, ...]]] = {}
    for model in FACTS:
        names = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
        rows[model.__name__] = set(model.unscoped.filter(merchant=merchant).values_list(*names))
    return rows


@dataclass
class History:
    paid: Order
    buyer: Customer
    member: Customer


def history(merchant: Merchant) -> History:
    """A little of everything the consumers see, through the services, outbox delivered."""
    shop = make_shop(merchant, price=4200)
    buyer, member, inviter, invitee, bound_one = (make_customer(merchant) for _ in range(5))
    paid = make_order(
        merchant, status="paid", shop=shop, customer=buyer, attribution={"group_id": 9}
    )
    make_order(merchant, status="completed", shop=shop, customer=buyer)
    refunded = make_order(merchant, status="paid", shop=shop, customer=member, quantity=2)
    make_order(merchant, status="cancelled", shop=shop, customer=member)
    make_order(merchant, status="pending_payment", shop=shop, customer=inviter)
    with merchant_context(merchant):
        line = refunded.lines.get()
        order_services.apply_refund(
            refunded, lines=[(line.pk, 0, 1000)], amount=1000, restock=False, reference="R1"
        )
        group = make_group(Actor.system(merchant))
        community.join_group(member, group, state="table_card")
        community.join_group(buyer, group)
        community.leave_group(buyer, group)
    make_programme(merchant)
    invite(inviter, invitee)
    distributor = make_distributor(merchant)
    with merchant_context(merchant):
        distribution.bind(bound_one, distributor.share_code)
    dispatch_pending()
    return History(paid=paid, buyer=buyer, member=member)


def test_rebuild_writes_what_the_consumers_wrote(merchant, other_merchant):
    history(merchant)
    history(other_merchant)
    written = facts(merchant)
    theirs = facts(other_merchant)
    # three paid orders (one partly refunded); the buyer's and the member's day (ordered and
    # joined); two memberships; the invitee and the bound customer
    assert {name: len(rows) for name, rows in written.items()} == {
        "Sale": 3,
        "ActiveDay": 2,
        "GroupSpan": 2,
        "ReferralLink": 2,
    }
    for model in FACTS:
        model.unscoped.filter(merchant=merchant).delete()
    report = rebuild.rebuild(merchant)
    assert facts(merchant) == written
    assert report.written == {
        "sales": len(written["Sale"]),
        "active days": len(written["ActiveDay"]),
        "group spans": len(written["GroupSpan"]),
        "referral links": len(written["ReferralLink"]),
    }
    assert report.rollup_rows == rollups.rebuild(merchant)  # rebuilt: the same rows again
    assert report.rollup_rows["salesday"] >= 1
    assert facts(other_merchant) == theirs


def test_rebuild_over_the_consumers_rows_changes_nothing_and_runs_again(merchant):
    history(merchant)
    written = facts(merchant)
    ids = sorted(Sale.unscoped.values_list("pk", flat=True))
    assert rebuild.rebuild(merchant).total == 0  # nothing differs: no row rewritten
    assert facts(merchant) == written
    assert rebuild.rebuild(merchant).total == 0
    assert facts(merchant) == written
    assert sorted(Sale.unscoped.values_list("pk", flat=True)) == ids  # updated in place


def test_rebuild_repairs_what_a_lost_event_left_wrong(merchant):
    made = history(merchant)
    paid = made.paid
    Sale.unscoped.filter(order_id=paid.pk).update(amount=1, store_id=None)
    GroupSpan.unscoped.filter(customer_id=made.member.pk).delete()
    assert rebuild.rebuild(merchant).written == {
        "sales": 1,
        "active days": 0,
        "group spans": 1,
        "referral links": 0,
    }
    sale = Sale.unscoped.get(order_id=paid.pk)
    paid.refresh_from_db()
    assert (sale.amount, sale.store_id) == (paid.total, paid.store_id)
    assert GroupSpan.unscoped.filter(customer_id=made.member.pk).count() == 1


def test_rebuild_finds_customers_messages_in_group_chats(merchant):
    group = make_group(Actor.system(merchant))
    customer = make_customer(merchant)
    said_at = datetime(2026, 5, 4, 17, 30, tzinfo=UTC)  # 01:30 on 5 May in Shanghai
    with merchant_context(merchant):
        community.join_group(customer, group)
        chat.post_message(
            chat.group_conversation(group), text="早上好", sender_customer=customer, at=said_at
        )
    rebuild.rebuild(merchant)
    day = ActiveDay.unscoped.get(customer_id=customer.pk, day=date(2026, 5, 5))
    assert day.kinds == ActiveDay.MESSAGED


def test_rebuild_keeps_visits_and_imported_rows(merchant):
    member = history(merchant).member
    when = datetime(2020, 1, 2, 3, 4, tzinfo=UTC)
    with merchant_context(merchant):
        imported_sale = Sale.objects.create(
            source="import",
            external_id="OLD-1",
            customer_id=member.pk,
            placed_at=when,
            day=date(2020, 1, 2),
            amount=9900,
        )
        imported_span = GroupSpan.objects.create(
            source="import", customer_id=member.pk, group_key="old-group", joined_at=when
        )
        link = ReferralLink.unscoped.get(kind="referral")
        ReferralLink.objects.filter(pk=link.pk).update(source="import", inviter_id=member.pk)
        ActiveDay.objects.filter(customer_id=member.pk).update(
            kinds=ActiveDay.JOINED | ActiveDay.ORDERED | ActiveDay.VISITED
        )
    imported = {
        "sale": Sale.unscoped.filter(pk=imported_sale.pk).values().get(),
        "span": GroupSpan.unscoped.filter(pk=imported_span.pk).values().get(),
        "link": ReferralLink.unscoped.filter(pk=link.pk).values().get(),
    }
    rebuild.rebuild(merchant)
    assert Sale.unscoped.filter(pk=imported_sale.pk).values().get() == imported["sale"]
    assert GroupSpan.unscoped.filter(pk=imported_span.pk).values().get() == imported["span"]
    assert ReferralLink.unscoped.filter(pk=link.pk).values().get() == imported["link"]
    assert ActiveDay.unscoped.get(customer_id=member.pk).kinds & ActiveDay.VISITED


def test_the_command_rebuilds_and_counts(merchant, capsys):
    history(merchant)
    for model in FACTS:
        model.unscoped.all().delete()
    call_command("analytics", "rebuild", "--merchant", merchant.slug, "--no-progress")
    out = capsys.readouterr().out
    assert "sales: 3 rows written" in out
    assert f"facts of {merchant.slug} rebuilt" in out
    call_command("analytics", "status", "--merchant", merchant.slug)
    out = capsys.readouterr().out
    assert "sales: siyu: 3" in out
    assert "group spans: siyu: 2" in out
    assert "referral links: siyu: 2" in out
    assert "rollups: ready: 1, sales days: " in out
    with pytest.raises(CommandError, match="--merchant"):
        call_command("analytics", "status", "--merchant", "no-such-shop")


def test_status_counts_by_source_and_flag(merchant):
    history(merchant)
    counts = rebuild.status(merchant)
    assert counts["sales"] == {"siyu": 3}
    days = counts["active days"]
    assert days["all"] == ActiveDay.unscoped.count()
    assert days["ordered"] == 2  # buyer and member, both on today
    assert days["joined"] == 2
    assert days["visited"] == days["messaged"] == 0
    assert counts["rollups"]["ready"] == 1
    assert counts["rollups"]["sales days"] >= 1  # today, for the merchant and per source
