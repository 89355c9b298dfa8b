"""Staff API of customers (``/api/v1/customers``): list, read, change name and status.

(No ``from __future__ import annotations``: django-ninja resolves ``Query[...]``
annotations at run time.)

Phone numbers are shown in full to roles with ``customers.manage`` (owners,
operators) and with the middle starred (``+86138****5678``) to the others.
"""

from datetime import date, datetime
from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of
from siyu.core.permissions import Perm
from siyu.customers import crm_selectors, phones, profile, selectors, services
from siyu.customers.models import Customer

router = Router(tags=["customers"])

PHONE_DESCRIPTION = (
    "E.164 (`+8613812345678`); the middle is starred (`+86138****5678`) for roles "
    "without `customers.manage`."
)


def _may_see_phones(context: Any) -> bool:
    request = (context or {}).get("request")
    actor = getattr(request, "auth", None)
    return bool(actor is not None and actor.can(Perm.CUSTOMERS_MANAGE))


def _phone(e164: str, context: Any) -> str:
    return e164 if _may_see_phones(context) else phones.masked_e164(e164)


class AddressOut(Schema):
    id: int
    recipient: str = Field(examples=["王小明"])
    phone: str = Field(description=PHONE_DESCRIPTION)
    province: str = Field(examples=["上海市"])
    city: str = Field(examples=["上海市"])
    district: str = Field(examples=["静安区"])
    street: str = Field(examples=["南京西路1618号2号楼1201室"])
    postal_code: str = Field(examples=["200040"])
    latitude: float | None
    longitude: float | None
    is_default: bool
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_phone(obj: Any, context: Any) -> str:
        return _phone(obj.phone, context)


class CustomerOut(Schema):
    id: int
    phone: str = Field(description=PHONE_DESCRIPTION)
    name: str = Field(examples=["王小明"])
    status: str = Field(description="`active` or `blocked` (cannot log in).")
    join_channel: str = Field(
        description="Where the customer first came from: `storefront` (their first login), "
        "`store_qr`, `guide`, `group`, `import`…; empty when unknown."
    )
    created_at: datetime
    last_login_at: datetime | None
    gender: str = Field(description="`female`, `male` or empty (not given).")
    birthday: date | None
    city: str = Field(examples=["上海"])
    home_store_id: int | None
    owner_guide_id: int | None = Field(description="The staff membership that owns them.")
    order_count: int = Field(
        description="Orders: paid, not refunded in full; imported history included."
    )
    total_spent: int = Field(description="Net: paid minus refunded over those orders, in fen.")
    average_order_value: int = Field(
        description="total_spent ÷ order_count rounded half up, in fen; 0 without orders."
    )
    first_order_at: datetime | None
    last_order_at: datetime | None
    rfm_recency: int = Field(description="1–5 (5 best) among customers with orders; 0 without.")
    rfm_frequency: int
    rfm_monetary: int

    @staticmethod
    def resolve_phone(obj: Any, context: Any) -> str:
        return _phone(obj.phone, context)


class CustomerDetailOut(CustomerOut):
    addresses: list[AddressOut] = Field(description="The default address first.")

    @staticmethod
    def resolve_addresses(obj: Any) -> list[Any]:
        return list(selectors.addresses(obj))


class CustomerFilter(Schema):
    q: str = Field(
        "", max_length=80, description="Digits of the phone number, or part of the name."
    )
    status: Literal["", "active", "blocked"] = Field("", description="`active` or `blocked`.")
    join_channel: str = Field(
        "", max_length=60, description="Only customers who joined through this channel."
    )
    home_store: int | None = Field(None, description="Only customers of this home store (id).")
    owner_guide: int | None = Field(None, description="Only customers this guide owns (id).")
    has_ordered: bool | None = Field(None, description="With (true) or without (false) orders.")
    refused: Literal["", "any", "inbox", "group", "sms", "wechat"] = Field(
        "", description="Only customers refusing marketing on this channel (`any`: on any)."
    )


class CustomerPatch(Schema):
    name: str | None = Field(None, max_length=80, examples=["王小明"])
    status: str | None = Field(None, description="`active` or `blocked`.", examples=["blocked"])
    gender: Literal["", "female", "male"] | None = None
    birthday: str | None = Field(None, description="`YYYY-MM-DD`, or empty to clear.")
    city: str | None = Field(None, max_length=40)
    home_store_id: int | None = Field(
        None, description="A store of this merchant (422 otherwise); null to clear."
    )


@router.get("", response={200: list[CustomerOut], **ERROR_RESPONSES}, summary="List customers")
@paginate(Page)
def list_customers(request: HttpRequest, filters: Query[CustomerFilter]) -> Any:
    actor = actor_of(request, Perm.CUSTOMERS_VIEW)
    return crm_selectors.customers_for(
        actor,
        q=filters.q,
        status=filters.status,
        join_channel=filters.join_channel,
        home_store=filters.home_store,
        owner_guide=filters.owner_guide,
        has_ordered=filters.has_ordered,
        refused=filters.refused,
    )


@router.get(
    "/{customer_id}",
    response={200: CustomerDetailOut, **ERROR_RESPONSES},
    summary="Get a customer with their addresses",
)
def get_customer(request: HttpRequest, customer_id: int) -> Customer:
    actor = actor_of(request, Perm.CUSTOMERS_VIEW)
    return crm_selectors.customer_for(actor, customer_id)


@router.patch(
    "/{customer_id}",
    response={200: CustomerDetailOut, **ERROR_RESPONSES},
    summary="Change a customer's name, status (block, unblock) or profile",
)
def update_customer(request: HttpRequest, customer_id: int, payload: CustomerPatch) -> Customer:
    actor = actor_of(request, Perm.CUSTOMERS_MANAGE)
    customer = crm_selectors.customer_for(actor, customer_id)
    given = payload.model_dump(exclude_unset=True)
    account = {k: given.pop(k) for k in ("name", "status") if given.get(k) is not None}
    changes = {("home_store" if k == "home_store_id" else k): v for k, v in given.items()}
    profile.clean_profile(changes)  # all fields valid before anything is written
    with transaction.atomic():
        if account:
            customer = services.update_customer(actor, customer, **account)
        if changes:
            customer = profile.update_profile(actor, customer, **changes)
    return crm_selectors.customer_for(actor, customer_id)
