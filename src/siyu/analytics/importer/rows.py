"""Each kind's rows, validated into records (pure: the merchant's ids come in as plain sets).

:func:`parse` turns a :class:`~.formats.SourceRow` into the kind's record, or the list of
(field, reason) problems that keep it out. References to Siyu's own rows (a store code, a
group, a guide, a distributor) are checked against :class:`Known`, which the runner loads
once per import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from django.utils.translation import gettext as _

from siyu.analytics.importer import parsing
from siyu.analytics.importer.formats import REQUIRED, SourceRow
from siyu.analytics.importer.parsing import Bad
from siyu.customers import phones
from siyu.customers.import_csv import GENDERS

LIMITS = {"name": 80, "city": 40, "join_channel": 60, "channel": 24, "kind": 16}
MEMBERSHIP_CHANNEL_MAX = 60


@dataclass
class Known:
    """The merchant's ids an import may refer to (loaded once per import)."""

    stores: dict[str, int] = field(default_factory=dict)  # code (lower case) → id
    store_ids: set[int] = field(default_factory=set)
    groups: set[int] = field(default_factory=set)
    guides: dict[str, int] = field(default_factory=dict)  # username (lower case) → membership
    guide_ids: set[int] = field(default_factory=set)
    distributors: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class Context:
    kind: str
    zone: tzinfo
    exponent: int  # the currency's decimals
    now: datetime
    known: Known


@dataclass(slots=True)
class Order:
    external_id: str
    customer: str
    placed_at: datetime
    day: Any  # date, local to the merchant
    amount: int
    refunded: int
    store_id: int | None
    channel: str
    group_id: int | None
    guide_id: int | None
    distributor_id: int | None
    campaign_id: int | None
    lines: int | None


@dataclass(slots=True)
class CustomerRecord:
    external_id: str
    phone: str
    name: str | None
    created_at: datetime | None
    join_channel: str | None
    home_store_id: int | None
    gender: str | None
    city: str | None


@dataclass(slots=True)
class Membership:
    customer: str
    group_id: int | None
    group_key: str
    joined_at: datetime
    left_at: datetime | None
    channel: str


@dataclass(slots=True)
class Referral:
    inviter: str
    invitee: str
    invited_at: datetime
    kind: str


Record = Order | CustomerRecord | Membership | Referral


def _text(values: dict[str, str], column: str, problems: list[tuple[str, str]]) -> str:
    value = values.get(column, "")
    limit = LIMITS.get(column)
    if limit is not None and len(value) > limit:
        problems.append((column, _("At most %(n)d characters.") % {"n": limit}))
        return ""
    return value


def _store(text: str, known: Known) -> int:
    found = known.stores.get(text.lower())
    if found is not None:
        return found
    if text.isdigit() and int(text) in known.store_ids:
        return int(text)
    raise Bad(_("No store has the code “%(code)s”.") % {"code": text[:32]})


def _guide(text: str, known: Known) -> int:
    found = known.guides.get(text.lower())
    if found is not None:
        return found
    if text.isdigit() and int(text) in known.guide_ids:
        return int(text)
    raise Bad(_("No staff member “%(name)s”.") % {"name": text[:40]})


def _in_set(text: str, ids: set[int], what: str) -> int:
    value = parsing.positive_id(text)
    if value not in ids:
        if what == "group":
            raise Bad(_("No group has the id %(id)s.") % {"id": value})
        raise Bad(_("No distributor has the id %(id)s.") % {"id": value})
    return value


def _optional(
    values: dict[str, str], column: str, problems: list[tuple[str, str]], convert: Any, *args: Any
) -> Any:
    text = values.get(column)
    if not text:
        return None
    try:
        return convert(text, *args)
    except Bad as exc:
        problems.append((column, str(exc)))
        return None


def _required(
    values: dict[str, str], column: str, problems: list[tuple[str, str]], convert: Any, *args: Any
) -> Any:
    text = values.get(column)
    if not text:
        problems.append((column, _("This column is required.")))
        return None
    try:
        return convert(text, *args)
    except Bad as exc:
        problems.append((column, str(exc)))
        return None


def parse(row: SourceRow, ctx: Context) -> Record | list[tuple[str, str]]:
    """The row's record, or its problems (field, reason)."""
    values = row.values
    if "__error__" in values:
        return [("line", values["__error__"])]
    problems: list[tuple[str, str]] = []
    for column in REQUIRED[ctx.kind]:
        if not values.get(column):
            problems.append((column, _("This column is required.")))
    if problems:
        return problems
    record = _PARSERS[ctx.kind](values, ctx, problems)
    return problems if problems else record


def _order(values: dict[str, str], ctx: Context, problems: list[tuple[str, str]]) -> Order:
    # the hot path of a large import: required columns are known present (see parse), and
    # optional ones are looked at only when the row has them
    known = ctx.known
    placed_at = None
    amount = refunded = 0
    try:
        placed_at = parsing.timestamp(values["placed_at"], ctx.zone)
        if placed_at > ctx.now:
            problems.append(("placed_at", _("The time is in the future.")))
    except Bad as exc:
        problems.append(("placed_at", str(exc)))
    try:
        amount = parsing.amount(values["amount"], ctx.exponent)
    except Bad as exc:
        problems.append(("amount", str(exc)))
    if "refunded" in values:
        refunded = _optional(values, "refunded", problems, parsing.amount, ctx.exponent) or 0
        if refunded > amount:
            problems.append(("refunded", _("The refund is more than the amount paid.")))
    order_id = values["order_id"]
    customer = values["customer_id"]
    if len(order_id) > parsing.ID_MAX:
        problems.append(("order_id", _("At most %(n)d characters.") % {"n": parsing.ID_MAX}))
    if len(customer) > parsing.ID_MAX:
        problems.append(("customer_id", _("At most %(n)d characters.") % {"n": parsing.ID_MAX}))
    order = Order(
        external_id=order_id,
        customer=customer,
        placed_at=placed_at,  # type: ignore[arg-type]  # a problem was recorded when None
        day=placed_at.astimezone(ctx.zone).date() if placed_at is not None else None,
        amount=amount,
        refunded=refunded,
        store_id=None,
        channel="",
        group_id=None,
        guide_id=None,
        distributor_id=None,
        campaign_id=None,
        lines=None,
    )
    if len(values) == 4:  # only the required columns
        return order
    order.store_id = _optional(values, "store", problems, _store, known)
    order.channel = _text(values, "channel", problems)
    order.group_id = _optional(values, "group", problems, _in_set, known.groups, "group")
    order.guide_id = _optional(values, "guide", problems, _guide, known)
    order.distributor_id = _optional(
        values, "distributor", problems, _in_set, known.distributors, "distributor"
    )
    order.campaign_id = _optional(values, "campaign", problems, parsing.positive_id)
    if values.get("lines"):
        text = values["lines"]
        order.lines = int(text) if text.isdigit() else None
        if order.lines is None:
            problems.append(("lines", _("Give the number of lines (a whole number).")))
    return order


def _customer(
    values: dict[str, str], ctx: Context, problems: list[tuple[str, str]]
) -> CustomerRecord:
    phone = ""
    raw_phone = values.get("phone", "")
    if raw_phone:
        parsed = phones.parse(raw_phone)
        if isinstance(parsed, phones.PhoneProblem):
            reason = _("“%(value)s” is not a valid phone number.") % {"value": raw_phone[:40]}
            problems.append(("phone", reason))
        else:
            phone = parsed
    gender = None
    if values.get("gender"):
        gender = GENDERS.get(values["gender"].lower())
        if gender is None:
            problems.append(("gender", _("Write female or male (女 / 男).")))
    created_at = _optional(values, "created_at", problems, parsing.timestamp, ctx.zone)
    if created_at is not None and created_at > ctx.now:
        problems.append(("created_at", _("The time is in the future.")))
    return CustomerRecord(
        external_id=_required(values, "external_id", problems, parsing.external_id) or "",
        phone=phone,
        name=_text(values, "name", problems) or None,
        created_at=created_at,
        join_channel=_text(values, "join_channel", problems) or None,
        home_store_id=_optional(values, "home_store", problems, _store, ctx.known),
        gender=gender,
        city=_text(values, "city", problems) or None,
    )


def _membership(
    values: dict[str, str], ctx: Context, problems: list[tuple[str, str]]
) -> Membership:
    key = values.get("group", "")
    if len(key) > parsing.ID_MAX:
        problems.append(("group", _("At most %(n)d characters.") % {"n": parsing.ID_MAX}))
    group_id = int(key) if key.isdigit() and int(key) in ctx.known.groups else None
    joined_at = _required(values, "joined_at", problems, parsing.timestamp, ctx.zone)
    left_at = _optional(values, "left_at", problems, parsing.timestamp, ctx.zone)
    if joined_at is not None and joined_at > ctx.now:
        problems.append(("joined_at", _("The time is in the future.")))
    if joined_at is not None and left_at is not None and left_at < joined_at:
        problems.append(("left_at", _("Leaving comes before joining.")))
    channel = values.get("channel", "")
    if len(channel) > MEMBERSHIP_CHANNEL_MAX:
        problems.append(("channel", _("At most %(n)d characters.") % {"n": MEMBERSHIP_CHANNEL_MAX}))
    return Membership(
        customer=_required(values, "customer_id", problems, parsing.external_id) or "",
        group_id=group_id,
        group_key=key,
        joined_at=joined_at,
        left_at=left_at,
        channel=channel,
    )


def _referral(values: dict[str, str], ctx: Context, problems: list[tuple[str, str]]) -> Referral:
    inviter = _required(values, "inviter_id", problems, parsing.external_id) or ""
    invitee = _required(values, "invitee_id", problems, parsing.external_id) or ""
    if inviter and inviter == invitee:
        problems.append(("invitee_id", _("A customer cannot invite themselves.")))
    invited_at = _required(values, "invited_at", problems, parsing.timestamp, ctx.zone)
    if invited_at is not None and invited_at > ctx.now:
        problems.append(("invited_at", _("The time is in the future.")))
    return Referral(
        inviter=inviter,
        invitee=invitee,
        invited_at=invited_at,
        kind=_text(values, "kind", problems) or "import",
    )


_PARSERS: dict[str, Any] = {
    "orders": _order,
    "customers": _customer,
    "memberships": _membership,
    "referrals": _referral,
}


def customer_keys(record: Record) -> list[str]:
    """The external customer ids a record refers to."""
    if isinstance(record, Order | Membership):
        return [record.customer]
    if isinstance(record, Referral):
        return [record.inviter, record.invitee]
    return [record.external_id]


def identity(record: Record) -> tuple[Any, ...]:
    """What makes two records of a kind the same row of its fact table."""
    if isinstance(record, Order):
        return (record.external_id,)
    if isinstance(record, CustomerRecord):
        return (record.external_id,)
    if isinstance(record, Membership):
        return (record.customer, record.group_key, record.joined_at)
    return (record.invitee,)
