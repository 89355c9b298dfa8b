"""The demo's tags, segments and auto-tag rules."""

from __future__ import annotations

import random
from typing import Any

import pytest

from siyu.core.actors import Actor
from siyu.core.demo import DemoContext
from siyu.core.tenancy import merchant_context
from siyu.customers import demo_segments
from siyu.customers.models import AutoTagRule, CustomerTag, Segment, Tag
from siyu.customers.testing import make_customer

pytestmark = pytest.mark.django_db


def test_demo_tags_segments_and_rules(merchant: Any) -> None:
    for _ in range(30):
        make_customer(merchant)
    ctx = DemoContext(merchant=merchant, owner=Actor.system(merchant), rng=random.Random(7))
    demo_segments.seed(ctx)
    demo_segments.seed_after_orders(ctx)
    with merchant_context(merchant):
        assert Segment.objects.count() == 3
        assert AutoTagRule.objects.filter(last_run_at__isnull=False).count() == 4
        for tag in Tag.objects.all():
            assert tag.customer_count == CustomerTag.objects.filter(tag=tag).count()
        assert CustomerTag.objects.count() > 0
