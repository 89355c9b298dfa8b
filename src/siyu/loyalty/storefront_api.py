"""Points and tiers API for the logged-in customer (``/api/v1/storefront/<slug>/points``):
my balance, tier and what expires when, my history, the daily sign-in, and what points can
pay of an amount. (No ``from __future__ import annotations``: ninja reads annotations.)
"""

from datetime import date, datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate

from siyu.core.apikit import ERROR_RESPONSES, Page
from siyu.core.errors import NotFound
from siyu.customers.apikit import CUSTOMER_AUTH, customer_of
from siyu.loyalty import selectors, services
from siyu.loyalty.models import MemberTier, PointsEntry

router = Router(tags=["storefront: points"], auth=CUSTOMER_AUTH)

MerchantSlug = Annotated[str, Path(description="The merchant's storefront slug.")]


class TierOut(Schema):
    id: int
    name: str = Field(examples=["Gold"])
    basis: str = Field(description="`spend` (fen paid in 12 months) or `points` (earned).")
    threshold: int
    discount_bp: int = Field(description="Off every order, basis points (500 = 5 %).")
    points_multiplier_bp: int = Field(description="10000 = 1×.")
    free_shipping: bool
    benefits: list[str] = Field(description="The benefits in words, in the request's language.")


class NextTierOut(Schema):
    tier: TierOut
    have: int = Field(description="My figure on the tier's basis (fen or points).")
    need: int = Field(description="What is still missing (fen or points).")
    percent: int


class ExpiringOut(Schema):
    expires_at: datetime
    points: int


class PointsOut(Schema):
    balance: int = Field(description="Σ of my entries.")
    available: int = Field(
        description="What I can spend now (lapsed lots not yet written off excluded)."
    )
    worth: int = Field(description="What the available points pay, fen.")
    fen_per_point: int
    max_redeem_bp: int = Field(description="The most of an order points may pay, basis points.")
    expiring: list[ExpiringOut] = Field(description="What expires when, soonest first.")
    tier: TierOut | None
    spend_12m: int = Field(description="Paid less refunded in the last 12 months, fen.")
    points_12m: int = Field(description="Points earned in the last 12 months.")
    next_tier: NextTierOut | None
    signed_in_today: bool
    streak: int = Field(description="Days signed in in a row.")
    sign_in_points: int


class EntryOut(Schema):
    id: int
    kind: str = Field(
        description="`earn_order`, `first_order`, `sign_in`, `review`, `award`, "
        "`redeem`, `refund_earn`, `refund_redeem`, `expire` or `adjust`."
    )
    label: str = Field(description="What it was for, in the request's language.")
    points: int = Field(description="Positive: earned or returned; negative: spent or lost.")
    order_id: int | None
    expires_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_label(obj: PointsEntry) -> str:
        return selectors.entry_label(obj)


class SignInOut(Schema):
    created: bool = Field(description="False: I had already signed in today (nothing written).")
    day: date
    streak: int
    points: int
    balance: int


class QuoteOut(Schema):
    balance: int
    max_points: int
    fen_per_point: int
    max_amount: int


class QuoteQuery(Schema):
    goods_amount: int = Field(ge=0, le=10**13, description="The goods to pay, fen.")


def _tier(tier: MemberTier | None) -> dict[str, Any] | None:
    if tier is None:
        return None
    return {
        "id": tier.pk,
        "name": tier.name,
        "basis": tier.basis,
        "threshold": tier.threshold,
        "discount_bp": tier.discount_bp,
        "points_multiplier_bp": tier.points_multiplier_bp,
        "free_shipping": tier.free_shipping,
        "benefits": selectors.benefits_text(tier),
    }


@router.get(
    "",
    response={200: PointsOut, **ERROR_RESPONSES},
    summary="My points and tier",
    description="Balance, what can be spent now and what it is worth, what expires when, my "
    "tier with its benefits and how far the next one is, and whether I signed in today.",
)
def my_points(request: HttpRequest, merchant_slug: MerchantSlug) -> Any:
    view = selectors.points_overview(customer_of(request))
    progress = view.tier.next
    return {
        "balance": view.balance,
        "available": view.available,
        "worth": view.worth,
        "fen_per_point": view.settings.fen_per_point,
        "max_redeem_bp": view.settings.max_redeem_bp,
        "expiring": [{"expires_at": e.expires_at, "points": e.points} for e in view.expiring],
        "tier": _tier(view.tier.tier),
        "spend_12m": view.tier.spend_12m,
        "points_12m": view.tier.points_12m,
        "next_tier": {
            "tier": _tier(view.tier.next_tier),
            "have": progress.have,
            "need": progress.need,
            "percent": progress.percent,
        }
        if progress is not None and view.tier.next_tier is not None
        else None,
        "signed_in_today": view.signed_in_today,
        "streak": view.streak,
        "sign_in_points": view.settings.sign_in_points if view.settings.enabled else 0,
    }


@router.get(
    "/history",
    response={200: list[EntryOut], **ERROR_RESPONSES},
    summary="My points history",
    description="Newest first, paginated with `limit` and `offset`.",
)
@paginate(Page)
def history(request: HttpRequest, merchant_slug: MerchantSlug) -> Any:
    return selectors.history(customer_of(request))


@router.post(
    "/sign-in",
    response={200: SignInOut, **ERROR_RESPONSES},
    summary="Sign in for today",
    description="Once a day (the shop's day): the sign-in points, and the streak of days in a "
    "row. Again the same day answers the first sign-in with `created: false`. Points switched "
    "off in the shop is 422 on `sign_in`.",
)
def sign_in(request: HttpRequest, merchant_slug: MerchantSlug) -> Any:
    customer = customer_of(request)
    done = services.sign_in(customer)
    return {
        "created": done.created,
        "day": done.sign_in.day,
        "streak": done.sign_in.streak,
        "points": done.sign_in.points,
        "balance": selectors.balance_of(customer),
    }


@router.get(
    "/quote",
    response={200: QuoteOut, **ERROR_RESPONSES},
    summary="What my points can pay of an amount",
    description="How many points (whole, at most the shop's share of `goods_amount`) I could "
    "use, and what they take off, fen. Use them with `points` on `POST …/cart/preview` and "
    "`POST …/orders`.",
)
def quote(request: HttpRequest, merchant_slug: MerchantSlug, query: Query[QuoteQuery]) -> Any:
    found = selectors.redeem_quote(customer_of(request), query.goods_amount)
    return {
        "balance": found.balance,
        "max_points": found.max_points,
        "fen_per_point": found.fen_per_point,
        "max_amount": found.max_amount,
    }


class ReviewIn(Schema):
    order_line_id: int = Field(description="A line of one of my completed orders.")
    rating: int = Field(description="1–5 stars.")
    text: str = Field("", description="At most 500 characters.")


class ReviewOut(Schema):
    id: int
    order_id: int
    order_line_id: int
    product_id: int
    rating: int
    text: str
    created_at: datetime


class PublicReviewOut(Schema):
    rating: int
    text: str
    reviewer: str = Field(description="A name's first character or a masked phone number.")
    created_at: datetime


class ProductReviewsOut(Schema):
    count: int
    average: float | None = Field(description="Average stars, one decimal; None without reviews.")
    latest: list[PublicReviewOut]


@router.post(
    "/reviews",
    response={201: ReviewOut, **ERROR_RESPONSES},
    summary="Review a line of my completed order",
    description="Once per order line: the first review earns the shop's review points; again "
    "answers the first review. An order not completed yet is 422 on `order_line_id`; a rating "
    "outside 1–5 on `rating`; another customer's line is 404.",
)
def post_review(request: HttpRequest, merchant_slug: MerchantSlug, payload: ReviewIn) -> Any:
    made = services.review(
        customer_of(request), payload.order_line_id, payload.rating, payload.text
    )
    return Status(201, made)


@router.get(
    "/products/{product_id}/reviews",
    response={200: ProductReviewsOut, **ERROR_RESPONSES},
    summary="A product's reviews",
    description="How many, the average rating and the latest 10 shown ones (the product page "
    "shows them to anyone; the API, like the rest of the storefront API, to a logged-in "
    "customer). An unknown product is 404.",
)
def product_reviews(request: HttpRequest, merchant_slug: MerchantSlug, product_id: int) -> Any:
    from siyu.catalog.models import Product

    if not Product.objects.filter(pk=product_id).exists():
        raise NotFound(_("Unknown product."))
    found = selectors.product_reviews(product_id)
    return {
        "count": found.count,
        "average": found.average,
        "latest": [
            {
                "rating": r.rating,
                "text": r.text,
                "reviewer": selectors.reviewer_name(r),
                "created_at": r.created_at,
            }
            for r in found.latest
        ],
    }
