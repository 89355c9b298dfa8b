"""Demo customers: a handful of named shoppers with delivery addresses in Shanghai.

The large customer base (``--customers N``) is generated together with the
orders by the orders' demo. These few have known phone numbers (+86 138 0000
0001…), so a visitor can log in to the storefront with one of them and read
the code in the SMS outbox. Leaves them in ``ctx.shared["customers"]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from siyu.core.demo import DemoContext, Login
from siyu.core.tenancy import merchant_context
from siyu.customers import phones, services


@dataclass(frozen=True)
class DemoAddress:
    district: str
    street: str
    postal_code: str
    latitude: str
    longitude: str
    recipient: str = ""  # empty: the customer themself


@dataclass(frozen=True)
class DemoCustomer:
    phone: str
    name: str
    join_channel: str
    addresses: tuple[DemoAddress, ...]


CUSTOMERS: tuple[DemoCustomer, ...] = (
    DemoCustomer(
        "+8613800000001",
        "林小雨",
        "store_qr",
        (
            DemoAddress(
                "静安区", "南京西路1266号恒隆广场写字楼18层", "200040", "31.228870", "121.452640"
            ),
            DemoAddress("徐汇区", "天钥桥路580弄3号602室", "200030", "31.186300", "121.437950"),
        ),
    ),
    DemoCustomer(
        "+8613800000002",
        "周子航",
        "guide",
        (
            DemoAddress(
                "浦东新区", "世纪大道100号环球金融中心32层", "200120", "31.234600", "121.507600"
            ),
        ),
    ),
    DemoCustomer(
        "+8613800000003",
        "陈思雨",
        "group",
        (
            DemoAddress(
                "黄浦区", "淮海中路283号香港广场南座9层", "200021", "31.221230", "121.469720"
            ),
            DemoAddress(
                "长宁区",
                "愚园路1088弄12号",
                "200050",
                "31.220600",
                "121.424900",
                recipient="陈妈妈",
            ),
        ),
    ),
    DemoCustomer(
        "+8613800000004",
        "王建国",
        "storefront",
        (
            DemoAddress(
                "杨浦区", "五角场淞沪路8号百联又一城5层", "200433", "31.300500", "121.514200"
            ),
        ),
    ),
    DemoCustomer("+8613800000005", "", "storefront", ()),
    DemoCustomer(
        "+8613800000006",
        "张一诺",
        "guide",
        (DemoAddress("闵行区", "虹井路188弄9号1201室", "201103", "31.180300", "121.390900"),),
    ),
)

STEPS = len(CUSTOMERS)
LOGIN_NOTE = "storefront login: phone + code from the SMS outbox"


def seed(ctx: DemoContext) -> None:
    """Create the named demo customers with their addresses (through the services)."""
    made = []
    with merchant_context(ctx.merchant), transaction.atomic():
        for spec in CUSTOMERS:
            customer = services.get_or_create_customer(
                ctx.merchant,
                spec.phone,
                actor=ctx.owner,
                name=spec.name,
                join_channel=spec.join_channel,
            )
            for place in spec.addresses:
                services.add_address(
                    customer,
                    recipient=place.recipient or spec.name,
                    phone=spec.phone,
                    province="上海市",
                    city="上海市",
                    district=place.district,
                    street=place.street,
                    postal_code=place.postal_code,
                    latitude=place.latitude,
                    longitude=place.longitude,
                )
            made.append(customer)
            ctx.advance(1)
    ctx.shared["customers"] = made
    ctx.logins.append(
        Login(
            "customer",
            phones.display(CUSTOMERS[0].phone),
            "",
            f"{LOGIN_NOTE} (/s/{ctx.merchant.slug}/login/)",
        )
    )


def finish(ctx: DemoContext) -> None:
    """Once every generator has run (analytics has written the sales facts of every order):
    the customers' statistics and RFM scores computed again from the facts, and the kept
    order windows from the orders. Generators after the year's history (coupons,
    group-buys, bargains) place, pay and refund orders through the real services, whose
    events the worker has not delivered yet."""
    from siyu.customers import stats, windows

    with merchant_context(ctx.merchant):
        stats.recompute_all(ctx.merchant)
        stats.score_rfm(ctx.merchant)
        windows.rebuild(ctx.merchant)
