"""Phone numbers: parsed with +86 as the default, stored as E.164, shown as dialled, masked."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siyu.core.errors import InvalidInput
from siyu.customers import phones
from siyu.customers.services import normalise_phone

# Chinese mobile prefixes that are in service (13x–19x, as numbering plans list them).
MOBILE_PREFIXES = ["138", "139", "150", "151", "186", "188", "135", "177", "199", "166"]


@pytest.mark.parametrize(
    "raw",
    [
        "138 1234 5678",
        "13812345678",
        "+86 138-1234-5678",
        "+86 (138) 1234 5678",
        "008613812345678",
        "8613812345678",
        "１３８１２３４５６７８",  # full-width digits from a Chinese keyboard
        "  138-1234-5678  ",
    ],
)
def test_the_ways_people_write_a_mobile_number_become_one_e164(raw):
    assert phones.parse(raw, mobile=True) == "+8613812345678"
    assert normalise_phone(raw, mobile=True) == "+8613812345678"


@settings(deadline=None)  # a property, not a timing: no deadline on a busy machine
@given(
    prefix=st.sampled_from(MOBILE_PREFIXES),
    subscriber=st.integers(min_value=0, max_value=99_999_999),
    style=st.sampled_from(["{n}", "{a} {b} {c}", "+86 {a}-{b}-{c}", "0086{n}", "+86{n}", "86 {n}"]),
)
def test_every_written_form_of_a_mobile_number_parses_to_the_same_e164(prefix, subscriber, style):
    digits = f"{prefix}{subscriber:08d}"
    written = style.format(n=digits, a=digits[:3], b=digits[3:7], c=digits[7:])
    result = phones.parse(written, mobile=True)
    assert result == f"+86{digits}"
    assert phones.display(result) == f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    assert phones.parse(phones.display(result), mobile=True) == result


@settings(deadline=None)  # a property, not a timing: no deadline on a busy machine
@given(text=st.text(max_size=60))
def test_parsing_any_text_answers_a_number_or_a_reason_and_never_raises(text):
    result = phones.parse(text)
    assert isinstance(result, phones.PhoneProblem) or (
        result.startswith("+") and result[1:].isdigit()
    )


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", phones.PhoneProblem.EMPTY),
        ("   ", phones.PhoneProblem.EMPTY),
        ("abc", phones.PhoneProblem.INVALID),
        ("1381234", phones.PhoneProblem.INVALID),
        ("138123456789", phones.PhoneProblem.INVALID),
        ("1" * 60, phones.PhoneProblem.INVALID),
        ("021 6288 1234", phones.PhoneProblem.NOT_MOBILE),
    ],
)
def test_invalid_or_landline_numbers_are_refused_for_login(raw, problem):
    assert phones.parse(raw, mobile=True) == problem
    with pytest.raises(InvalidInput) as caught:
        normalise_phone(raw, mobile=True)
    assert set(caught.value.fields) == {"phone"}
    assert caught.value.fields["phone"]


def test_reasons_name_the_problem():
    with pytest.raises(InvalidInput) as empty:
        normalise_phone("", mobile=True)
    with pytest.raises(InvalidInput) as landline:
        normalise_phone("021 6288 1234", mobile=True)
    with pytest.raises(InvalidInput) as nonsense:
        normalise_phone("12", mobile=True)
    assert empty.value.fields["phone"] == "Enter a phone number."
    assert "mobile" in landline.value.fields["phone"]
    assert "valid" in nonsense.value.fields["phone"]


def test_a_landline_is_a_valid_phone_where_mobiles_are_not_required():
    assert normalise_phone("021 6288 1234") == "+862162881234"
    with pytest.raises(InvalidInput) as caught:
        normalise_phone("12", field="contact")
    assert set(caught.value.fields) == {"contact"}


def test_foreign_mobile_numbers_are_accepted_with_their_country_code():
    assert phones.parse("+852 9123 4567", mobile=True) == "+85291234567"
    assert phones.display("+85291234567") == "+852 9123 4567"


@pytest.mark.parametrize(
    ("e164", "shown", "masked", "masked_e164"),
    [
        ("+8613812345678", "138 1234 5678", "138 **** 5678", "+86138****5678"),
        ("+862162881234", "021 6288 1234", "021 **** 1234", "+86216***1234"),
        ("+85291234567", "+852 9123 4567", "+852 **** 4567", "+852****4567"),
    ],
)
def test_display_and_masks(e164, shown, masked, masked_e164):
    assert phones.display(e164) == shown
    assert phones.mask(e164) == masked
    assert phones.masked_e164(e164) == masked_e164
    assert "1234" not in phones.mask(e164)[:-4]


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("138 1234", "1381234"),
        ("+86 138 1234 5678", "13812345678"),
        ("0086 138", "138"),
        ("5678", "5678"),
        ("王小明", ""),
        ("Wang", ""),
        ("", ""),
    ],
)
def test_digits_for_search(typed, digits):
    assert phones.digits_for_search(typed) == digits
