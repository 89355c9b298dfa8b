"""Transfers: operators move a guide's customers and groups to another guide.

The rule of the transfer limit (``GuideSettings.transfer_limit`` transfers within
``transfer_window_days``, 2 in 90 days by default — WeChat Work's rule, which
protects customers from being passed around):

* A customer who has already been transferred ``transfer_limit`` times within
  the window (``OwnershipChange`` rows of kind ``transfer``) is *refused* and
  listed on the transfer with the reason.
* **In service** (``kind=in_service``): a refused customer stays with the old guide.
* **Departure** (``kind=departure``): the old guide is leaving, so nobody may be
  left with them. The limit is still honoured — a refused customer is *released*
  (owner cleared, an ``OwnershipChange`` of kind ``released`` with the reason), so
  an operator can assign them later by hand (``services.assign_guide``, which
  is a staff assignment, not a transfer).

Customers move in batches of :data:`BATCH`, each batch in one transaction
(customer rows locked in key order, ownership re-checked under the lock). A
transfer of at most :data:`SYNC_LIMIT` customers runs in the request, as a whole
in one transaction; a larger one is queued as a background task that shows its
progress (``processed`` of ``total``) and resumes where it stopped after a crash
(``last_customer_id``). Each moved customer receives ``message`` in their 1:1
chat with the new guide. The guide's groups (``CommunityGroup.owner``) move with
them when ``include_groups``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from siyu.core import audit, clock, events
from siyu.core.actors import Actor
from siyu.core.errors import InvalidInput
from siyu.core.models import Membership
from siyu.core.permissions import Perm
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.guides.events import CUSTOMER_TRANSFERRED
from siyu.guides.models import GuideSettings, OwnershipChange, Transfer
from siyu.guides.services import check_guide, guide_name, guide_settings

BATCH = 500
SYNC_LIMIT = 300
REFUSED_KEPT = 1000  # entries listed on the transfer (the count is always complete)
MAX_CHOSEN = 20000
REASON_OVER_LIMIT = "transfer_limit"


def _validate(
    actor: Actor,
    *,
    from_guide: Membership | None,
    to_guide: Membership | None,
    kind: str,
    reason: str,
    message: str,
    customer_ids: Sequence[Any] | None,
) -> list[int] | None:
    errors: dict[str, str] = {}
    merchant_id = actor.merchant.pk
    for field, guide in (("from_guide", from_guide), ("to_guide", to_guide)):
        if guide is None or guide.merchant_id != merchant_id:
            errors[field] = _("Choose a guide of this merchant.")
    if "to_guide" not in errors and to_guide is not None and not to_guide.is_active:
        errors["to_guide"] = _("This staff member is no longer active.")
    if not errors and from_guide is not None and to_guide is not None and from_guide == to_guide:
        errors["to_guide"] = _("Choose another guide than the one giving the customers.")
    if kind not in Transfer.Kind.values:
        errors["kind"] = _("Choose departure or reassignment in service.")
    if not reason:
        errors["reason"] = _("Say why the customers are transferred.")
    elif len(reason) > 200:
        errors["reason"] = _("At most 200 characters.")
    if len(message) > 500:
        errors["message"] = _("At most 500 characters.")
    chosen: list[int] | None = None
    if customer_ids is not None:
        try:
            chosen = sorted({int(pk) for pk in customer_ids})
        except (TypeError, ValueError):
            errors["customer_ids"] = _("Customer ids must be whole numbers.")
        else:
            if not chosen:
                errors["customer_ids"] = _("Choose at least one customer.")
            elif len(chosen) > MAX_CHOSEN:
                errors["customer_ids"] = _("Choose at most %(n)s customers.") % {"n": MAX_CHOSEN}
            elif from_guide is not None and "from_guide" not in errors:
                owned = set(
                    Customer.objects.filter(pk__in=chosen, owner_guide=from_guide).values_list(
                        "pk", flat=True
                    )
                )
                strangers = [pk for pk in chosen if pk not in owned]
                if strangers:
                    errors["customer_ids"] = _("Not customers of this guide: %(ids)s") % {
                        "ids": ", ".join(str(pk) for pk in strangers[:10])
                    }
    if errors:
        raise InvalidInput(_("Check the transfer."), fields=errors)
    return chosen


def _remaining(transfer: Transfer) -> Any:
    owned = Customer.objects.filter(owner_guide_id=transfer.from_guide_id)
    if transfer.customer_ids is not None:
        owned = owned.filter(pk__in=transfer.customer_ids)
    return owned


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
    """Move customers (all of ``from_guide``'s, or ``customer_ids``) and groups; see the module.

    Validates everything first (422 naming the field); runs at once when small, else
    queues :func:`siyu.guides.tasks.run_transfer_task` and returns the queued transfer.
    """
    from siyu.community.models import CommunityGroup

    actor.require(Perm.GUIDES_MANAGE)
    reason = (reason or "").strip()
    message = (message or "").strip()
    chosen = _validate(
        actor,
        from_guide=from_guide,
        to_guide=to_guide,
        kind=kind,
        reason=reason,
        message=message,
        customer_ids=customer_ids,
    )
    with merchant_context(actor.merchant):
        total = (
            len(chosen)
            if chosen is not None
            else Customer.objects.filter(owner_guide=from_guide).count()
        )
        groups = CommunityGroup.objects.filter(owner=from_guide).count() if include_groups else 0
        if total == 0 and groups == 0:
            raise InvalidInput(
                _("This guide has no customers or groups to transfer."),
                fields={"from_guide": _("This guide has no customers or groups to transfer.")},
            )
        with transaction.atomic():
            transfer = Transfer.objects.create(
                merchant=actor.merchant,
                from_guide=from_guide,
                to_guide=to_guide,
                kind=kind,
                reason=reason,
                message=message,
                include_groups=include_groups,
                customer_ids=chosen,
                total=total,
                created_by=actor.label[:150],
                created_at=clock.now(),
            )
            audit.record(
                actor,
                "guides.transfer.created",
                transfer,
                after={
                    "from_guide": from_guide.pk,
                    "to_guide": to_guide.pk,
                    "kind": kind,
                    "reason": reason,
                    "customers": total,
                    "include_groups": include_groups,
                },
            )
            if total <= SYNC_LIMIT:
                run_transfer(transfer.pk)  # savepoints inside: all or nothing
        if total > SYNC_LIMIT:
            from siyu.guides.tasks import run_transfer_task

            transaction.on_commit(lambda: run_transfer_task.enqueue(transfer.pk))
        transfer.refresh_from_db()
    return transfer


def run_transfer(transfer_id: int) -> Transfer:
    """Carry out (or resume) a transfer batch by batch; the finished transfer."""
    transfer = Transfer.unscoped.select_related("merchant").get(pk=transfer_id)
    with merchant_context(transfer.merchant):
        if transfer.status == Transfer.Status.DONE:
            return transfer
        rules = guide_settings(transfer.merchant)
        guides = {
            m.pk: m
            for m in Membership.objects.select_related("user", "merchant").filter(
                pk__in=[transfer.from_guide_id, transfer.to_guide_id]
            )
        }
        from_guide, to_guide = guides[transfer.from_guide_id], guides[transfer.to_guide_id]
        check_guide(transfer.merchant_id, to_guide, "to_guide")
        Transfer.objects.filter(pk=transfer.pk).update(status=Transfer.Status.RUNNING)
        while _run_batch(transfer.pk, from_guide, to_guide, rules):
            pass  # each call moves one batch in its own transaction
        _finish(transfer.pk, from_guide, to_guide)
        return Transfer.objects.get(pk=transfer.pk)


def _transfer_counts(customer_ids: list[int], since: datetime) -> dict[int, int]:
    rows = (
        OwnershipChange.objects.filter(
            customer_id__in=customer_ids,
            kind=OwnershipChange.Kind.TRANSFER,
            changed_at__gte=since,
        )
        .values("customer_id")
        .annotate(n=Count("id"))
    )
    return {row["customer_id"]: row["n"] for row in rows}


def _run_batch(
    transfer_id: int, from_guide: Membership, to_guide: Membership, rules: GuideSettings
) -> bool:
    """Move the next batch; False when nothing is left."""
    from siyu.customers import timeline

    with transaction.atomic():
        transfer = Transfer.objects.select_for_update().get(pk=transfer_id)
        ids = list(
            _remaining(transfer)
            .filter(pk__gt=transfer.last_customer_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return False
        locked = list(
            Customer.objects.select_for_update()
            .filter(pk__in=ids, owner_guide=from_guide)
            .order_by("pk")
        )
        now = clock.now()
        counts = _transfer_counts(
            [c.pk for c in locked], now - timedelta(days=rules.transfer_window_days)
        )
        moved = [c for c in locked if counts.get(c.pk, 0) < rules.transfer_limit]
        refused = [c for c in locked if counts.get(c.pk, 0) >= rules.transfer_limit]
        departure = transfer.kind == Transfer.Kind.DEPARTURE
        released = refused if departure else []
        Customer.objects.filter(pk__in=[c.pk for c in moved]).update(
            owner_guide=to_guide, owner_since=now
        )
        Customer.objects.filter(pk__in=[c.pk for c in released]).update(
            owner_guide=None, owner_since=None
        )
        over_limit = _("Transferred %(n)s times in the last %(days)s days (limit %(limit)s)")
        changes = [
            OwnershipChange(
                merchant_id=transfer.merchant_id,
                customer_id=c.pk,
                from_guide=from_guide,
                to_guide=to_guide,
                kind=OwnershipChange.Kind.TRANSFER,
                transfer=transfer,
                reason=transfer.reason,
                changed_at=now,
            )
            for c in moved
        ] + [
            OwnershipChange(
                merchant_id=transfer.merchant_id,
                customer_id=c.pk,
                from_guide=from_guide,
                to_guide=None,
                kind=OwnershipChange.Kind.RELEASED,
                transfer=transfer,
                reason=(
                    over_limit
                    % {
                        "n": counts.get(c.pk, 0),
                        "days": rules.transfer_window_days,
                        "limit": rules.transfer_limit,
                    }
                )[:200],
                changed_at=now,
            )
            for c in released
        ]
        OwnershipChange.objects.bulk_create(changes)
        names = {"from_guide": guide_name(from_guide), "to_guide": guide_name(to_guide)}
        timeline.record_many(
            [
                (c.pk, "transferred", {**names, "reason": transfer.reason, "kind": "transfer"})
                for c in moved
            ]
            + [
                (
                    c.pk,
                    "transferred",
                    {**names, "to_guide": "", "reason": change.reason, "kind": "released"},
                )
                for c, change in zip(released, changes[len(moved) :], strict=True)
            ],
            actor=transfer.created_by,
            at=now,
        )
        for c in moved + released:
            events.emit(
                transfer.merchant,
                CUSTOMER_TRANSFERRED,
                {
                    "customer_id": c.pk,
                    "transfer_id": transfer.pk,
                    "from_guide_id": from_guide.pk,
                    "to_guide_id": to_guide.pk if c in moved else None,
                    "released": c not in moved,
                    "kind": transfer.kind,
                },
                aggregate=c,
            )
        if transfer.message and moved:
            _send_message(moved, to_guide, transfer.message)
        room = max(0, REFUSED_KEPT - len(transfer.refused))
        transfer.refused = list(transfer.refused) + [
            {
                "customer_id": c.pk,
                "name": c.name or c.phone[-4:],
                "transfers": counts.get(c.pk, 0),
                "reason": REASON_OVER_LIMIT,
                "released": departure,
            }
            for c in refused[:room]
        ]
        transfer.customers_moved += len(moved)
        transfer.customers_refused += len(refused)
        transfer.processed += len(ids)
        transfer.last_customer_id = ids[-1]
        transfer.save(
            update_fields=[
                "refused",
                "customers_moved",
                "customers_refused",
                "processed",
                "last_customer_id",
            ]
        )
    return True


def _send_message(customers: list[Customer], guide: Membership, text: str) -> int:
    """The transfer's message from the new guide in each customer's 1:1 chat."""
    from siyu.community.services import direct_conversation, post_message

    sent = 0
    for customer in customers:
        customer.owner_guide = guide
        post_message(direct_conversation(customer, guide), sender_staff=guide, text=text)
        sent += 1
    return sent


def _finish(transfer_id: int, from_guide: Membership, to_guide: Membership) -> None:
    from siyu.community.models import CommunityGroup

    with transaction.atomic():
        transfer = Transfer.objects.select_for_update().get(pk=transfer_id)
        if transfer.status == Transfer.Status.DONE:
            return
        if transfer.include_groups:
            transfer.groups_moved = CommunityGroup.objects.filter(owner=from_guide).update(
                owner=to_guide
            )
        transfer.status = Transfer.Status.DONE
        transfer.finished_at = clock.now()
        transfer.save(update_fields=["groups_moved", "status", "finished_at"])
