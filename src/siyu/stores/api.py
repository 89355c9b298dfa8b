"""API: stores (``/api/v1/stores``) and staff (``/api/v1/staff``).

(No ``from __future__ import annotations`` here: django-ninja resolves the
annotations of a paginated view in its own module, where string annotations
such as ``Query[StoreFilter]`` cannot be found.)

Handlers parse, call a selector or service, and answer; the services decide
who may do what. Store managers' limits: ``PATCH /stores/{id}`` of a store they
are not assigned to, or with a field other than ``phone``, ``opening_hours``,
``pickup_enabled`` and ``status`` (open / temporarily closed), answers 403
naming the fields; a store of another merchant answers 404 for everybody.
"""

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of, get_or_404
from siyu.core.models import Membership
from siyu.core.permissions import Perm, Role
from siyu.core.tenancy import current_merchant
from siyu.stores import hours, selectors, services, staff
from siyu.stores.models import Store

router = Router(tags=["stores"])
staff_router = Router(tags=["staff"])

HOURS_EXAMPLE = {
    "mon": [["07:00", "21:00"]],
    "tue": [["07:00", "21:00"]],
    "wed": [["07:00", "21:00"]],
    "thu": [["07:00", "21:00"]],
    "fri": [["07:00", "14:00"], ["16:00", "02:00"]],
    "sat": [["08:00", "22:00"]],
    "sun": [],
}
HOURS_DESCRIPTION = (
    'Ranges per weekday (`mon`…`sun`), each `["HH:MM", "HH:MM"]` in the merchant\'s time '
    'zone. A range closing before it opens runs past midnight (`["22:00", "02:00"]`); '
    '`"24:00"` closes at midnight; a missing or empty day is closed.'
)
OpeningHours = dict[str, list[list[str]]]


# --- stores ------------------------------------------------------------------------


class StoreOut(Schema):
    id: int
    code: str = Field(examples=["SH-JA-001"])
    name: str = Field(examples=["南京西路店"])
    province: str = Field(examples=["上海市"])
    city: str = Field(examples=["上海市"])
    district: str = Field(examples=["静安区"])
    address: str = Field(examples=["南京西路1618号久光百货B1层"])
    latitude: float = Field(examples=[31.229115])
    longitude: float = Field(examples=[121.454906])
    phone: str = Field(description="E.164, e.g. `+862162881234`; empty when unknown.")
    opening_hours: OpeningHours = Field(description=HOURS_DESCRIPTION, examples=[HOURS_EXAMPLE])
    pickup_enabled: bool
    status: str = Field(description="`open`, `temporarily_closed` or `closed` (for good).")
    open_now: bool = Field(description="Whether the opening hours cover the current time.")
    hours_summary: str = Field(examples=["Mon–Fri 07:00–21:00; Sat–Sun 08:00–22:00"])
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    @staticmethod
    def resolve_open_now(obj: Any) -> bool:
        moment = selectors.local_now(current_merchant())
        return obj.status == Store.Status.OPEN and hours.is_open_at(obj.opening_hours, moment)

    @staticmethod
    def resolve_hours_summary(obj: Any) -> str:
        return hours.summary_text(obj.opening_hours)


class NearbyStoreOut(StoreOut):
    distance_m: int = Field(description="Great-circle distance from the point, in metres.")


class StoreIn(Schema):
    code: str = Field(description="Unique per merchant.", examples=["SH-JA-001"])
    name: str = Field(examples=["南京西路店"])
    province: str = Field("", examples=["上海市"])
    city: str = Field(examples=["上海市"])
    district: str = Field("", examples=["静安区"])
    address: str = Field(examples=["南京西路1618号久光百货B1层"])
    latitude: float = Field(
        description="Degrees north, as the merchant's map app shows them (GCJ-02 in China).",
        examples=[31.229115],
    )
    longitude: float = Field(description="Degrees east.", examples=[121.454906])
    phone: str = Field("", examples=["021-6288 1234"])
    opening_hours: OpeningHours = Field(
        default_factory=dict, description=HOURS_DESCRIPTION, examples=[HOURS_EXAMPLE]
    )
    pickup_enabled: bool = True
    status: str = Field("open", description="`open` or `temporarily_closed`.")


class StorePatch(Schema):
    code: str | None = None
    name: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    phone: str | None = Field(None, examples=["021-6288 1234"])
    opening_hours: OpeningHours | None = Field(
        None, description=HOURS_DESCRIPTION, examples=[HOURS_EXAMPLE]
    )
    pickup_enabled: bool | None = None
    status: str | None = Field(None, examples=["temporarily_closed"])


class StoreFilter(Schema):
    q: str = Field("", description="Searches name, code, address and district.")
    city: str = ""
    district: str = ""
    status: str = Field("", description="`open`, `temporarily_closed` or `closed`.")
    pickup: bool | None = Field(None, description="Only stores with pickup on (or off).")


class NearestQuery(Schema):
    lat: float = Field(ge=-90, le=90, description="Latitude of the customer.")
    lng: float = Field(ge=-180, le=180, description="Longitude of the customer.")
    limit: int = Field(10, ge=1, le=selectors.MAX_NEAREST)
    pickup: bool = Field(False, description="Only open stores with pickup on.")
    open_now: bool = Field(False, description="Only stores open at this moment.")
    radius: int | None = Field(
        None,
        ge=1,
        le=20_037_509,
        description="Only stores within this many metres; without it the search widens "
        "until `limit` stores are found.",
    )


@router.get("", response={200: list[StoreOut], **ERROR_RESPONSES}, summary="List stores")
@paginate(Page)
def list_stores(request: HttpRequest, filters: Query[StoreFilter]) -> Any:
    actor_of(request, Perm.STORES_VIEW)
    return selectors.stores(
        q=filters.q,
        city=filters.city,
        district=filters.district,
        status=filters.status,
        pickup=filters.pickup,
    )


@router.post("", response={201: StoreOut, **ERROR_RESPONSES}, summary="Create a store")
def create_store(request: HttpRequest, payload: StoreIn) -> Status:
    actor = actor_of(request, Perm.STORES_MANAGE)
    return Status(201, services.create_store(actor, **payload.dict()))


@router.get(
    "/nearest",
    response={200: list[NearbyStoreOut], **ERROR_RESPONSES},
    summary="Stores nearest to a point",
    description="Nearest first, each with `distance_m`. Stores closed for good never appear.",
)
def nearest(request: HttpRequest, query: Query[NearestQuery]) -> list[selectors.NearbyStore]:
    actor_of(request, Perm.STORES_VIEW)
    return selectors.nearest_stores(
        query.lat,
        query.lng,
        limit=query.limit,
        pickup_only=query.pickup,
        open_only=query.open_now,
        radius_m=query.radius,
    )


@router.get("/{int:store_id}", response={200: StoreOut, **ERROR_RESPONSES}, summary="A store")
def get_store(request: HttpRequest, store_id: int) -> Store:
    actor_of(request, Perm.STORES_VIEW)
    return get_or_404(Store.objects, pk=store_id)


@router.patch(
    "/{int:store_id}",
    response={200: StoreOut, **ERROR_RESPONSES},
    summary="Change a store",
    description="Send only the fields to change. Store managers: only their stores, and only "
    "`phone`, `opening_hours`, `pickup_enabled` and `status` (open / temporarily closed); "
    "anything else answers 403 naming the fields.",
)
def patch_store(request: HttpRequest, store_id: int, payload: StorePatch) -> Store:
    actor = actor_of(request, Perm.STORES_VIEW)
    store = get_or_404(Store.objects, pk=store_id)
    return services.update_store(actor, store, payload.dict(exclude_unset=True))


@router.post(
    "/{int:store_id}/close",
    response={200: StoreOut, **ERROR_RESPONSES},
    summary="Close a store for good",
    description="It leaves nearest-store search and pickup. Closing twice changes nothing.",
)
def close_store(request: HttpRequest, store_id: int) -> Store:
    actor = actor_of(request, Perm.STORES_MANAGE)
    store = get_or_404(Store.objects, pk=store_id)
    return services.close_store(actor, store)


# --- staff -------------------------------------------------------------------------


class StaffStoreOut(Schema):
    id: int
    code: str
    name: str


class StaffOut(Schema):
    id: int = Field(description="The staff member's id at this merchant (not the account's).")
    user_id: int
    username: str
    display_name: str
    email: str
    phone: str
    role: str = Field(examples=[Role.SHOPPING_GUIDE.value])
    role_label: str
    is_active: bool
    stores: list[StaffStoreOut]
    created_at: datetime

    @staticmethod
    def resolve_username(obj: Membership) -> str:
        return obj.user.username

    @staticmethod
    def resolve_display_name(obj: Membership) -> str:
        return obj.user.display_name

    @staticmethod
    def resolve_email(obj: Membership) -> str:
        return obj.user.email

    @staticmethod
    def resolve_phone(obj: Membership) -> str:
        return obj.user.phone

    @staticmethod
    def resolve_role_label(obj: Membership) -> str:
        return str(obj.get_role_display())

    @staticmethod
    def resolve_stores(obj: Membership) -> list[Store]:
        return [a.store for a in obj.store_assignments.all()]


ROLES_TEXT = ", ".join(f"`{r}`" for r in Role.values)


class StaffIn(Schema):
    username: str = Field(examples=["zhang.yue"])
    role: str = Field(description=f"One of {ROLES_TEXT}.", examples=[Role.SHOPPING_GUIDE.value])
    display_name: str = Field("", examples=["张悦"])
    phone: str = Field("", examples=["138 0013 8000"])
    email: str = ""
    password: str = Field(
        "",
        description="Creates a new account with this password. Leave it out to add an existing "
        "account (e.g. someone who works for another brand too) by its username.",
    )
    stores: list[int] = Field(
        default_factory=list, description="Store ids (store managers and shopping guides)."
    )


class StaffPatch(Schema):
    role: str | None = Field(None, description=f"One of {ROLES_TEXT}.")
    stores: list[int] | None = Field(None, description="Replaces the assigned stores.")
    is_active: bool | None = Field(None, description="false takes the person's access away.")


class StaffFilter(Schema):
    q: str = Field("", description="Searches username, name, phone and email.")
    role: str = ""
    store: int | None = Field(None, description="Only staff assigned to this store id.")
    active: bool | None = None


def _staff_or_404(request: HttpRequest, pk: int) -> Membership:
    membership = selectors.staff_member(current_merchant(), pk)
    if membership is None:
        raise Http404
    return membership


@staff_router.get("", response={200: list[StaffOut], **ERROR_RESPONSES}, summary="List staff")
@paginate(Page)
def list_staff(request: HttpRequest, filters: Query[StaffFilter]) -> Any:
    actor = actor_of(request, Perm.STAFF_VIEW)
    return selectors.staff_members(
        actor.merchant,
        q=filters.q,
        role=filters.role,
        store_id=filters.store,
        active=filters.active,
    )


@staff_router.post("", response={201: StaffOut, **ERROR_RESPONSES}, summary="Add a staff member")
def add_staff(request: HttpRequest, payload: StaffIn) -> Status:
    actor = actor_of(request, Perm.STAFF_MANAGE)
    membership = staff.add_staff(actor, **payload.dict())
    return Status(201, _staff_or_404(request, membership.pk))


@staff_router.get(
    "/{int:member_id}", response={200: StaffOut, **ERROR_RESPONSES}, summary="A staff member"
)
def get_staff(request: HttpRequest, member_id: int) -> Membership:
    actor_of(request, Perm.STAFF_VIEW)
    return _staff_or_404(request, member_id)


@staff_router.patch(
    "/{int:member_id}",
    response={200: StaffOut, **ERROR_RESPONSES},
    summary="Change role, stores or active state",
    description="Nobody changes their own role or deactivates themselves; the last active "
    "owner stays an active owner (409).",
)
def patch_staff(request: HttpRequest, member_id: int, payload: StaffPatch) -> Membership:
    actor = actor_of(request, Perm.STAFF_MANAGE)
    membership = _staff_or_404(request, member_id)
    staff.update_staff(actor, membership, **payload.dict(exclude_unset=True))
    return _staff_or_404(request, member_id)
