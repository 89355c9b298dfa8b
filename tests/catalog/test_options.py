"""The SKU option matrix (pure functions)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siyu.catalog import options as opts


def test_split_list_accepts_chinese_and_western_separators():
    assert opts.split_list("Size, Temperature") == ["Size", "Temperature"]
    assert opts.split_list("杯型，温度、糖度") == ["杯型", "温度", "糖度"]
    assert opts.split_list(" , ,") == []


def test_option_names_are_trimmed_and_checked():
    assert opts.normalize_option_names(["  Size ", "Sugar  level"]) == ["Size", "Sugar level"]
    with pytest.raises(opts.OptionError, match="once"):
        opts.normalize_option_names(["Size", "size"])
    with pytest.raises(opts.OptionError, match="At most 3"):
        opts.normalize_option_names(["a", "b", "c", "d"])
    with pytest.raises(opts.OptionError, match="empty"):
        opts.normalize_option_names(["Size", " "])
    with pytest.raises(opts.OptionError, match="longer"):
        opts.normalize_option_names(["x" * 21])


def test_option_mismatch_names_what_is_wrong():
    names = ["Size", "Temperature"]
    assert opts.option_mismatch(names, {"Size": "M", "Temperature": "Hot"}) is None
    assert "Temperature" in opts.option_mismatch(names, {"Size": "M"})
    assert "Colour" in opts.option_mismatch(
        names, {"Size": "M", "Temperature": "Hot", "Colour": "Red"}
    )
    assert "Temperature" in opts.option_mismatch(names, {"Size": "M", "Temperature": "  "})
    assert opts.option_mismatch([], {}) is None
    assert opts.option_mismatch(["Size"], {"Size": "x" * 41}) is not None


def test_duplicates_fold_case_and_spacing_and_keep_the_first():
    names = ["Size", "Temperature"]
    rows = [
        {"Size": "M", "Temperature": "Hot"},
        {"Size": "L", "Temperature": "Hot"},
        {"Size": "m", "Temperature": " hot "},
        {"Size": "L", "Temperature": "Hot"},
    ]
    assert opts.duplicate_indexes(names, rows) == [2, 3]
    # without options, every SKU is "the same": only one may exist
    assert opts.duplicate_indexes([], [{}, {}]) == [1]


def test_combinations_first_option_varies_slowest():
    combos = opts.combinations(
        ["Size", "Temp"], {"Size": ["M", "L"], "Temp": ["Hot", "Iced", "hot"]}
    )
    assert combos == [
        {"Size": "M", "Temp": "Hot"},
        {"Size": "M", "Temp": "Iced"},
        {"Size": "L", "Temp": "Hot"},
        {"Size": "L", "Temp": "Iced"},
    ]
    assert opts.combinations([], {}) == [{}]


def test_combinations_refuse_missing_values_and_explosions():
    with pytest.raises(opts.OptionError, match="Temp"):
        opts.combinations(["Size", "Temp"], {"Size": ["M"], "Temp": [" "]})
    with pytest.raises(opts.OptionError, match="too many"):
        opts.combinations(
            ["a", "b"], {"a": [str(i) for i in range(20)], "b": [str(i) for i in range(11)]}
        )


def test_missing_combinations_skip_the_ones_that_exist():
    existing = [{"Size": "m", "Temp": "HOT"}]
    missing = opts.missing_combinations(
        ["Size", "Temp"], {"Size": ["M", "L"], "Temp": ["Hot"]}, existing
    )
    assert missing == [{"Size": "L", "Temp": "Hot"}]


def test_values_by_option_and_rename():
    rows = [{"Size": "M", "Temp": "Hot"}, {"Size": "L", "Temp": "Hot"}]
    assert opts.values_by_option(["Size", "Temp"], rows) == {"Size": ["M", "L"], "Temp": ["Hot"]}
    assert opts.rename_options(["Size", "Temp"], ["杯型", "温度"], rows[0]) == {
        "杯型": "M",
        "温度": "Hot",
    }
    with pytest.raises(opts.OptionError):
        opts.rename_options(["Size"], ["杯型", "温度"], rows[0])


value = st.text(alphabet="abcdefgh", min_size=1, max_size=3)


@given(
    st.dictionaries(
        st.sampled_from(["Size", "Temp", "Sugar"]),
        st.lists(value, min_size=1, max_size=5),
        min_size=0,
        max_size=3,
    )
)
def test_combinations_are_complete_unique_and_match_the_names(values):
    names = list(values)
    combos = opts.combinations(names, values)
    distinct = [len({v.casefold() for v in values[n]}) for n in names]
    assert len(combos) == math.prod(distinct)
    assert opts.duplicate_indexes(names, combos) == []
    assert all(opts.option_mismatch(names, c) is None for c in combos)
    # generating again for what exists adds nothing
    assert opts.missing_combinations(names, values, combos) == []
