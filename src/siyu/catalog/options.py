"""The SKU option matrix: option names, value combinations, matching and duplicates.

Pure functions, no database. A product names its options (``["Size",
"Temperature"]``); each SKU gives one value per name (``{"Size": "Large",
"Temperature": "Iced"}``). A product without options has exactly one SKU
(its options are ``{}``), which falls out of the duplicate rule.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence

from django.utils.translation import gettext as _

MAX_OPTIONS = 3
MAX_OPTION_NAME = 20
MAX_OPTION_VALUE = 40
MAX_COMBINATIONS = 200

_SEPARATORS = re.compile(r"[,，、;；\n]+")


class OptionError(ValueError):
    """Option names or values that break a rule; the message says which."""


def split_list(text: str) -> list[str]:
    """``"Size, Temperature"`` / ``"杯型，温度"`` → ``["Size", "Temperature"]`` (blanks dropped)."""
    return [part.strip() for part in _SEPARATORS.split(text or "") if part.strip()]


def normalize_option_names(names: Iterable[str]) -> list[str]:
    """Trimmed option names in order; raises :class:`OptionError` when a rule is broken."""
    cleaned = [" ".join(str(name).split()) for name in names]
    if any(not name for name in cleaned):
        raise OptionError(_("An option name cannot be empty."))
    if len(cleaned) > MAX_OPTIONS:
        raise OptionError(_("At most %(n)d options.") % {"n": MAX_OPTIONS})
    for name in cleaned:
        if len(name) > MAX_OPTION_NAME:
            raise OptionError(
                _("“%(name)s” is longer than %(n)d characters.")
                % {"name": name, "n": MAX_OPTION_NAME}
            )
    folded = [name.casefold() for name in cleaned]
    if len(set(folded)) != len(folded):
        raise OptionError(_("Each option name may appear once."))
    return cleaned


def normalize_options(options: Mapping[str, object]) -> dict[str, str]:
    """Option values as trimmed strings (keys kept as given)."""
    return {str(k).strip(): " ".join(str(v).split()) for k, v in options.items()}


def option_mismatch(option_names: Sequence[str], options: Mapping[str, str]) -> str | None:
    """Why ``options`` do not fit ``option_names`` (``None`` when they do)."""
    expected = list(option_names)
    missing = [name for name in expected if not str(options.get(name, "")).strip()]
    extra = [name for name in options if name not in expected]
    if extra:
        return _("Unknown options: %(names)s.") % {"names": ", ".join(sorted(extra))}
    if missing:
        return _("Give a value for: %(names)s.") % {"names": ", ".join(missing)}
    for name in expected:
        if len(str(options[name]).strip()) > MAX_OPTION_VALUE:
            return _("Option values have at most %(n)d characters.") % {"n": MAX_OPTION_VALUE}
    return None


def option_key(option_names: Sequence[str], options: Mapping[str, str]) -> tuple[str, ...]:
    """A comparable key of a SKU's values: in the product's order, case and spacing folded."""
    return tuple(" ".join(str(options.get(name, "")).split()).casefold() for name in option_names)


def duplicate_indexes(
    option_names: Sequence[str], option_sets: Sequence[Mapping[str, str]]
) -> list[int]:
    """Indexes of option sets that repeat an earlier one (the first occurrence is not listed)."""
    seen: set[tuple[str, ...]] = set()
    duplicates: list[int] = []
    for index, options in enumerate(option_sets):
        key = option_key(option_names, options)
        if key in seen:
            duplicates.append(index)
        else:
            seen.add(key)
    return duplicates


def combinations(
    option_names: Sequence[str], values: Mapping[str, Sequence[str]]
) -> list[dict[str, str]]:
    """Every combination of the given values, first option varying slowest.

    ``combinations(["Size", "Temp"], {"Size": ["M", "L"], "Temp": ["Hot", "Iced"]})`` →
    ``[{"Size": "M", "Temp": "Hot"}, {"Size": "M", "Temp": "Iced"}, {"Size": "L", ...}, ...]``.
    Repeated values (case-insensitively) count once. No option names → one empty combination.
    """
    columns: list[list[str]] = []
    for name in option_names:
        unique: list[str] = []
        folded: set[str] = set()
        for raw in values.get(name, ()):
            value = " ".join(str(raw).split())
            if value and value.casefold() not in folded:
                folded.add(value.casefold())
                unique.append(value)
        if not unique:
            raise OptionError(_("Give at least one value for “%(name)s”.") % {"name": name})
        columns.append(unique)
    total = 1
    for column in columns:
        total *= len(column)
    if total > MAX_COMBINATIONS:
        raise OptionError(
            _("%(total)d combinations are too many (at most %(max)d).")
            % {"total": total, "max": MAX_COMBINATIONS}
        )
    return [dict(zip(option_names, combo, strict=True)) for combo in itertools.product(*columns)]


def missing_combinations(
    option_names: Sequence[str],
    values: Mapping[str, Sequence[str]],
    existing: Sequence[Mapping[str, str]],
) -> list[dict[str, str]]:
    """The combinations of ``values`` that no SKU in ``existing`` has yet."""
    have = {option_key(option_names, options) for options in existing}
    return [
        combo
        for combo in combinations(option_names, values)
        if option_key(option_names, combo) not in have
    ]


def values_by_option(
    option_names: Sequence[str], option_sets: Iterable[Mapping[str, str]]
) -> dict[str, list[str]]:
    """The distinct values each option takes across SKUs, in first-seen order."""
    result: dict[str, list[str]] = {name: [] for name in option_names}
    for options in option_sets:
        for name in option_names:
            value = str(options.get(name, "")).strip()
            if value and value not in result[name]:
                result[name].append(value)
    return result


def rename_options(
    old_names: Sequence[str], new_names: Sequence[str], options: Mapping[str, str]
) -> dict[str, str]:
    """Carry a SKU's values over when the product's option names are renamed in place."""
    if len(old_names) != len(new_names):
        raise OptionError(_("Renaming keeps the number of options."))
    return {new: str(options.get(old, "")) for old, new in zip(old_names, new_names, strict=True)}
