"""State changes of guides' work: who owns a customer, and operators' settings.

Ownership (one owner guide per customer, ``Customer.owner_guide``):

* :func:`bind_to_guide` is the one way an owner is set. It locks the customer
  row, and a guide's code scanned by a customer who already has another guide
  does not take them away (``kind="bound"`` or ``"imported"`` → ``False``);
  only a transfer or a staff assignment replaces an owner. Binding again to the
  same guide changes nothing. Every change writes an :class:`OwnershipChange`,
  a ``transferred`` timeline entry and the ``guides.customer.bound`` event in
  the same transaction.
* :func:`assign_guide` is an operator choosing the guide of one customer.
* Transfers of many customers at once live in :mod:`siyu.guides.transfers`
  (re-exported here: :func:`transfer_customers`).

Materials and tasks have their own modules (:mod:`siyu.guides.materials`,
:mod:`siyu.guides.followups`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from siyu.core import audit, clock, events
from siyu.core.actors import Actor
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.models import Membership, Merchant
from siyu.core.permissions import Perm
from siyu.customers.models import Customer
from siyu.guides.events import CUSTOMER_BOUND
from siyu.guides.models import GuideSettings, OwnershipChange, Transfer

Kind = OwnershipChange.Kind
# Kinds that may replace an existing owner; a code scan or an import never steals a customer.
REPLACING_KINDS = frozenset({Kind.TRANSFER, Kind.ASSIGNED})
BINDING_KINDS = frozenset({Kind.BOUND, Kind.TRANSFER, Kind.ASSIGNED, Kind.IMPORTED})
SETTINGS_FIELDS = (
    "attribution_window_days",
    "transfer_limit",
    "transfer_window_days",
    "dormant_days",
)
SETTINGS_LIMITS: dict[str, tuple[int, int]] = {
    "attribution_window_days": (1, 90),
    "transfer_limit": (1, 20),
    "transfer_window_days": (1, 365),
    "dormant_days": (7, 365),
}


def guide_name(guide: Membership | None) -> str:
    """How a guide is named in the timeline and on pages (the staff user's display name)."""
    if guide is None:
        return ""
    return str(guide.user)


# --- settings --------------------------------------------------------------------------


def guide_settings(merchant: Merchant | int) -> GuideSettings:
    """The merchant's guide settings, created with the defaults on first use."""
    merchant_id = merchant if isinstance(merchant, int) else merchant.pk
    found = GuideSettings.unscoped.filter(merchant_id=merchant_id).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return GuideSettings.unscoped.create(merchant_id=merchant_id)
    except IntegrityError:  # another request created it at the same moment
        return GuideSettings.unscoped.get(merchant_id=merchant_id)


def attribution_window(merchant: Merchant | int) -> timedelta:
    """How long after a chat, card or link an order still counts for its guide or group."""
    return timedelta(days=guide_settings(merchant).attribution_window_days)


def update_settings(actor: Actor, values: dict[str, Any]) -> GuideSettings:
    """Change the merchant's guide settings; every value a whole number within its range."""
    actor.require(Perm.GUIDES_MANAGE)
    errors: dict[str, str] = {}
    clean: dict[str, int] = {}
    for name in SETTINGS_FIELDS:
        if name not in values:
            continue
        low, high = SETTINGS_LIMITS[name]
        raw = values[name]
        try:
            number = int(raw)
            if isinstance(raw, float) and number != raw:
                raise ValueError
        except (TypeError, ValueError):
            errors[name] = _("Enter a whole number.")
            continue
        if not low <= number <= high:
            errors[name] = _("Enter a number from %(low)s to %(high)s.") % {
                "low": low,
                "high": high,
            }
            continue
        clean[name] = number
    if errors:
        raise InvalidInput(_("Check the highlighted values."), fields=errors)
    guide_settings(actor.merchant)
    with transaction.atomic():
        current = GuideSettings.unscoped.select_for_update().get(merchant=actor.merchant)
        before = audit.snapshot(current, SETTINGS_FIELDS)
        for name, number in clean.items():
            setattr(current, name, number)
        current.save(update_fields=list(clean) or None)
        after = audit.snapshot(current, SETTINGS_FIELDS)
        if audit.changed(before, after):
            audit.record(actor, "guides.settings.updated", current, before=before, after=after)
    return current


# --- guides ----------------------------------------------------------------------------


def check_guide(merchant_id: int, guide: Membership | None, field: str = "guide") -> Membership:
    """``guide`` must be an active staff membership of the merchant (else 422 on ``field``)."""
    if guide is None or guide.merchant_id != merchant_id:
        raise NotFound(_("No such guide."), fields={field: _("No such guide.")})
    if not guide.is_active:
        raise InvalidInput(
            _("This staff member is no longer active."),
            fields={field: _("This staff member is no longer active.")},
        )
    return guide


def find_guide(merchant: Merchant, guide_id: Any, field: str = "guide") -> Membership:
    """The merchant's membership ``guide_id`` (another merchant's: 404 naming ``field``)."""
    try:
        pk = int(guide_id)
    except (TypeError, ValueError):
        raise InvalidInput(_("Choose a guide."), fields={field: _("Choose a guide.")}) from None
    guide = (
        Membership.objects.select_related("user", "merchant")
        .filter(merchant=merchant, pk=pk)
        .first()
    )
    if guide is None:
        raise NotFound(_("No such guide."), fields={field: _("No such guide.")})
    return guide


# --- binding ---------------------------------------------------------------------------


def _change_owner(
    customer: Customer,
    guide: Membership | None,
    *,
    kind: str,
    state: str,
    reason: str,
    actor_label: str,
    from_guide: Membership | None,
    transfer_id: int | None = None,
) -> OwnershipChange:
    """Write the new owner on the (locked) customer, its history row and timeline entry."""
    from siyu.customers import timeline

    now = clock.now()
    customer.owner_guide = guide
    customer.owner_since = now if guide is not None else None
    customer.save(update_fields=["owner_guide", "owner_since"])
    change = OwnershipChange.unscoped.create(
        merchant_id=customer.merchant_id,
        customer=customer,
        from_guide=from_guide,
        to_guide=guide,
        kind=kind,
        transfer_id=transfer_id,
        state=state[:60],
        reason=reason[:200],
        changed_at=now,
    )
    timeline.record(
        customer,
        "transferred",
        {
            "from_guide": guide_name(from_guide),
            "to_guide": guide_name(guide),
            "reason": reason,
            "kind": kind,
            "state": state,
        },
        actor=actor_label,
        at=now,
    )
    return change


def bind_to_guide(
    customer: Customer,
    guide: Membership,
    *,
    kind: str,
    state: str = "",
    reason: str = "",
    actor_label: str = "",
) -> bool:
    """Make ``guide`` the owner of ``customer``; whether the guide owns them afterwards.

    * ``kind``: ``bound`` (the guide's code), ``imported``, ``assigned`` (staff) or
      ``transfer``. A customer who already has another owner keeps them unless
      the kind is ``assigned`` or ``transfer`` (→ ``False``, nothing written).
    * The same guide again: ``True``, nothing written (idempotent).
    * ``state`` is the code's channel state, recorded on the history row.

    Locks the customer row; writes the history row, the ``transferred`` timeline entry
    and the ``guides.customer.bound`` event in the caller's transaction (or its own).
    """
    if kind not in BINDING_KINDS:
        raise InvalidInput(_("Unknown kind of binding."), fields={"kind": _("Unknown kind.")})
    check_guide(customer.merchant_id, guide)
    with transaction.atomic():
        locked = Customer.unscoped.select_for_update().get(pk=customer.pk)
        if locked.owner_guide_id == guide.pk:
            customer.owner_guide, customer.owner_since = guide, locked.owner_since
            return True
        if locked.owner_guide_id is not None and kind not in REPLACING_KINDS:
            customer.owner_guide_id, customer.owner_since = (
                locked.owner_guide_id,
                locked.owner_since,
            )
            return False
        previous = (
            Membership.objects.select_related("user").filter(pk=locked.owner_guide_id).first()
            if locked.owner_guide_id
            else None
        )
        change = _change_owner(
            locked,
            guide,
            kind=kind,
            state=state,
            reason=reason,
            actor_label=actor_label,
            from_guide=previous,
        )
        events.emit(
            guide.merchant,
            CUSTOMER_BOUND,
            {
                "customer_id": locked.pk,
                "guide_id": guide.pk,
                "from_guide_id": previous.pk if previous else None,
                "kind": kind,
                "state": state,
                "change_id": change.pk,
            },
            aggregate=locked,
        )
        customer.owner_guide, customer.owner_since = guide, locked.owner_since
    return True


def assign_guide(actor: Actor, customer: Customer, guide: Membership, reason: str) -> bool:
    """An operator makes ``guide`` the owner of one customer (replacing any owner)."""
    actor.require(Perm.GUIDES_MANAGE)
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise InvalidInput(
            _("The reason is too long."), fields={"reason": _("At most 200 characters.")}
        )
    if customer.merchant_id != actor.merchant.pk:
        raise NotFound(_("No such customer."), fields={"customer": _("No such customer.")})
    with transaction.atomic():
        before = customer.owner_guide_id
        changed = bind_to_guide(
            customer, guide, kind=Kind.ASSIGNED, reason=reason, actor_label=actor.label
        )
        if before != guide.pk:
            audit.record(
                actor,
                "guides.customer.assigned",
                customer,
                before={"owner_guide": before},
                after={"owner_guide": guide.pk, "reason": reason},
            )
    return changed


def release_customer(actor: Actor, customer: Customer, reason: str) -> bool:
    """An operator clears a customer's owner guide (the customer stays a customer)."""
    actor.require(Perm.GUIDES_MANAGE)
    if customer.merchant_id != actor.merchant.pk:
        raise NotFound(_("No such customer."), fields={"customer": _("No such customer.")})
    with transaction.atomic():
        locked = Customer.unscoped.select_for_update().get(pk=customer.pk)
        if locked.owner_guide_id is None:
            return False
        previous = Membership.objects.select_related("user").get(pk=locked.owner_guide_id)
        _change_owner(
            locked,
            None,
            kind=Kind.RELEASED,
            state="",
            reason=reason,
            actor_label=actor.label,
            from_guide=previous,
        )
        audit.record(
            actor,
            "guides.customer.released",
            locked,
            before={"owner_guide": previous.pk},
            after={"owner_guide": None, "reason": reason},
        )
        customer.owner_guide, customer.owner_since = None, None
    return True


def transfer_customers(
    actor: Actor,
    *,
    from_guide: Membership,
    to_guide: Membership,
    kind: str,
    reason: str,
    message: str = "",
    customer_ids: Sequence[int] | None = None,
    include_groups: bool = True,
) -> Transfer:
    """Move ``from_guide``'s customers (all, or ``customer_ids``) and groups to ``to_guide``.

    The rules (transfer limit, departures, messages, background runs) are in
    :mod:`siyu.guides.transfers`."""
    from siyu.guides import transfers

    return transfers.transfer_customers(
        actor,
        from_guide=from_guide,
        to_guide=to_guide,
        kind=kind,
        reason=reason,
        message=message,
        customer_ids=customer_ids,
        include_groups=include_groups,
    )
