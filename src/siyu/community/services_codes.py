"""Join codes (活码): create and edit them, and :func:`scan` — a customer scanned one.

Routing of a scan, in one transaction:

* ``groups``: the code's groups in order; the first with room takes the customer
  (one conditional UPDATE ``member_count < capacity`` per try). When all are full
  and ``auto_create`` is on, the code's routes are locked (normal scans never lock
  them, so there is no lock cycle), the check is repeated, and a new group
  "<base_name> N" opens in the code's store and takes the customer.
* ``store_finder``: the active groups with room of the store nearest to the
  customer's position (or of the store they chose when there is no position).
* ``guide``: binds the customer to the code's guide (``guides.services.bind_to_guide``).

A customer without a guide who joins a group through a code becomes a customer of the
group's owner (``bind_to_guide(kind="bound")``); one who has a guide keeps them.

Each scan writes a ``JoinCodeScan`` row, moves ``scan_count``/``join_count`` in one
UPDATE (the JoinCode row is locked last, after any group row and the customer's), sets the
customer's ``join_channel`` to the code's state when it is empty (or when the account is
minutes old from logging in on the spot, see ``ACQUISITION_WINDOW``), and records
``community.code.scanned`` and the timeline entry "scanned" (with "joined", in one INSERT).

The hot path, kept lean (docs/benchmarks.md): on PostgreSQL one statement settles the
common case of a groups code — the customer's membership through the code's routes (a
re-scan), else the seat in the first route with room and the membership (``ON CONFLICT DO
NOTHING`` against the active-membership constraint), the scan row and the join channel
(:func:`seating.seat_statement`); what it cannot settle (every route full, a race lost) takes the
general ORM path, which is also the path on SQLite. A first scan is then 5 statements
(the seat, the two events, the timeline, the counters), a re-scan 4.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max
from django.utils.translation import gettext as _

from siyu.community import chat, seating, validation
from siyu.community.events import CODE_SCANNED
from siyu.community.models import (
    DEFAULT_CAPACITY,
    CommunityGroup,
    Conversation,
    GroupMember,
    JoinCode,
    JoinCodeGroup,
    JoinCodeScan,
    Message,
)
from siyu.community.services_groups import admit, create_group, on_joined
from siyu.community.validation import fail
from siyu.core import audit, clock, events, inserts
from siyu.core.actors import Actor
from siyu.core.permissions import Perm
from siyu.customers.models import Customer
from siyu.stores import geo
from siyu.stores.models import Store

TOKEN_BYTES = 6  # 8 url-safe characters: 2^48 codes
CODE_AUDIT_FIELDS = (
    "kind",
    "name",
    "state",
    "store",
    "guide",
    "auto_create",
    "base_name",
    "new_group_capacity",
    "welcome",
    "poster_message",
    "is_active",
)
# A shop account created this recently (by logging in on the spot after scanning) takes the
# code's channel instead of "storefront".
ACQUISITION_WINDOW = timedelta(minutes=30)
CHOOSE_STORE = "choose_store"  # a store-finder scan without a position or a chosen store


@dataclass
class ScanResult:
    outcome: str  # a JoinCodeScan.Outcome value, or CHOOSE_STORE
    group: CommunityGroup | None = None
    member: GroupMember | None = None
    welcome_message: Message | None = None
    conversation: Conversation | None = None  # where the customer lands
    scan: JoinCodeScan | None = None


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


# --- creating and editing codes -----------------------------------------------------------


def _group_ids(actor: Actor, value: Any) -> list[CommunityGroup]:
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple):
        raise fail("groups", _("A list of groups, in order."))
    ids: list[int] = []
    for item in value:
        pk = item.pk if isinstance(item, CommunityGroup) else item
        if isinstance(pk, str) and pk.isdigit():
            pk = int(pk)
        if not isinstance(pk, int) or isinstance(pk, bool):
            raise fail("groups", _("A list of groups, in order."))
        if pk not in ids:
            ids.append(pk)
    found = CommunityGroup.unscoped.in_bulk(ids)
    groups = [found.get(pk) for pk in ids]
    if any(g is None or g.merchant_id != actor.merchant.pk for g in groups):
        raise fail("groups", _("There is no such group."))
    if any(g.status != CommunityGroup.Status.ACTIVE for g in groups if g is not None):
        raise fail("groups", _("Archived groups cannot take new members."))
    return [g for g in groups if g is not None]


def _clean_code(actor: Actor, values: dict[str, Any]) -> dict[str, Any]:
    merchant = actor.merchant
    kind = values.get("kind")
    if kind not in JoinCode.Kind.values:
        raise fail("kind", _("Choose a kind: groups, store_finder or guide."))
    clean: dict[str, Any] = {
        "kind": kind,
        "name": validation.name(values.get("name"), max_length=80),
        "state": validation.state(values.get("state")),
        "store": validation.store_of(merchant, values.get("store")),
        "guide": validation.staff_of(merchant, values.get("guide"), field="guide"),
        "auto_create": bool(values.get("auto_create", False)),
        "base_name": validation.text(values.get("base_name"), field="base_name", max_length=50),
        "new_group_capacity": validation.capacity(
            values.get("new_group_capacity", DEFAULT_CAPACITY), field="new_group_capacity"
        ),
        "welcome": validation.welcome(values.get("welcome")),
        "poster_message": validation.text(
            values.get("poster_message"), field="poster_message", max_length=80
        ),
        "is_active": bool(values.get("is_active", True)),
    }
    groups = _group_ids(actor, values.get("groups"))
    if kind == JoinCode.Kind.GUIDE:
        if clean["guide"] is None:
            raise fail("guide", _("Choose the guide this code belongs to."))
        groups, clean["auto_create"] = [], False
    else:
        clean["guide"] = None
    if kind == JoinCode.Kind.GROUPS:
        if clean["auto_create"] and not clean["base_name"]:
            raise fail("base_name", _("Name the new groups, e.g. Jing'an store fans."))
        if not groups and not clean["auto_create"]:
            raise fail("groups", _("Choose at least one group, or let the code open groups."))
    if kind == JoinCode.Kind.STORE_FINDER:
        groups = []
    clean["groups"] = groups
    return clean


def _set_routes(code: JoinCode, groups: list[CommunityGroup]) -> None:
    JoinCodeGroup.unscoped.filter(code=code).delete()
    JoinCodeGroup.unscoped.bulk_create(
        [
            JoinCodeGroup(merchant_id=code.merchant_id, code=code, group=g, position=i)
            for i, g in enumerate(groups)
        ]
    )


def create_code(actor: Actor, **values: Any) -> JoinCode:
    """A new code; ``groups`` is the ordered list of groups (ids or rows) it fills."""
    actor.require(Perm.COMMUNITY_MANAGE)
    clean = _clean_code(actor, values)
    groups = clean.pop("groups")
    with transaction.atomic():
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    code = JoinCode.unscoped.create(
                        merchant=actor.merchant, token=new_token(), **clean
                    )
                break
            except IntegrityError:  # a token collision: draw again
                continue
        else:  # pragma: no cover - 2^48 tokens
            raise RuntimeError("could not draw a unique join-code token")
        if code.kind == JoinCode.Kind.GROUPS and not groups:
            groups = [_open_group(actor, code, 1)]  # the first group of the series
        _set_routes(code, groups)
        audit.record(
            actor,
            "community.code.created",
            code,
            after={**audit.snapshot(code, CODE_AUDIT_FIELDS), "groups": [g.pk for g in groups]},
        )
    return code


def update_code(actor: Actor, code: JoinCode, **changes: Any) -> JoinCode:
    actor.require(Perm.COMMUNITY_MANAGE)
    with transaction.atomic():
        locked = JoinCode.unscoped.select_for_update().get(pk=code.pk, merchant=actor.merchant)
        current = {f: getattr(locked, f) for f in CODE_AUDIT_FIELDS}
        current["groups"] = list(
            JoinCodeGroup.unscoped.filter(code=locked).values_list("group_id", flat=True)
        )
        unknown = set(changes) - set(current)
        if unknown:
            raise fail(sorted(unknown)[0], _("This field cannot be changed."))
        if "kind" in changes and changes["kind"] != locked.kind:
            raise fail("kind", _("The kind of a printed code cannot change."))
        clean = _clean_code(actor, {**current, **changes})
        groups = clean.pop("groups")
        before = {**audit.snapshot(locked, CODE_AUDIT_FIELDS), "groups": current["groups"]}
        for field, value in clean.items():
            setattr(locked, field, value)
        locked.save()
        if "groups" in changes:
            _set_routes(locked, groups)
        after = {**audit.snapshot(locked, CODE_AUDIT_FIELDS), "groups": [g.pk for g in groups]}
        if audit.changed(before, after):
            audit.record(actor, "community.code.updated", locked, before=before, after=after)
    return locked


def _open_group(
    actor: Actor, code: JoinCode, number: int, store: Store | None = None
) -> CommunityGroup:
    base = code.base_name or (store.name if store is not None else code.name)
    name = base if number <= 1 else f"{base} {number}"
    return create_group(
        actor,
        name=name[:60],
        store=store if store is not None else code.store,
        owner=code.guide,
        capacity=code.new_group_capacity,
        opened_by_code=code,
    )


# --- scanning --------------------------------------------------------------------------

# Timeline entries of one scan, written together at its end in one INSERT.
Entries = list[tuple[str, dict[str, Any]]]


def _open_next(code: JoinCode, now: datetime) -> CommunityGroup:
    """A new group at the end of the code's series (the caller holds the routes' locks)."""
    position = (
        JoinCodeGroup.unscoped.filter(code=code).aggregate(last=Max("position"))["last"] or 0
    ) + 1
    number = JoinCodeGroup.unscoped.filter(code=code).count() + 1
    actor = Actor.system(code.merchant, label=f"join code {code.name}")
    group = _open_group(actor, code, number)
    JoinCodeGroup.unscoped.create(
        merchant_id=code.merchant_id, code=code, group=group, position=position
    )
    return group


def _routes_with_room(code: JoinCode) -> list[CommunityGroup]:
    return [
        r.group
        for r in JoinCodeGroup.unscoped.filter(
            code_id=code.pk,
            group__status=CommunityGroup.Status.ACTIVE,
            group__member_count__lt=F("group__capacity"),
        )
        .select_related("group__conversation")  # where the customer lands
        .order_by("position", "id")
    ]


def _first_admitted(
    customer: Customer,
    groups: list[CommunityGroup],
    code: JoinCode,
    now: datetime,
    entries: Entries,
) -> GroupMember | None:
    for group in groups:
        member = admit(
            customer,
            group,
            source_code=code,
            state=code.state,
            welcome=code.welcome or None,
            now=now,
            timeline_entries=entries,
        )
        if member is not None:
            member.group = group
            return member
    return None


def _route_groups(
    code: JoinCode, customer: Customer, now: datetime, entries: Entries
) -> GroupMember | None:
    member = _first_admitted(customer, _routes_with_room(code), code, now, entries)
    if member is not None or not code.auto_create:
        return member
    # All full: one scan at a time opens the next group (normal scans never lock routes).
    list(JoinCodeGroup.unscoped.select_for_update().filter(code_id=code.pk).order_by("pk"))
    member = _first_admitted(customer, _routes_with_room(code), code, now, entries)
    if member is not None:
        return member
    return _first_admitted(customer, [_open_next(code, now)], code, now, entries)


def _member_through_routes(code: JoinCode, customer: Customer) -> GroupMember | None:
    """The customer's active membership in one of the code's groups (a re-scan)."""
    member = (
        GroupMember.unscoped.filter(
            customer_id=customer.pk, left_at__isnull=True, group__routes__code_id=code.pk
        )
        .select_related("group__conversation")
        .first()
    )
    if member is not None:
        member.just_joined = False  # type: ignore[attr-defined]
    return member


# -- store finder --


def _store_groups(store_id: int) -> list[CommunityGroup]:
    return list(
        CommunityGroup.unscoped.filter(
            store_id=store_id,
            status=CommunityGroup.Status.ACTIVE,
            member_count__lt=F("capacity"),
        ).order_by("created_at", "id")
    )


def nearest_group_stores(
    merchant_id: int, latitude: Decimal | float, longitude: Decimal | float
) -> list[int]:
    """Ids of stores that have an active group, nearest to the point first."""
    rows = (
        CommunityGroup.unscoped.filter(
            merchant_id=merchant_id,
            status=CommunityGroup.Status.ACTIVE,
            store__isnull=False,
        )
        .exclude(store__status=Store.Status.CLOSED)
        .values_list("store_id", "store__latitude", "store__longitude")
        .distinct()
    )
    ranked = geo.rank_by_distance(latitude, longitude, list(rows), lambda r: (r[1], r[2]))
    return [row[0] for _d, row in ranked]


def _route_store(
    code: JoinCode, customer: Customer, store_ids: list[int], now: datetime, entries: Entries
) -> GroupMember | None:
    for store_id in store_ids:
        existing = (
            GroupMember.unscoped.filter(
                customer_id=customer.pk, left_at__isnull=True, group__store_id=store_id
            )
            .select_related("group")
            .first()
        )
        if existing is not None:
            existing.just_joined = False  # type: ignore[attr-defined]
            return existing
        member = _first_admitted(customer, _store_groups(store_id), code, now, entries)
        if member is not None:
            return member
        if code.auto_create:
            store = Store.unscoped.select_for_update().get(pk=store_id)  # one opener per store
            member = _first_admitted(customer, _store_groups(store_id), code, now, entries)
            if member is not None:
                return member
            count = CommunityGroup.unscoped.filter(store_id=store_id).count()
            actor = Actor.system(code.merchant, label=f"join code {code.name}")
            group = _open_group(actor, code, count + 1, store=store)
            return _first_admitted(customer, [group], code, now, entries)
    return None


def _coordinates(latitude: Any, longitude: Any) -> tuple[Decimal, Decimal] | None:
    if latitude in (None, "") and longitude in (None, ""):
        return None
    errors = geo.coordinate_errors(latitude, longitude)
    if errors:
        raise validation.InvalidInput(next(iter(errors.values())), fields=errors)
    lat, lng = geo.parse_coordinate(latitude), geo.parse_coordinate(longitude)
    assert lat is not None
    assert lng is not None
    return lat, lng


def scan(
    code: JoinCode,
    customer: Customer,
    *,
    latitude: Any = None,
    longitude: Any = None,
    store: Store | int | None = None,
) -> ScanResult:
    """The customer scanned ``code``: route, record, welcome (see the module's docstring)."""
    if customer.merchant_id != code.merchant_id:
        raise fail("code", _("There is no such code."))
    now = clock.now()
    point = _coordinates(latitude, longitude)
    result = ScanResult(outcome=JoinCodeScan.Outcome.INACTIVE)
    entries: Entries = []
    with transaction.atomic():
        if not code.is_active:
            _record_scan(code, customer, result, now, entries)
            return result
        if code.kind == JoinCode.Kind.GUIDE:
            _scan_guide(code, customer, result)
            _record_scan(code, customer, result, now, entries)
            return result
        member: GroupMember | None = None
        if code.kind == JoinCode.Kind.STORE_FINDER:
            if point is not None:
                store_ids = nearest_group_stores(code.merchant_id, *point)
            elif store is not None:
                chosen = validation.store_of(code.merchant, store)
                assert chosen is not None
                store_ids = [chosen.pk]
            else:
                return ScanResult(outcome=CHOOSE_STORE)
            member = _route_store(code, customer, store_ids, now, entries)
        elif connection.vendor == "postgresql":
            seated = seating.seat_in_one_statement(
                code, customer, now, _acquired_by_this_scan(customer, now)
            )
            if seated is not None:
                _seated_scan(code, customer, seated, result, now, entries)
                return result
        if code.kind == JoinCode.Kind.GROUPS:
            member = _member_through_routes(code, customer) or _route_groups(
                code, customer, now, entries
            )
        if member is None:
            result.outcome = JoinCodeScan.Outcome.FULL
        else:
            joined = getattr(member, "just_joined", False)
            result.outcome = (
                JoinCodeScan.Outcome.JOINED if joined else JoinCodeScan.Outcome.ALREADY_MEMBER
            )
            result.member, result.group = member, member.group
            result.welcome_message = getattr(member, "welcome_message", None)
            if joined:
                _bind_to_group_owner(code, customer, member.group)
        _record_scan(code, customer, result, now, entries)
    return result


def _seated_scan(
    code: JoinCode,
    customer: Customer,
    seated: seating.Seated,
    result: ScanResult,
    now: datetime,
    entries: Entries,
) -> None:
    """The rest of a scan settled by :func:`seating.seat_in_one_statement` (scan row written)."""
    member, group = seated.member, seated.member.group
    result.member, result.group, result.scan = member, group, seated.scan
    result.outcome = seated.scan.outcome
    result.conversation = seated.conversation
    member.just_joined = seated.joined  # type: ignore[attr-defined]
    if seated.joined:
        result.welcome_message = on_joined(
            customer,
            group,
            member,
            code.welcome or group.welcome or {},
            now,
            timeline_entries=entries,
            conversation=seated.conversation,
        )
        member.welcome_message = result.welcome_message  # type: ignore[attr-defined]
        _bind_to_group_owner(code, customer, group)
    _record_scan(code, customer, result, now, entries, written=True)


def _scan_guide(code: JoinCode, customer: Customer, result: ScanResult) -> None:
    from siyu.guides.services import bind_to_guide

    assert code.guide is not None
    bind_to_guide(
        customer,
        code.guide,
        kind="bound",
        state=code.state,
        actor_label=f"join code {code.name}",
    )
    result.outcome = JoinCodeScan.Outcome.BOUND
    result.conversation = chat.direct_conversation(customer, code.guide)


def _bind_to_group_owner(code: JoinCode, customer: Customer, group: CommunityGroup) -> None:
    """A customer without a guide who joins a group becomes a customer of its owner (the
    store's guide who runs the group): the owner sees them in the workbench. A customer who
    already has a guide keeps them (``bind_to_guide`` never steals on a scan)."""
    if customer.owner_guide_id is not None or group.owner_id is None:
        return
    from siyu.core.models import Membership
    from siyu.guides.services import bind_to_guide

    owner = (
        Membership.objects.select_related("user")  # the timeline names the guide
        .filter(pk=group.owner_id, merchant_id=code.merchant_id, is_active=True)
        .first()
    )
    if owner is None:
        return
    owner.merchant = code.merchant  # the event's merchant, already loaded
    bind_to_guide(
        customer, owner, kind="bound", state=code.state, actor_label=f"join code {code.name}"
    )


def _acquired_by_this_scan(customer: Customer, now: datetime) -> bool:
    """Whether the code brought this customer: they have no join channel yet, or their account
    is minutes old and only says they signed up in the shop — which is what logging in on the
    spot after scanning a poster looks like (the login creates the account first)."""
    from siyu.customers.services import SELF_SERVICE_CHANNEL

    if not customer.join_channel:
        return True
    return (
        customer.join_channel == SELF_SERVICE_CHANNEL
        and customer.order_count == 0
        and customer.created_at is not None
        and now - customer.created_at <= ACQUISITION_WINDOW
    )


def _count(code: JoinCode, *, joined: bool) -> None:
    """Move the code's counters (its row is locked here, last: after any group's)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {JoinCode._meta.db_table} SET scan_count = scan_count + 1, "  # noqa: S608
            "join_count = join_count + %s WHERE id = %s",
            [1 if joined else 0, code.pk],
        )


def _record_scan(
    code: JoinCode,
    customer: Customer,
    result: ScanResult,
    now: datetime,
    entries: Entries,
    *,
    written: bool = False,
) -> None:
    """The scan row (unless ``written``: the seat statement wrote it, and the join channel),
    the timeline (``entries`` and "scanned", one INSERT), ``community.code.scanned``, the
    code's counters and the conversation the customer lands in."""
    from siyu.customers import timeline

    group = result.group
    if not written:
        result.scan = JoinCodeScan(
            merchant_id=code.merchant_id,
            code=code,
            customer=customer,
            group=group,
            outcome=result.outcome,
            scanned_at=now,
        )
        inserts.insert([result.scan])
        if result.outcome == JoinCodeScan.Outcome.INACTIVE:
            _count(code, joined=False)
            return
        if _acquired_by_this_scan(customer, now):
            Customer.unscoped.filter(pk=customer.pk, join_channel=customer.join_channel).update(
                join_channel=code.state
            )
            customer.join_channel = code.state
    joined = result.outcome == JoinCodeScan.Outcome.JOINED
    data: dict[str, Any] = {"code_id": code.pk, "code_name": code.name, "state": code.state}
    if group is not None:
        data["group_name"] = group.name
    entries.append(("scanned", data))
    timeline.record_entries(customer, entries, at=now)
    events.emit(
        code.merchant,
        CODE_SCANNED,
        {
            "code_id": code.pk,
            "customer_id": customer.pk,
            "outcome": result.outcome,
            "group_id": group.pk if group is not None else None,
            "state": code.state,
        },
        aggregate=result.scan,
    )
    _count(code, joined=joined)
    if result.conversation is None and group is not None:
        result.conversation = _group_chat(group)


def _group_chat(group: CommunityGroup) -> Conversation:
    """The group's chat: loaded with the group (``select_related``) or looked up."""
    if CommunityGroup.conversation.is_cached(group):
        # cached as "none yet": the group's first message creates it below
        with contextlib.suppress(Conversation.DoesNotExist):
            return group.conversation
    return chat.group_conversation(group)


def record_visit(code: JoinCode) -> JoinCodeScan:
    """Someone opened the code's link without being logged in (counted as a scan)."""
    with transaction.atomic():
        row = JoinCodeScan(
            merchant_id=code.merchant_id,
            code=code,
            outcome=JoinCodeScan.Outcome.VISITED,
            scanned_at=clock.now(),
        )
        inserts.insert([row])
        _count(code, joined=False)
    return row
