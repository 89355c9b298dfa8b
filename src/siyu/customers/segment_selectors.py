"""Reads of tags, segments and auto-tag rules shared by the console pages and the API."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from siyu.catalog.models import Category
from siyu.community.models import CommunityGroup
from siyu.core.errors import NotFound
from siyu.core.models import Membership
from siyu.core.tenancy import current_merchant
from siyu.customers.models import AutoTagRule, Customer, CustomerTag, Segment, Tag, TagGroup
from siyu.stores.models import Store


def tag_groups() -> QuerySet[TagGroup]:
    """Tag groups in their order, each with its tags prefetched."""
    return TagGroup.objects.prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name", "id"))
    ).order_by("position", "id")


def tags() -> QuerySet[Tag]:
    return Tag.objects.select_related("group")


def tag_group(pk: int) -> TagGroup:
    row = TagGroup.objects.filter(pk=pk).first()
    if row is None:
        raise NotFound(_("No such tag group."))
    return row


def tag(pk: int) -> Tag:
    row = Tag.objects.select_related("group").filter(pk=pk).first()
    if row is None:
        raise NotFound(_("No such tag."))
    return row


def customer_tags(customer: Customer) -> QuerySet[CustomerTag]:
    return (
        CustomerTag.objects.filter(customer=customer)
        .select_related("tag", "tag__group")
        .order_by("tag__group__position", "tag__name")
    )


def segments() -> QuerySet[Segment]:
    return Segment.objects.order_by("name", "id")


def segment(pk: int) -> Segment:
    row = Segment.objects.filter(pk=pk).first()
    if row is None:
        raise NotFound(_("No such segment."))
    return row


def auto_tag_rules() -> QuerySet[AutoTagRule]:
    return AutoTagRule.objects.select_related("tag", "tag__group").order_by("name", "id")


def auto_tag_rule(pk: int) -> AutoTagRule:
    row = AutoTagRule.objects.select_related("tag", "tag__group").filter(pk=pk).first()
    if row is None:
        raise NotFound(_("No such auto-tag rule."))
    return row


def rule_choices() -> dict[str, list[dict[str, Any]]]:
    """What the rule builder offers in its pickers: the merchant's tags, groups, stores,
    guides, categories and the join channels customers have."""
    merchant = current_merchant()
    guides = (
        Membership.objects.filter(merchant=merchant, is_active=True)
        .select_related("user")
        .order_by("id")
    )
    categories = Category.objects.select_related("parent").order_by("depth", "position", "id")
    channels = (
        Customer.objects.exclude(join_channel="")
        .order_by()
        .values_list("join_channel", flat=True)
        .distinct()[:100]
    )
    return {
        "tag": [
            {"id": t.pk, "label": f"{t.group.name} · {t.name}"}
            for t in Tag.objects.select_related("group").order_by("group__position", "name")
        ],
        "group": [
            {"id": g.pk, "label": g.name}
            for g in CommunityGroup.objects.order_by("name", "id")[:2000]
        ],
        "home_store": [{"id": s.pk, "label": s.name} for s in Store.objects.order_by("name")],
        "owner_guide": [
            {"id": m.pk, "label": m.user.get_full_name() or m.user.get_username()} for m in guides
        ],
        "category": [
            {"id": c.pk, "label": f"{c.parent.name} › {c.name}" if c.parent else c.name}
            for c in categories
        ],
        "join_channel": [{"id": ch, "label": ch} for ch in sorted(set(channels))],
    }
