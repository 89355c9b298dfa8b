"""Distribution API (``/api/v1/distribution``): settings, distributors, commission rules,
the commission ledger and withdrawals, for staff and API keys.

Reading needs ``distribution.view``; settings, rules and decisions on distributors
``distribution.manage``; withdrawals' approval, rejection and payout
``distribution.payout`` (the finance role). Bad input is a 422 naming the field.
(No ``from __future__ import annotations``: ninja reads annotations.)
"""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of, get_or_404
from siyu.core.permissions import Perm
from siyu.distribution import selectors, services
from siyu.distribution.models import CommissionEntry, CommissionRule, Distributor, Withdrawal

router = Router(tags=["distribution"])


class SettingsOut(Schema):
    enabled: bool
    enrolment: str = Field(description="`open` (approved at once) or `approval`; never a fee.")
    binding_policy: str = Field(description="`first_link`, `last_link` or `permanent`.")
    protection_days: int = Field(description="How long the first link's binding is protected.")
    self_purchase: bool
    settlement_delay_days: int = Field(description="The return window after completion.")
    second_level: bool = Field(
        description="A distributor's inviter earns on their sales. Multi-level pay carries "
        "legal risk in China; never more than two levels."
    )
    second_level_rate_bp: int = Field(description="Basis points: 100 = 1 %.")
    minimum_withdrawal: int = Field(description="Fen.")


class SettingsPatch(Schema):
    enabled: bool | None = None
    enrolment: Literal["open", "approval"] | None = None
    binding_policy: Literal["first_link", "last_link", "permanent"] | None = None
    protection_days: int | None = None
    self_purchase: bool | None = None
    settlement_delay_days: int | None = None
    second_level: bool | None = None
    second_level_rate_bp: int | None = None
    minimum_withdrawal: int | None = None


@router.get(
    "/settings", response={200: SettingsOut, **ERROR_RESPONSES}, summary="Distribution settings"
)
def get_settings(request: HttpRequest) -> Any:
    actor_of(request, Perm.DISTRIBUTION_VIEW)
    return selectors.settings_of()


@router.patch(
    "/settings",
    response={200: SettingsOut, **ERROR_RESPONSES},
    summary="Change distribution settings (only the fields given)",
)
def patch_settings(request: HttpRequest, body: SettingsPatch) -> Any:
    actor = actor_of(request, Perm.DISTRIBUTION_MANAGE)
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    return services.update_settings(actor, changes)


class DistributorOut(Schema):
    id: int
    customer_id: int
    status: str = Field(description="`applied`, `approved`, `rejected` or `suspended`.")
    invited_by_id: int | None
    share_code: str = Field(description="Storefront links with `?d=<share code>` bind visitors.")
    applied_at: datetime
    decided_at: datetime | None
    decided_by: str
    reason: str


class DistributorFilter(Schema):
    status: Literal["applied", "approved", "rejected", "suspended"] | None = None


@router.get(
    "/distributors",
    response={200: list[DistributorOut], **ERROR_RESPONSES},
    summary="Distributors, newest applications first",
)
@paginate(Page)
def list_distributors(request: HttpRequest, filters: Query[DistributorFilter]) -> Any:
    actor_of(request, Perm.DISTRIBUTION_VIEW)
    rows = Distributor.objects.order_by("-applied_at", "-id")
    return rows.filter(status=filters.status) if filters.status else rows


class DecisionIn(Schema):
    status: Literal["approved", "rejected", "suspended"]
    reason: str = Field("", max_length=200)


@router.post(
    "/distributors/{distributor_id}/decision",
    response={200: DistributorOut, **ERROR_RESPONSES},
    summary="Approve, reject or suspend a distributor",
)
def decide(request: HttpRequest, distributor_id: int, body: DecisionIn) -> Any:
    actor = actor_of(request, Perm.DISTRIBUTION_MANAGE)
    return services.decide(actor, distributor_id, body.status, reason=body.reason)


class BalancesOut(Schema):
    earned: int = Field(description="Fen: pending + reversed entries.")
    pending: int
    settled: int
    withdrawn: int
    held: int = Field(description="Requested or approved withdrawals.")
    available: int


@router.get(
    "/distributors/{distributor_id}/balances",
    response={200: BalancesOut, **ERROR_RESPONSES},
    summary="A distributor's balances (sums of the ledger)",
)
def distributor_balances(request: HttpRequest, distributor_id: int) -> Any:
    actor_of(request, Perm.DISTRIBUTION_VIEW)
    return selectors.balances(get_or_404(Distributor.objects, pk=distributor_id))


class RuleOut(Schema):
    id: int
    scope: str
    category_id: int | None
    product_id: int | None
    kind: str
    rate_bp: int
    fixed_fen: int


class RuleIn(Schema):
    scope: Literal["default", "category", "product"]
    kind: Literal["percent", "fixed"]
    rate_bp: int = Field(0, description="For `percent`: basis points, 100 = 1 %.")
    fixed_fen: int = Field(0, description="For `fixed`: fen per unit.")
    category_id: int | None = None
    product_id: int | None = None


@router.get("/rules", response={200: list[RuleOut], **ERROR_RESPONSES}, summary="Commission rules")
def list_rules(request: HttpRequest) -> Any:
    actor_of(request, Perm.DISTRIBUTION_VIEW)
    return list(CommissionRule.objects.order_by("scope", "id"))


@router.put(
    "/rules",
    response={200: RuleOut, **ERROR_RESPONSES},
    summary="Set the default, a category's or a product's rule",
)
def put_rule(request: HttpRequest, body: RuleIn) -> Any:
    actor = actor_of(request, Perm.DISTRIBUTION_MANAGE)
    return services.set_rule(actor, **body.model_dump())


@router.delete("/rules/{rule_id}", response={204: None, **ERROR_RESPONSES}, summary="Remove a rule")
def delete_rule(request: HttpRequest, rule_id: int) -> Any:
    actor = actor_of(request, Perm.DISTRIBUTION_MANAGE)
    services.delete_rule(actor, rule_id)
    return Status(204, None)


class EntryOut(Schema):
    id: int
    distributor_id: int
    order_id: int
    order_line_id: int
    level: int
    kind: str = Field(description="`pending`, `settled` or `reversed`.")
    amount: int = Field(description="Signed fen.")
    from_settled: bool
    created_at: datetime


class EntryFilter(Schema):
    distributor_id: int | None = None
    order_id: int | None = None
    kind: Literal["pending", "settled", "reversed"] | None = None


@router.get(
    "/ledger",
    response={200: list[EntryOut], **ERROR_RESPONSES},
    summary="Commission entries, newest first (append-only)",
)
@paginate(Page)
def ledger(request: HttpRequest, filters: Query[EntryFilter]) -> Any:
    actor_of(request, Perm.DISTRIBUTION_VIEW)
    rows = CommissionEntry.objects.order_by("-created_at", "-id")
    for name in ("distributor_id", "order_id", "kind"):
        value = getattr(filters, name)
        if value is not None:
            rows = rows.filter(**{name: value})
    return rows


class WithdrawalOut(Schema):
    id: int
    distributor_id: int
    amount: int
    status: str = Field(description="`requested`, `approved`, `rejected` or `paid`.")
    requested_at: datetime
    decided_at: datetime | None
    decided_by: str
    reason: str
    payout_method: str
    reference: str
    paid_at: datetime | None


class WithdrawalFilter(Schema):
    status: Literal["requested", "approved", "rejected", "paid"] | None = None


@router.get(
    "/withdrawals",
    response={200: list[WithdrawalOut], **ERROR_RESPONSES},
    summary="Withdrawals, newest first",
)
@paginate(Page)
def list_withdrawals(request: HttpRequest, filters: Query[WithdrawalFilter]) -> Any:
    actor_of(request, Perm.DISTRIBUTION_VIEW)
    rows = Withdrawal.objects.order_by("-requested_at", "-id")
    return rows.filter(status=filters.status) if filters.status else rows


@router.get(
    "/withdrawals.csv",
    response=ERROR_RESPONSES,
    summary="Withdrawals as CSV for accounting",
    description="Oldest first; amounts in fen and in yuan; times in UTC (ISO 8601).",
    openapi_extra={
        "responses": {
            200: {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}
        }
    },
)
def withdrawals_csv(request: HttpRequest, filters: Query[WithdrawalFilter]) -> HttpResponse:
    actor_of(request, Perm.DISTRIBUTION_VIEW)
    response = HttpResponse(
        selectors.withdrawals_csv(filters.status), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="withdrawals.csv"'
    return response


@router.post(
    "/withdrawals/{withdrawal_id}/approve",
    response={200: WithdrawalOut, **ERROR_RESPONSES},
    summary="Approve a withdrawal (finance)",
)
def approve_withdrawal(request: HttpRequest, withdrawal_id: int) -> Any:
    return services.approve_withdrawal(actor_of(request, Perm.DISTRIBUTION_PAYOUT), withdrawal_id)


class RejectIn(Schema):
    reason: str


@router.post(
    "/withdrawals/{withdrawal_id}/reject",
    response={200: WithdrawalOut, **ERROR_RESPONSES},
    summary="Reject a withdrawal (finance); its amount is available again",
)
def reject_withdrawal(request: HttpRequest, withdrawal_id: int, body: RejectIn) -> Any:
    actor = actor_of(request, Perm.DISTRIBUTION_PAYOUT)
    return services.reject_withdrawal(actor, withdrawal_id, body.reason)


class PayIn(Schema):
    reference: str = Field(description="The bank transfer's reference (manual payout).")


@router.post(
    "/withdrawals/{withdrawal_id}/pay",
    response={200: WithdrawalOut, **ERROR_RESPONSES},
    summary="Pay an approved withdrawal through the payout adapter (finance)",
)
def pay_withdrawal(request: HttpRequest, withdrawal_id: int, body: PayIn) -> Any:
    actor = actor_of(request, Perm.DISTRIBUTION_PAYOUT)
    return services.pay_withdrawal(actor, withdrawal_id, reference=body.reference)


# Shopping guides' commission: /guide-commission/… (registered on this router by the module).
from siyu.distribution import guide_api  # noqa: E402, F401
