"""Staff API of shopping guides' commission, on the distribution router
(``/api/v1/distribution/guide-commission``): ``/rules`` (the guides' own rates), ``/balances``
and ``/ledger``. Reading needs ``distribution.view``, rules
``distribution.manage``. (No ``from __future__ import annotations``: ninja reads annotations.)
"""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Schema, Status
from ninja.pagination import paginate

from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of
from siyu.core.models import Membership
from siyu.core.permissions import Perm
from siyu.core.tenancy import current_merchant
from siyu.distribution import guide_commission, guide_selectors
from siyu.distribution.api import router
from siyu.distribution.models import GuideCommissionRule

TAGS = ["distribution: guides' commission"]


class GuideRuleOut(Schema):
    id: int
    scope: str = Field(description="`default`, `category` (and its subcategories) or `product`.")
    category_id: int | None
    product_id: int | None
    kind: str = Field(description="`percent` or `fixed` (fen per unit).")
    rate_bp: int
    fixed_fen: int


class GuideRuleIn(Schema):
    scope: Literal["default", "category", "product"]
    kind: Literal["percent", "fixed"]
    rate_bp: int = Field(0, description="For `percent`: basis points, 100 = 1 %.")
    fixed_fen: int = Field(0, description="For `fixed`: fen per unit, never more than paid.")
    category_id: int | None = None
    product_id: int | None = None


@router.get(
    "/guide-commission/rules",
    tags=TAGS,
    response={200: list[GuideRuleOut], **ERROR_RESPONSES},
    summary="Shopping guides' commission rules",
    description="What guides earn on the orders attributed to them (`Order.guide_id`): a "
    "product's rule beats its nearest category's, which beats the default. Separate from the "
    "distributors' rules.",
)
def list_guide_rules(request: HttpRequest) -> Any:
    actor_of(request, Perm.DISTRIBUTION_VIEW)
    return list(GuideCommissionRule.objects.order_by("scope", "id"))


@router.put(
    "/guide-commission/rules",
    tags=TAGS,
    response={200: GuideRuleOut, **ERROR_RESPONSES},
    summary="Set the guides' default, a category's or a product's rule",
    description="Replaces the rule of the same target. Bad values are 422 naming the field. "
    "Applies to orders paid from now on; earlier orders keep the basis they were paid with.",
)
def put_guide_rule(request: HttpRequest, body: GuideRuleIn) -> Any:
    actor = actor_of(request, Perm.DISTRIBUTION_MANAGE)
    return guide_commission.set_guide_rule(actor, **body.model_dump())


@router.delete(
    "/guide-commission/rules/{rule_id}",
    tags=TAGS,
    response={204: None, **ERROR_RESPONSES},
    summary="Remove a guides' commission rule",
)
def delete_guide_rule(request: HttpRequest, rule_id: int) -> Any:
    guide_commission.delete_guide_rule(actor_of(request, Perm.DISTRIBUTION_MANAGE), rule_id)
    return Status(204, None)


class GuideBalanceOut(Schema):
    guide_id: int = Field(description="The guide's staff membership id (`Order.guide_id`).")
    name: str
    earned: int = Field(description="Fen: pending + reversed entries.")
    pending: int = Field(description="Fen: earned, not yet settled.")
    settled: int = Field(description="Fen: settled, net of refunds after settlement.")


@router.get(
    "/guide-commission/balances",
    tags=TAGS,
    response={200: list[GuideBalanceOut], **ERROR_RESPONSES},
    summary="Every guide's commission balances",
    description="Guides with at least one entry, by earnings; sums of the append-only ledger.",
)
def guide_balances(request: HttpRequest) -> Any:
    actor_of(request, Perm.DISTRIBUTION_VIEW)
    found = guide_selectors.all_balances()
    names = {
        m.pk: (m.user.get_full_name() or m.user.get_username())
        for m in Membership.objects.filter(
            merchant=current_merchant(), pk__in=list(found)
        ).select_related("user")
    }
    rows = [{"guide_id": pk, "name": names.get(pk, ""), **b.__dict__} for pk, b in found.items()]
    return sorted(rows, key=lambda r: (-r["earned"], r["guide_id"]))


class GuideEntryOut(Schema):
    id: int
    guide_id: int
    order_id: int
    order_line_id: int
    kind: str = Field(description="`pending`, `settled` or `reversed`.")
    amount: int = Field(description="Signed fen.")
    from_settled: bool
    created_at: datetime


class GuideEntryFilter(Schema):
    guide_id: int | None = None
    order_id: int | None = None
    kind: Literal["pending", "settled", "reversed"] | None = None


@router.get(
    "/guide-commission/ledger",
    tags=TAGS,
    response={200: list[GuideEntryOut], **ERROR_RESPONSES},
    summary="Guides' commission entries, newest first (append-only)",
)
@paginate(Page)
def guide_ledger(request: HttpRequest, filters: Query[GuideEntryFilter]) -> Any:
    actor_of(request, Perm.DISTRIBUTION_VIEW)
    rows = guide_selectors.entries(filters.guide_id, filters.order_id)
    if filters.kind is not None:
        rows = rows.filter(kind=filters.kind)
    return rows
