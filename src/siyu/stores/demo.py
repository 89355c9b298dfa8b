"""Demo stores and staff: a Shanghai coffee-and-bakery chain of 12 shops.

Coordinates are GCJ-02, as Amap shows them, at real street corners; addresses
and phone numbers are made up in the shape of real ones. Everything goes
through the services, so the demo also exercises validation, audit and events.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from siyu.core.demo import DEMO_PASSWORD, DemoContext, Login
from siyu.core.models import User
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.stores import services, staff
from siyu.stores.models import Store

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WORKDAYS = WEEK[:5]


def _hours(weekdays: list[list[str]], weekend: list[list[str]] | None = None) -> dict:
    return {day: weekdays if day in WORKDAYS else (weekend or weekdays) for day in WEEK}


@dataclass(frozen=True)
class DemoStore:
    code: str
    name: str
    district: str
    address: str
    latitude: str
    longitude: str
    phone: str
    hours: dict
    pickup: bool = True
    status: str = Store.Status.OPEN


STORES: tuple[DemoStore, ...] = (
    DemoStore(
        "SH-JA-001",
        "南京西路旗舰店",
        "静安区",
        "南京西路1618号久光百货B1层",
        "31.224261",
        "121.446512",
        "021-6288 3318",
        _hours([["07:00", "22:00"]], [["08:00", "23:00"]]),
    ),
    DemoStore(
        "SH-JA-002",
        "静安寺店",
        "静安区",
        "愚园路68号1层102室",
        "31.223760",
        "121.443950",
        "021-6248 1920",
        _hours([["07:30", "21:30"]]),
    ),
    DemoStore(
        "SH-XH-001",
        "徐家汇店",
        "徐汇区",
        "漕溪北路88号圣爱广场1层",
        "31.193270",
        "121.436740",
        "021-6468 2275",
        _hours([["07:00", "21:00"]], [["08:00", "22:00"]]),
    ),
    DemoStore(
        "SH-XH-002",
        "武康路店",
        "徐汇区",
        "武康路378号",
        "31.205640",
        "121.437480",
        "021-6433 5106",
        _hours([["08:00", "20:00"]], [["09:00", "21:00"]]),
        status=Store.Status.TEMPORARILY_CLOSED,  # being refitted
    ),
    DemoStore(
        "SH-HP-001",
        "人民广场店",
        "黄浦区",
        "南京东路800号1层",
        "31.235420",
        "121.477560",
        "021-6322 4830",
        _hours([["07:00", "22:00"]]),
    ),
    DemoStore(
        "SH-HP-002",
        "新天地店",
        "黄浦区",
        "马当路245号新天地南里2号楼",
        "31.218400",
        "121.474740",
        "021-6385 7761",
        {
            **_hours([["08:00", "23:00"]]),
            "fri": [["08:00", "02:00"]],  # late on Friday and Saturday nights
            "sat": [["09:00", "02:00"]],
            "sun": [["09:00", "23:00"]],
        },
    ),
    DemoStore(
        "SH-PD-001",
        "陆家嘴店",
        "浦东新区",
        "世纪大道8号国金中心B2层",
        "31.236320",
        "121.502180",
        "021-5012 6648",
        {**_hours([["07:00", "20:00"]]), "sat": [["09:00", "18:00"]], "sun": []},
    ),
    DemoStore(
        "SH-PD-002",
        "世纪公园店",
        "浦东新区",
        "锦绣路1001号世纪公园3号门",
        "31.215960",
        "121.548820",
        "021-5876 0392",
        _hours([["08:00", "19:00"]], [["07:30", "19:30"]]),
        pickup=False,  # a kiosk by the park gate: no pickup counter
    ),
    DemoStore(
        "SH-PD-003",
        "张江店",
        "浦东新区",
        "祖冲之路2288弄展想广场1层",
        "31.203510",
        "121.598560",
        "021-5080 4417",
        {**_hours([["07:30", "14:00"], ["16:00", "20:00"]]), "sat": [], "sun": []},
    ),
    DemoStore(
        "SH-CN-001",
        "中山公园店",
        "长宁区",
        "长宁路1018号龙之梦购物中心1层",
        "31.219840",
        "121.416960",
        "021-6115 9023",
        _hours([["08:00", "22:00"]]),
    ),
    DemoStore(
        "SH-YP-001",
        "五角场店",
        "杨浦区",
        "淞沪路8号百联又一城1层",
        "31.298420",
        "121.514740",
        "021-5506 3381",
        _hours([["07:30", "22:00"]]),
    ),
    DemoStore(
        "SH-MH-001",
        "七宝店",
        "闵行区",
        "漕宝路3366号七宝万科广场1层",
        "31.157350",
        "121.351800",
        "021-6478 2950",
        _hours([["08:00", "21:30"]], [["08:30", "22:00"]]),
        pickup=False,
    ),
)


@dataclass(frozen=True)
class DemoStaff:
    username: str
    display_name: str
    role: str
    stores: tuple[str, ...]  # store codes
    note: str


STAFF: tuple[DemoStaff, ...] = (
    DemoStaff("operator", "林晓雯", Role.OPERATOR, (), "stores, products, webhooks; no staff"),
    DemoStaff("finance", "陈静", Role.FINANCE, (), "reads stores, products and the audit log"),
    DemoStaff(
        "manager",
        "王磊",
        Role.STORE_MANAGER,
        ("SH-JA-001", "SH-JA-002"),
        "edits the hours and phone of the two Jing'an stores",
    ),
    DemoStaff("guide", "张悦", Role.SHOPPING_GUIDE, ("SH-JA-001",), "shopping guide, Nanjing Rd W"),
    DemoStaff(
        "guide2",
        "刘洋",
        Role.SHOPPING_GUIDE,
        ("SH-PD-001", "SH-PD-002"),
        "shopping guide, Lujiazui and Century Park",
    ),
)

STEPS = len(STORES) + len(STAFF)


def _free_username(base: str, merchant_slug: str) -> str:
    """``base``, or ``base.<slug>`` when another demo in the same database took it."""
    if not User.objects.filter(username__iexact=base).exists():
        return base
    return f"{base}.{merchant_slug}"[:150]


def seed(ctx: DemoContext) -> None:
    """Create 12 stores and 5 staff (one of every role but owner) for ``ctx.merchant``.

    Leaves the stores in ``ctx.shared["stores"]`` and the logins in ``ctx.logins``.
    """
    with merchant_context(ctx.merchant), transaction.atomic():
        by_code: dict[str, Store] = {}
        for spec in STORES:
            by_code[spec.code] = services.create_store(
                ctx.owner,
                code=spec.code,
                name=spec.name,
                province="上海市",
                city="上海市",
                district=spec.district,
                address=spec.address,
                latitude=spec.latitude,
                longitude=spec.longitude,
                phone=spec.phone,
                opening_hours=spec.hours,
                pickup_enabled=spec.pickup,
                status=spec.status,
            )
            ctx.advance(1)
        ctx.shared["stores"] = list(by_code.values())
        for person in STAFF:
            username = _free_username(person.username, ctx.merchant.slug)
            staff.add_staff(
                ctx.owner,
                username=username,
                display_name=person.display_name,
                phone=f"13{ctx.rng.randint(5, 9)}{ctx.rng.randint(0, 99_999_999):08d}",
                email=f"{username}@lucky-bean.example",
                password=DEMO_PASSWORD,
                role=person.role,
                stores=[by_code[code].pk for code in person.stores],
            )
            ctx.logins.append(Login(person.role, username, DEMO_PASSWORD, person.note))
            ctx.advance(1)
