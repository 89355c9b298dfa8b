"""Group-buy purchases, seating on payment and failing teams: validate → lock → change → event.

* :func:`buy` places a group-buy order through :func:`siyu.promotions.checkout.checkout` with
  the group price as a ``Stage.PRICE`` offer. In the order's transaction the offer's ``placed``
  hook takes the activity stock (one conditional UPDATE, ``stock_left >= quantity``), records
  the pending :class:`Member` and holds the order's fulfilment. The customer's row is locked
  first, so the per-customer limit holds against the customer's own concurrent purchases.
* :func:`seat_paid` runs when the order is paid (the ``orders.order.paid`` consumer; safe to
  replay: only a ``pending`` member is seated). It takes a seat with one conditional UPDATE —
  ``seats_taken < size`` on an open team before its deadline — in the chosen team, else
  another open team of the activity, else opens a new team with the payer as leader; the
  UPDATE locks only the team it seats in, so two payers never wait on each other in a cycle.
  When nothing can seat the payer (the activity ended), the payment is refunded in full. The
  N-th seat marks the team succeeded and lifts its orders' fulfilment hold.
* :func:`fail_overdue` (every minute) fails open teams past their deadline: each member's
  payment is refunded in full through the payments app, the activity stock comes back.
  Each team in its own transaction, taken with ``SKIP LOCKED`` on PostgreSQL and checked
  again under the lock, so two runs at once fail a team once.

Lock order: customer → order (checkout); member → team → payment → order (seating, refunds).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from siyu.core import clock, events
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, DomainError, InvalidInput, NotFound
from siyu.core.models import Merchant
from siyu.core.tenancy import current_merchant, merchant_context
from siyu.groupbuy import events as groupbuy_events
from siyu.groupbuy import rules
from siyu.groupbuy.models import GroupBuy, GroupBuySku, Member, Team
from siyu.orders import services as order_services
from siyu.orders.models import Order

if TYPE_CHECKING:
    from siyu.customers.models import Customer

logger = logging.getLogger(__name__)

HOLD = "groupbuy"  # the fulfilment hold of a group-buy order while its team fills
SYSTEM_LABEL = "Siyu group-buy"
MAX_QUANTITY = 99
FAIL_BATCH = 200
OTHER_TEAMS = 20  # open teams tried when the chosen one is full


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _id(value: object) -> int:
    """``value`` when it is a whole number, else 0 (which matches no row)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def is_new_customer(customer_id: int, *, excluding_order: int | None = None) -> bool:
    """No paid order of the customer at the merchant (other than ``excluding_order``)."""
    paid = Order.objects.filter(customer_id=customer_id, paid_at__isnull=False)
    if excluding_order is not None:
        paid = paid.exclude(pk=excluding_order)
    return not paid.exists()


def activity_phase(activity: GroupBuy, now: datetime | None = None) -> str:
    return rules.phase(activity.status, activity.starts_at, activity.ends_at, now or clock.now())


def joinable_problem(team: Team, customer: Customer | None, now: datetime) -> str | None:
    """Why ``customer`` cannot join ``team`` now (None when they can)."""
    if team.status != Team.Status.OPEN or team.deadline <= now:
        return _("This team is closed.")
    if team.seats_taken >= team.size:
        return _("This team is full.")
    if customer is not None and (
        Member.objects.filter(team=team, customer_id=customer.pk).exists()
        or Member.objects.filter(
            wanted_team=team, customer_id=customer.pk, status=Member.Status.PENDING
        ).exists()
    ):
        return _("You are already in this team.")
    return None


def hold_page(order: Order) -> str:
    """The customer's page about a held group-buy order: its team, or "my group-buys" while
    the payer is not seated yet."""
    from django.urls import reverse

    slug = Merchant.objects.filter(pk=order.merchant_id).values_list("slug", flat=True).first()
    team_id = Member.unscoped.filter(order_id=order.pk).values_list("team_id", flat=True).first()
    if team_id is not None:
        return reverse("shop_groupbuy:team", kwargs={"merchant_slug": slug, "pk": team_id})
    return reverse("shop_groupbuy:mine", kwargs={"merchant_slug": slug})


# --- buying ---------------------------------------------------------------------------------------


def _check_purchase(
    customer: Customer,
    activity_id: object,
    sku_id: object,
    quantity: object,
    team_id: object,
) -> tuple[GroupBuy, GroupBuySku, Team | None]:
    """The activity, its SKU and the team to join, checked; one error naming the field."""
    activity = (
        GroupBuy.objects.select_related("product").filter(pk=_id(activity_id)).first()
        if _is_int(activity_id)
        else None
    )
    if activity is None or activity.status == GroupBuy.Status.DRAFT:
        raise NotFound(_("Not found."))
    now = clock.now()
    phase = activity_phase(activity, now)
    if phase != rules.RUNNING:
        reason = {
            rules.SCHEDULED: _("This group-buy has not started yet."),
            rules.PAUSED: _("This group-buy is paused."),
        }.get(phase, _("This group-buy has ended."))
        raise Conflict(reason, fields={"activity": reason}, code="not_running")
    errors: dict[str, str] = {}
    item = (
        GroupBuySku.objects.select_related("sku")
        .filter(activity=activity, sku_id=_id(sku_id))
        .first()
        if _is_int(sku_id)
        else None
    )
    if item is None:
        errors["sku_id"] = _("This SKU is not part of the group-buy.")
    if not _is_int(quantity) or not 1 <= quantity <= MAX_QUANTITY:  # type: ignore[operator]
        errors["quantity"] = _("Give a whole number from 1 to %(n)d.") % {"n": MAX_QUANTITY}
    team: Team | None = None
    if team_id is not None:
        team = (
            Team.objects.filter(pk=_id(team_id), activity=activity).first()
            if _is_int(team_id)
            else None
        )
        if team is None:
            errors["team_id"] = _("Unknown team.")
        else:
            problem = joinable_problem(team, customer, now)
            if problem:
                errors["team_id"] = problem
            elif activity.new_customers_only and not is_new_customer(customer.pk):
                errors["team_id"] = _(
                    "Only new customers can join a team: start your own team instead."
                )
    if errors:
        raise InvalidInput(_("The group-buy order could not be placed."), fields=errors)
    assert item is not None
    limit = activity.per_customer_limit
    taken = Member.objects.filter(
        activity=activity,
        customer_id=customer.pk,
        status__in=[Member.Status.PENDING, Member.Status.SEATED],
    ).count()
    if taken >= limit:
        reason = _("You can take part in this group-buy at most %(n)d times.") % {"n": limit}
        raise InvalidInput(reason, fields={"activity": reason}, code="limit_reached")
    return activity, item, team


def offer_for(activity: GroupBuy, item: GroupBuySku, placed: Any = None) -> Any:
    """The group price as a checkout ``Offer`` (what preview and checkout both price with)."""
    from siyu.promotions import checkout as offers_checkout

    return offers_checkout.Offer(
        rules.GroupPrice(activity.pk, item.sku_id, item.group_price), "activity", placed
    )


def _attribution(activity: GroupBuy, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    values = dict(raw or {})
    values.setdefault("channel", "groupbuy")
    values["groupbuy_id"] = activity.pk
    return values


def preview(
    customer: Customer,
    activity_id: int,
    *,
    sku_id: int,
    quantity: int = 1,
    team_id: int | None = None,
    coupon_id: int | None = None,
    **placing: Any,
) -> Any:
    """What :func:`buy` with the same arguments would charge (``CheckoutPreview``)."""
    from siyu.promotions import checkout as offers_checkout

    activity, item, _team = _check_purchase(customer, activity_id, sku_id, quantity, team_id)
    placing["attribution"] = _attribution(activity, placing.get("attribution"))
    return offers_checkout.preview(
        customer,
        choices=offers_checkout.Choices(coupon_id=coupon_id),
        activity=offer_for(activity, item),
        rules=offers_checkout.Rules(coupons=activity.allow_coupons),
        items=[(item.sku_id, quantity)],
        **placing,
    )


@transaction.atomic
def buy(
    customer: Customer,
    activity_id: int,
    *,
    sku_id: int,
    quantity: int = 1,
    team_id: int | None = None,
    coupon_id: int | None = None,
    fulfilment: str,
    store_id: int | None = None,
    address_id: int | None = None,
    note: str = "",
    attribution: Mapping[str, Any] | None = None,
) -> Order:
    """Place a group-buy order: join ``team_id``, or start a team (``None``). The order waits
    for payment; paying it seats the customer (:func:`seat_paid`).

    Refusals: 404 unknown activity; 409 ``not_running`` (not started, paused, ended); 422 on
    ``sku_id``, ``quantity``, ``team_id`` (closed, full, already in it, not a new customer),
    ``activity`` (per-customer limit, ``limit_reached``) or the checkout's own fields; 409
    ``sold_out`` on ``quantity`` when the activity stock is gone. Nothing is written then.
    """
    from siyu.customers.models import Customer as CustomerModel
    from siyu.promotions import checkout as offers_checkout

    if customer.merchant_id != current_merchant().pk:
        raise NotFound(_("Not found."))
    # one purchase of this customer at a time: the limit counts what is committed
    CustomerModel.objects.select_for_update().filter(pk=customer.pk).first()
    activity, item, team = _check_purchase(customer, activity_id, sku_id, quantity, team_id)
    new_customer = is_new_customer(customer.pk)

    def placed(order: Order, discount: int) -> None:
        taken = GroupBuySku.objects.filter(pk=item.pk, stock_left__gte=quantity).update(
            stock_left=F("stock_left") - quantity
        )
        if not taken:
            reason = _("The group-buy stock of this item is sold out.")
            raise Conflict(reason, fields={"quantity": reason}, code="sold_out")
        Member.objects.create(
            activity=activity,
            wanted_team=team,
            customer=customer,
            order=order,
            sku_id=item.sku_id,
            quantity=quantity,
            group_price=item.group_price,
            normal_price=item.sku.price,
            discount=discount,
            is_leader=team is None,
            is_new_customer=new_customer,
            placed_at=order.placed_at,
        )
        order_services.hold_fulfilment(order, HOLD)
        order.fulfilment_hold = HOLD  # the caller's copy says so too

    return offers_checkout.checkout(
        customer,
        choices=offers_checkout.Choices(coupon_id=coupon_id),
        activity=offer_for(activity, item, placed),
        rules=offers_checkout.Rules(coupons=activity.allow_coupons),
        fulfilment=fulfilment,
        store_id=store_id,
        address_id=address_id,
        items=[(item.sku_id, quantity)],
        note=note,
        attribution=_attribution(activity, attribution),
    )


# --- seating on payment ---------------------------------------------------------------------------


def _take_seat(team_id: int, member: Member, now: datetime) -> Team | None:
    """One seat in ``team_id`` for ``member``: the conditional UPDATE locks the team only when
    it has room, is open and before its deadline; None otherwise."""
    if Member.objects.filter(team_id=team_id, customer_id=member.customer_id).exists():
        return None
    taken = Team.objects.filter(
        pk=team_id,
        status=Team.Status.OPEN,
        deadline__gt=now,
        seats_taken__lt=F("size"),
    ).update(seats_taken=F("seats_taken") + 1)
    if not taken:
        return None
    return Team.objects.get(pk=team_id)  # locked by the UPDATE until commit


def _open_team(activity: GroupBuy, member: Member, now: datetime) -> Team:
    team = Team.objects.create(
        activity=activity,
        leader_id=member.customer_id,
        size=activity.team_size,
        seats_taken=1,
        opened_at=now,
        deadline=rules.team_deadline(now, activity.fill_hours, activity.ends_at),
    )
    events.emit(
        current_merchant(),
        groupbuy_events.TEAM_OPENED,
        {
            "activity_id": activity.pk,
            "team_id": team.pk,
            "leader_id": member.customer_id,
            "size": team.size,
            "deadline": team.deadline,
        },
        aggregate=team,
    )
    return team


def _seat_in_some_team(activity: GroupBuy, member: Member, now: datetime) -> Team | None:
    """The chosen team, else another open team with room (fullest first), else a new team."""
    if member.wanted_team_id is not None:
        team = _take_seat(member.wanted_team_id, member, now)
        if team is not None:
            return team
        # a joiner who must be new may still lead a team of their own below
        if not activity.new_customers_only or member.is_new_customer:
            candidates = (
                Team.objects.filter(
                    activity=activity,
                    status=Team.Status.OPEN,
                    deadline__gt=now,
                    seats_taken__lt=F("size"),
                )
                .exclude(pk=member.wanted_team_id)
                .order_by("-seats_taken", "deadline", "pk")
                .values_list("pk", flat=True)[:OTHER_TEAMS]
            )
            for team_id in list(candidates):
                team = _take_seat(team_id, member, now)
                if team is not None:
                    return team
    if activity_phase(activity, now) in (rules.RUNNING, rules.PAUSED):
        return _open_team(activity, member, now)
    return None


def _give_stock_back(member: Member) -> None:
    GroupBuySku.objects.filter(
        activity_id=member.activity_id,
        sku_id=member.sku_id,
        stock_left__lte=F("stock_total") - member.quantity,
    ).update(stock_left=F("stock_left") + member.quantity)


def _refund(member: Member, reason: str) -> None:
    """Refund the member's paid order in full through the payments app (sent after commit)."""
    from siyu.payments import services as payment_services

    order = Order.objects.get(pk=member.order_id)
    actor = Actor.system(current_merchant(), label=SYSTEM_LABEL)
    try:
        payment_services.refund(actor, order, reason=reason, restock=True)
    except DomainError as exc:  # already refunded by staff, or paid outside the gateway
        logger.warning("groupbuy: order %s not refunded automatically: %s", order.number, exc)


def _close_member(member: Member, status: str, note: str, now: datetime) -> None:
    member.status = status
    member.closed_at = now
    member.note = note[:200]
    member.save(update_fields=["status", "closed_at", "note"])
    _give_stock_back(member)


def _succeed(team: Team, now: datetime) -> None:
    team.status = Team.Status.SUCCEEDED
    team.closed_at = now
    team.save(update_fields=["status", "closed_at"])
    members = list(
        Member.objects.filter(team=team, status=Member.Status.SEATED).order_by("order_id")
    )
    for m in members:
        order_services.release_fulfilment(m.order_id, HOLD)
    events.emit(
        current_merchant(),
        groupbuy_events.TEAM_SUCCEEDED,
        {
            "activity_id": team.activity_id,
            "team_id": team.pk,
            "order_ids": [m.order_id for m in members],
            "customer_ids": [m.customer_id for m in members],
        },
        aggregate=team,
    )


SEATING_LOCK_SPACE = 0x6762 << 40  # "gb": the seating locks' share of the 64-bit key space


def _lock_seating(activity_id: int) -> None:
    """Seat one payer of an activity at a time (PostgreSQL: a transaction-level advisory lock).

    The outbox dispatcher seats a batch of payers in one transaction, which keeps every team
    it seated someone in locked until the batch commits. Two batches seating the same teams in
    different orders would wait for each other (a deadlock the race test found); taking the
    activity's lock first makes them queue instead. SQLite's writers queue anyway."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEATING_LOCK_SPACE + activity_id])


def _recheck_new_customer(member: Member, paid_at: datetime) -> None:
    """A joiner was new when they ordered; if another order of theirs was paid before this
    one, they are not any more and lead a team of their own instead of joining."""
    earlier = Order.objects.filter(customer_id=member.customer_id, paid_at__lt=paid_at).exclude(
        pk=member.order_id
    )
    if earlier.exists():
        member.is_new_customer = False
        member.wanted_team = None
        member.save(update_fields=["is_new_customer", "wanted_team"])


@transaction.atomic
def seat_paid(order_id: int) -> Member | None:
    """Seat the payer of a paid group-buy order (None for other orders, or when another
    transaction is seating it right now). Idempotent: a member already seated, refunded or
    cancelled is answered unchanged.

    The member row is taken with ``SKIP LOCKED`` on PostgreSQL: the outbox dispatcher handles a
    batch of events in one transaction and keeps the team it seated someone in locked until
    the batch commits, so waiting here for a member another transaction holds could close a
    cycle (it waits for our team). Skipping is safe: the holder seats the member, and
    :func:`seat_stragglers` (every minute) seats a paid member left pending by a rollback.
    """
    skip_locked = connection.features.has_select_for_update_skip_locked
    member = (
        Member.objects.select_for_update(skip_locked=skip_locked).filter(order_id=order_id).first()
    )
    if member is None or member.status != Member.Status.PENDING:
        return member
    paid = Order.objects.filter(pk=order_id).values_list("paid_at", "distributor_id").first()
    if paid is None or paid[0] is None:
        return member
    now = clock.now()
    activity = GroupBuy.objects.get(pk=member.activity_id)
    if activity.new_customers_only and member.wanted_team_id is not None:
        _recheck_new_customer(member, paid[0])
    _lock_seating(activity.pk)
    team = _seat_in_some_team(activity, member, now)
    if team is None:
        reason = _("The group-buy ended before your payment arrived: refunded in full.")
        _close_member(member, Member.Status.REFUNDED, reason, now)
        _refund(member, reason)
        return member
    member.team = team
    member.seat = team.seats_taken
    member.is_leader = team.leader_id == member.customer_id and member.seat == 1
    member.status = Member.Status.SEATED
    member.seated_at = now
    member.save(update_fields=["team", "seat", "is_leader", "status", "seated_at"])
    events.emit(
        current_merchant(),
        groupbuy_events.MEMBER_JOINED,
        {
            "activity_id": activity.pk,
            "team_id": team.pk,
            "member_id": member.pk,
            "customer_id": member.customer_id,
            "order_id": member.order_id,
            "seat": member.seat,
            "is_leader": member.is_leader,
            "is_new_customer": member.is_new_customer,
            "distributor_id": paid[1],
        },
        aggregate=member,
    )
    if team.seats_taken >= team.size:
        _succeed(team, now)
    return member


@transaction.atomic
def release_unpaid(order_id: int) -> Member | None:
    """An unpaid group-buy order was cancelled: its activity stock comes back (once)."""
    member = Member.objects.select_for_update().filter(order_id=order_id).first()
    if member is None or member.status != Member.Status.PENDING:
        return member
    if Order.objects.filter(pk=order_id, paid_at__isnull=False).exists():
        return member  # paid after all: seating decides
    _close_member(member, Member.Status.CANCELLED, _("Not paid"), clock.now())
    return member


STRAGGLER_AGE = timedelta(minutes=2)


def seat_stragglers(now: datetime | None = None) -> int:
    """Seat paid members still pending a while after their payment (all merchants): the
    consumer that should have seated them rolled back. Answers how many were seated."""
    now = now or clock.now()
    rows = list(
        Member.unscoped.filter(
            status=Member.Status.PENDING,
            order__paid_at__isnull=False,
            order__paid_at__lte=now - STRAGGLER_AGE,
        )
        .order_by("pk")
        .values_list("order_id", "merchant_id")[:FAIL_BATCH]
    )
    merchants = Merchant.objects.in_bulk({merchant_id for _pk, merchant_id in rows})
    seated = 0
    for order_id, merchant_id in rows:
        with merchant_context(merchants[merchant_id]):
            member = seat_paid(order_id)
        seated += member is not None and member.status == Member.Status.SEATED
    return seated


# --- failing teams --------------------------------------------------------------------------------


def _fail_locked(team: Team, now: datetime) -> int:
    """Fail the locked, open ``team``: refund every member, stock back, event. Answers how
    many payments were refunded."""
    team.status = Team.Status.FAILED
    team.closed_at = now
    team.save(update_fields=["status", "closed_at"])
    reason = _("The group-buy team did not fill in time: refunded in full.")
    members = list(
        Member.objects.select_for_update()
        .filter(team=team, status=Member.Status.SEATED)
        .order_by("pk")
    )
    for m in members:
        _close_member(m, Member.Status.REFUNDED, reason, now)
        _refund(m, reason)
    events.emit(
        current_merchant(),
        groupbuy_events.TEAM_FAILED,
        {
            "activity_id": team.activity_id,
            "team_id": team.pk,
            "order_ids": [m.order_id for m in members],
            "customer_ids": [m.customer_id for m in members],
        },
        aggregate=team,
    )
    return len(members)


def fail_overdue(now: datetime | None = None) -> int:
    """Fail every open team past its deadline (all merchants); answers how many failed.

    Each team in its own transaction: the row is taken with ``SKIP LOCKED`` on PostgreSQL (a
    payment seating in it right now finishes first; the next run sees it) and checked again
    under the lock, so running twice at once fails each team once.
    """
    now = now or clock.now()
    skip_locked = connection.features.has_select_for_update_skip_locked
    failed = 0
    last_pk = 0
    while True:
        batch = list(
            Team.unscoped.filter(status=Team.Status.OPEN, deadline__lte=now, pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "merchant_id")[:FAIL_BATCH]
        )
        if not batch:
            return failed
        merchants = Merchant.objects.in_bulk({merchant_id for _pk, merchant_id in batch})
        for pk, merchant_id in batch:
            last_pk = pk
            with merchant_context(merchants[merchant_id]), transaction.atomic():
                team = (
                    Team.objects.select_for_update(skip_locked=skip_locked)
                    .filter(pk=pk, status=Team.Status.OPEN, deadline__lte=now)
                    .first()
                )
                if team is None:
                    continue
                _fail_locked(team, now)
                failed += 1
