"""The referral tree of a customer on a known forest (SQLite and PostgreSQL both run it)."""

from __future__ import annotations

import pytest

from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers.testing import make_customer
from siyu.referrals import selectors, tree
from siyu.referrals.testing import invite, make_programme

pytestmark = pytest.mark.django_db


def _forest(merchant: Merchant) -> dict[str, object]:
    """a ─┬─ b ─┬─ d ── f        x ── y
    │     └─ e
    └─ c         (g: blocked under c, not counted)"""
    make_programme(merchant, guard_device=True)
    people = {name: make_customer(merchant, name=name) for name in "abcdefgxy"}
    for parent, child in ("ab", "ac", "bd", "be", "df", "xy"):
        assert invite(people[parent], people[child]).status == "registered"
    # g arrives on c's device: blocked, so not part of the tree
    with merchant_context(merchant):
        from siyu.referrals.services import Device, record_device

        record_device(people["c"], Device("c-phone"))
    assert invite(people["c"], people["g"], device="c-phone").status == "blocked"
    return people


def test_depth_size_and_levels_of_subtrees(merchant: Merchant, other_merchant: Merchant) -> None:
    p = _forest(merchant)
    _forest(other_merchant)  # the same shape at another merchant never leaks in
    with merchant_context(merchant):
        a = tree.shape(merchant.pk, p["a"].pk)
        assert (a.size, a.depth, a.per_level) == (5, 3, [(1, 2), (2, 2), (3, 1)])
        b = tree.shape(merchant.pk, p["b"].pk)
        assert (b.size, b.depth) == (3, 2)
        c = tree.shape(merchant.pk, p["c"].pk)
        assert (c.size, c.depth, c.per_level) == (0, 0, [])
        x = tree.shape(merchant.pk, p["x"].pk)
        assert (x.size, x.depth) == (1, 1)
        assert tree.ancestors(merchant.pk, p["f"].pk) == [p["a"].pk, p["b"].pk, p["d"].pk]
        assert tree.ancestors(merchant.pk, p["a"].pk) == []


def test_the_tree_view_lists_friends_depth_first(merchant: Merchant) -> None:
    p = _forest(merchant)
    with merchant_context(merchant):
        view = selectors.tree_of(p["a"])
    assert [(r["customer"].name, r["depth"]) for r in view.rows] == [
        ("b", 1),
        ("d", 2),
        ("f", 3),
        ("e", 2),
        ("c", 1),
    ]
    assert not view.truncated
    with merchant_context(merchant):
        assert [c.name for c in selectors.tree_of(p["f"]).ancestors] == ["a", "b", "d"]
        small = selectors.tree_of(p["a"], limit=2)
    assert small.truncated
    assert small.shape.size == 5
