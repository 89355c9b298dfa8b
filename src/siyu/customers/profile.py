"""The CRM profile of a customer, changed by staff: fields, identities and notes.

* :func:`update_profile` — name, gender, birthday (``birth_month`` kept in step),
  city, home store (a store of the same merchant). ``Perm.CUSTOMERS_MANAGE``.
* :func:`add_identity` / :func:`remove_identity` — WeChat openid/unionid and
  external ids; a value is unique per merchant and kind, so one held by another
  customer is a 409 naming ``value``. :func:`find_by_identity` matches people.
* :func:`add_note` / :func:`delete_note` — ``Perm.CUSTOMERS_TAG``; a shopping
  guide only on the customers they own; a note is deleted by its author (or by
  ``Perm.CUSTOMERS_MANAGE``).

Each change validates first, then locks the customer row, then writes the
change, a timeline entry and an audit entry in one transaction; profile field
changes also emit ``customers.customer.updated`` with the changed fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from siyu.core import audit, clock, events
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from siyu.core.permissions import Perm, Role
from siyu.core.tenancy import merchant_context
from siyu.customers import timeline
from siyu.customers.events import CUSTOMER_UPDATED
from siyu.customers.models import Customer, CustomerIdentity, CustomerNote, TimelineEntry

PROFILE_FIELDS = ("name", "gender", "birthday", "city", "home_store")
AUDIT_FIELDS = ("name", "gender", "birthday", "birth_month", "city", "home_store")
EARLIEST_BIRTHDAY = date(1900, 1, 1)
NOTE_MAX = 1000
IDENTITY_MAX = 128


# --- validation (pure apart from the store lookup) ---------------------------------------


def parse_birthday(value: Any, today: date | None = None) -> date | None:
    """A date from ``date`` or ``YYYY-MM-DD`` text (empty: none); ``ValueError`` with the reason."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(_("Enter a date as YYYY-MM-DD, e.g. 1990-05-17.")) from None
    else:
        raise ValueError(_("Enter a date as YYYY-MM-DD, e.g. 1990-05-17."))
    if parsed > (today or clock.now().date()):
        raise ValueError(_("A birthday cannot be in the future."))
    if parsed < EARLIEST_BIRTHDAY:
        raise ValueError(_("A birthday before 1900 is not plausible."))
    return parsed


def _text(value: Any, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(_("Expected text."))
    text = value.strip()
    if len(text) > limit:
        raise ValueError(_("At most %(n)d characters.") % {"n": limit})
    return text


def _store_id(value: Any) -> int | None:
    from siyu.stores.models import Store

    if value is None or value == "":
        return None
    store_id = getattr(value, "pk", value)
    if isinstance(store_id, str) and store_id.strip().isdigit():
        store_id = int(store_id)
    if not isinstance(store_id, int) or isinstance(store_id, bool):
        raise ValueError(_("Choose a store."))
    if not Store.objects.filter(pk=store_id).exists():  # another merchant's store: not found
        raise ValueError(_("No such store."))
    return store_id


def clean_profile(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Model values for ``changes`` (``home_store`` → ``home_store_id``) or ``InvalidInput``."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in changes.items():
        try:
            if name == "name":
                cleaned["name"] = _text(value, 80)
            elif name == "city":
                cleaned["city"] = _text(value, 40)
            elif name == "gender":
                gender = value or ""
                if gender not in Customer.Gender.values:
                    raise ValueError(_("Choose female, male or leave it empty."))
                cleaned["gender"] = gender
            elif name == "birthday":
                cleaned["birthday"] = parse_birthday(value)
                cleaned["birth_month"] = cleaned["birthday"].month if cleaned["birthday"] else None
            elif name in ("home_store", "home_store_id"):
                cleaned["home_store_id"] = _store_id(value)
            else:
                raise ValueError(_("Unknown field."))
        except ValueError as exc:
            errors["home_store" if name == "home_store_id" else name] = str(exc)
    if errors:
        raise InvalidInput(_("The profile could not be saved."), fields=errors)
    return cleaned


# --- access -----------------------------------------------------------------------------


def may_work_on(actor: Actor, customer: Customer) -> bool:
    """Staff see every customer; a shopping guide only the customers they own."""
    if actor.role != Role.SHOPPING_GUIDE:
        return True
    return actor.membership is not None and customer.owner_guide_id == actor.membership.pk


def _require_customer(actor: Actor, customer: Customer, permission: str) -> None:
    actor.require(permission)
    if not may_work_on(actor, customer):
        raise NotFound(_("No such customer."))


def _locked(actor: Actor, customer: Customer) -> Customer:
    row = Customer.objects.select_for_update().filter(pk=customer.pk).first()
    if row is None:
        raise NotFound(_("No such customer."))
    row.merchant = actor.merchant
    return row


# --- profile fields -----------------------------------------------------------------------


def update_profile(actor: Actor, customer: Customer, **changes: Any) -> Customer:
    """Staff change profile fields (``name``, ``gender``, ``birthday``, ``city``, ``home_store``:
    a store, its id or None). Only the fields passed change; ``Perm.CUSTOMERS_MANAGE``."""
    _require_customer(actor, customer, Perm.CUSTOMERS_MANAGE)
    with merchant_context(actor.merchant):
        cleaned = clean_profile(changes)
        with transaction.atomic():
            row = _locked(actor, customer)
            changed = [n for n, v in cleaned.items() if getattr(row, n) != v]
            if not changed:
                return row
            before = audit.snapshot(row, AUDIT_FIELDS)
            for name in changed:
                setattr(row, name, cleaned[name])
            row.save(update_fields=changed)
            fields = sorted(
                {("home_store" if n == "home_store_id" else n) for n in changed} - {"birth_month"}
            )
            audit.record(
                actor,
                "customer.profile",
                row,
                before=before,
                after=audit.snapshot(row, AUDIT_FIELDS),
            )
            timeline.record(row, TimelineEntry.Kind.PROFILE, {"changed": fields}, actor=actor.label)
            events.emit(
                actor.merchant,
                CUSTOMER_UPDATED,
                {
                    "id": row.pk,
                    "phone": row.phone,
                    "name": row.name,
                    "status": row.status,
                    "join_channel": row.join_channel,
                    "changed": fields,
                },
                aggregate=row,
            )
            return row


# --- identities ---------------------------------------------------------------------------


def clean_identity(kind: Any, value: Any) -> tuple[str, str]:
    errors: dict[str, str] = {}
    if kind not in CustomerIdentity.Kind.values:
        errors["kind"] = _("Choose one of: %(choices)s.") % {
            "choices": ", ".join(CustomerIdentity.Kind.values)
        }
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        errors["value"] = _("Enter the id.")
    elif len(text) > IDENTITY_MAX:
        errors["value"] = _("At most %(n)d characters.") % {"n": IDENTITY_MAX}
    if errors:
        raise InvalidInput(_("The identity could not be saved."), fields=errors)
    return kind, text


def identity_taken() -> Conflict:
    reason = _("This id already belongs to another customer.")
    return Conflict(reason, fields={"value": reason}, code="identity_taken")


def attach_identity(customer: Customer, kind: str, value: str) -> tuple[CustomerIdentity, bool]:
    """Give ``customer`` the identity (validated ``kind``/``value``); ``(row, created)``.

    No audit or timeline: the callers (staff, imports, adapters) write their own. Raises
    :class:`Conflict` when another customer holds it. Needs the merchant bound."""
    existing = CustomerIdentity.objects.filter(kind=kind, value=value).first()
    if existing is not None:
        if existing.customer_id != customer.pk:
            raise identity_taken()
        return existing, False
    try:
        with transaction.atomic():
            row = CustomerIdentity.objects.create(
                merchant_id=customer.merchant_id, customer_id=customer.pk, kind=kind, value=value
            )
    except IntegrityError:  # a concurrent writer took it first
        existing = CustomerIdentity.objects.filter(kind=kind, value=value).first()
        if existing is None or existing.customer_id != customer.pk:
            raise identity_taken() from None
        return existing, False
    return row, True


def add_identity(actor: Actor, customer: Customer, kind: str, value: str) -> CustomerIdentity:
    """Staff record another id of the customer; the same id again is a no-op."""
    _require_customer(actor, customer, Perm.CUSTOMERS_MANAGE)
    kind, value = clean_identity(kind, value)
    with merchant_context(actor.merchant), transaction.atomic():
        row = _locked(actor, customer)
        identity, created = attach_identity(row, kind, value)
        if created:
            audit.record(
                actor, "customer.identity.add", identity, after={"kind": kind, "value": value}
            )
            timeline.record(
                row,
                TimelineEntry.Kind.PROFILE,
                {"changed": ["identity"], "action": "identity_added", "identity_kind": kind},
                actor=actor.label,
            )
        return identity


def remove_identity(actor: Actor, customer: Customer, identity_id: int) -> None:
    _require_customer(actor, customer, Perm.CUSTOMERS_MANAGE)
    with merchant_context(actor.merchant), transaction.atomic():
        row = _locked(actor, customer)
        identity = CustomerIdentity.objects.filter(pk=identity_id, customer_id=row.pk).first()
        if identity is None:
            raise NotFound(_("No such identity."))
        audit.record(
            actor,
            "customer.identity.remove",
            identity,
            before={"kind": identity.kind, "value": identity.value},
        )
        timeline.record(
            row,
            TimelineEntry.Kind.PROFILE,
            {"changed": ["identity"], "action": "identity_removed", "identity_kind": identity.kind},
            actor=actor.label,
        )
        identity.delete()


def find_by_identity(kind: str, value: str) -> Customer | None:
    """The bound merchant's customer holding this id, or None."""
    identity = (
        CustomerIdentity.objects.filter(kind=kind, value=(value or "").strip())
        .select_related("customer")
        .first()
    )
    return identity.customer if identity is not None else None


# --- notes --------------------------------------------------------------------------------


def add_note(actor: Actor, customer: Customer, text: str) -> CustomerNote:
    """Staff keep a note about a customer (``Perm.CUSTOMERS_TAG``; guides: own customers)."""
    _require_customer(actor, customer, Perm.CUSTOMERS_TAG)
    body = text.strip() if isinstance(text, str) else ""
    if not body:
        reason = _("Write the note.")
        raise InvalidInput(reason, fields={"text": reason})
    if len(body) > NOTE_MAX:
        reason = _("At most %(n)d characters.") % {"n": NOTE_MAX}
        raise InvalidInput(reason, fields={"text": reason})
    with merchant_context(actor.merchant), transaction.atomic():
        row = _locked(actor, customer)
        note = CustomerNote.objects.create(
            merchant_id=row.merchant_id,
            customer_id=row.pk,
            author=actor.membership,
            author_label=actor.label[:150],
            text=body,
        )
        audit.record(actor, "customer.note.add", note, after={"text": body})
        timeline.record(
            row,
            TimelineEntry.Kind.NOTE,
            {"note_id": note.pk, "text": body[:200]},
            actor=actor.label,
        )
        return note


def may_delete_note(actor: Actor, note: CustomerNote) -> bool:
    if actor.can(Perm.CUSTOMERS_MANAGE):
        return True
    return actor.membership is not None and note.author_id == actor.membership.pk


def delete_note(actor: Actor, customer: Customer, note_id: int) -> None:
    """The author deletes their note (``Perm.CUSTOMERS_MANAGE`` may delete any)."""
    _require_customer(actor, customer, Perm.CUSTOMERS_TAG)
    with merchant_context(actor.merchant), transaction.atomic():
        row = _locked(actor, customer)
        note = CustomerNote.objects.filter(pk=note_id, customer_id=row.pk).first()
        if note is None:
            raise NotFound(_("No such note."))
        if not may_delete_note(actor, note):
            raise Forbidden(_("Only its author can delete this note."), code="forbidden")
        audit.record(actor, "customer.note.delete", note, before={"text": note.text})
        note.delete()
