"""The pure rules: guards in order, addresses, codes, months, K-factor (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from siyu.referrals import rules

BASE = rules.Facts(
    inviter_id=1,
    invitee_id=2,
    invitee_phone="+8613900000002",
    invitee_devices=frozenset({"dev-2"}),
    inviter_phones=frozenset({"+8613900000001"}),
    other_invitee_phones=frozenset({"+8613900000003"}),
    inviter_devices=frozenset({"dev-1"}),
    other_invitee_devices=frozenset({"dev-3"}),
    month_count=0,
    total_count=0,
)


def test_a_clean_referral_passes() -> None:
    assert rules.block_reason(BASE) is None


def test_each_guard_and_its_switch() -> None:
    assert rules.block_reason(replace(BASE, invitee_id=1)) == ("self_invite", "customer")
    own = replace(BASE, invitee_phone="+8613900000001")
    assert rules.block_reason(own) == ("self_invite", "phone")
    twin = replace(BASE, invitee_phone="+8613900000003")
    assert rules.block_reason(twin) == ("same_phone", "another invitee")
    assert rules.block_reason(replace(twin, guards=rules.Guards(phone=False))) is None
    mine = replace(BASE, invitee_devices=frozenset({"dev-1"}))
    assert rules.block_reason(mine) == ("same_device", "inviter")
    assert rules.block_reason(replace(mine, guards=rules.Guards(device=False))) is None
    shared = replace(BASE, invitee_devices=frozenset({"dev-9", "dev-3"}))
    assert rules.block_reason(shared) == ("same_device", "another invitee")
    assert rules.block_reason(replace(BASE, cap_total=3, total_count=3)) == ("cap_total", "3/3")
    assert rules.block_reason(replace(BASE, cap_total=3, total_count=2)) is None
    month = replace(BASE, cap_per_month=1, month_count=1, total_count=5)
    assert rules.block_reason(month) == ("cap_month", "1/1")


def test_addresses_compare_without_spacing_width_or_a_repeated_city() -> None:
    a = {"province": "上海市", "city": "上海市", "district": "静安区", "street": "南京西路 1266号"}
    b = {"province": "上海市", "city": "", "district": "静安区", "street": "南京西路１２６６号"}
    c = {"province": "上海市", "city": "上海市", "district": "静安区", "street": "南京西路1268号"}
    assert rules.normalise_address(a) == rules.normalise_address(b)
    assert rules.same_address(b, {rules.normalise_address(a)})
    assert not rules.same_address(c, {rules.normalise_address(a)})
    assert rules.normalise_address({"province": "上海市"}) == ""
    assert not rules.same_address(None, {""})


def test_codes_as_people_type_them() -> None:
    assert rules.clean_code(" ab3-k7q ") == "AB3K7Q"
    assert rules.clean_code("ＡＢ３Ｋ７Ｑ") == "AB3K7Q"  # full-width from a Chinese keyboard
    assert rules.clean_code("AB0K7Q") is None  # 0 is never in a code
    assert rules.clean_code("") is None
    assert rules.clean_code(12345) is None


@given(st.text(alphabet=rules.CODE_ALPHABET, min_size=4, max_size=12))
def test_every_stored_code_reads_back(code: str) -> None:
    assert rules.clean_code(code.lower()) == code


def test_the_month_starts_in_the_merchants_time_zone() -> None:
    # 2026-03-31 17:00 UTC is already April 1st in Shanghai
    start = rules.month_start(datetime(2026, 3, 31, 17, tzinfo=UTC), "Asia/Shanghai")
    assert (start.month, start.day, start.hour) == (4, 1, 0)


def test_typing_a_code_within_days_of_joining_before_paying() -> None:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    joined = now - timedelta(days=3)
    assert rules.may_type_code(joined, now, 7, has_paid_order=False)
    assert not rules.may_type_code(joined, now, 2, has_paid_order=False)
    assert not rules.may_type_code(joined, now, 7, has_paid_order=True)


def test_k_factor() -> None:
    assert rules.k_factor(7, 4) == 1.75
    assert rules.k_factor(0, 0) is None
