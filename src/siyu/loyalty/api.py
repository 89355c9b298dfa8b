"""Points and tiers API for staff (``/api/v1/loyalty``): settings, member tiers, a customer's
points and adjustments, results. Reading needs ``promotions.view``, changing
``promotions.manage``. Amounts are fen, shares basis points (500 = 5 %); bad input is 422
naming each field; another merchant's rows are 404.
(No ``from __future__ import annotations``: ninja reads annotations.)
"""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of
from siyu.core.errors import NotFound
from siyu.core.permissions import Perm
from siyu.customers.models import Customer
from siyu.loyalty import selectors, services, tiers
from siyu.loyalty.models import LoyaltySettings, MemberTier, PointsEntry

router = Router(tags=["loyalty"])

Expiry = Literal["never", "next_year_end", "days"]
Basis = Literal["spend", "points"]


class SettingsIn(Schema):
    enabled: bool = True
    earn_per_yuan: int = Field(1, description="Points per ¥1 paid (0–1000).")
    fen_per_point: int = Field(1, description="What one point pays, fen (1–10000).")
    max_redeem_bp: int = Field(5000, description="The most of an order points may pay (bp).")
    expiry: Expiry = Field(
        "next_year_end",
        description="`never`; `next_year_end`: points earned in year Y expire at the end of "
        "Y+1 in the merchant's time zone; `days`: `expiry_days` after earning.",
    )
    expiry_days: int = Field(365, description="With `expiry=days` (1–3650).")
    sign_in_points: int = Field(5, description="Points for the daily sign-in.")
    first_order_points: int = Field(100, description="Points for the first paid order.")
    review_points: int = Field(10, description="Points for a review.")


class SettingsOut(SettingsIn):
    """The settings as stored: the same fields as a full update."""


class TierIn(Schema):
    name: str = Field(examples=["Gold"])
    basis: Basis = Field(description="`spend`: fen paid in 12 months; `points`: earned in 12.")
    threshold: int = Field(0, description="Fen of spend or points, on `basis`.")
    discount_bp: int = Field(0, description="Off every order (0–9000 bp).")
    points_multiplier_bp: int = Field(10_000, description="10000 = 1× points (0–100000).")
    free_shipping: bool = False


class TierOut(TierIn):
    id: int
    rank: int = Field(description="1 is the lowest tier.")
    members: int = Field(0, description="Customers holding it now.")


class MoveIn(Schema):
    direction: Literal["up", "down"]


class EntryOut(Schema):
    id: int
    kind: str
    label: str
    points: int
    order_id: int | None
    reason: str
    actor_label: str
    expires_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_label(obj: PointsEntry) -> str:
        return selectors.entry_label(obj)


class CustomerPointsOut(Schema):
    customer_id: int
    balance: int
    available: int
    tier_id: int | None
    tier: str
    spend_12m: int
    points_12m: int


class AdjustIn(Schema):
    points: int = Field(description="Positive to add, negative to take (never below zero).")
    reason: str = Field(description="Why (shown in the history; 1–200 characters).")
    client_key: str = Field(
        "", max_length=64, description="A retry with the same key adjusts once."
    )


class ResultsOut(Schema):
    issued: int
    redeemed: int
    expired: int
    taken_back: int
    outstanding: int = Field(description="Points held by customers now.")
    liability: int = Field(description="What the outstanding points pay, fen.")
    accounts: int
    members: dict[str, int] = Field(description="Customers per tier name.")


def _settings(row: LoyaltySettings) -> dict[str, Any]:
    return {name: getattr(row, name) for name in SettingsIn.model_fields}


def _tier_out(tier: MemberTier, members: dict[int, int] | None = None) -> dict[str, Any]:
    return {
        "id": tier.pk,
        "rank": tier.rank,
        "name": tier.name,
        "basis": tier.basis,
        "threshold": tier.threshold,
        "discount_bp": tier.discount_bp,
        "points_multiplier_bp": tier.points_multiplier_bp,
        "free_shipping": tier.free_shipping,
        "members": (members or {}).get(tier.pk, 0),
    }


def _customer(customer_id: int) -> Customer:
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise NotFound("Not found.")
    return customer


@router.get("/settings", response={200: SettingsOut, **ERROR_RESPONSES}, summary="Points settings")
def get_settings(request: HttpRequest) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    return _settings(selectors.settings_for())


@router.put(
    "/settings",
    response={200: SettingsOut, **ERROR_RESPONSES},
    summary="Save the points settings",
    description="Every field is checked; bad ones are 422 by name. Audited.",
)
def put_settings(request: HttpRequest, payload: SettingsIn) -> Any:
    row = tiers.save_settings(actor_of(request, Perm.PROMOTIONS_MANAGE), payload.dict())
    return _settings(row)


@router.get(
    "/tiers",
    response={200: list[TierOut], **ERROR_RESPONSES},
    summary="Member tiers",
    description="Lowest first, with how many customers hold each.",
)
def list_tiers(request: HttpRequest) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    found = selectors.tiers()
    counts = dict(
        zip((t.pk for t in found), (n for _name, n in selectors.results().members), strict=True)
    )
    return [_tier_out(t, counts) for t in found]


@router.post(
    "/tiers",
    response={201: TierOut, **ERROR_RESPONSES},
    summary="Add a member tier",
    description="Ranked above the others. Customers move into it on their next paid or refunded "
    "order, or in the nightly run. A name already used is 422 on `name`.",
)
def create_tier(request: HttpRequest, payload: TierIn) -> Any:
    tier = tiers.create_tier(actor_of(request, Perm.PROMOTIONS_MANAGE), payload.dict())
    return Status(201, _tier_out(tier))


@router.put("/tiers/{tier_id}", response={200: TierOut, **ERROR_RESPONSES}, summary="Change a tier")
def update_tier(request: HttpRequest, tier_id: int, payload: TierIn) -> Any:
    tier = tiers.update_tier(actor_of(request, Perm.PROMOTIONS_MANAGE), tier_id, payload.dict())
    return _tier_out(tier)


@router.post(
    "/tiers/{tier_id}/move",
    response={200: list[TierOut], **ERROR_RESPONSES},
    summary="Move a tier up or down",
    description="Swaps it with its neighbour; answers the tiers in their new order.",
)
def move_tier(request: HttpRequest, tier_id: int, payload: MoveIn) -> Any:
    ordered = tiers.move_tier(actor_of(request, Perm.PROMOTIONS_MANAGE), tier_id, payload.direction)
    return [_tier_out(t) for t in ordered]


@router.delete(
    "/tiers/{tier_id}",
    response={204: None, **ERROR_RESPONSES},
    summary="Remove a tier",
    description="Its members are placed again at once (timeline entry and event each).",
)
def delete_tier(request: HttpRequest, tier_id: int) -> Any:
    tiers.delete_tier(actor_of(request, Perm.PROMOTIONS_MANAGE), tier_id)
    return Status(204, None)


@router.get(
    "/customers/{customer_id}",
    response={200: CustomerPointsOut, **ERROR_RESPONSES},
    summary="A customer's points and tier",
)
def customer_points(request: HttpRequest, customer_id: int) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    customer = _customer(customer_id)
    view = selectors.points_overview(customer)
    return {
        "customer_id": customer.pk,
        "balance": view.balance,
        "available": view.available,
        "tier_id": view.tier.tier.pk if view.tier.tier else None,
        "tier": view.tier.tier.name if view.tier.tier else "",
        "spend_12m": view.tier.spend_12m,
        "points_12m": view.tier.points_12m,
    }


@router.get(
    "/customers/{customer_id}/entries",
    response={200: list[EntryOut], **ERROR_RESPONSES},
    summary="A customer's points history",
    description="Newest first, paginated.",
)
@paginate(Page)
def customer_entries(request: HttpRequest, customer_id: int) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    return selectors.history(_customer(customer_id))


@router.post(
    "/customers/{customer_id}/adjust",
    response={201: EntryOut, **ERROR_RESPONSES},
    summary="Adjust a customer's points",
    description="With a reason; taking more than the balance is 422 on `points`. Audited. The "
    "same `client_key` answers the first adjustment.",
)
def adjust(request: HttpRequest, customer_id: int, payload: AdjustIn) -> Any:
    actor = actor_of(request, Perm.PROMOTIONS_MANAGE)
    entry = services.adjust(
        actor,
        _customer(customer_id),
        payload.points,
        reason=payload.reason,
        client_key=payload.client_key,
    )
    return Status(201, entry)


@router.get(
    "/results",
    response={200: ResultsOut, **ERROR_RESPONSES},
    summary="Points results",
    description="Points issued, redeemed (net of returns), expired and taken back, ever; what "
    "customers hold now and what it pays (fen); customers per tier.",
)
def results(request: HttpRequest) -> Any:
    actor_of(request, Perm.PROMOTIONS_VIEW)
    found = selectors.results()
    return {
        "issued": found.issued,
        "redeemed": found.redeemed,
        "expired": found.expired,
        "taken_back": found.taken_back,
        "outstanding": found.outstanding,
        "liability": found.liability,
        "accounts": found.accounts,
        "members": dict(found.members),
    }
