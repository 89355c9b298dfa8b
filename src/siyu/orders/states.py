"""The order state machine as one table. Pure: no database.

::

    pending_payment ──pay──▶ paid ──start_preparing──▶ preparing ──ship──▶ shipped ──complete──▶ completed
          │                   │                           │   (delivery)
          │                   │                           └──mark_ready──▶ ready_for_pickup ──collect──▶ completed
          │                   │                               (pickup)
          │                   └──collect (pickup: the customer is at the counter with the code)──▶ completed
          └──cancel──▶ cancelled
    paid / preparing / ready_for_pickup ──cancel_refunded (only after a full refund)──▶ cancelled

Each row says which statuses it leaves from, where it goes, for which
fulfilment, and who may trigger it: the ``customer``, ``staff`` (with
``Perm.ORDERS_FULFIL``), the ``system`` (scheduled jobs) or ``payments``
(the payments app, after a gateway confirmed money moved). Services call
:func:`require` before changing anything; pages show :func:`available`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.core.errors import Conflict

PENDING_PAYMENT = "pending_payment"
PAID = "paid"
PREPARING = "preparing"
SHIPPED = "shipped"
READY_FOR_PICKUP = "ready_for_pickup"
COMPLETED = "completed"
CANCELLED = "cancelled"
STATUSES = (PENDING_PAYMENT, PAID, PREPARING, SHIPPED, READY_FOR_PICKUP, COMPLETED, CANCELLED)
FINAL = frozenset({COMPLETED, CANCELLED})
# Orders whose pickup code may still be presented at the counter.
OPEN_PICKUP = frozenset({PENDING_PAYMENT, PAID, PREPARING, READY_FOR_PICKUP})

DELIVERY = "delivery"
PICKUP = "pickup"

FULL_REFUND = "full"


class ActorKind(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    SYSTEM = "system"
    PAYMENTS = "payments"


class Transition(StrEnum):
    PAY = "pay"
    START_PREPARING = "start_preparing"
    SHIP = "ship"
    MARK_READY = "mark_ready"
    COLLECT = "collect"
    COMPLETE = "complete"
    CANCEL = "cancel"
    CANCEL_REFUNDED = "cancel_refunded"


class OrderLike(Protocol):
    @property
    def status(self) -> str: ...

    @property
    def fulfilment(self) -> str: ...

    @property
    def refund_state(self) -> str: ...


@dataclass(frozen=True)
class Rule:
    transition: Transition
    sources: frozenset[str]
    target: str
    actors: frozenset[ActorKind]
    label: str | Promise
    fulfilment: str | None = None  # None: both
    needs_full_refund: bool = False


def _rule(
    transition: Transition,
    sources: set[str],
    target: str,
    actors: set[ActorKind],
    label: str | Promise,
    *,
    fulfilment: str | None = None,
    needs_full_refund: bool = False,
) -> Rule:
    return Rule(
        transition,
        frozenset(sources),
        target,
        frozenset(actors),
        label,
        fulfilment,
        needs_full_refund,
    )


A = ActorKind
RULES: dict[Transition, Rule] = {
    rule.transition: rule
    for rule in (
        _rule(
            Transition.PAY,
            {PENDING_PAYMENT},
            PAID,
            {A.PAYMENTS, A.SYSTEM},
            gettext_lazy("Mark paid"),
        ),
        _rule(
            Transition.START_PREPARING,
            {PAID},
            PREPARING,
            {A.STAFF, A.SYSTEM},
            gettext_lazy("Start preparing"),
        ),
        _rule(
            Transition.SHIP,
            {PREPARING},
            SHIPPED,
            {A.STAFF, A.SYSTEM},
            gettext_lazy("Mark shipped"),
            fulfilment=DELIVERY,
        ),
        _rule(
            Transition.MARK_READY,
            {PREPARING},
            READY_FOR_PICKUP,
            {A.STAFF, A.SYSTEM},
            gettext_lazy("Mark ready for pickup"),
            fulfilment=PICKUP,
        ),
        _rule(
            Transition.COLLECT,
            {PAID, PREPARING, READY_FOR_PICKUP},
            COMPLETED,
            {A.STAFF},
            gettext_lazy("Verify pickup code"),
            fulfilment=PICKUP,
        ),
        _rule(
            Transition.COMPLETE,
            {SHIPPED},
            COMPLETED,
            {A.STAFF, A.CUSTOMER, A.SYSTEM},
            gettext_lazy("Mark completed"),
            fulfilment=DELIVERY,
        ),
        _rule(
            Transition.CANCEL,
            {PENDING_PAYMENT},
            CANCELLED,
            {A.CUSTOMER, A.STAFF, A.SYSTEM},
            gettext_lazy("Cancel order"),
        ),
        _rule(
            Transition.CANCEL_REFUNDED,
            {PAID, PREPARING, READY_FOR_PICKUP},
            CANCELLED,
            {A.PAYMENTS, A.SYSTEM},
            gettext_lazy("Cancel after full refund"),
            needs_full_refund=True,
        ),
    )
}


def rule(transition: Transition | str) -> Rule:
    return RULES[Transition(transition)]


def can(
    transition: Transition | str, order: OrderLike, actor: ActorKind | str | None = None
) -> bool:
    """Whether ``transition`` may run on ``order`` now (and by ``actor``, when given)."""
    r = rule(transition)
    if order.status not in r.sources:
        return False
    if r.fulfilment is not None and order.fulfilment != r.fulfilment:
        return False
    if r.needs_full_refund and order.refund_state != FULL_REFUND:
        return False
    return actor is None or ActorKind(actor) in r.actors


def available(order: OrderLike, actor: ActorKind | str | None = None) -> list[Rule]:
    """The transitions ``order`` allows now (for ``actor``), in table order."""
    return [r for r in RULES.values() if can(r.transition, order, actor)]


def next_states(order: OrderLike, actor: ActorKind | str | None = None) -> list[str]:
    """The statuses ``order`` can move to next, without duplicates, in table order."""
    seen: list[str] = []
    for r in available(order, actor):
        if r.target not in seen:
            seen.append(r.target)
    return seen


def reachable(status: str) -> set[str]:
    """Every status reachable from ``status`` (ignoring fulfilment and actors)."""
    found: set[str] = set()
    frontier = [status]
    while frontier:
        current = frontier.pop()
        for r in RULES.values():
            if current in r.sources and r.target not in found:
                found.add(r.target)
                frontier.append(r.target)
    return found


def require(
    transition: Transition | str, order: OrderLike, actor: ActorKind | str | None = None
) -> Rule:
    """The rule, or ``Conflict`` (409) saying why the order cannot make this move."""
    r = rule(transition)
    if can(transition, order, None):
        if actor is not None and ActorKind(actor) not in r.actors:
            raise Conflict(
                _("This change is not made by hand: %(action)s.") % {"action": r.label},
                fields={"status": _("Not allowed for you.")},
                code="transition_not_allowed",
            )
        return r
    if r.fulfilment is not None and order.fulfilment != r.fulfilment:
        reason = (
            _("Only delivery orders can do this.")
            if r.fulfilment == DELIVERY
            else _("Only pickup orders can do this.")
        )
    elif (r.needs_full_refund and order.status in r.sources) or (
        r.transition == Transition.CANCEL
        and order.status in RULES[Transition.CANCEL_REFUNDED].sources
    ):
        reason = _("A paid order is cancelled by refunding it in full.")
    else:
        reason = _("Not possible while the order is %(status)s.") % {
            "status": STATUS_LABELS.get(order.status, order.status)
        }
    raise Conflict(
        _("%(action)s: %(reason)s") % {"action": r.label, "reason": reason},
        fields={"status": reason},
        code="invalid_transition",
    )


STATUS_LABELS: dict[str, str | Promise] = {
    PENDING_PAYMENT: gettext_lazy("Pending payment"),
    PAID: gettext_lazy("Paid"),
    PREPARING: gettext_lazy("Preparing"),
    SHIPPED: gettext_lazy("Shipped"),
    READY_FOR_PICKUP: gettext_lazy("Ready for pickup"),
    COMPLETED: gettext_lazy("Completed"),
    CANCELLED: gettext_lazy("Cancelled"),
}
