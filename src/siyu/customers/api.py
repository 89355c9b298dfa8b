"""Staff API of customers (``/api/v1/customers``): list, read, change name and status.

(No ``from __future__ import annotations``: django-ninja resolves ``Query[...]``
annotations at run time.)

Phone numbers are shown in full to roles with ``customers.manage`` (owners,
operators) and with the middle starred (``+86138****5678``) to the others.
"""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of
from siyu.core.permissions import Perm
from siyu.customers import phones, selectors, services
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


class CustomerPatch(Schema):
    name: str | None = Field(None, max_length=80, examples=["王小明"])
    status: str | None = Field(None, description="`active` or `blocked`.", examples=["blocked"])


@router.get("", response={200: list[CustomerOut], **ERROR_RESPONSES}, summary="List customers")
@paginate(Page)
def list_customers(request: HttpRequest, filters: Query[CustomerFilter]) -> Any:
    actor_of(request, Perm.CUSTOMERS_VIEW)
    return selectors.customers(
        q=filters.q, status=filters.status, join_channel=filters.join_channel
    )


@router.get(
    "/{customer_id}",
    response={200: CustomerDetailOut, **ERROR_RESPONSES},
    summary="Get a customer with their addresses",
)
def get_customer(request: HttpRequest, customer_id: int) -> Customer:
    actor_of(request, Perm.CUSTOMERS_VIEW)
    return selectors.customer(customer_id)


@router.patch(
    "/{customer_id}",
    response={200: CustomerDetailOut, **ERROR_RESPONSES},
    summary="Change a customer's name or status (block, unblock)",
)
def update_customer(request: HttpRequest, customer_id: int, payload: CustomerPatch) -> Customer:
    actor = actor_of(request, Perm.CUSTOMERS_MANAGE)
    customer = selectors.customer(customer_id)
    return services.update_customer(
        actor, customer, **payload.model_dump(exclude_unset=True, exclude_none=True)
    )
