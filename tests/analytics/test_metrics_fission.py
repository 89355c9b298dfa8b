"""Fission numbers and referral trees on links worked out by hand (Asia/Shanghai).

link     when (local)        kind         activity   the invitee's sales
1 → 2    2026-01-10 10:00    referral     5          01-15 (after: bought)
2 → 3    2026-01-12 10:00    referral     5          01-11 only (before the invitation)
1 → 5    2026-01-20 10:00    distributor  -          03-01 refunded in full
6 → 7    2026-01-25 10:00    referral     5          01-26 (imported: counts the same)
3 → 4    2026-02-01 00:00    groupbuy     8          02-02 (February: outside January)
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from siyu.analytics import metrics_fission as fission
from siyu.analytics.reference import Period
from siyu.analytics.testing import make_link, make_sale
from siyu.core.errors import InvalidInput
from siyu.core.models import Merchant

pytestmark = pytest.mark.django_db

JANUARY = Period(date(2026, 1, 1), date(2026, 2, 1))


@pytest.fixture
def links(merchant: Merchant) -> None:
    make_link(merchant, 1, 2, datetime(2026, 1, 10, 10), activity_id=5)
    make_link(merchant, 2, 3, datetime(2026, 1, 12, 10), activity_id=5)
    make_link(merchant, 1, 5, datetime(2026, 1, 20, 10), kind="distributor")
    make_link(merchant, 6, 7, datetime(2026, 1, 25, 10), activity_id=5)
    make_link(merchant, 3, 4, datetime(2026, 2, 1, 0, 0), kind="groupbuy", activity_id=8)
    make_sale(merchant, 2, datetime(2026, 1, 15, 9), 1000)
    make_sale(merchant, 3, datetime(2026, 1, 11, 9), 1000)
    make_sale(merchant, 5, datetime(2026, 3, 1, 9), 1000, 1000)
    make_sale(merchant, 7, datetime(2026, 1, 26, 9), 1000, imported=True)
    make_sale(merchant, 4, datetime(2026, 2, 2, 9), 1000)


def test_january(merchant: Merchant, links: None) -> None:
    total = fission.fission(merchant, JANUARY)[None]
    assert total == fission.Fission(invitations=4, inviters=3, invitees_bought=2)
    assert total.k_factor == 2 / 3
    assert total.conversion == 0.5


def test_per_kind_activity_and_inviter(merchant: Merchant, links: None) -> None:
    assert fission.fission(merchant, JANUARY, by="kind") == {
        "referral": fission.Fission(3, 3, 2),
        "distributor": fission.Fission(1, 1, 0),
    }
    assert fission.fission(merchant, JANUARY, by="activity") == {
        5: fission.Fission(3, 3, 2),
        None: fission.Fission(1, 1, 0),
    }
    assert fission.fission(merchant, JANUARY, by="inviter") == {
        1: fission.Fission(2, 1, 1),
        2: fission.Fission(1, 1, 0),
        6: fission.Fission(1, 1, 1),
    }
    february = Period(date(2026, 2, 1), date(2026, 3, 1))
    assert fission.fission(merchant, february, kind="groupbuy")[None] == fission.Fission(1, 1, 1)
    assert fission.fission(merchant, february, kind="referral")[None].k_factor is None


def test_trees(merchant: Merchant, links: None) -> None:
    trees = fission.referral_trees(merchant)
    # 1 → 2 → 3 → 4 and 1 → 5; 6 → 7
    assert trees == fission.Trees(trees=2, levels={1: 3, 2: 1, 3: 1}, depth=3, deepest_root=1)
    referral = fission.referral_trees(merchant, kind="referral")
    assert referral == fission.Trees(trees=2, levels={1: 2, 2: 1}, depth=2, deepest_root=1)
    assert fission.referral_trees(merchant, activity_id=8).depth == 1


def test_a_cycle_in_imported_links_ends(merchant: Merchant) -> None:
    make_link(merchant, 8, 9, datetime(2026, 1, 1))
    make_link(merchant, 9, 8, datetime(2026, 1, 2))
    make_link(merchant, 10, 11, datetime(2026, 1, 3))
    assert fission.referral_trees(merchant) == fission.Trees(1, {1: 1}, 1, 10)
    empty = fission.referral_trees(merchant, kind="bargain")
    assert empty == fission.Trees(0, {}, 0, None)


def test_unknown_dimension(merchant: Merchant) -> None:
    with pytest.raises(InvalidInput) as error:
        fission.fission(merchant, JANUARY, by="store")
    assert "by" in error.value.fields
