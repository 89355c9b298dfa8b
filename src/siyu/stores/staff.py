"""Staff and roles: who works for the merchant, in which role, at which stores.

A staff member is a ``core.Membership`` (a ``core.User`` with a role at one
merchant); ``StoreStaff`` rows say which stores a store manager or shopping
guide works at. Only actors holding ``Perm.STAFF_MANAGE`` (owners) change
staff, and the guards below hold in every path:

* a role is granted only from ``GRANTABLE_ROLES[actor.role]``;
* nobody changes their own role or deactivates themselves;
* the merchant always keeps at least one active owner: the owners' rows are
  locked (``SELECT … FOR UPDATE`` in primary-key order) before one of them is
  demoted or deactivated, so two owners cannot demote each other at once;
* an account that also works for another merchant keeps its password and
  profile: only a person's own merchants-independent login may change them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from siyu.core import audit, events
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from siyu.core.models import Membership, User
from siyu.core.permissions import GRANTABLE_ROLES, Perm, Role
from siyu.stores.events import STAFF_ADDED, STAFF_DEACTIVATED, STAFF_UPDATED
from siyu.stores.models import Store, StoreStaff
from siyu.stores.services import normalize_phone

USERNAME_RE = re.compile(r"^[\w.@+-]{3,150}$")
# Roles whose people work at particular stores.
STORE_ROLES: frozenset[str] = frozenset({Role.STORE_MANAGER, Role.SHOPPING_GUIDE})


def _store_ids(membership: Membership) -> list[int]:
    return sorted(
        StoreStaff.unscoped.filter(membership=membership).values_list("store_id", flat=True)
    )


def _snapshot(membership: Membership, store_ids: Sequence[int]) -> dict[str, Any]:
    return {
        "username": membership.user.username,
        "role": membership.role,
        "is_active": membership.is_active,
        "stores": list(store_ids),
    }


def _payload(membership: Membership, store_ids: Sequence[int]) -> dict[str, Any]:
    return {
        "id": membership.pk,
        "user_id": membership.user_id,
        "username": membership.user.username,
        "display_name": membership.user.display_name,
        "role": membership.role,
        "is_active": membership.is_active,
        "stores": list(store_ids),
    }


def _check_role(actor: Actor, role: str, errors: dict[str, str]) -> None:
    if role not in Role.values:
        errors["role"] = _("Unknown role.")
    elif role not in GRANTABLE_ROLES.get(actor.role, frozenset()):
        raise Forbidden(_("Your role may not grant this role."), fields={"role": _("Not allowed.")})


def _require_manageable(actor: Actor, membership: Membership) -> None:
    """The actor may manage only people whose current role they could grant."""
    if membership.role not in GRANTABLE_ROLES.get(actor.role, frozenset()):
        raise Forbidden(_("Your role may not change this staff member."))


def _resolve_stores(
    actor: Actor, store_ids: Iterable[int] | None, role: str, errors: dict[str, str]
) -> list[Store] | None:
    """The stores for ``role`` (validated), or None when ``store_ids`` is None."""
    if store_ids is None:
        return None
    given = list(store_ids)
    if not all(isinstance(pk, int) and not isinstance(pk, bool) for pk in given):
        errors["stores"] = _("Expected a list of store ids.")
        return []
    wanted = sorted(set(given))
    found = {s.pk: s for s in Store.unscoped.filter(merchant_id=actor.merchant.pk, pk__in=wanted)}
    missing = [pk for pk in wanted if pk not in found]
    closed = [
        found[pk].code for pk in wanted if pk in found and found[pk].status == Store.Status.CLOSED
    ]
    if missing:
        errors["stores"] = _("Unknown store: %(ids)s.") % {"ids": ", ".join(map(str, missing))}
    elif closed:
        errors["stores"] = _("Closed for good: %(codes)s.") % {"codes": ", ".join(closed)}
    elif wanted and role not in STORE_ROLES:
        errors["stores"] = _("Only store managers and shopping guides are assigned to stores.")
    elif not wanted and role == Role.STORE_MANAGER:
        errors["stores"] = _("A store manager needs at least one store.")
    return [found[pk] for pk in wanted if pk in found]


def _password_errors(password: str, user: User) -> str | None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return " ".join(exc.messages)
    return None


@transaction.atomic
def add_staff(
    actor: Actor,
    *,
    username: str,
    role: str,
    display_name: str = "",
    phone: str = "",
    email: str = "",
    password: str = "",
    stores: Iterable[int] = (),
) -> Membership:
    """Give a person a role at the merchant.

    With a ``password`` a new account is created (the username must be free);
    without one, ``username`` names an existing account (e.g. someone who
    already works for another brand), whose profile and password stay as they are.
    """
    actor.require(Perm.STAFF_MANAGE)
    errors: dict[str, str] = {}
    username = username.strip()
    _check_role(actor, role, errors)
    store_list = _resolve_stores(actor, stores, role, errors) or []
    if not USERNAME_RE.match(username):
        errors["username"] = _("3–150 letters, digits and @ . + - _ characters.")
        raise InvalidInput(_("The staff member could not be added."), fields=errors)
    existing = User.objects.filter(username__iexact=username).first()
    normalized_phone: str | None = ""
    if password:
        if existing is not None:
            errors["username"] = _(
                "This username is taken. To add an existing account, leave the password empty."
            )
        display_name = display_name.strip()
        if not display_name:
            errors["display_name"] = _("This field is required.")
        elif len(display_name) > 80:
            errors["display_name"] = _("At most %(n)d characters.") % {"n": 80}
        normalized_phone = normalize_phone(phone)
        if normalized_phone is None:
            errors["phone"] = _("Enter a valid phone number, e.g. 138 0013 8000.")
        email = email.strip()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                errors["email"] = _("Enter a valid email address.")
        candidate = User(username=username, email=email, display_name=display_name)
        if reason := _password_errors(password, candidate):
            errors["password"] = reason
    elif existing is None:
        errors["username"] = _(
            "No account has this username. To create one, also enter a name and a password."
        )
    elif not existing.is_active:
        errors["username"] = _("This account is disabled.")
    elif Membership.objects.filter(user=existing, merchant=actor.merchant).exists():
        errors["username"] = _(
            "This person is already on the staff; edit them (or reactivate them) instead."
        )
    if errors:
        raise InvalidInput(_("The staff member could not be added."), fields=errors)
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    username=username,
                    password=password,
                    email=email,
                    display_name=display_name,
                    phone=normalized_phone or "",
                )
        except IntegrityError as exc:  # taken a moment ago by a concurrent request
            raise Conflict(
                _("This username is taken."), fields={"username": _("This username is taken.")}
            ) from exc
    else:
        user = existing
    try:
        with transaction.atomic():
            membership = Membership.objects.create(user=user, merchant=actor.merchant, role=role)
    except IntegrityError as exc:
        raise Conflict(
            _("This person is already on the staff."),
            fields={"username": _("This person is already on the staff.")},
        ) from exc
    StoreStaff.objects.bulk_create(
        [StoreStaff(merchant=actor.merchant, store=s, membership=membership) for s in store_list]
    )
    store_ids = [s.pk for s in store_list]
    audit.record(actor, "staff.add", membership, after=_snapshot(membership, store_ids))
    events.emit(actor.merchant, STAFF_ADDED, _payload(membership, store_ids), aggregate=membership)
    return membership


def _lock_membership(actor: Actor, membership: Membership) -> Membership:
    """Lock the row (and, when it is an owner's, every active owner's first, by id)."""
    peek = Membership.objects.filter(pk=membership.pk, merchant=actor.merchant).first()
    if peek is None:
        raise NotFound(_("Not found."))
    if peek.role == Role.OWNER:
        _lock_owners(actor)
    locked = (
        Membership.objects.select_for_update()
        .select_related("user")
        .get(pk=membership.pk, merchant=actor.merchant)
    )
    if locked.role == Role.OWNER and peek.role != Role.OWNER:
        _lock_owners(actor)  # became an owner in between: lock the others too
    return locked


def _lock_owners(actor: Actor) -> list[int]:
    return list(
        Membership.objects.select_for_update()
        .filter(merchant=actor.merchant, role=Role.OWNER, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _other_active_owners(actor: Actor, membership: Membership) -> int:
    return (
        Membership.objects.filter(merchant=actor.merchant, role=Role.OWNER, is_active=True)
        .exclude(pk=membership.pk)
        .count()
    )


@transaction.atomic
def update_staff(
    actor: Actor,
    membership: Membership,
    *,
    role: str | None = None,
    stores: Iterable[int] | None = None,
    is_active: bool | None = None,
) -> Membership:
    """Change a staff member's role, stores or active state (None: leave as is).

    Moving someone to a role that works at no store clears their stores.
    """
    actor.require(Perm.STAFF_MANAGE)
    membership = _lock_membership(actor, membership)
    _require_manageable(actor, membership)
    errors: dict[str, str] = {}
    is_self = actor.user is not None and membership.user_id == actor.user.pk
    new_role = membership.role if role is None else role
    if role is not None and role != membership.role:
        if is_self:
            raise Forbidden(
                _("Nobody changes their own role."),
                fields={"role": _("Ask another owner to change your role.")},
            )
        _check_role(actor, role, errors)
    if is_active is not None and not isinstance(is_active, bool):
        errors["is_active"] = _("Expected true or false.")
    elif is_active is False and is_self and membership.is_active:
        raise Forbidden(
            _("You cannot deactivate yourself."),
            fields={"is_active": _("Ask another owner to do this.")},
        )
    current_ids = _store_ids(membership)
    if stores is None and new_role not in STORE_ROLES:
        stores = []  # a role without stores keeps none
    elif stores is None and new_role != membership.role and new_role == Role.STORE_MANAGER:
        stores = current_ids  # becoming a store manager: at least one store (validated below)
    new_stores = _resolve_stores(actor, stores, new_role, errors)
    if errors:
        raise InvalidInput(_("The staff member could not be saved."), fields=errors)
    new_active = membership.is_active if is_active is None else is_active
    losing_owner = (
        membership.role == Role.OWNER
        and membership.is_active
        and (new_role != Role.OWNER or not new_active)
    )
    if losing_owner and _other_active_owners(actor, membership) == 0:
        field = "role" if new_role != Role.OWNER else "is_active"
        raise Conflict(
            _("The merchant needs at least one active owner."),
            fields={field: _("This is the last active owner.")},
        )
    before = _snapshot(membership, current_ids)
    new_ids = current_ids if new_stores is None else [s.pk for s in new_stores]
    if new_ids != current_ids:
        StoreStaff.objects.filter(membership=membership).exclude(store_id__in=new_ids).delete()
        StoreStaff.objects.bulk_create(
            [
                StoreStaff(merchant=actor.merchant, store=s, membership=membership)
                for s in (new_stores or [])
                if s.pk not in current_ids
            ]
        )
    was_active = membership.is_active
    membership.role, membership.is_active = new_role, new_active
    after = _snapshot(membership, new_ids)
    if not audit.changed(before, after):
        return membership
    membership.save(update_fields=["role", "is_active"])
    if was_active and not new_active:
        action, event_type = "staff.deactivate", STAFF_DEACTIVATED
    elif new_active and not was_active:
        action, event_type = "staff.reactivate", STAFF_UPDATED
    else:
        action, event_type = "staff.update", STAFF_UPDATED
    audit.record(actor, action, membership, before=before, after=after)
    events.emit(actor.merchant, event_type, _payload(membership, new_ids), aggregate=membership)
    return membership


def deactivate_staff(actor: Actor, membership: Membership) -> Membership:
    """Take away the person's access to this merchant (their account stays)."""
    return update_staff(actor, membership, is_active=False)


def reactivate_staff(actor: Actor, membership: Membership) -> Membership:
    return update_staff(actor, membership, is_active=True)


@transaction.atomic
def reset_password(actor: Actor, membership: Membership, password: str) -> Membership:
    """Set a new password for a staff member; it ends their other sessions.

    Refused for an account that also works for another merchant: an owner here
    must not be able to take over a login that opens another brand's data.
    """
    actor.require(Perm.STAFF_MANAGE)
    membership = _lock_membership(actor, membership)
    _require_manageable(actor, membership)
    user = membership.user
    if Membership.objects.filter(user=user).exclude(merchant=actor.merchant).exists():
        raise Forbidden(
            _(
                "This account also works for another merchant; only its holder may change its password."
            ),
            fields={"password": _("Not allowed for shared accounts.")},
        )
    if reason := _password_errors(password, user):
        raise InvalidInput(_("The password was not changed."), fields={"password": reason})
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record(
        actor,
        "staff.password_reset",
        membership,
        object_repr=str(user),
    )
    return membership
