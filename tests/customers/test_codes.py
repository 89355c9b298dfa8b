"""The pure side of login codes: making, hashing, comparing, and the send-limit arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from siyu.customers import codes

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_codes_are_six_random_digits():
    made = {codes.new_code() for _ in range(300)}
    assert all(len(c) == 6 and c.isdigit() for c in made)
    assert len(made) > 290  # random, not a counter or a constant


def test_the_hash_is_keyed_and_bound_to_merchant_and_phone():
    stored = codes.code_hash(1, "+8613812345678", "123456")
    assert "123456" not in stored
    assert len(stored) == 64
    assert codes.matches(stored, 1, "+8613812345678", "123456")
    assert not codes.matches(stored, 1, "+8613812345678", "123457")
    assert not codes.matches(stored, 2, "+8613812345678", "123456")
    assert not codes.matches(stored, 1, "+8613812345679", "123456")


def test_the_hash_depends_on_the_secret_key(settings):
    before = codes.code_hash(1, "+8613812345678", "123456")
    settings.SECRET_KEY = "another-secret-key-of-sufficient-length-0123456789"
    assert codes.code_hash(1, "+8613812345678", "123456") != before


@settings(deadline=None)  # a property, not a timing: no deadline on a busy machine
@given(code=st.from_regex(r"\A[0-9]{6}\Z"))
def test_a_code_matches_its_own_hash_only(code):
    stored = codes.code_hash(7, "+8613900000000", code)
    assert codes.matches(stored, 7, "+8613900000000", code)
    other = f"{(int(code) + 1) % 1_000_000:06d}"
    assert not codes.matches(stored, 7, "+8613900000000", other)


def test_clean_code_accepts_what_people_type():
    assert codes.clean_code("123456") == "123456"
    assert codes.clean_code(" 123 456 ") == "123456"
    assert codes.clean_code("１２３４５６") == "123456"
    for bad in ("", "12345", "1234567", "12a456", "١٢٣٤٥٦x"):
        assert codes.clean_code(bad) is None


def sends(*seconds_ago: int) -> list[datetime]:
    return [NOW - timedelta(seconds=s) for s in seconds_ago]


def test_no_earlier_send_means_no_wait():
    assert codes.wait_seconds([], NOW, resend_seconds=60, max_per_hour=5) == 0


def test_one_send_per_resend_interval():
    assert codes.wait_seconds(sends(10), NOW, resend_seconds=60, max_per_hour=5) == 50
    assert codes.wait_seconds(sends(60), NOW, resend_seconds=60, max_per_hour=5) == 0
    assert codes.wait_seconds(sends(59.5), NOW, resend_seconds=60, max_per_hour=5) == 1


def test_at_most_n_sends_in_any_hour():
    # five sends, the oldest 50 minutes ago: the sixth waits until it is an hour old
    recent = sends(120, 600, 1200, 2400, 3000)
    assert codes.wait_seconds(recent, NOW, resend_seconds=60, max_per_hour=5) == 600
    # four in the hour: one more may go
    assert codes.wait_seconds(recent[:4], NOW, resend_seconds=60, max_per_hour=5) == 0
    # sends older than an hour do not count
    assert (
        codes.wait_seconds(
            sends(120, 600, 1200, 2400, 3700), NOW, resend_seconds=60, max_per_hour=5
        )
        == 0
    )


@settings(deadline=None)  # a property, not a timing: no deadline on a busy machine
@given(
    ages=st.lists(st.integers(min_value=0, max_value=7200), max_size=12),
    resend=st.integers(min_value=1, max_value=600),
    per_hour=st.integers(min_value=1, max_value=10),
)
def test_waiting_as_told_always_allows_the_next_send(ages, resend, per_hour):
    recent = sorted(sends(*ages), reverse=True)
    wait = codes.wait_seconds(recent, NOW, resend_seconds=resend, max_per_hour=per_hour)
    assert 0 <= wait <= max(resend, 3600)
    later = NOW + timedelta(seconds=wait)
    assert codes.wait_seconds(recent, later, resend_seconds=resend, max_per_hour=per_hour) == 0
