"""The distributor centre's API for the logged-in customer
(``/api/v1/storefront/<slug>/distributor``): my status and balances, applying, my
attributed orders, bound customers and invited distributors, share links and withdrawals.

Amounts are fen. Everything answers about the logged-in customer's own distributor row;
the lists of a customer who is not an approved distributor are a 404, and so is another
distributor's withdrawal. (No ``from __future__ import annotations``: django-ninja reads the
annotations at run time.)
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status

from siyu.core.apikit import ERROR_RESPONSES
from siyu.core.errors import NotFound
from siyu.customers.apikit import CUSTOMER_AUTH, customer_of
from siyu.distribution import centre, centre_services, selectors, services, sharing
from siyu.distribution.models import Distributor, Withdrawal

router = Router(tags=["storefront: distributor centre"], auth=CUSTOMER_AUTH)

MerchantSlug = Annotated[str, Path(description="The merchant's storefront slug.")]


class CentreBalancesOut(Schema):
    earned: int = Field(description="Fen: what attributed orders earned, net of refunds.")
    pending: int = Field(description="Fen: earned, not yet settled (within the return window).")
    settled: int = Field(description="Fen: settled, net of refunds after settlement.")
    withdrawn: int = Field(description="Fen: paid out.")
    held: int = Field(description="Fen: in requested or approved withdrawals.")
    available: int = Field(description="Fen: settled − withdrawn − held; what may be withdrawn.")


class CentreMeOut(Schema):
    status: str = Field(
        description="`none` (never applied), `applied`, `approved`, `rejected` or `suspended`."
    )
    enrolment: str = Field(description="`open` (approved at once) or `approval`; never a fee.")
    enabled: bool = Field(description="Whether the shop takes distributors at all.")
    share_code: str = Field(description="Links with `?d=<share code>` bind who opens them.")
    reason: str = Field(description="The shop's reason of a rejection or suspension.")
    applied_at: datetime | None
    minimum_withdrawal: int = Field(description="Fen.")
    settlement_delay_days: int
    balances: CentreBalancesOut | None = Field(description="Only for an approved distributor.")
    orders: int
    customers: int
    team: int


class CentreApplyIn(Schema):
    invited_by_code: str = Field(
        "", max_length=16, description="The share code of the distributor who invited me."
    )


class CentrePageQuery(Schema):
    limit: int = Field(20, ge=1, le=100, description="Items per page (1–100).")
    offset: int = Field(0, ge=0, description="Items to skip.")


class CentreOrderOut(Schema):
    order_id: int
    number: str
    placed_at: datetime
    customer: str = Field(description="Masked: the name's first character, or the phone.")
    status: str
    total: int = Field(description="Fen.")
    refunded: int = Field(description="Fen.")
    commission: int = Field(description="Fen the order earns me now (after refunds).")
    settled: bool
    level: int = Field(description="1: my customer's order; 2: my invitee's customer's.")


class CentreOrderPage(Schema):
    items: list[CentreOrderOut]
    count: int
    limit: int
    offset: int
    next_offset: int | None


class CentreCustomerOut(Schema):
    name: str = Field(description="Masked.")
    phone: str = Field(description="Masked.")
    since: datetime
    source: str


class CentreCustomerPage(Schema):
    items: list[CentreCustomerOut]
    count: int
    limit: int
    offset: int
    next_offset: int | None


class CentreTeamOut(Schema):
    name: str
    phone: str
    status: str
    applied_at: datetime


class CentreTeamPage(Schema):
    items: list[CentreTeamOut]
    count: int
    limit: int
    offset: int
    next_offset: int | None


class CentreWithdrawalOut(Schema):
    id: int
    amount: int = Field(description="Fen.")
    status: str = Field(description="`requested`, `approved`, `rejected` or `paid`.")
    requested_at: datetime
    decided_at: datetime | None
    reason: str
    reference: str = Field(description="The payout's reference once paid.")
    paid_at: datetime | None


class CentreWithdrawalPage(Schema):
    items: list[CentreWithdrawalOut]
    count: int
    limit: int
    offset: int
    next_offset: int | None


class CentreWithdrawIn(Schema):
    amount: int = Field(description="Fen: at least the minimum, at most what is available.")
    client_key: str = Field(
        "", max_length=64, description="A retry with the same key answers the same withdrawal."
    )


class CentreShareOut(Schema):
    product_id: int
    name: str
    price: str = Field(description="The price as shown, e.g. ¥26.00.")
    link: str = Field(description="The product page with `?d=<share code>`.")
    poster_url: str = Field(description="An SVG poster: picture, name, price, QR of the link.")


def _approved(request: HttpRequest) -> Distributor:
    found = centre.active_distributor(customer_of(request))
    if found is None:
        raise NotFound(_("You are not a distributor of this shop."))
    return found


def _page(
    rows: Any, page: CentrePageQuery, convert: Callable[[list[Any]], list[Any]]
) -> dict[str, Any]:
    count = rows.count()
    stop = page.offset + page.limit
    return {
        "items": convert(list(rows[page.offset : stop])),
        "count": count,
        "limit": page.limit,
        "offset": page.offset,
        "next_offset": stop if stop < count else None,
    }


def _me(distributor: Distributor | None) -> dict[str, Any]:
    settings_row = selectors.settings_of()
    approved = distributor is not None and distributor.status == Distributor.Status.APPROVED
    view = centre.centre(distributor) if approved and distributor is not None else None
    return {
        "status": distributor.status if distributor is not None else "none",
        "enrolment": settings_row.enrolment,
        "enabled": settings_row.enabled,
        "share_code": distributor.share_code if approved and distributor is not None else "",
        "reason": distributor.reason if distributor is not None else "",
        "applied_at": distributor.applied_at if distributor is not None else None,
        "minimum_withdrawal": settings_row.minimum_withdrawal,
        "settlement_delay_days": settings_row.settlement_delay_days,
        "balances": view.balances.__dict__ if view is not None else None,
        "orders": view.orders if view is not None else 0,
        "customers": view.customers if view is not None else 0,
        "team": view.team if view is not None else 0,
    }


def _withdrawal(w: Withdrawal) -> dict[str, Any]:
    return {
        "id": w.pk,
        "amount": w.amount,
        "status": w.status,
        "requested_at": w.requested_at,
        "decided_at": w.decided_at,
        "reason": w.reason,
        "reference": w.reference,
        "paid_at": w.paid_at,
    }


@router.get(
    "",
    response={200: CentreMeOut, **ERROR_RESPONSES},
    summary="My distributor status and balances",
    description="`status` is `none` until I apply; balances and counts once approved. Sums of "
    "the commission ledger and my withdrawals, in fen.",
)
def me(request: HttpRequest, merchant_slug: MerchantSlug) -> Any:
    return _me(centre.distributor_of(customer_of(request)))


@router.post(
    "/apply",
    response={200: CentreMeOut, **ERROR_RESPONSES},
    summary="Apply to become a distributor",
    description="Free. Under open enrolment approved at once, otherwise `applied` until the shop "
    "decides; applying again while applied or approved changes nothing, after a rejection it "
    "applies anew. A bad `invited_by_code` is 422 on it; distribution off is 409.",
)
def apply(request: HttpRequest, merchant_slug: MerchantSlug, body: CentreApplyIn) -> Any:
    made = services.apply(customer_of(request), invited_by_code=body.invited_by_code.strip())
    return _me(made)


@router.get(
    "/orders",
    response={200: CentreOrderPage, **ERROR_RESPONSES},
    summary="My attributed orders",
    description="Paid orders attributed to me (or earning me the second level), newest first, "
    "with the commission each earns me now. 404 unless I am an approved distributor.",
)
def orders(request: HttpRequest, merchant_slug: MerchantSlug, page: Query[CentrePageQuery]) -> Any:
    distributor = _approved(request)
    return _page(
        centre.attributed_orders(distributor),
        page,
        lambda rows: [r.__dict__ for r in centre.order_rows(distributor, rows)],
    )


@router.get(
    "/customers",
    response={200: CentreCustomerPage, **ERROR_RESPONSES},
    summary="My bound customers",
    description="Customers bound to me, newest first, masked.",
)
def customers(
    request: HttpRequest, merchant_slug: MerchantSlug, page: Query[CentrePageQuery]
) -> Any:
    distributor = _approved(request)
    return _page(
        centre.bound_customers(distributor),
        page,
        lambda rows: [r.__dict__ for r in centre.customer_rows(rows)],
    )


@router.get(
    "/team",
    response={200: CentreTeamPage, **ERROR_RESPONSES},
    summary="Distributors I invited",
    description="Shown only: nothing is earned for inviting.",
)
def team(request: HttpRequest, merchant_slug: MerchantSlug, page: Query[CentrePageQuery]) -> Any:
    distributor = _approved(request)
    return _page(
        centre.team(distributor), page, lambda rows: [r.__dict__ for r in centre.team_rows(rows)]
    )


@router.get(
    "/share/{product_id}",
    response={200: CentreShareOut, **ERROR_RESPONSES},
    summary="A product's share link and poster",
    description="The product page's link with my share code and the address of its poster. "
    "A product not on sale is 404.",
)
def share(request: HttpRequest, merchant_slug: MerchantSlug, product_id: int) -> Any:
    distributor = _approved(request)
    item = sharing.product(product_id)
    if item is None:
        raise NotFound()
    found = sharing.share_of(request, distributor, item)
    return {
        "product_id": item.pk,
        "name": item.name,
        "price": found.price,
        "link": found.link,
        "poster_url": found.poster_url,
    }


@router.get(
    "/withdrawals",
    response={200: CentreWithdrawalPage, **ERROR_RESPONSES},
    summary="My withdrawals",
    description="Newest first, with their status and the payout's reference once paid.",
)
def withdrawals(
    request: HttpRequest, merchant_slug: MerchantSlug, page: Query[CentrePageQuery]
) -> Any:
    distributor = _approved(request)
    return _page(centre.withdrawals(distributor), page, lambda rows: [_withdrawal(w) for w in rows])


@router.get(
    "/withdrawals/{withdrawal_id}",
    response={200: CentreWithdrawalOut, **ERROR_RESPONSES},
    summary="One of my withdrawals",
    description="Another distributor's withdrawal is 404.",
)
def withdrawal(request: HttpRequest, merchant_slug: MerchantSlug, withdrawal_id: int) -> Any:
    found = centre.withdrawal(_approved(request), withdrawal_id)
    if found is None:
        raise NotFound()
    return _withdrawal(found)


@router.post(
    "/withdrawals",
    response={201: CentreWithdrawalOut, **ERROR_RESPONSES},
    summary="Request a withdrawal",
    description="Of settled commission: below the minimum or above what is available is 422 on "
    "`amount`. The same `client_key` answers the withdrawal its first request made.",
)
def withdraw(request: HttpRequest, merchant_slug: MerchantSlug, body: CentreWithdrawIn) -> Any:
    distributor = _approved(request)
    made = centre_services.request_withdrawal_once(distributor.pk, body.amount, body.client_key)
    return Status(201, _withdrawal(made))
