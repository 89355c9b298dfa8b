"""Storefront API of the customer's account: login by phone + code, profile, addresses.

Mounted at ``/api/v1/storefront/{merchant_slug}/account``. ``StorefrontMiddleware``
binds the merchant of the slug; every operation but the login steps needs the
customer session (``CustomerSessionAuth``); every write needs the CSRF token
(``GET …/csrf`` sets the cookie and answers it).

(No ``from __future__ import annotations``: django-ninja reads the annotations at run time.)
"""

from datetime import datetime
from typing import Annotated, Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from ninja import Field, Path, Router, Schema, Status

from siyu.core.apikit import ERROR_RESPONSES, ErrorOut
from siyu.core.middleware import client_ip
from siyu.customers import phones, selectors, services, session
from siyu.customers.apikit import CUSTOMER_AUTH, check_csrf, customer_of
from siyu.customers.models import Customer, CustomerAddress

router = Router(tags=["storefront: account"], auth=CUSTOMER_AUTH)

SLUG_DESCRIPTION = "The merchant's storefront slug, as in `/s/<slug>/`."
# The slug is a parameter of the mount point; the middleware has already bound its merchant.
MerchantSlug = Annotated[str, Path(description=SLUG_DESCRIPTION)]


class ThrottledOut(ErrorOut):
    retry_after: int = Field(description="Seconds to wait before asking again.")


class CsrfOut(Schema):
    csrf_token: str = Field(description="Send it as `X-CSRFToken` on writes.")


class RequestCodeIn(Schema):
    phone: str = Field(
        max_length=40,
        description="A mobile number; Chinese numbers need no +86.",
        examples=["138 1234 5678"],
    )


class CodeSentOut(Schema):
    phone: str = Field(description="Where the code went (E.164).", examples=["+8613812345678"])
    expires_in: int = Field(description="Seconds the code stays valid.", examples=[300])
    resend_after: int = Field(description="Seconds before another code may be asked for.")


class VerifyCodeIn(Schema):
    phone: str = Field(max_length=40, examples=["138 1234 5678"])
    code: str = Field(max_length=12, description="The 6 digits from the text message.")


class MeOut(Schema):
    id: int
    phone: str = Field(description="E.164.", examples=["+8613812345678"])
    phone_display: str = Field(description="As people dial it.", examples=["138 1234 5678"])
    name: str

    @staticmethod
    def resolve_phone_display(obj: Any) -> str:
        return phones.display(obj.phone)


class ProfileIn(Schema):
    name: str = Field(max_length=80, examples=["王小明"])


class AddressOut(Schema):
    id: int
    recipient: str = Field(examples=["王小明"])
    phone: str = Field(description="E.164.", examples=["+8613812345678"])
    phone_display: str = Field(examples=["138 1234 5678"])
    province: str = Field(examples=["上海市"])
    city: str = Field(examples=["上海市"])
    district: str = Field(examples=["静安区"])
    street: str = Field(examples=["南京西路1618号2号楼1201室"])
    postal_code: str = Field(examples=["200040"])
    latitude: float | None
    longitude: float | None
    is_default: bool
    one_line: str = Field(description="The whole address on one line, as couriers write it.")
    updated_at: datetime

    @staticmethod
    def resolve_phone_display(obj: Any) -> str:
        return phones.display(obj.phone)


class AddressIn(Schema):
    recipient: str = Field(examples=["王小明"])
    phone: str = Field(examples=["138 1234 5678"])
    province: str = Field(examples=["上海市"])
    city: str = Field(examples=["上海市"])
    district: str = Field("", examples=["静安区"])
    street: str = Field(examples=["南京西路1618号2号楼1201室"])
    postal_code: str = Field("", examples=["200040"])
    latitude: float | None = None
    longitude: float | None = None
    is_default: bool = Field(False, description="Make it the default (the first address is).")


class AddressPatch(Schema):
    recipient: str | None = None
    phone: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    street: str | None = None
    postal_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    is_default: bool | None = None


def _ip(request: HttpRequest) -> str | None:
    return client_ip(request)


def _merchant(request: HttpRequest) -> Any:
    return request.siyu_storefront_merchant  # type: ignore[attr-defined]


@router.get(
    "/csrf", auth=None, response={200: CsrfOut, **ERROR_RESPONSES}, summary="Get a CSRF token"
)
def csrf(request: HttpRequest, merchant_slug: MerchantSlug) -> dict[str, str]:
    return {"csrf_token": get_token(request)}


@router.post(
    "/request-code",
    auth=None,
    response={202: CodeSentOut, 429: ThrottledOut, 503: ErrorOut, **ERROR_RESPONSES},
    summary="Send a login code by SMS",
    description="Answers the same whether or not the number belongs to a customer. "
    "Limited per phone and per IP address; a `429` says how many seconds to wait "
    "(`retry_after`, and the `Retry-After` header).",
)
def request_code(request: HttpRequest, merchant_slug: MerchantSlug, payload: RequestCodeIn) -> Any:
    check_csrf(request)
    merchant = _merchant(request)
    try:
        services.request_login_code(merchant, payload.phone, ip=_ip(request))
    except services.Throttled as exc:
        response = JsonResponse(
            {
                "error": exc.code,
                "message": exc.message,
                "fields": exc.fields,
                "retry_after": exc.retry_after,
            },
            status=429,
            json_dumps_params={"ensure_ascii": False},
        )
        response["Retry-After"] = str(exc.retry_after)
        return response
    e164 = services.normalise_phone(payload.phone, mobile=True)
    session.remember_login_phone(request, merchant, e164)
    return Status(
        202,
        {
            "phone": e164,
            "expires_in": settings.OTP_TTL_SECONDS,
            "resend_after": services.seconds_until_next_code(merchant, e164, ip=_ip(request)),
        },
    )


@router.post(
    "/verify-code",
    auth=None,
    response={200: MeOut, **ERROR_RESPONSES},
    summary="Log in with the code",
    description="Sets the customer session cookie. The first login creates the customer.",
)
def verify_code(
    request: HttpRequest, merchant_slug: MerchantSlug, payload: VerifyCodeIn
) -> Customer:
    check_csrf(request)
    merchant = _merchant(request)
    customer = services.verify_login_code(merchant, payload.phone, payload.code, ip=_ip(request))
    session.login_customer(request, customer)
    return customer


@router.post("/logout", response={204: None, **ERROR_RESPONSES}, summary="Log out")
def logout(request: HttpRequest, merchant_slug: MerchantSlug) -> HttpResponse:
    session.logout_customer(request)
    return HttpResponse(status=204)


@router.get("/me", response={200: MeOut, **ERROR_RESPONSES}, summary="The logged-in customer")
def me(request: HttpRequest, merchant_slug: MerchantSlug) -> Customer:
    return customer_of(request)


@router.patch("/me", response={200: MeOut, **ERROR_RESPONSES}, summary="Change my name")
def update_me(request: HttpRequest, merchant_slug: MerchantSlug, payload: ProfileIn) -> Customer:
    return services.update_profile(customer_of(request), name=payload.name, ip=_ip(request))


@router.get(
    "/addresses",
    response={200: list[AddressOut], **ERROR_RESPONSES},
    summary="My delivery addresses",
)
def list_addresses(request: HttpRequest, merchant_slug: MerchantSlug) -> Any:
    return list(selectors.addresses(customer_of(request)))


@router.post("/addresses", response={201: AddressOut, **ERROR_RESPONSES}, summary="Add an address")
def add_address(request: HttpRequest, merchant_slug: MerchantSlug, payload: AddressIn) -> Any:
    address = services.add_address(customer_of(request), ip=_ip(request), **payload.model_dump())
    return Status(201, address)


@router.get(
    "/addresses/{address_id}",
    response={200: AddressOut, **ERROR_RESPONSES},
    summary="One of my addresses",
)
def get_address(
    request: HttpRequest, merchant_slug: MerchantSlug, address_id: int
) -> CustomerAddress:
    return selectors.address_of(customer_of(request), address_id)


@router.patch(
    "/addresses/{address_id}",
    response={200: AddressOut, **ERROR_RESPONSES},
    summary="Change an address",
)
def update_address(
    request: HttpRequest, merchant_slug: MerchantSlug, address_id: int, payload: AddressPatch
) -> CustomerAddress:
    changes = payload.model_dump(exclude_unset=True)
    return services.update_address(customer_of(request), address_id, ip=_ip(request), **changes)


@router.post(
    "/addresses/{address_id}/default",
    response={200: AddressOut, **ERROR_RESPONSES},
    summary="Make an address my default",
)
def make_default(
    request: HttpRequest, merchant_slug: MerchantSlug, address_id: int
) -> CustomerAddress:
    return services.set_default_address(customer_of(request), address_id, ip=_ip(request))


@router.delete(
    "/addresses/{address_id}",
    response={204: None, **ERROR_RESPONSES},
    summary="Delete an address",
)
def delete_address(
    request: HttpRequest, merchant_slug: MerchantSlug, address_id: int
) -> HttpResponse:
    services.delete_address(customer_of(request), address_id, ip=_ip(request))
    return HttpResponse(status=204)
