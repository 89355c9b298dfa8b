"""The pure commission calculator: rules, rounding, reversals; a ledger property test."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siyu.distribution import commission as c

PCT_10 = c.Rule(c.PERCENT, rate_bp=1000)


def test_the_products_rule_beats_the_nearest_category_which_beats_the_default():
    rules = c.RuleSet(
        default=c.Rule(c.PERCENT, rate_bp=100),
        by_category={7: c.Rule(c.PERCENT, rate_bp=200), 3: c.Rule(c.PERCENT, rate_bp=300)},
        by_product={42: c.Rule(c.FIXED, fixed_fen=50)},
    )
    assert rules.rule_for(42, (7, 3)) == c.Rule(c.FIXED, fixed_fen=50)
    assert rules.rule_for(1, (7, 3)).rate_bp == 200  # type: ignore[union-attr]
    assert rules.rule_for(1, (9, 3)).rate_bp == 300  # type: ignore[union-attr]
    assert rules.rule_for(1, (9,)).rate_bp == 100  # type: ignore[union-attr]
    assert c.RuleSet().rule_for(1, (9,)) is None


def test_a_percentage_of_the_paid_amount_rounds_down_to_the_fen():
    (basis,) = c.bases([c.Line(1, 5, quantity=3, paid=2999)], c.RuleSet(default=PCT_10))
    assert c.commission(basis) == 299  # 299.9 → 299
    assert c.commission(basis, refunded=1000) == 199  # of 1999 kept
    assert c.commission(basis, refunded=2999) == 0


def test_a_fixed_amount_per_unit_is_capped_by_the_paid_amount_and_refunded_in_proportion():
    rules = c.RuleSet(default=c.Rule(c.FIXED, fixed_fen=300))
    (basis,) = c.bases([c.Line(1, 5, quantity=4, paid=10_000)], rules)
    assert c.commission(basis) == 1200
    assert c.commission(basis, refunded=2500) == 900  # a quarter of the money back
    (cheap,) = c.bases([c.Line(1, 5, quantity=4, paid=1000)], rules)
    assert c.commission(cheap) == 1000  # never more than was paid


def test_the_second_level_earns_its_own_rate_and_free_lines_earn_nothing():
    found = c.bases(
        [c.Line(1, 5, 1, 1000), c.Line(2, 6, 1, 0)], c.RuleSet(default=PCT_10), second_level_bp=200
    )
    assert [(b.line_id, b.level, c.commission(b)) for b in found] == [(1, 1, 100), (1, 2, 20)]
    assert c.bases([c.Line(1, 5, 1, 1000)], c.RuleSet()) == []


def test_bad_rules_are_refused():
    with pytest.raises(ValueError, match="unknown rule kind"):
        c.Rule("bonus")
    with pytest.raises(ValueError, match="out of range"):
        c.Rule(c.PERCENT, rate_bp=10_001)


# --- the ledger as a sequence of events ---------------------------------------------------------

rules_st = st.one_of(
    st.builds(lambda bp: c.Rule(c.PERCENT, rate_bp=bp), st.integers(0, 10_000)),
    st.builds(lambda fen: c.Rule(c.FIXED, fixed_fen=fen), st.integers(0, 50_000)),
)
line_st = st.tuples(st.integers(1, 20), st.integers(0, 200_000))  # quantity, paid
step_st = st.one_of(
    st.tuples(st.just("refund"), st.integers(0, 9), st.integers(1, 100_000)),
    st.tuples(st.just("complete"), st.just(0), st.just(0)),
    st.tuples(st.just("settle"), st.just(0), st.just(0)),
)


class Ledger:
    """The same rules as ``sync_order_commission`` and the settle statement, in memory."""

    def __init__(self, found: list[c.Basis]) -> None:
        self.bases = found
        self.entries: list[tuple[int, int, str, int, bool]] = []  # line, level, kind, amount, fs
        self.completed = False

    def accrued(self, basis: c.Basis) -> int:
        return sum(
            e[3]
            for e in self.entries
            if e[:2] == (basis.line_id, basis.level) and e[2] != "settled"
        )

    def settled(self, basis: c.Basis) -> bool:
        return any(
            e[:2] == (basis.line_id, basis.level) and e[2] == "settled" for e in self.entries
        )

    def pay(self) -> None:
        for b in self.bases:
            self.entries.append((b.line_id, b.level, "pending", c.commission(b), False))

    def sync(self, refunded: dict[int, int]) -> None:
        for b in self.bases:
            delta = c.adjustment(b, refunded.get(b.line_id, 0), self.accrued(b))
            assert delta <= 0
            if delta:
                self.entries.append((b.line_id, b.level, "reversed", delta, self.settled(b)))

    def settle(self) -> None:
        for b in self.bases:
            if self.completed and not self.settled(b):
                self.entries.append((b.line_id, b.level, "settled", self.accrued(b), False))


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(line_st, min_size=1, max_size=5),
    rule=rules_st,
    second_bp=st.one_of(st.none(), st.integers(1, 2000)),
    steps=st.lists(step_st, max_size=12),
    sync_twice=st.booleans(),
)
def test_any_sequence_of_pay_refund_complete_settle_sums_to_the_commission_of_what_was_kept(
    lines, rule, second_bp, steps, sync_twice
):
    order_lines = [c.Line(n, 100 + n, q, paid) for n, (q, paid) in enumerate(lines)]
    found = c.bases(order_lines, c.RuleSet(default=rule), second_level_bp=second_bp)
    ledger = Ledger(found)
    ledger.pay()
    refunded = {line.line_id: 0 for line in order_lines}
    for kind, n, amount in steps:
        if kind == "refund":
            line = order_lines[n % len(order_lines)]
            refunded[line.line_id] = min(line.paid, refunded[line.line_id] + amount)
            ledger.sync(refunded)
            if sync_twice:  # a replayed event adds nothing
                before = list(ledger.entries)
                ledger.sync(refunded)
                assert ledger.entries == before
        elif kind == "complete":
            ledger.completed = True
        else:
            ledger.settle()
    ledger.completed = True
    ledger.settle()
    for b in found:
        kept = order_lines[b.line_id].paid - refunded[b.line_id]
        mine = [e for e in ledger.entries if e[:2] == (b.line_id, b.level)]
        earned = sum(e[3] for e in mine if e[2] != "settled")
        settled = sum(e[3] for e in mine if e[2] == "settled" or (e[2] == "reversed" and e[4]))
        assert earned == c.commission(b, refunded[b.line_id])
        assert 0 <= earned <= c.ceiling(b, kept)
        if b.kind == c.PERCENT:
            assert earned * c.BASIS_POINTS <= kept * b.rate_bp
        assert settled == earned  # after the last settlement nothing is left pending
        assert all(e[3] <= 0 for e in mine if e[2] == "reversed")
