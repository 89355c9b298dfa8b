"""How much commission an order line earns, and how much a refund takes back. Pure: no database.

A line's *basis* is fixed when the order is paid (the rule that applied then and the
line's paid amount), so later rule changes never rewrite what an order earned:

* a percentage rule earns ``floor(kept × rate_bp / 10 000)`` fen, where ``kept`` is what
  the customer paid for the line after discounts (``OrderLine.line_total``) minus what was
  refunded of it;
* a fixed rule earns ``fixed_fen`` per unit, never more than the line's paid amount, and a
  refund takes back the share of it that the refunded money is of the paid amount:
  ``floor(min(fixed_fen × quantity, paid) × kept / paid)``.

Both are recomputed from ``kept`` after every refund, and the ledger appends the
difference (:func:`adjustment`), so however many partial refunds arrive the entries of a
line sum to exactly the commission of what was finally paid, and never more than the rate
of it. The second level (the distributor's inviter) earns a percentage of the same amount.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

PERCENT = "percent"
FIXED = "fixed"
BASIS_POINTS = 10_000
MAX_LEVEL = 2


@dataclass(frozen=True)
class Rule:
    kind: str  # PERCENT or FIXED
    rate_bp: int = 0  # percentage in basis points: 100 = 1 %
    fixed_fen: int = 0  # fen per unit

    def __post_init__(self) -> None:
        if self.kind not in (PERCENT, FIXED):
            raise ValueError(f"unknown rule kind {self.kind!r}")
        if not 0 <= self.rate_bp <= BASIS_POINTS or self.fixed_fen < 0:
            raise ValueError("rate out of range")


@dataclass(frozen=True)
class RuleSet:
    """The merchant's rules: a product's own beats its nearest category's beats the default."""

    default: Rule | None = None
    by_category: Mapping[int, Rule] | None = None
    by_product: Mapping[int, Rule] | None = None

    def rule_for(self, product_id: int, category_path: Sequence[int] = ()) -> Rule | None:
        """``category_path`` runs from the product's own category up to the root."""
        if self.by_product and product_id in self.by_product:
            return self.by_product[product_id]
        for category_id in category_path:
            if self.by_category and category_id in self.by_category:
                return self.by_category[category_id]
        return self.default


@dataclass(frozen=True)
class Line:
    line_id: int
    product_id: int
    quantity: int
    paid: int  # line_total: after the discounts allocated to the line
    category_path: tuple[int, ...] = ()


@dataclass(frozen=True)
class Basis:
    """What one line earns one level: the rule as it was when the order was paid."""

    line_id: int
    level: int
    kind: str
    rate_bp: int
    fixed_fen: int
    quantity: int
    paid: int


def commission(basis: Basis, refunded: int = 0) -> int:
    """The commission of ``basis`` once ``refunded`` fen of the line went back, in whole fen."""
    kept = min(max(basis.paid - refunded, 0), basis.paid)
    if kept <= 0:
        return 0
    if basis.kind == PERCENT:
        return kept * basis.rate_bp // BASIS_POINTS
    full = min(basis.fixed_fen * basis.quantity, basis.paid)
    return full * kept // basis.paid


def bases(
    lines: Sequence[Line], rules: RuleSet, *, second_level_bp: int | None = None
) -> list[Basis]:
    """The bases of an order's lines: level 1 by the rules, level 2 (when on) by its rate.

    Lines without a rule, free lines and zero rates earn nothing and get no basis."""
    found: list[Basis] = []
    for line in lines:
        if line.paid <= 0 or line.quantity <= 0:
            continue
        rule = rules.rule_for(line.product_id, line.category_path)
        if rule is not None and (rule.rate_bp if rule.kind == PERCENT else rule.fixed_fen) > 0:
            found.append(
                Basis(
                    line.line_id,
                    1,
                    rule.kind,
                    rule.rate_bp,
                    rule.fixed_fen,
                    line.quantity,
                    line.paid,
                )
            )
        if second_level_bp:
            if not 0 < second_level_bp <= BASIS_POINTS:
                raise ValueError("second level rate out of range")
            found.append(
                Basis(line.line_id, 2, PERCENT, second_level_bp, 0, line.quantity, line.paid)
            )
    return found


def adjustment(basis: Basis, refunded: int, accrued: int) -> int:
    """What to append so that the entries of ``basis`` (summing to ``accrued``) earn what the
    line earns after ``refunded`` fen went back: 0 when nothing changed, negative on refund."""
    return commission(basis, refunded) - accrued


def ceiling(basis: Basis, kept: int) -> int:
    """The most ``basis`` may ever earn on ``kept`` fen (for checks): the rate of it."""
    if basis.kind == PERCENT:
        return kept * basis.rate_bp // BASIS_POINTS
    return min(basis.fixed_fen * basis.quantity, kept)
