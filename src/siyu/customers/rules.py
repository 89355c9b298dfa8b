"""The segment rule language: its field catalogue, its structural check and a pure evaluator.

No database access here. :mod:`siyu.customers.segments` compiles the same rules to one
SQL query and checks the ids a rule names against the bound merchant; :func:`evaluate`
is the plain-Python meaning of a rule over one customer's :class:`CustomerFacts`, the
oracle the compiler is tested against. The language is documented in ``docs/segments.md``.

A rule is a *clause*::

    {"all": [clause, ...]}      every clause holds (an empty list: everyone)
    {"any": [clause, ...]}      at least one holds (an empty list: no one)
    {"not": clause}             the clause does not hold
    {"field": NAME, "op": OP, "value": V, ...params}   a leaf (see FIELDS)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.core import clock
from siyu.core.errors import InvalidInput

MAX_DEPTH = 6  # nesting of all/any/not
MAX_CLAUSES = 100  # leaf clauses in one rule
MAX_LIST = 200  # items in one list value
MAX_DAYS = 3650
MAX_NUMBER = 10**13  # fen: ¥100 billion; far beyond any real figure, far below int64

NUMERIC_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "between")

# Kinds of field: how the value looks and which ops apply.
NUMBER = "number"  # a column compared with NUMERIC_OPS
DAYS_SINCE = "days_since"  # whole days since a moment; no moment never matches
WINDOW = "window"  # an aggregate over the customer's paid orders (0 when none)
BOOLEAN = "boolean"
IDS = "ids"  # a nullable reference to another row (store, guide)
TAGS = "tags"
GROUPS = "groups"
CHOICE = "choice"  # a short text from a known list
TEXTS = "texts"  # free text values (city, join channel)
MONTH = "month"
CONSENT = "consent"


# Named RFM cells (the common 11-cell map on R and the mean of F and M; siyu.analytics.rfm
# computes them) and value segments of the lifetime-value model (siyu.analytics.lifetime).
RFM_CELLS = (
    "champions",
    "loyal",
    "potential_loyalists",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cant_lose",
    "hibernating",
    "lost",
)
VALUE_SEGMENTS = ("high_value_active", "high_value_leaving", "active", "leaving")


def rfm_and_value_labels() -> dict[str, str]:
    """Labels of the RFM cells and value segments in the active language (rule builder)."""
    return {
        "champions": _("Champions"),
        "loyal": _("Loyal"),
        "potential_loyalists": _("Potential loyalists"),
        "new": _("New customers"),
        "promising": _("Promising"),
        "need_attention": _("Need attention"),
        "about_to_sleep": _("About to sleep"),
        "at_risk": _("At risk"),
        "cant_lose": _("Can't lose them"),
        "hibernating": _("Hibernating"),
        "lost": _("Lost"),
        "high_value_active": _("High value, active"),
        "high_value_leaving": _("High value, probably leaving"),
        "active": _("Active"),
        "leaving": _("Probably leaving"),
    }


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str
    label: Any
    ops: tuple[str, ...]
    params: tuple[str, ...] = ()
    minimum: int = 0
    maximum: int = MAX_NUMBER
    choices: tuple[str, ...] = ()
    money: bool = False


def _numeric(
    name: str, label: Any, *, kind: str = NUMBER, maximum: int = MAX_NUMBER, **kw: Any
) -> FieldSpec:
    return FieldSpec(name, kind, label, NUMERIC_OPS, maximum=maximum, **kw)


FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        _numeric("order_count", gettext_lazy("Paid orders")),
        _numeric("total_spent", gettext_lazy("Total spent"), money=True),
        _numeric("average_order_value", gettext_lazy("Average order value"), money=True),
        _numeric("rfm_recency", gettext_lazy("R score (recency)"), maximum=5),
        _numeric("rfm_frequency", gettext_lazy("F score (frequency)"), maximum=5),
        _numeric("rfm_monetary", gettext_lazy("M score (monetary)"), maximum=5),
        _numeric(
            "days_since_last_order",
            gettext_lazy("Days since last order"),
            kind=DAYS_SINCE,
            maximum=MAX_DAYS * 10,
        ),
        _numeric(
            "first_order_days_ago",
            gettext_lazy("Days since first order"),
            kind=DAYS_SINCE,
            maximum=MAX_DAYS * 10,
        ),
        _numeric(
            "customer_days",
            gettext_lazy("Days as a customer"),
            kind=DAYS_SINCE,
            maximum=MAX_DAYS * 10,
        ),
        _numeric(
            "spent_in_days",
            gettext_lazy("Spent in the last N days"),
            kind=WINDOW,
            params=("days",),
            money=True,
        ),
        _numeric(
            "orders_in_days",
            gettext_lazy("Orders in the last N days"),
            kind=WINDOW,
            params=("days",),
        ),
        _numeric(
            "category_orders",
            gettext_lazy("Orders from a category"),
            kind=WINDOW,
            params=("category", "days"),
        ),
        FieldSpec("has_ordered", BOOLEAN, gettext_lazy("Has ordered"), ("is",)),
        FieldSpec("tag", TAGS, gettext_lazy("Tags"), ("has_any", "has_all", "has_none")),
        FieldSpec(
            "group",
            GROUPS,
            gettext_lazy("Community groups"),
            ("member_of_any", "member_of_all", "member_of_none", "in_any_group"),
        ),
        FieldSpec("home_store", IDS, gettext_lazy("Home store"), ("in", "not_in", "is_empty")),
        FieldSpec("owner_guide", IDS, gettext_lazy("Shopping guide"), ("in", "not_in", "is_empty")),
        FieldSpec("join_channel", TEXTS, gettext_lazy("Join channel"), ("in", "not_in")),
        FieldSpec("city", TEXTS, gettext_lazy("City"), ("in", "not_in", "is_empty")),
        FieldSpec(
            "gender", CHOICE, gettext_lazy("Gender"), ("in",), choices=("", "female", "male")
        ),
        FieldSpec("birthday_month", MONTH, gettext_lazy("Birthday month"), ("in", "this_month")),
        FieldSpec(
            "consent",
            CONSENT,
            gettext_lazy("Refused marketing"),
            ("refused",),
            params=("channel",),
            choices=("inbox", "group", "sms", "wechat"),
        ),
        FieldSpec(
            "status", CHOICE, gettext_lazy("Status"), ("in", "eq"), choices=("active", "blocked")
        ),
        FieldSpec(
            "rfm_cell", CHOICE, gettext_lazy("RFM segment"), ("in",), choices=("", *RFM_CELLS)
        ),
        _numeric("clv_alive", gettext_lazy("Chance still active (%)"), maximum=100),
        _numeric("clv_value", gettext_lazy("Predicted value, next 12 months"), money=True),
        FieldSpec(
            "clv_segment",
            CHOICE,
            gettext_lazy("Value segment"),
            ("in",),
            choices=("", *VALUE_SEGMENTS),  # "": not scored (no order yet)
        ),
    )
}

# Which fields name rows of the merchant, and which kind of row: checked by segments.
REFERENCE_KINDS = {"tag": "tag", "group": "group", "home_store": "store", "owner_guide": "guide"}


class RuleError(InvalidInput):
    """A rule is not valid (HTTP 422). ``fields`` = {"rule": reason, "path": clause path}."""

    code = "invalid_rule"

    def __init__(self, reason: str, path: str) -> None:
        super().__init__(
            _("The rule is not valid at %(path)s: %(reason)s")
            % {"path": path or _("the top"), "reason": reason},
            fields={"rule": reason, "path": path},
        )
        self.reason = reason
        self.path = path


def _join(path: str, part: str) -> str:
    if part.startswith("["):
        return f"{path}{part}"
    return f"{path}.{part}" if path else part


# --- structure ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """An id a rule names, to be checked against the merchant's rows."""

    kind: str  # tag, group, store, guide, category
    id: int
    path: str


@dataclass
class _Walk:
    leaves: int = 0
    references: list[Reference] = field(default_factory=list)


def check_structure(rule: Any) -> list[Reference]:
    """Raise :class:`RuleError` at the first clause at fault; answer the ids the rule names."""
    walk = _Walk()
    _check(rule, "", 1, walk)
    return walk.references


def _check(clause: Any, path: str, depth: int, walk: _Walk) -> None:
    if not isinstance(clause, Mapping):
        raise RuleError(_("a clause must be an object."), path)
    if depth > MAX_DEPTH:
        raise RuleError(_("nested too deeply (at most %(n)d levels).") % {"n": MAX_DEPTH}, path)
    group_keys = [k for k in ("all", "any", "not") if k in clause]
    if group_keys:
        if len(clause) != 1:
            raise RuleError(_("a group clause has exactly one key: all, any or not."), path)
        key = group_keys[0]
        inner = clause[key]
        if key == "not":
            _check(inner, _join(path, "not"), depth + 1, walk)
            return
        if not isinstance(inner, list):
            raise RuleError(_("“%(key)s” takes a list of clauses.") % {"key": key}, path)
        for i, child in enumerate(inner):
            _check(child, _join(path, f"{key}[{i}]"), depth + 1, walk)
        return
    if "field" not in clause:
        raise RuleError(_("a clause needs “all”, “any”, “not” or a “field”."), path)
    walk.leaves += 1
    if walk.leaves > MAX_CLAUSES:
        raise RuleError(_("too many clauses (at most %(n)d).") % {"n": MAX_CLAUSES}, path)
    _check_leaf(clause, path, walk)


def _int(value: Any, path: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleError(_("must be a whole number."), path)
    if value < lo or value > hi:
        raise RuleError(_("must be between %(lo)d and %(hi)d.") % {"lo": lo, "hi": hi}, path)
    return value


def _id_list(value: Any, path: str) -> list[int]:
    if not isinstance(value, list) or not value:
        raise RuleError(_("must be a non-empty list of ids."), path)
    if len(value) > MAX_LIST:
        raise RuleError(_("at most %(n)d items.") % {"n": MAX_LIST}, path)
    for i, item in enumerate(value):
        _int(item, f"{path}[{i}]", 1, 2**63 - 1)
    return list(value)


def _text_list(value: Any, path: str, choices: Sequence[str] = ()) -> list[str]:
    if not isinstance(value, list) or not value:
        raise RuleError(_("must be a non-empty list."), path)
    if len(value) > MAX_LIST:
        raise RuleError(_("at most %(n)d items.") % {"n": MAX_LIST}, path)
    for i, item in enumerate(value):
        if not isinstance(item, str) or len(item) > 60:
            raise RuleError(_("must be a text of at most 60 characters."), f"{path}[{i}]")
        if choices and item not in choices:
            raise RuleError(
                _("must be one of: %(choices)s.")
                % {"choices": ", ".join(repr(c) for c in choices)},
                f"{path}[{i}]",
            )
    return list(value)


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise RuleError(_("must be true or false."), path)
    return value


def _check_leaf(clause: Mapping[str, Any], path: str, walk: _Walk) -> None:
    name = clause.get("field")
    spec = FIELDS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise RuleError(_("unknown field “%(name)s”.") % {"name": name}, _join(path, "field"))
    allowed = {"field", "op", "value", *spec.params}
    for key in clause:
        if key not in allowed:
            raise RuleError(
                _("“%(key)s” is not a parameter of %(field)s.") % {"key": key, "field": name},
                _join(path, str(key)),
            )
    op = clause.get("op")
    if op not in spec.ops:
        raise RuleError(
            _("%(field)s takes the operators %(ops)s, not “%(op)s”.")
            % {"field": name, "ops": ", ".join(spec.ops), "op": op},
            _join(path, "op"),
        )
    vpath = _join(path, "value")
    value = clause.get("value")
    if spec.kind in (NUMBER, DAYS_SINCE, WINDOW):
        lo, hi = (-MAX_NUMBER, MAX_NUMBER) if spec.kind == WINDOW else (0, spec.maximum)
        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                raise RuleError(_("“between” takes a list of two numbers [low, high]."), vpath)
            low = _int(value[0], f"{vpath}[0]", lo, hi)
            high = _int(value[1], f"{vpath}[1]", lo, hi)
            if low > high:
                raise RuleError(_("the low end is above the high end."), vpath)
        else:
            _int(value, vpath, lo, hi)
        if "days" in spec.params:
            days = clause.get("days")
            if days is None and spec.name != "category_orders":
                raise RuleError(_("give the number of days."), _join(path, "days"))
            if days is not None:
                _int(days, _join(path, "days"), 1, MAX_DAYS)
        if spec.name == "category_orders":
            if "category" not in clause:
                raise RuleError(_("choose a category."), _join(path, "category"))
            cid = _int(clause["category"], _join(path, "category"), 1, 2**63 - 1)
            walk.references.append(Reference("category", cid, _join(path, "category")))
    elif spec.kind == BOOLEAN:
        _bool(value, vpath)
    elif spec.kind == TAGS:
        for i, tid in enumerate(_id_list(value, vpath)):
            walk.references.append(Reference("tag", tid, f"{vpath}[{i}]"))
    elif spec.kind == GROUPS:
        if op == "in_any_group":
            _bool(value, vpath)
        else:
            for i, gid in enumerate(_id_list(value, vpath)):
                walk.references.append(Reference("group", gid, f"{vpath}[{i}]"))
    elif spec.kind == IDS:
        if op == "is_empty":
            _bool(value, vpath)
        else:
            kind = REFERENCE_KINDS[spec.name]
            for i, rid in enumerate(_id_list(value, vpath)):
                walk.references.append(Reference(kind, rid, f"{vpath}[{i}]"))
    elif spec.kind == TEXTS:
        if op == "is_empty":
            _bool(value, vpath)
        else:
            _text_list(value, vpath)
    elif spec.kind == CHOICE:
        if op == "eq":
            _text_list([value], vpath, spec.choices)
        else:
            _text_list(value, vpath, spec.choices)
    elif spec.kind == MONTH:
        if op == "in":
            if not isinstance(value, list) or not value:
                raise RuleError(_("must be a non-empty list of months 1–12."), vpath)
            for i, month in enumerate(value):
                _int(month, f"{vpath}[{i}]", 1, 12)
        elif value not in (None, True):
            raise RuleError(_("“this_month” takes no value (or true)."), vpath)
    elif spec.kind == CONSENT:
        channel = clause.get("channel")
        if channel not in spec.choices:
            raise RuleError(
                _("channel must be one of: %(choices)s.") % {"choices": ", ".join(spec.choices)},
                _join(path, "channel"),
            )
        _bool(value, vpath)


# --- the pure evaluator ---------------------------------------------------------------


@dataclass(frozen=True)
class OrderFact:
    """One paid order of the customer, as segments see it."""

    placed_at: datetime
    net_total: int  # total − refunded, fen
    fully_refunded: bool
    category_ids: frozenset[int]  # categories of its (not fully refunded) lines, with ancestors


@dataclass(frozen=True)
class CustomerFacts:
    """Everything a rule may ask about one customer, at the moment ``now``."""

    id: int
    now: datetime
    time_zone: str = "Asia/Shanghai"
    status: str = "active"
    created_at: datetime | None = None
    order_count: int = 0
    total_spent: int = 0
    average_order_value: int = 0
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    rfm_recency: int = 0
    rfm_frequency: int = 0
    rfm_monetary: int = 0
    rfm_cell: str = ""
    clv_alive: int = 0
    clv_value: int = 0
    clv_segment: str = ""
    birth_month: int | None = None
    city: str = ""
    gender: str = ""
    join_channel: str = ""
    home_store_id: int | None = None
    owner_guide_id: int | None = None
    tag_ids: frozenset[int] = frozenset()
    group_ids: frozenset[int] = frozenset()  # groups the customer is in now
    refused_channels: frozenset[str] = frozenset()
    orders: tuple[OrderFact, ...] = ()  # paid orders (paid_at set), any refund state


def compare(op: str, actual: int, value: Any) -> bool:
    """``actual OP value`` for the numeric operators."""
    if op == "eq":
        return actual == value
    if op == "ne":
        return actual != value
    if op == "gt":
        return actual > value
    if op == "gte":
        return actual >= value
    if op == "lt":
        return actual < value
    if op == "lte":
        return actual <= value
    if op == "between":
        return bool(value[0] <= actual <= value[1])
    raise ValueError(op)


def whole_days(now: datetime, moment: datetime) -> int:
    """Whole days from ``moment`` to ``now`` (floored; negative when ``moment`` is later)."""
    return math.floor((now - moment) / timedelta(days=1))


def window_start(now: datetime, days: int, time_zone: str) -> datetime:
    """The first moment of "the last ``days`` days": local midnight ``days - 1`` days before
    today, so the window is today and the whole days before it (1: today only)."""
    first = clock.local(now, time_zone).date() - timedelta(days=days - 1)
    return datetime.combine(first, time.min, tzinfo=clock.zone(time_zone))


def local_month(now: datetime, time_zone: str) -> int:
    return clock.local(now, time_zone).month


def evaluate(rule: Mapping[str, Any], facts: CustomerFacts) -> bool:
    """Does the customer described by ``facts`` match ``rule``? (The rule must be valid.)"""
    if "all" in rule:
        return all(evaluate(c, facts) for c in rule["all"])
    if "any" in rule:
        return any(evaluate(c, facts) for c in rule["any"])
    if "not" in rule:
        return not evaluate(rule["not"], facts)
    return _leaf(rule, facts)


def window_value(rule: Mapping[str, Any], facts: CustomerFacts) -> int:
    name = rule["field"]
    days = rule.get("days")
    since = window_start(facts.now, days, facts.time_zone) if days is not None else None
    orders = [o for o in facts.orders if since is None or o.placed_at >= since]
    if name == "spent_in_days":
        return sum(o.net_total for o in orders)
    counted = [o for o in orders if not o.fully_refunded]
    if name == "orders_in_days":
        return len(counted)
    category = rule["category"]
    return sum(1 for o in counted if category in o.category_ids)


def _leaf(rule: Mapping[str, Any], facts: CustomerFacts) -> bool:
    name, op = rule["field"], rule["op"]
    value: Any = rule.get("value")
    spec = FIELDS[name]
    if spec.kind == NUMBER:
        return compare(op, getattr(facts, name), value)
    if spec.kind == DAYS_SINCE:
        moment = {
            "days_since_last_order": facts.last_order_at,
            "first_order_days_ago": facts.first_order_at,
            "customer_days": facts.created_at,
        }[name]
        if moment is None:
            return False
        return compare(op, whole_days(facts.now, moment), value)
    if spec.kind == WINDOW:
        return compare(op, window_value(rule, facts), value)
    if name == "has_ordered":
        return (facts.order_count > 0) is value
    if name == "tag":
        wanted = set(value)
        if op == "has_any":
            return bool(wanted & facts.tag_ids)
        if op == "has_all":
            return wanted <= facts.tag_ids
        return not (wanted & facts.tag_ids)
    if name == "group":
        if op == "in_any_group":
            return bool(facts.group_ids) is value
        wanted = set(value)
        if op == "member_of_any":
            return bool(wanted & facts.group_ids)
        if op == "member_of_all":
            return wanted <= facts.group_ids
        return not (wanted & facts.group_ids)
    if spec.kind == IDS:
        current = facts.home_store_id if name == "home_store" else facts.owner_guide_id
        if op == "is_empty":
            return (current is None) is value
        inside = current is not None and current in value
        return inside if op == "in" else not inside
    if spec.kind == TEXTS:
        text = getattr(facts, name)
        if op == "is_empty":
            return (text == "") is value
        return (text in value) if op == "in" else (text not in value)
    if spec.kind == CHOICE:
        text = getattr(facts, name)
        return text == value if op == "eq" else text in value
    if spec.kind == MONTH:
        if facts.birth_month is None:
            return False
        if op == "this_month":
            return facts.birth_month == local_month(facts.now, facts.time_zone)
        return facts.birth_month in value
    if spec.kind == CONSENT:
        return (rule["channel"] in facts.refused_channels) is value
    raise ValueError(name)


def catalogue() -> list[dict[str, Any]]:
    """The fields as the console's rule builder needs them (labels in the active language)."""
    return [
        {
            "name": spec.name,
            "kind": spec.kind,
            "label": str(spec.label),
            "ops": list(spec.ops),
            "params": list(spec.params),
            "choices": list(spec.choices),
            "money": spec.money,
            "maximum": spec.maximum,
        }
        for spec in FIELDS.values()
    ]
