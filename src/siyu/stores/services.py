"""State changes of stores: create, update, close.

Who may change what:

* owners and operators (``Perm.STORES_MANAGE``) change every field of every
  store, close stores for good and reopen them;
* store managers (``Perm.STORES_MANAGE_OWN``) change only the stores they are
  assigned to, and there only the phone, the opening hours, pickup on/off and
  the status between open and temporarily closed. Any other field in their
  change, or a store they are not assigned to, is refused with 403
  (``Forbidden``) naming the fields — the store itself is visible to them, so a
  404 would be a lie; a store of another merchant is a 404 for everybody.

Every function validates all input first and raises ``InvalidInput`` with
``{field: reason}``; then locks the store row (``SELECT … FOR UPDATE``),
changes it, writes the audit entry and emits the domain event, all in one
transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import phonenumbers
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from siyu.core import audit, clock, events
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from siyu.core.permissions import Perm
from siyu.stores import geo, hours
from siyu.stores.events import STORE_CLOSED, STORE_CREATED, STORE_UPDATED
from siyu.stores.models import Store, StoreStaff

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
DEFAULT_PHONE_REGION = "CN"

STORE_FIELDS: tuple[str, ...] = (
    "code",
    "name",
    "province",
    "city",
    "district",
    "address",
    "latitude",
    "longitude",
    "phone",
    "opening_hours",
    "pickup_enabled",
    "status",
)
AUDIT_FIELDS: tuple[str, ...] = (*STORE_FIELDS, "closed_at")
# What a store manager may change at the stores they are assigned to.
MANAGER_FIELDS: frozenset[str] = frozenset({"phone", "opening_hours", "pickup_enabled", "status"})
MANAGER_STATUSES: frozenset[str] = frozenset({Store.Status.OPEN, Store.Status.TEMPORARILY_CLOSED})

_TEXT_LIMITS: dict[str, tuple[int, bool]] = {  # field → (max length, required)
    "code": (32, True),
    "name": (100, True),
    "province": (40, False),
    "city": (40, True),
    "district": (40, False),
    "address": (255, True),
}


def normalize_phone(raw: str, region: str = DEFAULT_PHONE_REGION) -> str | None:
    """E.164 (``+862162881234``) for a valid number, ``""`` for blank, None when invalid."""
    text = raw.strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """``+862162881234`` → ``021 6288 1234``: Chinese numbers as dialled at home, others in full."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 86
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def _clean(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate the given store fields; ``(cleaned values, {field: reason})``."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in values.items():
        if name not in STORE_FIELDS:
            errors[name] = _("Unknown field.")
        elif name in _TEXT_LIMITS:
            limit, required = _TEXT_LIMITS[name]
            if not isinstance(value, str):
                errors[name] = _("Expected text.")
                continue
            text = value.strip()
            if required and not text:
                errors[name] = _("This field is required.")
            elif len(text) > limit:
                errors[name] = _("At most %(n)d characters.") % {"n": limit}
            elif name == "code" and not CODE_RE.match(text):
                errors[name] = _(
                    "Letters, digits, hyphens and underscores; start with a letter or digit."
                )
            else:
                cleaned[name] = text
        elif name in ("latitude", "longitude"):
            check = geo.latitude_error if name == "latitude" else geo.longitude_error
            reason = check(value)
            number = geo.parse_coordinate(value)
            if reason is not None or number is None:
                errors[name] = reason or _("Expected a number.")
            else:
                cleaned[name] = geo.quantize(number)
        elif name == "phone":
            phone = normalize_phone(value) if isinstance(value, str) else None
            if phone is None:
                errors[name] = _("Enter a valid phone number, e.g. 021 6288 1234 or 138 0013 8000.")
            else:
                cleaned[name] = phone
        elif name == "opening_hours":
            normalized, hour_errors = hours.validate(value, field=name)
            errors.update(hour_errors)
            cleaned[name] = normalized
        elif name == "pickup_enabled":
            if not isinstance(value, bool):
                errors[name] = _("Expected true or false.")
            else:
                cleaned[name] = value
        elif name == "status":
            if value not in Store.Status.values:
                errors[name] = _("Choose open, temporarily_closed or closed.")
            else:
                cleaned[name] = value
    return cleaned, errors


def _payload(store: Store) -> dict[str, Any]:
    return {
        "id": store.pk,
        "code": store.code,
        "name": store.name,
        "city": store.city,
        "district": store.district,
        "latitude": store.latitude,
        "longitude": store.longitude,
        "status": store.status,
        "pickup_enabled": store.pickup_enabled,
    }


def _code_taken(code: str, *, exclude_pk: int | None = None) -> bool:
    qs = Store.objects.filter(code__iexact=code)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _code_conflict() -> Conflict:
    return Conflict(
        _("Another store has this code."), fields={"code": _("Another store has this code.")}
    )


@transaction.atomic
def create_store(
    actor: Actor,
    *,
    code: str,
    name: str,
    city: str,
    address: str,
    latitude: Decimal | float | str,
    longitude: Decimal | float | str,
    province: str = "",
    district: str = "",
    phone: str = "",
    opening_hours: Mapping[str, Any] | None = None,
    pickup_enabled: bool = True,
    status: str = Store.Status.OPEN,
) -> Store:
    """A new store of the actor's merchant (owners and operators)."""
    actor.require(Perm.STORES_MANAGE)
    cleaned, errors = _clean(
        {
            "code": code,
            "name": name,
            "province": province,
            "city": city,
            "district": district,
            "address": address,
            "latitude": latitude,
            "longitude": longitude,
            "phone": phone,
            "opening_hours": opening_hours,
            "pickup_enabled": pickup_enabled,
            "status": status,
        }
    )
    if cleaned.get("status") == Store.Status.CLOSED:
        errors["status"] = _("A new store is open or temporarily closed.")
    if errors:
        raise InvalidInput(_("The store could not be saved."), fields=errors)
    if _code_taken(cleaned["code"]):
        raise _code_conflict()
    try:
        with transaction.atomic():
            store = Store.objects.create(merchant=actor.merchant, **cleaned)
    except IntegrityError as exc:  # a concurrent create with the same code won
        raise _code_conflict() from exc
    audit.record(actor, "store.create", store, after=audit.snapshot(store, AUDIT_FIELDS))
    events.emit(actor.merchant, STORE_CREATED, _payload(store), aggregate=store)
    return store


def is_assigned(actor: Actor, store: Store) -> bool:
    """Whether the actor (a staff member) is assigned to ``store``."""
    if actor.membership is None:
        return False
    return StoreStaff.objects.filter(membership=actor.membership, store_id=store.pk).exists()


def can_edit(actor: Actor, store: Store) -> bool:
    """Whether the actor may change anything at ``store`` (for showing edit links)."""
    if actor.can(Perm.STORES_MANAGE):
        return True
    return (
        actor.can(Perm.STORES_MANAGE_OWN)
        and store.status != Store.Status.CLOSED
        and is_assigned(actor, store)
    )


def _lock(actor: Actor, store: Store) -> Store:
    locked = Store.objects.select_for_update().filter(pk=store.pk).first()
    if locked is None or locked.merchant_id != actor.merchant.pk:
        raise NotFound(_("Not found."))
    return locked


def _check_manager_rights(actor: Actor, store: Store, cleaned: Mapping[str, Any]) -> None:
    """Store managers: only their stores, only the manager fields, never "closed for good"."""
    if actor.can(Perm.STORES_MANAGE):
        return
    actor.require(Perm.STORES_MANAGE_OWN)
    if not is_assigned(actor, store):
        raise Forbidden(_("You may only change the stores you are assigned to."))
    if store.status == Store.Status.CLOSED:
        raise Forbidden(_("This store is closed for good; ask an operator to reopen it."))
    restricted = sorted(set(cleaned) - MANAGER_FIELDS)
    reason = _("Only owners and operators may change this.")
    if restricted:
        raise Forbidden(
            _("Store managers may change the phone, opening hours, pickup and status only."),
            fields=dict.fromkeys(restricted, reason),
        )
    if "status" in cleaned and cleaned["status"] not in MANAGER_STATUSES:
        raise Forbidden(
            _("Only owners and operators may close a store for good."), fields={"status": reason}
        )


@transaction.atomic
def update_store(actor: Actor, store: Store, changes: Mapping[str, Any]) -> Store:
    """Change the given fields of ``store`` (a partial update; see the module for who may)."""
    if not (actor.can(Perm.STORES_MANAGE) or actor.can(Perm.STORES_MANAGE_OWN)):
        actor.require(Perm.STORES_MANAGE)
    cleaned, errors = _clean(changes)
    if errors:
        raise InvalidInput(_("The store could not be saved."), fields=errors)
    store = _lock(actor, store)
    _check_manager_rights(actor, store, cleaned)
    new_code = cleaned.get("code", store.code)
    if new_code != store.code and _code_taken(new_code, exclude_pk=store.pk):
        raise _code_conflict()
    before = audit.snapshot(store, AUDIT_FIELDS)
    was_closed = store.status == Store.Status.CLOSED
    for name, value in cleaned.items():
        setattr(store, name, value)
    closing = store.status == Store.Status.CLOSED and not was_closed
    if closing:
        store.closed_at = clock.now()
    elif was_closed and store.status != Store.Status.CLOSED:
        store.closed_at = None  # reopened
    after = audit.snapshot(store, AUDIT_FIELDS)
    if not audit.changed(before, after):
        return store  # nothing to do: retries and unchanged forms are harmless
    try:
        with transaction.atomic():
            store.save()
    except IntegrityError as exc:
        raise _code_conflict() from exc
    audit.record(actor, "store.update", store, before=before, after=after)
    changed = sorted(name for name in STORE_FIELDS if before[name] != after[name])
    events.emit(
        actor.merchant,
        STORE_UPDATED,
        {**_payload(store), "changed": changed},
        aggregate=store,
    )
    if closing:
        events.emit(actor.merchant, STORE_CLOSED, _payload(store), aggregate=store)
    return store


@transaction.atomic
def close_store(actor: Actor, store: Store) -> Store:
    """Close a store for good: it leaves nearest-store search and pickup. Twice is a no-op."""
    actor.require(Perm.STORES_MANAGE)
    store = _lock(actor, store)
    if store.status == Store.Status.CLOSED:
        return store
    before = audit.snapshot(store, AUDIT_FIELDS)
    store.status = Store.Status.CLOSED
    store.closed_at = clock.now()
    store.save(update_fields=["status", "closed_at", "updated_at"])
    audit.record(
        actor, "store.close", store, before=before, after=audit.snapshot(store, AUDIT_FIELDS)
    )
    events.emit(actor.merchant, STORE_CLOSED, _payload(store), aggregate=store)
    return store
