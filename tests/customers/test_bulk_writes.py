"""Bulk writes of the CRM: timeline.record_many (every entry once, in order, with its actor
and time) and the tag links of bulk tagging (in parts, skipping links already there)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from siyu.core import clock
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers import tags, timeline
from siyu.customers.models import Customer, CustomerTag, TimelineEntry
from siyu.customers.testing import make_customer, make_tag


@pytest.mark.parametrize("count", [0, 1, 8, 21])
def test_record_many_writes_every_entry(
    merchant: Merchant, customer: Customer, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    monkeypatch.setattr(timeline, "BULK_BATCH", 8)  # 21 entries: 8 + 8, then 4 + 1
    at = clock.now() - timedelta(days=2)
    rows = ((customer.pk, "tagged", {"tag_id": i, "tag_name": f"t{i}"}) for i in range(count))
    with merchant_context(merchant):
        assert timeline.record_many(rows, actor="rule " * 40, at=at) == count
    written = list(TimelineEntry.unscoped.filter(customer=customer, kind="tagged").order_by("pk"))
    assert [e.data["tag_id"] for e in written] == list(range(count))
    assert all(e.actor == ("rule " * 40)[:150] and e.occurred_at == at for e in written)
    assert all(e.merchant_id == merchant.pk for e in written)


def test_tag_links_in_parts_skip_those_already_there(
    merchant: Merchant, customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = make_tag(merchant, "拿铁控")
    others = [make_customer(merchant).pk for _ in range(4)]
    at = clock.now() - timedelta(hours=1)
    monkeypatch.setattr(type(connection.features), "max_query_params", 14)  # 2 links a statement
    with merchant_context(merchant):
        tags._insert_links(merchant.pk, [customer.pk], (tag.pk, "manual", None, "Ann", at))
        ids = [customer.pk, *others]
        tags._insert_links(merchant.pk, ids, (tag.pk, "bulk", None, "Bo", at))
        links = {
            link.customer_id: (link.source, link.added_by, link.added_at, link.merchant_id)
            for link in CustomerTag.objects.filter(tag=tag)
        }
    assert links == {
        customer.pk: ("manual", "Ann", at, merchant.pk),
        **dict.fromkeys(others, ("bulk", "Bo", at, merchant.pk)),
    }
