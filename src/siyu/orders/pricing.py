"""Pricing a cart: pure (no database), integer fen, every figure explained.

:func:`price_cart` turns lines (SKU, quantity, unit price) into a
:class:`PricedCart`: each line's gross amount, the discounts on it, the
subtotal, discounts on the whole order, the shipping fee and the total, with a
:class:`Note` for every figure (an English message id plus parameters, so a
page translates it with :func:`describe`).

Promotions plug in as :class:`Adjuster` objects. They run in stacking order
(:class:`Stage`, then their ``code``), each seeing what earlier ones left, and
propose :class:`Adjustment` s: an amount off one line, off the whole order, or
off the shipping fee. An adjustment never takes a line, the goods or the
shipping fee below zero: it is capped, and the explanation records both what
was asked and what was given. Discounts on the whole order are spread over the
lines in proportion to what each line still costs (largest remainder, ties to
the earlier line), so every line knows what was paid for it and refunds per
line never exceed it.

The same inputs always give the same result: previewing a cart and charging
it call this one function with the same values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal, Protocol

from django.utils.translation import gettext, gettext_noop

from siyu.core.money import MAX_AMOUNT, format_amount

DELIVERY = "delivery"
PICKUP = "pickup"
FULFILMENTS = (DELIVERY, PICKUP)
MAX_QUANTITY = 99

# Parameters of a note that are amounts in fen: formatted as money when described.
MONEY_PARAMS = frozenset(
    {
        "unit_price",
        "list_price",
        "gross",
        "amount",
        "requested",
        "fee",
        "threshold",
        "total",
        "missing",
        "cap",
    }
)

EXPLANATION_VERSION = 1


class PricingError(ValueError):
    """The inputs cannot be priced (a caller's bug: services validate before pricing)."""


@dataclass(frozen=True)
class Note:
    """An explanation: an English message id with ``%(name)s`` parameters."""

    key: str
    params: Mapping[str, int | str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "params": dict(self.params)}


def describe(note: Mapping[str, Any] | Note, currency: str = "CNY") -> str:
    """The note in the active language, amounts formatted (``¥12.30``)."""
    if isinstance(note, Note):
        key, params = note.key, dict(note.params)
    else:
        key, params = str(note.get("key", "")), dict(note.get("params") or {})
    shown = {
        name: format_amount(value, currency)
        if name in MONEY_PARAMS and isinstance(value, int)
        else value
        for name, value in params.items()
    }
    text = gettext(key)
    try:
        return text % shown if shown else text
    except (KeyError, ValueError, TypeError):
        return text


@dataclass(frozen=True)
class PricingLine:
    """One line to price: what the catalog says a SKU costs, and how many."""

    sku_id: int
    quantity: int
    unit_price: int
    product_id: int | None = None
    list_price: int | None = None


@dataclass(frozen=True)
class ShippingRule:
    """A merchant's delivery fee: a flat fee, free from a threshold; pickup is always free.

    ``free_over`` compares with the goods amount after discounts (what the customer
    pays for the goods); ``None`` means never free.
    """

    flat_fee: int = 0
    free_over: int | None = None

    def __post_init__(self) -> None:
        for name in ("flat_fee", "free_over"):
            value = getattr(self, name)
            if value is None and name == "free_over":
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 0 <= value <= MAX_AMOUNT
            ):
                raise PricingError(f"{name} must be whole fen from 0")

    def fee(self, fulfilment: str, goods_amount: int) -> tuple[int, Note]:
        if fulfilment == PICKUP:
            return 0, Note(gettext_noop("Pickup in store: no shipping fee"))
        if self.flat_fee == 0:
            return 0, Note(gettext_noop("Free delivery"))
        if self.free_over is not None and goods_amount >= self.free_over:
            return 0, Note(
                gettext_noop("Free delivery on orders of %(threshold)s or more"),
                {"threshold": self.free_over},
            )
        if self.free_over is not None:
            return self.flat_fee, Note(
                gettext_noop("Delivery fee %(fee)s (free from %(threshold)s)"),
                {"fee": self.flat_fee, "threshold": self.free_over},
            )
        return self.flat_fee, Note(gettext_noop("Delivery fee %(fee)s"), {"fee": self.flat_fee})


class Stage(IntEnum):
    """Stacking order of adjusters: lower stages apply first."""

    PRICE = 100  # special prices: group-buy, flash sale, live-room price
    MEMBER = 200  # member tier discounts
    PROMOTION = 300  # spend-and-save (满减), bundles
    COUPON = 400
    POINTS = 500  # points redeemed as money
    SHIPPING = 600  # free-shipping offers


@dataclass(frozen=True)
class Adjustment:
    """An amount (fen, ≥ 0) an adjuster takes off a line, the whole goods, or the shipping fee."""

    amount: int
    note: Note
    line: int | None = None  # index into the lines; None: the whole order
    target: Literal["goods", "shipping"] = "goods"


@dataclass(frozen=True)
class LineView:
    """What an adjuster sees of a line: its gross amount and what is left after earlier ones."""

    index: int
    sku_id: int
    product_id: int | None
    quantity: int
    unit_price: int
    gross: int
    remaining: int


@dataclass(frozen=True)
class PricingState:
    fulfilment: str
    lines: tuple[LineView, ...]
    goods_remaining: int  # the goods after every discount so far
    order_discounts: int  # discounts on the whole order so far


class Adjuster(Protocol):
    """A promotion that takes money off. ``code`` names it (``coupon:C12``) in explanations."""

    @property
    def code(self) -> str: ...

    @property
    def stage(self) -> int: ...

    def adjustments(self, state: PricingState) -> Sequence[Adjustment]: ...


@dataclass(frozen=True)
class Discount:
    code: str
    amount: int  # what was given (after capping)
    requested: int  # what the adjuster asked for
    note: Note
    line: int | None
    target: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "amount": self.amount,
            "requested": self.requested,
            "line": self.line,
            "target": self.target,
            "note": self.note.as_dict(),
        }


@dataclass(frozen=True)
class PricedLine:
    index: int
    sku_id: int
    product_id: int | None
    quantity: int
    unit_price: int
    list_price: int | None
    gross: int  # unit_price × quantity
    line_discount: int  # discounts aimed at this line
    order_discount_share: int  # this line's share of discounts on the whole order
    total: int  # gross − line_discount − order_discount_share
    note: Note

    @property
    def discount(self) -> int:
        return self.line_discount + self.order_discount_share

    def as_dict(self) -> dict[str, Any]:
        return {
            "sku_id": self.sku_id,
            "product_id": self.product_id,
            "quantity": self.quantity,
            "unit_price": self.unit_price,
            "list_price": self.list_price,
            "gross": self.gross,
            "line_discount": self.line_discount,
            "order_discount_share": self.order_discount_share,
            "total": self.total,
            "note": self.note.as_dict(),
        }


@dataclass(frozen=True)
class PricedCart:
    fulfilment: str
    lines: tuple[PricedLine, ...]
    subtotal: int  # Σ gross
    discounts: tuple[Discount, ...]
    line_discount_total: int
    order_discount_total: int
    shipping_fee: int  # the fee by the shipping rule
    shipping_discount: int
    total: int
    shipping_note: Note
    currency: str = "CNY"

    @property
    def goods_discount_total(self) -> int:
        return self.line_discount_total + self.order_discount_total

    @property
    def discount_total(self) -> int:
        """Every discount: on lines, on the order and on shipping."""
        return self.goods_discount_total + self.shipping_discount

    @property
    def goods_total(self) -> int:
        return self.subtotal - self.goods_discount_total

    @property
    def shipping_total(self) -> int:
        return self.shipping_fee - self.shipping_discount

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    def notes(self) -> dict[str, Note]:
        return {
            "subtotal": Note(
                gettext_noop("%(count)s items at their prices: %(amount)s"),
                {"count": self.item_count, "amount": self.subtotal},
            ),
            "discounts": Note(
                gettext_noop("Discounts: −%(amount)s"), {"amount": self.discount_total}
            ),
            "shipping": self.shipping_note,
            "total": Note(
                gettext_noop("Total to pay: subtotal − discounts + shipping = %(total)s"),
                {"total": self.total},
            ),
        }

    def explanation(self) -> dict[str, Any]:
        """A JSON-safe record of every figure and why (stored on the order)."""
        notes = self.notes()
        return {
            "version": EXPLANATION_VERSION,
            "currency": self.currency,
            "fulfilment": self.fulfilment,
            "lines": [line.as_dict() for line in self.lines],
            "discounts": [d.as_dict() for d in self.discounts],
            "subtotal": {"amount": self.subtotal, "note": notes["subtotal"].as_dict()},
            "discount_total": {
                "amount": self.discount_total,
                "note": notes["discounts"].as_dict(),
            },
            "shipping": {
                "amount": self.shipping_fee,
                "discount": self.shipping_discount,
                "note": self.shipping_note.as_dict(),
            },
            "total": {"amount": self.total, "note": notes["total"].as_dict()},
        }


def _check_lines(lines: Sequence[PricingLine]) -> None:
    for line in lines:
        for name in ("quantity", "unit_price"):
            value = getattr(line, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise PricingError(f"{name} must be an integer")
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise PricingError(f"quantity must be 1–{MAX_QUANTITY}")
        if not 0 <= line.unit_price <= MAX_AMOUNT:
            raise PricingError("unit_price must be whole fen from 0")


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` over ``weights`` in proportion, largest remainder first, exactly.

    Every share is at most its weight when ``amount ≤ Σ weights``; ties go to the earlier
    weight, so the split is deterministic.
    """
    total = sum(weights)
    if amount <= 0 or total <= 0:
        return [0] * len(weights)
    shares = [amount * w // total for w in weights]
    remainders = [(amount * w % total, -i) for i, w in enumerate(weights)]
    left = amount - sum(shares)
    for _, neg_index in sorted(remainders, reverse=True)[:left]:
        shares[-neg_index] += 1
    return shares


def price_cart(
    lines: Sequence[PricingLine],
    *,
    fulfilment: str,
    shipping: ShippingRule,
    adjustments: Sequence[Adjuster] = (),
    currency: str = "CNY",
) -> PricedCart:
    """Price ``lines`` for ``fulfilment`` with the merchant's ``shipping`` rule and promotions."""
    if fulfilment not in FULFILMENTS:
        raise PricingError(f"fulfilment must be one of {FULFILMENTS}")
    _check_lines(lines)
    gross = [line.unit_price * line.quantity for line in lines]
    remaining = list(gross)
    line_discount = [0] * len(lines)
    order_discounts = 0
    given: list[Discount] = []
    shipping_asks: list[tuple[str, Adjustment]] = []

    def state() -> PricingState:
        views = tuple(
            LineView(
                i, ln.sku_id, ln.product_id, ln.quantity, ln.unit_price, gross[i], remaining[i]
            )
            for i, ln in enumerate(lines)
        )
        return PricingState(fulfilment, views, sum(remaining) - order_discounts, order_discounts)

    for adjuster in sorted(adjustments, key=lambda a: (int(a.stage), a.code)):
        for ask in adjuster.adjustments(state()):
            if isinstance(ask.amount, bool) or not isinstance(ask.amount, int) or ask.amount < 0:
                raise PricingError(f"{adjuster.code}: an adjustment is whole fen from 0")
            if ask.target == "shipping":
                shipping_asks.append((adjuster.code, ask))
                continue
            if ask.line is not None:
                if not 0 <= ask.line < len(lines):
                    raise PricingError(f"{adjuster.code}: no line {ask.line}")
                # never below zero: neither the line nor the goods after order discounts
                applied = min(ask.amount, remaining[ask.line], sum(remaining) - order_discounts)
                remaining[ask.line] -= applied
                line_discount[ask.line] += applied
            else:
                applied = min(ask.amount, sum(remaining) - order_discounts)
                order_discounts += applied
            given.append(Discount(adjuster.code, applied, ask.amount, ask.note, ask.line, "goods"))

    goods_total = sum(remaining) - order_discounts
    fee, shipping_note = shipping.fee(fulfilment, goods_total)
    shipping_discount = 0
    for code, ask in shipping_asks:
        applied = min(ask.amount, fee - shipping_discount)
        shipping_discount += applied
        given.append(Discount(code, applied, ask.amount, ask.note, None, "shipping"))

    shares = allocate(order_discounts, remaining)
    priced = tuple(
        PricedLine(
            index=i,
            sku_id=ln.sku_id,
            product_id=ln.product_id,
            quantity=ln.quantity,
            unit_price=ln.unit_price,
            list_price=ln.list_price,
            gross=gross[i],
            line_discount=line_discount[i],
            order_discount_share=shares[i],
            total=remaining[i] - shares[i],
            note=Note(
                gettext_noop("%(quantity)s × %(unit_price)s = %(gross)s"),
                {"quantity": ln.quantity, "unit_price": ln.unit_price, "gross": gross[i]},
            ),
        )
        for i, ln in enumerate(lines)
    )
    subtotal = sum(gross)
    total = goods_total + fee - shipping_discount
    return PricedCart(
        fulfilment=fulfilment,
        lines=priced,
        subtotal=subtotal,
        discounts=tuple(given),
        line_discount_total=sum(line_discount),
        order_discount_total=order_discounts,
        shipping_fee=fee,
        shipping_discount=shipping_discount,
        total=total,
        shipping_note=shipping_note,
        currency=currency,
    )


@dataclass(frozen=True)
class FixedDiscount:
    """A simple adjuster: a fixed amount off the order or one line (tests, manual discounts)."""

    amount: int
    code: str = "discount"
    stage: int = Stage.PROMOTION
    line: int | None = None
    target: Literal["goods", "shipping"] = "goods"

    def adjustments(self, state: PricingState) -> Sequence[Adjustment]:
        return [
            Adjustment(
                self.amount,
                Note(
                    gettext_noop("Discount %(code)s: −%(amount)s"),
                    {"code": self.code, "amount": self.amount},
                ),
                line=self.line,
                target=self.target,
            )
        ]


@dataclass(frozen=True)
class PercentOff:
    """An adjuster taking ``percent`` % off every line (e.g. a member tier), rounded down."""

    percent: int
    code: str = "percent"
    stage: int = Stage.MEMBER

    def adjustments(self, state: PricingState) -> Sequence[Adjustment]:
        return [
            Adjustment(
                line.remaining * self.percent // 100,
                Note(gettext_noop("%(percent)s%% off"), {"percent": self.percent}),
                line=line.index,
            )
            for line in state.lines
        ]
