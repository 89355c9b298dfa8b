"""Demo data of tags, segments and auto-tag rules.

``seed(ctx)`` runs after the customers exist: tag groups and tags, tags on a realistic share
of customers (bulk inserts), saved segments and auto-tag rules. ``seed_after_orders(ctx)``
runs at the end of the demo, once orders exist: every auto-tag rule runs (set-based) and the
segments are counted.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F

from siyu.core import clock
from siyu.core.demo import DemoContext, insert_rows
from siyu.core.tenancy import merchant_context
from siyu.customers import autotag, segment_services, tags
from siyu.customers.models import AutoTagRule, Customer, CustomerTag, Tag

TAG_GROUPS = [
    ("口味偏好", False, [("拿铁控", "#8b5a2b", 0.30), ("美式党", "#3b2f2f", 0.20), ("茶饮", "#3f8f4f", 0.12)]),
    ("生命周期", True, [("新客", "#2f6fdf", 0.0), ("复购", "#2f6f4f", 0.0), ("沉睡", "#9ca3af", 0.0)]),
    ("场景", False, [("上班族", "#d97706", 0.35), ("学生", "#7c3aed", 0.15)]),
    ("价值", False, [("高消费", "#dc2626", 0.0)]),
]  # fmt: skip
LINK_COLUMNS = ("merchant_id", "customer_id", "tag_id", "source", "added_by", "added_at")


def seed(ctx: DemoContext) -> None:
    actor, rng = ctx.owner, ctx.rng
    with merchant_context(ctx.merchant):
        made: dict[str, Tag] = {}
        for name, exclusive, tag_specs in TAG_GROUPS:
            group = tags.create_tag_group(actor, name=name, exclusive=exclusive)
            for tag_name, color, _share in tag_specs:
                made[tag_name] = tags.create_tag(actor, group=group, name=tag_name, color=color)
        ids = list(Customer.objects.values_list("pk", flat=True))
        now = clock.now()
        links: list[tuple[int, int, int, str, str, datetime]] = []
        for _group, _exclusive, tag_specs in TAG_GROUPS:
            for tag_name, _color, share in tag_specs:
                if not share:
                    continue
                tag = made[tag_name]
                chosen = [cid for cid in ids if rng.random() < share]
                links += [
                    (ctx.merchant.pk, cid, tag.pk, CustomerTag.Source.IMPORT.value, "demo", now)
                    for cid in chosen
                ]
                Tag.objects.filter(pk=tag.pk).update(
                    customer_count=F("customer_count") + len(chosen)
                )
        insert_rows(CustomerTag, LINK_COLUMNS, links)
        rules = [
            ("高消费", "高消费", {"field": "spent_in_days", "days": 90, "op": "gte", "value": 50000}),
            ("新客", "新客", {"all": [
                {"field": "customer_days", "op": "lte", "value": 30},
                {"field": "order_count", "op": "lte", "value": 1},
            ]}),
            ("复购", "复购", {"field": "orders_in_days", "days": 90, "op": "gte", "value": 2}),
            ("沉睡", "沉睡", {"all": [
                {"field": "has_ordered", "op": "is", "value": True},
                {"field": "days_since_last_order", "op": "gte", "value": 60},
            ]}),
        ]  # fmt: skip
        for name, tag_name, rule in rules:
            autotag.create_rule(actor, name=name, tag=made[tag_name], rule=rule)
        segment_services.create_segment(
            actor,
            name="沉睡高价值",
            description="累计消费 ≥ ¥300，60 天未下单",
            rule={"all": [
                {"field": "total_spent", "op": "gte", "value": 30000},
                {"field": "days_since_last_order", "op": "gte", "value": 60},
            ]},
        )  # fmt: skip
        segment_services.create_segment(
            actor,
            name="生日本月",
            description="本月生日且未拒绝短信",
            rule={"all": [
                {"field": "birthday_month", "op": "this_month"},
                {"not": {"field": "consent", "channel": "sms", "op": "refused", "value": True}},
            ]},
        )  # fmt: skip
        segment_services.create_segment(
            actor,
            name="拿铁控上班族",
            rule={"field": "tag", "op": "has_all", "value": [made["拿铁控"].pk, made["上班族"].pk]},
        )
    ctx.shared["tags"] = made


def seed_after_orders(ctx: DemoContext) -> None:
    """Run the auto-tag rules and count the segments once orders exist."""
    with merchant_context(ctx.merchant):
        for row in AutoTagRule.objects.filter(is_active=True).order_by("pk"):
            autotag.run_rule(row)
    segment_services.refresh_all_counts(ctx.merchant)
