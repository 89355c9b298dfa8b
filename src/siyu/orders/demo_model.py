"""A year of a coffee-and-bakery chain's customers and orders, from a behavioural model.

Pure: no database, no clock. Everything is drawn from the ``random.Random`` it is
given, so the same seed and inputs give the same history. ``siyu.orders.demo``
writes what it returns into the database.

The story is the one BG/NBD and Pareto/NBD tell (Fader, Hardie & Lee, 2005), so
that lifetime-value models fitted later recover something close to what went in:

* A customer joins on some day of the year (more in recent months: the chain
  grows) and places a first order within minutes.
* While "alive", they buy as a Poisson process with their own rate λ; rates
  differ across customers as a gamma distribution (a few buy almost daily, most
  rarely).
* After every purchase they drop out for good with their own probability p;
  p differs across customers as a beta distribution (some stay for years,
  others never come back after the first cup).
* Some join a store's community group, and from that moment on buy more often
  (``group_rate_uplift``: Luckin's +30 % monthly purchase frequency). Customers who came
  through a group joined it when they signed up; others, with a probability by how they
  came, at the first visit after a random moment of their year, so a customer who has
  already stopped buying never joins. Joining thus happens to customers who are still
  around, which makes members' own before/after comparison misleading (they were alive
  before joining by construction, and some stop after); an honest estimate compares them
  with non-members over the same months (difference in differences).
* What they spend per order differs across customers too (gamma–gamma style):
  an ``appetite`` multiplier, independent of how often they buy, makes some
  add a pastry to every coffee and others order a plain americano.

On top of the story sit the things a chain's data really shows: a weekly
rhythm (weekday mornings for coffee, weekends for bakery), time of day in the
merchant's zone (07:30–09:30 peak, lunch, afternoon tea), a Spring Festival
dip, iced drinks in summer, a home store near where the customer lives with
pickup mostly there, pickup or delivery by the customer's habit, a favourite
drink, unpaid orders that cancel themselves, and refunds.

Times are whole seconds since local midnight of ``start`` (the first day of the
window), in the merchant's zone; the writer turns them into UTC.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate

DAY = 86_400
# The join channel of customers who came through a store group: they are members from sign-up.
GROUP_CHANNEL = "group"
MINUTE = 60
HOUR = 3_600
# Orders are placed while the shops are open (local time, seconds after midnight).
OPENING = 7 * HOUR
CLOSING = 21 * HOUR + 45 * MINUTE

# What a menu item is, for basket composition (the writer maps catalog categories to these).
DRINK = "drink"
PASTRY = "pastry"
BREAD = "bread"
CAKE = "cake"
BEANS = "beans"
MERCH = "merch"
KINDS = (DRINK, PASTRY, BREAD, CAKE, BEANS, MERCH)

PICKUP = "pickup"
DELIVERY = "delivery"

# Statuses the model produces (the order app's names).
PAID = "paid"
PREPARING = "preparing"
SHIPPED = "shipped"
READY_FOR_PICKUP = "ready_for_pickup"
COMPLETED = "completed"
CANCELLED = "cancelled"

# The first day of the Spring Festival (lunar new year) by year: Shanghai empties
# as people go home, and a coffee chain's orders drop for about two weeks.
SPRING_FESTIVAL: Mapping[int, date] = {
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}

# Time-of-day windows (minutes after local midnight) and their share of a day's
# orders. Weekdays peak with the commute; weekends start late and peak at tea time.
WEEKDAY_WINDOWS: tuple[tuple[str, int, int, float], ...] = (
    ("early", 7 * 60, 7 * 60 + 30, 0.05),
    ("morning", 7 * 60 + 30, 9 * 60 + 30, 0.38),
    ("midmorning", 9 * 60 + 30, 11 * 60 + 30, 0.11),
    ("lunch", 11 * 60 + 30, 13 * 60 + 30, 0.19),
    ("tea", 14 * 60, 16 * 60 + 30, 0.18),
    ("evening", 17 * 60, 21 * 60 + 30, 0.09),
)
WEEKEND_WINDOWS: tuple[tuple[str, int, int, float], ...] = (
    ("early", 8 * 60, 9 * 60 + 30, 0.07),
    ("midmorning", 9 * 60 + 30, 11 * 60 + 30, 0.25),
    ("lunch", 11 * 60 + 30, 13 * 60 + 30, 0.19),
    ("tea", 14 * 60, 17 * 60, 0.33),
    ("evening", 17 * 60, 21 * 60 + 30, 0.16),
)

REFUND_REASONS_BEFORE = ("门店暂时缺货", "不想要了", "地址填错了", "下单选错了杯型")
REFUND_REASONS_AFTER = ("饮品做错了", "饮品洒了", "配送超时", "少送了一件", "口味不对")
REFUND_REASONS_FULL_AFTER = ("配送超时", "饮品洒了", "品质问题")


@dataclass(frozen=True)
class Parameters:
    """Every knob of the model, with what it means and why this value.

    Rates are per day. The defaults give a chain like a premium Luckin: about
    7.5 orders per customer in the year (new customers included), more than half
    of the buyers coming back, an average order of about ¥50 (median ¥38).
    """

    # Length of the history, in days before "now".
    days: int = 365
    # New customers in the last month of the year ÷ in the first: the chain grows
    # (new stores, group campaigns), so recent cohorts are bigger, as in any
    # private-domain programme that is working.
    growth: float = 2.5
    # Share of sign-ups who never order (scanned a poster, logged in, left).
    never_order: float = 0.06
    # How customers joined (the customers app's join channels), and what it changes.
    # Store QR posters and table cards bring most; the shop itself (a first login from
    # a shared link), store community groups and shopping guides the rest.
    join_channels: Mapping[str, float] = field(
        default_factory=lambda: {"store_qr": 0.40, "storefront": 0.25, "group": 0.20, "guide": 0.15}
    )
    # Luckin's figure: +30 % monthly purchase frequency after joining a store group, so a
    # customer's rate is multiplied by this from the moment they join (an uplift analytics
    # can find again). Channel "group" customers join at sign-up.
    group_rate_uplift: float = 1.3
    # The chance that a customer of another channel means to join a store group: they join
    # at their first visit after a moment drawn uniformly between sign-up and now, if they
    # are still buying by then. Store posters and table cards lead most into a group; with
    # the group channel's members it seats about a third of the customers (many stop first).
    group_join_share: Mapping[str, float] = field(
        default_factory=lambda: {"store_qr": 0.9, "storefront": 0.5, "guide": 0.5}
    )
    # A shopping guide's one-to-one follow-up keeps customers longer: less dropout.
    guide_dropout_factor: float = 0.8

    # Purchase rate λ ~ Gamma(shape, mean/shape) per day while alive (BG/NBD's r and
    # α = shape/mean). A shape below 1 is the skew of real loyalty data: the median
    # customer buys about four times a month, one in four less than monthly, one
    # in five more than three times a week. The mean is a purchase every four days.
    # Tuned (with the dropout below) to about 7.5 orders per customer in the year.
    rate_shape: float = 0.6
    rate_mean: float = 0.24
    # No one buys more than this often on average (a daily-commute regular).
    rate_cap: float = 1.2

    # Dropout after each purchase, p ~ Beta(a, b) (BG/NBD's a and b). Both below 1
    # make it U-shaped, as for a coffee chain: many try it once and never come
    # back (p near 1), a loyal core almost never leaves (p near 0). Mean
    # a/(a+b) = 0.36.
    dropout_a: float = 0.45
    dropout_b: float = 0.8

    # Spend heterogeneity (gamma–gamma): appetite ~ Gamma(q, 1/q), mean 1. It scales
    # how likely a customer adds food and extra drinks, so per-customer order
    # values spread like the gamma–gamma model assumes, independent of frequency.
    appetite_shape: float = 3.0

    # Pickup or delivery: each customer has a habit, delivery share ~ Beta(a, b),
    # mean a/(a+b) = 0.3 (about 70 % of orders are picked up, 30 % delivered);
    # the small a and b make most customers almost always do the same.
    delivery_a: float = 0.45
    delivery_b: float = 1.05
    # Pickup at the home store; otherwise at another store nearby (near work).
    home_store_share: float = 0.85
    # Customers live around the stores, this far (km, standard deviation).
    home_spread_km: float = 1.5

    # Delivery fee (fen) and the goods amount (fen) from which delivery is free (None:
    # never), as the merchant's shipping rule says: ¥6, free from ¥50, like the chains'
    # own delivery in Shanghai. The writer takes the merchant's rule when it has one.
    delivery_fee: int = 600
    free_delivery_from: int | None = 5_000

    # Basket: the chance an order has no drink at all (bakery only), by day type.
    no_drink_weekday: float = 0.06
    no_drink_weekend: float = 0.18
    # Extra drinks beyond the first: geometric with this mean (× appetite,
    # × 2 for delivery: office orders for colleagues).
    extra_drinks: float = 0.28
    # Favourite drink: the chance an order's drink is the customer's usual one.
    favourite_share: float = 0.55
    # Chance of adding food, per time-of-day window (× appetite; weekends ×1.4).
    pastry_by_window: Mapping[str, float] = field(
        default_factory=lambda: {
            "early": 0.30,
            "morning": 0.32,
            "midmorning": 0.24,
            "lunch": 0.14,
            "tea": 0.30,
            "evening": 0.12,
        }
    )
    bread_by_window: Mapping[str, float] = field(
        default_factory=lambda: {
            "early": 0.06,
            "morning": 0.06,
            "midmorning": 0.08,
            "lunch": 0.16,
            "tea": 0.06,
            "evening": 0.14,
        }
    )
    cake_by_window: Mapping[str, float] = field(
        default_factory=lambda: {
            "early": 0.01,
            "morning": 0.01,
            "midmorning": 0.04,
            "lunch": 0.05,
            "tea": 0.14,
            "evening": 0.08,
        }
    )
    weekend_food_factor: float = 1.4
    # Beans and merchandise are rare, high-value additions (× appetite).
    beans_share: float = 0.018
    merch_share: float = 0.005
    # How SKUs of one product split by option (size, pack...). Unknown values weigh 1.
    option_weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "中杯": 0.55,
            "大杯": 0.35,
            "超大杯": 0.10,
            "标准糖": 0.45,
            "少糖": 0.35,
            "不另外加糖": 0.20,
            "250g": 0.62,
            "500g": 0.30,
            "1kg": 0.08,
            "单个": 0.93,
            "6只礼盒": 0.07,
            "切块": 0.90,
            "6寸整只": 0.10,
        }
    )
    # Iced drinks: share of 冰 over the year, lowest in January, highest in July.
    iced_winter: float = 0.25
    iced_summer: float = 0.80
    # Popularity of a product falls with its price (cheap classics sell most):
    # weight ∝ price^-elasticity × a lognormal "taste" factor.
    price_elasticity: float = 1.6
    taste_sigma: float = 0.45

    # Weekly rhythm: relative orders per weekday (Mon..Sun). A commuter coffee
    # chain is busier on workdays; weekends bring bakery and family orders.
    weekday_weights: tuple[float, ...] = (1.08, 1.04, 1.04, 1.06, 1.12, 0.86, 0.80)
    # Spring Festival: orders fall to this share from 3 days before to 10 after.
    spring_festival_level: float = 0.45
    # National Day golden week (1–7 October): offices close.
    golden_week_level: float = 0.70

    # Unpaid orders that cancel themselves (or the customer cancels): about 2 % of orders.
    cancel_share: float = 0.02
    # The order's payment window (the orders app's default, SIYU_ORDER_PAYMENT_MINUTES).
    payment_minutes: int = 15
    # Refunded before fulfilment (out of stock, changed mind): refunded in full and cancelled.
    refund_before_share: float = 0.008
    # Refunded after completion (a drink made wrong, a late delivery): partial by
    # line mostly, full sometimes. Together about 3 % of orders see a refund.
    refund_after_share: float = 0.022
    refund_after_full_share: float = 0.3
    # Refunds the customer asked for (the rest staff decided at the counter).
    refund_by_customer_share: float = 0.6

    # The most recent paid pickup orders still open at "now", so the console has
    # work to do (paid, preparing, ready for pickup), besides those that are open
    # because they are still in their natural fulfilment time.
    open_orders: int = 8


@dataclass(frozen=True)
class StoreSite:
    """What the model needs of a store."""

    key: int  # the store's id
    latitude: float
    longitude: float
    pickup: bool = True  # takes pickup orders
    weight: float = 1.0  # how many customers live around it, relative
    closed_from: int | None = None  # seconds since start: no orders there from then on


@dataclass(frozen=True)
class MenuItem:
    """A SKU that can be ordered."""

    key: int  # the SKU's id
    product: int  # the product's id
    kind: str  # one of KINDS
    price: int  # fen
    options: Mapping[str, str] = field(default_factory=dict)
    stores: frozenset[int] | None = None  # sold only at these stores; None: everywhere


@dataclass(slots=True)
class SimLine:
    item: MenuItem
    quantity: int
    refunded_quantity: int = 0
    refunded_amount: int = 0

    @property
    def line_total(self) -> int:
        return self.item.price * self.quantity


@dataclass(slots=True)
class SimRefund:
    requested_at: int
    completed_at: int
    amount: int
    lines: list[tuple[int, int, int]]  # (index of the order's line, quantity, amount)
    reason: str
    by_customer: bool
    full: bool


@dataclass(slots=True)
class SimOrder:
    customer: int  # index into History.customers
    placed_at: int
    fulfilment: str
    store: int  # pickup store, or the store a delivery is attributed to (the home store)
    lines: list[SimLine]
    subtotal: int
    shipping_fee: int
    total: int
    status: str
    window: str
    paid_at: int | None = None
    preparing_at: int | None = None
    ready_at: int | None = None  # pickup: ready at the counter
    shipped_at: int | None = None  # delivery: left with the rider
    completed_at: int | None = None
    cancelled_at: int | None = None
    cancelled_by_customer: bool = False
    refunds: list[SimRefund] = field(default_factory=list)
    refunded_total: int = 0

    @property
    def refund_state(self) -> str:
        if self.refunded_total == 0:
            return "none"
        return "full" if self.refunded_total >= self.total else "partial"

    @property
    def last_change_at(self) -> int:
        """When anything last happened to the order (placed, paid, moved on, refunded)."""
        last = self.placed_at
        for moment in (
            self.paid_at,
            self.preparing_at,
            self.ready_at,
            self.shipped_at,
            self.completed_at,
            self.cancelled_at,
        ):
            if moment is not None and moment > last:
                last = moment
        for refund in self.refunds:
            last = max(last, refund.completed_at)
        return last


@dataclass(slots=True)
class SimCustomer:
    index: int
    joined_at: int
    channel: str  # how they joined: a join channel of the customers app
    rate: float  # purchases per day while alive (λ), before joining a group
    dropout: float  # chance of leaving after each purchase (p)
    appetite: float  # spend multiplier (mean 1)
    delivery_share: float  # chance an order is delivered
    home: int  # StoreSite.key of the nearest pickup store
    nearby: tuple[int, ...]  # pickup stores by distance, home first
    latitude: float
    longitude: float
    favourite: int | None  # product id of the usual drink
    group_joined_at: int | None = None  # when they joined a store group (rate × uplift since)
    dropped_at: int | None = None  # the purchase after which they left for good
    last_login_at: int | None = None
    orders: list[SimOrder] = field(default_factory=list)  # in time order, cancelled included


@dataclass
class History:
    start: date
    now: int
    customers: list[SimCustomer]
    orders: list[SimOrder]  # every order, by placed_at


def _normalised(weights: Sequence[float]) -> tuple[float, ...]:
    """Cumulative weights scaled to end at exactly 1.0, for ``bisect(c, random())``."""
    total = sum(weights)
    cumulative = [c / total for c in accumulate(weights)]
    cumulative[-1] = 1.0
    return tuple(cumulative)


# Products of one kind at one store and their cumulative popularity, for _draw.
Basket = tuple[tuple[int, ...], tuple[float, ...]]


def _draw(random_: Callable[[], float], basket: Basket | None) -> int | None:
    """A product from ``basket`` by popularity (None when the store has none of the kind)."""
    if basket is None:
        return None
    return basket[0][bisect(basket[1], random_())]


class _Menu:
    """The menu prepared for fast drawing: products by kind per store, SKUs by month."""

    def __init__(
        self,
        items: Sequence[MenuItem],
        sites: Sequence[StoreSite],
        params: Parameters,
        rng: random.Random,
    ) -> None:
        by_product: dict[int, list[MenuItem]] = {}
        for item in sorted(items, key=lambda i: i.key):
            by_product.setdefault(item.product, []).append(item)
        # popularity: cheaper classics sell most, each product with its own taste factor
        popularity: dict[int, float] = {}
        for product, skus in sorted(by_product.items()):
            base = min(s.price for s in skus) or 1
            popularity[product] = (base / 2_000) ** -params.price_elasticity * rng.lognormvariate(
                0.0, params.taste_sigma
            )
        # per month, the SKUs of each product (the iced share moves with the season)
        self.by_month: list[dict[int, tuple[tuple[MenuItem, ...], tuple[float, ...]]]] = [
            {
                product: (
                    tuple(skus),
                    _normalised([self._sku_weight(s, month, params) for s in skus]),
                )
                for product, skus in by_product.items()
            }
            for month in range(1, 13)
        ]
        # products of each kind available at each store
        self.baskets: dict[int, dict[str, Basket]] = {}
        self.available: dict[int, set[int]] = {}
        for site in sites:
            sold = sorted(
                p
                for p, skus in by_product.items()
                if any(s.stores is None or site.key in s.stores for s in skus)
            )
            self.available[site.key] = set(sold)
            kinds: dict[str, Basket] = {}
            for kind in KINDS:
                chosen = tuple(p for p in sold if by_product[p][0].kind == kind)
                if chosen:
                    kinds[kind] = (chosen, _normalised([popularity[p] for p in chosen]))
            self.baskets[site.key] = kinds

    @staticmethod
    def _sku_weight(item: MenuItem, month: int, params: Parameters) -> float:
        weight = 1.0
        # iced share: a cosine over the year, lowest mid-January, highest mid-July
        iced = (
            params.iced_winter
            + (params.iced_summer - params.iced_winter)
            * (1 - math.cos(2 * math.pi * (month - 1) / 12))
            / 2
        )
        for value in item.options.values():
            if value == "冰":
                weight *= iced
            elif value == "热":
                weight *= 1 - iced
            else:
                weight *= params.option_weights.get(value, 1.0)
        return weight


class _Calendar:
    """Per-day order intensity (weekday × holidays) and the calendar of the window."""

    def __init__(self, start: date, days: int, params: Parameters) -> None:
        self.start = start
        self.days = days
        weekday = params.weekday_weights
        mean_week = sum(weekday) / 7
        level: list[float] = []
        self.weekend: list[bool] = []
        self.month: list[int] = []
        holidays: dict[date, float] = {}
        for year in range(start.year, start.year + days // 365 + 2):
            festival = SPRING_FESTIVAL.get(year)
            if festival is not None:
                for offset in range(-3, 11):
                    holidays[festival + timedelta(days=offset)] = params.spring_festival_level
            for day in range(1, 8):
                holidays[date(year, 10, day)] = params.golden_week_level
        for d in range(days + 1):
            today = start + timedelta(days=d)
            self.weekend.append(today.weekday() >= 5)
            self.month.append(today.month)
            level.append(weekday[today.weekday()] / mean_week * holidays.get(today, 1.0))
        self.level = level
        self.peak = max(level)
        self.cumulative_acquisition: tuple[float, ...] = ()

    def set_growth(self, growth: float) -> None:
        # new customers per day ∝ exp(g·d) × the day's level; g from the growth ratio
        g = math.log(growth) / max(self.days - 30, 1) if growth > 0 else 0.0
        self.cumulative_acquisition = tuple(
            accumulate(math.exp(g * d) * self.level[d] for d in range(self.days))
        )


def _time_of_day(rng: random.Random, weekend: bool) -> int:
    """Seconds after local midnight, from the day type's time-of-day windows."""
    windows = WEEKEND_WINDOWS if weekend else WEEKDAY_WINDOWS
    x = rng.random() * _WINDOW_TOTALS[weekend]
    chosen = windows[-1]
    for window in windows:
        x -= window[3]
        if x <= 0:
            chosen = window
            break
    # triangular, busiest in the middle of the window (random.triangular, inlined)
    low, high = chosen[1], chosen[2]
    u = rng.random()
    if u > 0.5:
        u, low, high = 1.0 - u, high, low
    return int((low + (high - low) * math.sqrt(u * 0.5)) * MINUTE)


_WINDOW_TOTALS = {
    False: sum(w[3] for w in WEEKDAY_WINDOWS),
    True: sum(w[3] for w in WEEKEND_WINDOWS),
}


def _window_of(seconds: int, weekend: bool) -> str:
    """The name of the time-of-day window ``seconds`` after midnight falls in."""
    minute = seconds // MINUTE
    windows = WEEKEND_WINDOWS if weekend else WEEKDAY_WINDOWS
    name = windows[0][0]
    for candidate, begin, _end, _share in windows:
        if minute >= begin:
            name = candidate
    return name


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in km, equirectangular (plenty within a city)."""
    x = (lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2)) * 111.32
    y = (lat2 - lat1) * 110.57
    return math.hypot(x, y)


def _between(rng: random.Random, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` inclusive (``randint``, at a third of its cost)."""
    return low + int(rng.random() * (high - low + 1))


def simulate(
    rng: random.Random,
    *,
    customers: int,
    start: date,
    now: int,
    sites: Sequence[StoreSite],
    menu: Sequence[MenuItem],
    params: Parameters | None = None,
    progress: Callable[[int], None] | None = None,
) -> History:
    """Draw ``customers`` customers and every order they placed from ``start`` until ``now``.

    ``now`` is in seconds since local midnight of ``start``, within the window's
    last day (``start`` + ``params.days`` days). ``progress(n)`` is called as
    customers are done. Stores that take no pickup are nobody's home store;
    without any pickup store, or without a menu, customers never order.
    """
    params = params or Parameters()
    if customers < 0:
        raise ValueError("customers must be 0 or more")
    if not params.days * DAY <= now < (params.days + 1) * DAY:
        raise ValueError("now must fall on the last day of the window")
    calendar = _Calendar(start, params.days, params)
    calendar.set_growth(params.growth)
    pickup_sites = [s for s in sites if s.pickup]
    prepared = _Menu(menu, pickup_sites, params, rng)
    can_order = any(prepared.baskets[s.key] for s in pickup_sites)
    weights = list(accumulate(s.weight for s in sites)) if sites else []
    closed = {s.key: s.closed_from for s in sites if s.closed_from is not None}

    history = History(start=start, now=now, customers=[], orders=[])
    step = 250
    for index in range(customers):
        customer = _draw_customer(rng, index, calendar, params, sites, weights, pickup_sites)
        history.customers.append(customer)
        if can_order and rng.random() >= params.never_order:
            customer.favourite = _draw(rng.random, prepared.baskets[customer.home].get(DRINK))
            _purchases(rng, customer, now, calendar, params, prepared, closed)
        _last_login(rng, customer, now)
        history.orders.extend(customer.orders)
        if progress is not None and (index + 1) % step == 0:
            progress(step)
    if progress is not None and customers % step:
        progress(customers % step)
    history.orders.sort(key=lambda o: (o.placed_at, o.customer))
    _keep_some_open(history, params)
    return history


def _draw_customer(
    rng: random.Random,
    index: int,
    calendar: _Calendar,
    params: Parameters,
    sites: Sequence[StoreSite],
    weights: Sequence[float],
    pickup_sites: Sequence[StoreSite],
) -> SimCustomer:
    cumulative = calendar.cumulative_acquisition
    day = bisect(cumulative, rng.random() * cumulative[-1])
    joined = day * DAY + _time_of_day(rng, calendar.weekend[day])
    channels = params.join_channels
    channel = rng.choices(list(channels), weights=list(channels.values()))[0] if channels else ""
    rate = min(
        rng.gammavariate(params.rate_shape, params.rate_mean / params.rate_shape), params.rate_cap
    )
    # a customer who came through a group joined it as they signed up, before their first order
    group_joined = joined + _between(rng, 20, 100) if channel == GROUP_CHANNEL else None
    dropout = rng.betavariate(params.dropout_a, params.dropout_b)
    if channel == "guide":
        dropout *= params.guide_dropout_factor
    appetite = rng.gammavariate(params.appetite_shape, 1 / params.appetite_shape)
    delivery = rng.betavariate(params.delivery_a, params.delivery_b)
    if sites:
        near = sites[bisect(weights, rng.random() * weights[-1])]
        # around the store: a gaussian scatter of home_spread_km
        lat = near.latitude + rng.gauss(0, params.home_spread_km) / 110.57
        lon = near.longitude + rng.gauss(0, params.home_spread_km) / (
            111.32 * math.cos(math.radians(near.latitude))
        )
    else:
        lat, lon = 31.2304, 121.4737  # People's Square, Shanghai
    nearby = tuple(
        s.key
        for s in sorted(pickup_sites, key=lambda s: (_km(lat, lon, s.latitude, s.longitude), s.key))
    )
    return SimCustomer(
        index=index,
        joined_at=joined,
        channel=channel,
        group_joined_at=group_joined,
        rate=rate,
        dropout=dropout,
        appetite=appetite,
        delivery_share=delivery,
        home=nearby[0] if nearby else 0,
        nearby=nearby,
        latitude=lat,
        longitude=lon,
        favourite=None,
    )


def _purchases(
    rng: random.Random,
    customer: SimCustomer,
    now: int,
    calendar: _Calendar,
    params: Parameters,
    menu: _Menu,
    closed: Mapping[int, int | None],
) -> None:
    """The customer's purchases: the BG/NBD process, thinned by the calendar, its rate raised
    by ``group_rate_uplift`` from the moment the customer joins a store group."""
    level, peak, weekend = calendar.level, calendar.peak, calendar.weekend
    random_, expovariate = rng.random, rng.expovariate
    rate = customer.rate
    if customer.group_joined_at is not None:
        rate *= params.group_rate_uplift
    # a customer of another channel may mean to join from a moment of their year on
    intends: int | None = None
    if customer.group_joined_at is None and random_() < params.group_join_share.get(
        customer.channel, 0.0
    ):
        intends = customer.joined_at + int(random_() * (now - customer.joined_at))
    # the first order a few minutes after joining
    t = customer.joined_at + _between(rng, 2 * MINUTE, 12 * MINUTE)
    while t < now:
        placed = len(customer.orders)
        _place(rng, customer, t, now, calendar, params, menu, closed)
        if intends is not None and t >= intends and len(customer.orders) > placed:
            # the first visit since: scanned the table card while waiting for the order
            intends = None
            joined = t + _between(rng, MINUTE, 8 * MINUTE)
            if joined < now:
                customer.group_joined_at = joined
                rate *= params.group_rate_uplift
        if random_() < customer.dropout:
            customer.dropped_at = t
            return
        # the next purchase: a Poisson process of intensity λ·level(day), by thinning
        candidate = t / DAY
        scale = rate * peak
        while True:
            candidate += expovariate(scale)
            day = int(candidate)
            if day > calendar.days:
                return
            if random_() * peak < level[day]:
                break
        following = day * DAY + _time_of_day(rng, weekend[day])
        if following < t + 45 * MINUTE:
            # a second order the same day comes at least 45 minutes after the first, or
            # the next morning when the shops are closing
            following = t + 45 * MINUTE
            if following % DAY > CLOSING:
                day += 1
                if day > calendar.days:
                    return
                following = day * DAY + _time_of_day(rng, weekend[day])
        t = following


def _place(
    rng: random.Random,
    customer: SimCustomer,
    t: int,
    now: int,
    calendar: _Calendar,
    params: Parameters,
    menu: _Menu,
    closed: Mapping[int, int | None],
) -> None:
    """One purchase at ``t``: maybe an abandoned unpaid order first, then the paid order."""
    random_ = rng.random
    day, seconds = divmod(t, DAY)
    weekend = calendar.weekend[day]
    window = _window_of(seconds, weekend)
    delivery = random_() < customer.delivery_share
    store = customer.home
    nearby = customer.nearby
    if not delivery and len(nearby) > 1 and random_() >= params.home_store_share:
        store = nearby[min(1 + int(rng.expovariate(1.0)), len(nearby) - 1)]
    if closed:
        for candidate in (store, *nearby):  # a closed store: the next nearest
            closed_from = closed.get(candidate)
            if closed_from is None or t < closed_from:
                store = candidate
                break
        else:
            return  # every store closed: no order
    lines = _basket(
        rng, customer, store, weekend, window, delivery, calendar.month[day], params, menu
    )
    if not lines:
        return
    subtotal = 0
    for line in lines:
        subtotal += line.item.price * line.quantity
    free_from = params.free_delivery_from
    fee = params.delivery_fee if delivery and (free_from is None or subtotal < free_from) else 0
    fulfilment = DELIVERY if delivery else PICKUP
    if random_() < params.cancel_share / (1 - params.cancel_share):
        _abandoned(rng, customer, t, now, fulfilment, store, lines, subtotal, fee, window, params)
    order = SimOrder(
        customer=customer.index,
        placed_at=t,
        fulfilment=fulfilment,
        store=store,
        lines=lines,
        subtotal=subtotal,
        shipping_fee=fee,
        total=subtotal + fee,
        status=PAID,
        window=window,
    )
    _fulfil(rng, order, now)
    if random_() < params.refund_before_share + params.refund_after_share:
        _refund(rng, order, now, params)
    customer.orders.append(order)


def _abandoned(
    rng: random.Random,
    customer: SimCustomer,
    t: int,
    now: int,
    fulfilment: str,
    store: int,
    lines: Sequence[SimLine],
    subtotal: int,
    fee: int,
    window: str,
    params: Parameters,
) -> None:
    """An order placed minutes before the one that was paid, never paid, cancelled."""
    previous = customer.orders[-1].placed_at if customer.orders else customer.joined_at
    placed = t - _between(rng, 2 * MINUTE, 20 * MINUTE)
    if placed <= previous or placed % DAY < OPENING:
        return
    by_customer = rng.random() < 0.4
    deadline = placed + params.payment_minutes * MINUTE
    cancelled = placed + _between(rng, 30, 5 * MINUTE) if by_customer else deadline
    if cancelled >= now:
        return
    customer.orders.append(
        SimOrder(
            customer=customer.index,
            placed_at=placed,
            fulfilment=fulfilment,
            store=store,
            lines=[SimLine(line.item, line.quantity) for line in lines],
            subtotal=subtotal,
            shipping_fee=fee,
            total=subtotal + fee,
            status=CANCELLED,
            window=window,
            cancelled_at=cancelled,
            cancelled_by_customer=by_customer,
        )
    )


def _basket(
    rng: random.Random,
    customer: SimCustomer,
    store: int,
    weekend: bool,
    window: str,
    delivery: bool,
    month: int,
    params: Parameters,
    menu: _Menu,
) -> list[SimLine]:
    """What the customer buys: drinks (their favourite often), food by the time of day."""
    random_ = rng.random
    appetite = customer.appetite
    kinds = menu.baskets[store]
    picks: list[tuple[int | None, int]] = []  # (product, quantity)
    if random_() >= (params.no_drink_weekend if weekend else params.no_drink_weekday):
        extra_mean = params.extra_drinks * appetite * (2.0 if delivery else 1.0)
        keep = extra_mean / (1 + extra_mean)  # a geometric number of extra drinks
        drinks = 1
        while drinks < 12 and random_() < keep:
            drinks += 1
        favourite = customer.favourite
        if favourite not in menu.available[store]:
            favourite = None
        basket = kinds.get(DRINK)
        for _ in range(drinks):
            if favourite is not None and random_() < params.favourite_share:
                picks.append((favourite, 1))
            else:
                picks.append((_draw(random_, basket), 1))
    food = appetite * (params.weekend_food_factor if weekend else 1.0)
    if random_() < params.pastry_by_window.get(window, 0.2) * food:
        picks.append((_draw(random_, kinds.get(PASTRY)), 2 if random_() < 0.2 else 1))
    if random_() < params.bread_by_window.get(window, 0.08) * food:
        picks.append((_draw(random_, kinds.get(BREAD)), 1))
    if random_() < params.cake_by_window.get(window, 0.05) * food:
        picks.append((_draw(random_, kinds.get(CAKE)), 1))
    if random_() < params.beans_share * appetite:
        picks.append((_draw(random_, kinds.get(BEANS)), 1))
    if random_() < params.merch_share * appetite:
        picks.append((_draw(random_, kinds.get(MERCH)), 1))
    skus = menu.by_month[month - 1]
    chosen: dict[int, SimLine] = {}
    for product, quantity in picks:
        if product is None:
            continue
        options, cumulative = skus[product]
        sku = options[0] if len(options) == 1 else options[bisect(cumulative, random_())]
        line = chosen.get(sku.key)
        if line is None:
            chosen[sku.key] = SimLine(sku, quantity)
        else:
            line.quantity += quantity
    if not chosen:  # a bakery-only order with nothing drawn yet: one pastry, bread or drink
        product = (
            _draw(random_, kinds.get(PASTRY))
            or _draw(random_, kinds.get(BREAD))
            or _draw(random_, kinds.get(DRINK))
        )
        if product is not None:
            options, cumulative = skus[product]
            sku = options[bisect(cumulative, random_())]
            chosen[sku.key] = SimLine(sku, 1)
    return list(chosen.values())


def _fulfil(rng: random.Random, order: SimOrder, now: int) -> None:
    """Pay, prepare, hand over: the timestamps, and the status as of ``now``."""
    random_ = rng.random
    paid = order.placed_at + 8 + int(random_() * 83)
    preparing = paid + 5 + int(random_() * 116)
    if order.fulfilment == PICKUP:
        handed = preparing + 3 * MINUTE + int(random_() * 7 * MINUTE)  # ready at the counter
        done = handed + min(int(rng.expovariate(1 / (8 * MINUTE))), 2 * HOUR)  # collected
    else:
        handed = preparing + 5 * MINUTE + int(random_() * 10 * MINUTE)  # shipped
        done = handed + 15 * MINUTE + int(random_() * 30 * MINUTE)  # delivered
    if done <= now:  # nearly always: the whole story is history
        order.paid_at, order.preparing_at, order.completed_at = paid, preparing, done
        if order.fulfilment == PICKUP:
            order.ready_at = handed
        else:
            order.shipped_at = handed
        order.status = COMPLETED
        return
    handed_status = READY_FOR_PICKUP if order.fulfilment == PICKUP else SHIPPED
    order.paid_at = min(paid, now)  # placed seconds ago: paid by now
    order.status = PAID
    if preparing <= now:
        order.preparing_at = preparing
        order.status = PREPARING
    if handed <= now:
        order.status = handed_status
        if order.fulfilment == PICKUP:
            order.ready_at = handed
        else:
            order.shipped_at = handed


def _refund(rng: random.Random, order: SimOrder, now: int, params: Parameters) -> None:
    """A refund, before fulfilment (full, the order cancelled) or after completion."""
    assert order.paid_at is not None
    by_customer = rng.random() < params.refund_by_customer_share
    before = params.refund_before_share / (params.refund_before_share + params.refund_after_share)
    if rng.random() < before:
        # refunded in full before it was handed over: the order is cancelled
        requested = order.paid_at + _between(rng, 30, 4 * MINUTE)
        done = requested + _between(rng, 5, 3 * MINUTE)
        if done >= now:
            return
        order.preparing_at = order.ready_at = order.shipped_at = order.completed_at = None
        if order.preparing_at is None and requested > order.paid_at + 2 * MINUTE:
            order.preparing_at = order.paid_at + _between(rng, 5, 2 * MINUTE)
        order.status = CANCELLED
        order.cancelled_at = done
        reason = rng.choice(REFUND_REASONS_BEFORE)
        _refund_everything(order, requested, done, reason, by_customer)
        return
    if order.completed_at is None:
        return
    requested = order.completed_at + _between(rng, 5 * MINUTE, 36 * HOUR)
    done = requested + _between(rng, 2 * MINUTE, 4 * HOUR)
    if done >= now:
        return
    if rng.random() < params.refund_after_full_share:
        reason = rng.choice(REFUND_REASONS_FULL_AFTER)
        _refund_everything(order, requested, done, reason, by_customer)
        return
    # one line: a unit of it mostly, sometimes all of it
    index = int(rng.random() * len(order.lines))
    line = order.lines[index]
    quantity = 1 if rng.random() < 0.7 else line.quantity
    amount = line.item.price * quantity
    line.refunded_quantity += quantity
    line.refunded_amount += amount
    order.refunded_total += amount
    reason = rng.choice(REFUND_REASONS_AFTER)
    order.refunds.append(
        SimRefund(
            requested,
            done,
            amount,
            [(index, quantity, amount)],
            reason,
            by_customer,
            full=False,
        )
    )


def _refund_everything(
    order: SimOrder, requested: int, done: int, reason: str, by_customer: bool
) -> None:
    """A full refund: every line, every unit, and the delivery fee."""
    lines = []
    for index, line in enumerate(order.lines):
        quantity = line.quantity - line.refunded_quantity
        amount = line.line_total - line.refunded_amount
        if quantity:
            lines.append((index, quantity, amount))
            line.refunded_quantity += quantity
            line.refunded_amount += amount
    amount = order.total - order.refunded_total
    order.refunded_total = order.total
    order.refunds.append(SimRefund(requested, done, amount, lines, reason, by_customer, full=True))


def _last_login(rng: random.Random, customer: SimCustomer, now: int) -> None:
    """Logged in to order; some still-active customers came back to browse since."""
    if not customer.orders:
        customer.last_login_at = customer.joined_at
        return
    last = customer.orders[-1].placed_at
    login = max(customer.joined_at, last - _between(rng, 0, 3 * DAY))
    if customer.dropped_at is None and rng.random() < 0.3:
        login = last + int(rng.random() * (now - last))
    customer.last_login_at = min(login, now)


def _keep_some_open(history: History, params: Parameters) -> None:
    """The latest paid pickup orders still open (paid, preparing, ready): work for the console."""
    still_open = sum(
        1
        for o in history.orders
        if o.fulfilment == PICKUP and o.status in (PAID, PREPARING, READY_FOR_PICKUP)
    )
    wanted = params.open_orders - still_open
    cycle = (READY_FOR_PICKUP, PREPARING, PAID)
    made = 0
    for order in reversed(history.orders):
        if made >= wanted:
            break
        if order.fulfilment != PICKUP or order.status != COMPLETED or order.refunds:
            continue
        status = cycle[made % 3]
        made += 1
        order.status = status
        order.completed_at = None
        if status in (PAID, PREPARING):
            order.ready_at = None
        if status == PAID:
            order.preparing_at = None


def summary(history: History) -> dict[str, float]:
    """What the generated history looks like, in the figures analytics will show.

    ``orders_per_customer`` counts every order; the rest count paid orders (cancelled
    unpaid ones are not purchases). The 3-month repurchase rate is among customers
    whose first purchase was at least 90 days before now: the share who bought again
    within 90 days of it.
    """
    customers = history.customers
    paid = [o for o in history.orders if o.paid_at is not None]
    buyers = [c for c in customers if any(o.paid_at is not None for o in c.orders)]
    repeat = [c for c in buyers if sum(1 for o in c.orders if o.paid_at is not None) > 1]
    eligible = 0
    repurchased = 0
    for c in buyers:
        times = [o.placed_at for o in c.orders if o.paid_at is not None]
        if times[0] <= history.now - 90 * DAY:
            eligible += 1
            if len(times) > 1 and times[1] - times[0] <= 90 * DAY:
                repurchased += 1
    revenue = sum(o.total for o in paid)
    refunded_orders = sum(1 for o in history.orders if o.refunds)
    return {
        "customers": len(customers),
        "orders": len(history.orders),
        "orders_per_customer": len(history.orders) / len(customers) if customers else 0.0,
        "paid_orders": len(paid),
        "buyers": len(buyers),
        "repeat_buyer_share": len(repeat) / len(buyers) if buyers else 0.0,
        "repurchase_3_months": repurchased / eligible if eligible else 0.0,
        "purchases_per_buyer": len(paid) / len(buyers) if buyers else 0.0,
        "aov_fen": revenue / len(paid) if paid else 0.0,
        "median_order_fen": sorted(o.total for o in paid)[len(paid) // 2] if paid else 0,
        "share_over_150_yuan": sum(1 for o in paid if o.total >= 15_000) / len(paid)
        if paid
        else 0.0,
        "refunded_order_share": refunded_orders / len(history.orders) if history.orders else 0.0,
        "refunded_amount_share": sum(o.refunded_total for o in paid) / revenue if revenue else 0.0,
        "cancelled_unpaid_share": sum(1 for o in history.orders if o.paid_at is None)
        / len(history.orders)
        if history.orders
        else 0.0,
        "delivery_share": sum(1 for o in paid if o.fulfilment == DELIVERY) / len(paid)
        if paid
        else 0.0,
        "home_store_pickup_share": (
            sum(1 for o in paid if o.fulfilment == PICKUP and o.store == customers[o.customer].home)
            / max(1, sum(1 for o in paid if o.fulfilment == PICKUP))
        ),
        "open_orders": sum(
            1 for o in history.orders if o.status in (PAID, PREPARING, READY_FOR_PICKUP, SHIPPED)
        ),
    }
