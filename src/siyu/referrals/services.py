"""Referral writes: invite codes, devices, registering a friend, qualifying and rewarding.

* :func:`code_of` gives a customer their invite code (made on first use).
* :func:`record_device` remembers a device a customer logged in from (the storefront's
  long-lived device cookie, hashed, and a hash of the user agent).
* :func:`register` is the one way a customer becomes an invitee: through an invite link opened
  *before* they had an account, or a code typed within the programme's days after joining,
  before any paid order. The inviter's code row is locked first (``SELECT … FOR UPDATE``), so
  the caps count every earlier referral of this inviter: two friends at once cannot both pass a
  cap with one place left. The guards (:mod:`siyu.referrals.rules`) decide; a blocked referral
  is kept with its reason and earns nothing. The invitee's reward is given at once.
* :func:`qualify` runs on ``orders.order.completed`` (never on paid): the invitee's first
  completed order, not refunded in full, makes the referral ``qualified`` — unless it goes to
  the inviter's own address — and gives the inviter their reward (``rewarded``).
* Each reward is given at most once per referral and side: the ``ReferralReward`` unique
  constraint, and the coupon's client key or the points' reference name the referral, so a
  replayed event gives nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from siyu.core import audit, clock, events, ids
from siyu.core.actors import Actor
from siyu.core.errors import Conflict, DomainError, InvalidInput, NotFound
from siyu.core.permissions import Perm
from siyu.core.tenancy import current_merchant
from siyu.customers.models import Customer, CustomerAddress
from siyu.referrals import events as referral_events
from siyu.referrals import rules
from siyu.referrals.models import (
    CODE_LENGTH,
    CustomerDevice,
    InviteCode,
    Referral,
    ReferralProgramme,
    ReferralReward,
    RewardKind,
)
from siyu.referrals.services_programme import programme

Status = Referral.Status
Side = ReferralReward.Side
MAX_FORMER_ADDRESSES = 200


@dataclass(frozen=True)
class Device:
    """A storefront device as the guards see it: hashes only, never the cookie itself."""

    device_hash: str
    ua_hash: str = ""


# --- codes and devices -------------------------------------------------------------------------


def code_of(customer: Customer) -> InviteCode:
    """The customer's invite code, made the first time it is asked for."""
    found = InviteCode.objects.filter(customer=customer).first()
    if found is not None:
        return found
    for _attempt in range(8):
        try:
            with transaction.atomic():
                return InviteCode.objects.create(
                    customer=customer, code=ids.short_code(CODE_LENGTH)
                )
        except IntegrityError:  # the code was taken, or a concurrent request made theirs
            found = InviteCode.objects.filter(customer=customer).first()
            if found is not None:
                return found
    raise DomainError(_("Could not make an invite code: try again."), code="busy")


def find_code(raw: object) -> InviteCode | None:
    code = rules.clean_code(raw)
    if code is None:
        return None
    return InviteCode.objects.select_related("customer").filter(code=code).first()


def record_device(customer: Customer, device: Device) -> CustomerDevice | None:
    """Remember that ``customer`` logged in from ``device`` (first and last seen)."""
    if not device.device_hash:
        return None
    now = clock.now()
    updated = CustomerDevice.objects.filter(
        customer=customer, device_hash=device.device_hash
    ).update(last_seen_at=now, ua_hash=device.ua_hash)
    if updated:
        return None
    try:
        with transaction.atomic():
            return CustomerDevice.objects.create(
                customer=customer,
                device_hash=device.device_hash,
                ua_hash=device.ua_hash,
                first_seen_at=now,
                last_seen_at=now,
            )
    except IntegrityError:  # recorded by a concurrent request
        return None


# --- registering -------------------------------------------------------------------------------


def running(current: ReferralProgramme, now: datetime) -> bool:
    return current.status == ReferralProgramme.Status.ACTIVE and rules.within_schedule(
        now, current.starts_at, current.ends_at
    )


def _refuse(reason: str, code: str) -> InvalidInput:
    return InvalidInput(reason, fields={"code": reason}, code=code)


def _phones_of(inviter: Customer) -> frozenset[str]:
    from siyu.customers.services_accounts import normalise_phone

    found = {inviter.phone}
    for raw in CustomerAddress.objects.filter(customer=inviter).values_list("phone", flat=True):
        try:
            found.add(normalise_phone(raw))
        except DomainError:
            continue
    return frozenset(p for p in found if p)


def _facts(
    current: ReferralProgramme,
    inviter: Customer,
    invitee: Customer,
    device: Device | None,
    now: datetime,
) -> rules.Facts:
    others = Referral.objects.filter(inviter=inviter).exclude(invitee=invitee)
    other_ids = list(others.values_list("invitee_id", flat=True))
    other_devices = set(others.exclude(device_hash="").values_list("device_hash", flat=True))
    other_devices |= set(
        CustomerDevice.objects.filter(customer_id__in=other_ids).values_list(
            "device_hash", flat=True
        )
    )
    mine = set(
        CustomerDevice.objects.filter(customer=invitee).values_list("device_hash", flat=True)
    )
    if device is not None and device.device_hash:
        mine.add(device.device_hash)
    counted = Referral.objects.filter(inviter=inviter).exclude(status=Status.BLOCKED)
    since = rules.month_start(now, current_merchant().time_zone)
    return rules.Facts(
        inviter_id=inviter.pk,
        invitee_id=invitee.pk,
        invitee_phone=invitee.phone,
        invitee_devices=frozenset(mine),
        inviter_phones=_phones_of(inviter),
        other_invitee_phones=frozenset(others.values_list("invitee_phone", flat=True)),
        inviter_devices=frozenset(
            CustomerDevice.objects.filter(customer=inviter).values_list("device_hash", flat=True)
        ),
        other_invitee_devices=frozenset(other_devices),
        month_count=counted.filter(created_at__gte=since).count(),
        total_count=counted.count(),
        cap_per_month=current.cap_per_month,
        cap_total=current.cap_total,
        guards=rules.Guards(
            phone=current.guard_phone, device=current.guard_device, address=current.guard_address
        ),
    )


def _is_new(
    current: ReferralProgramme,
    customer: Customer,
    source: str,
    tapped_at: datetime | None,
    now: datetime,
) -> bool:
    from siyu.orders.models import Order

    if source == Referral.Source.LINK and tapped_at is not None:
        return customer.created_at >= tapped_at
    paid = Order.objects.filter(customer=customer, paid_at__isnull=False).exists()
    return rules.may_type_code(
        customer.created_at, now, current.code_entry_days, has_paid_order=paid
    )


def register(
    customer: Customer,
    raw_code: object,
    *,
    source: str,
    tapped_at: datetime | None = None,
    device: Device | None = None,
) -> Referral:
    """Make ``customer`` the invitee of the code's owner (``source``: ``link`` with the time the
    link was opened, or ``code`` typed by hand). Answers the referral — ``registered``, or
    ``blocked`` with the guard's reason. Refuses (422 on ``code``) an unknown code, a paused or
    ended programme, a customer who is not new, or one invited already by someone else; a
    repeat with the same code answers the first referral."""
    if source not in Referral.Source.values:
        raise InvalidInput(_("Unknown source."), fields={"source": _("Unknown source.")})
    code = rules.clean_code(raw_code)
    if code is None:
        raise _refuse(_("Enter the invite code you were given (letters and digits)."), "invalid")
    invite = InviteCode.objects.select_related("customer").filter(code=code).first()
    if invite is None:
        raise _refuse(_("No one has this invite code: check it and try again."), "unknown_code")
    previous = Referral.objects.filter(invitee=customer).first()
    if previous is not None:
        if previous.inviter_id == invite.customer_id:
            return previous
        raise _refuse(_("You have already been invited by someone else."), "already_invited")
    now = clock.now()
    current = programme()
    if not running(current, now):
        raise _refuse(_("The invitation programme is not running at the moment."), "not_running")
    inviter = invite.customer
    if inviter.pk != customer.pk:
        if inviter.status != Customer.Status.ACTIVE:
            raise _refuse(_("This invitation is no longer valid."), "inviter_inactive")
        if inviter.created_at > customer.created_at:
            raise _refuse(_("This code belongs to someone who joined after you."), "not_new")
    if not _is_new(current, customer, source, tapped_at, now):
        raise _refuse(
            _("Invitations are for new customers: you already had an account."), "not_new"
        )
    try:
        with transaction.atomic():
            return _register_locked(current, invite, customer, source, tapped_at, device, now)
    except IntegrityError:  # a concurrent registration of this customer won
        previous = Referral.objects.filter(invitee=customer).first()
        if previous is not None and previous.inviter_id == inviter.pk:
            return previous
        raise _refuse(
            _("You have already been invited by someone else."), "already_invited"
        ) from None


def _register_locked(
    current: ReferralProgramme,
    invite: InviteCode,
    customer: Customer,
    source: str,
    tapped_at: datetime | None,
    device: Device | None,
    now: datetime,
) -> Referral:
    # the inviter's code row queues every referral of this inviter: the caps count them all
    InviteCode.objects.select_for_update().filter(pk=invite.pk).get()
    inviter = invite.customer
    blocked = rules.block_reason(_facts(current, inviter, customer, device, now))
    referral = Referral.objects.create(
        inviter=inviter,
        invitee=customer,
        code=invite.code,
        source=source,
        status=Status.BLOCKED if blocked else Status.REGISTERED,
        block_reason=blocked[0] if blocked else "",
        block_detail=blocked[1] if blocked else "",
        invitee_phone=customer.phone,
        device_hash=device.device_hash if device else "",
        ua_hash=device.ua_hash if device else "",
        tapped_at=tapped_at,
        created_at=now,
        blocked_at=now if blocked else None,
    )
    if blocked:
        _emit_blocked(referral)
        return referral
    events.emit(
        current_merchant(),
        referral_events.REFERRAL_REGISTERED,
        {
            "referral_id": referral.pk,
            "inviter_id": inviter.pk,
            "invitee_id": customer.pk,
            "source": source,
        },
        aggregate=referral,
    )
    give_reward(referral, Side.INVITEE, current)
    return referral


def _emit_blocked(referral: Referral) -> None:
    events.emit(
        current_merchant(),
        referral_events.REFERRAL_BLOCKED,
        {
            "referral_id": referral.pk,
            "inviter_id": referral.inviter_id,
            "invitee_id": referral.invitee_id,
            "reason": referral.block_reason,
            "detail": referral.block_detail,
        },
        aggregate=referral,
    )


# --- rewards -----------------------------------------------------------------------------------


def _coupon_reward(
    referral: Referral, side: str, customer: Customer, template_id: int | None
) -> tuple[int | None, str]:
    """Issue the reward coupon: (coupon id, problem)."""
    from siyu.promotions.models import Coupon
    from siyu.promotions.services import claim

    if template_id is None:
        return None, _("No coupon is set for this reward.")
    try:
        coupon = claim(
            template_id,
            customer,
            source=Coupon.Source.REFERRAL,
            client_key=f"referral:{referral.pk}:{side}",
            check_audience=False,
        )
    except DomainError as exc:
        return None, (exc.fields.get("template_id") or exc.message or exc.code)[:200]
    return coupon.pk, ""


def _points_reward(referral: Referral, side: str, customer: Customer, points: int) -> str:
    """Award the reward points: the problem, or empty."""
    try:
        from siyu.loyalty import services as loyalty_services

        award = loyalty_services.award
    except (ImportError, AttributeError):
        return _("Points cannot be given yet: the loyalty app is missing.")
    try:
        award(
            customer,
            points,
            reason=f"referral_{side}",
            reference=f"referral:{referral.pk}:{side}",
        )
    except DomainError as exc:
        return (exc.message or exc.code)[:200]
    return ""


def _hand_out(
    referral: Referral,
    side: str,
    customer: Customer,
    kind: str,
    template_id: int | None,
    points: int,
) -> tuple[int | None, str]:
    """Issue the coupon or award the points: (coupon id, problem). Idempotent by the referral
    and side (the coupon's client key, the points' reference), so a retry never gives twice."""
    if kind == RewardKind.COUPON:
        return _coupon_reward(referral, side, customer, template_id)
    return None, _points_reward(referral, side, customer, points)


def _mark_rewarded(referral: Referral, reward: ReferralReward | None, now: datetime) -> None:
    referral.status = Status.REWARDED
    referral.rewarded_at = now
    referral.save(update_fields=["status", "rewarded_at"])
    events.emit(
        current_merchant(),
        referral_events.REFERRAL_REWARDED,
        {
            "referral_id": referral.pk,
            "inviter_id": referral.inviter_id,
            "reward": reward.kind if reward else RewardKind.NONE,
        },
        aggregate=referral,
    )


@transaction.atomic
def retry_reward(actor: Actor, reward_id: object) -> ReferralReward:
    """Try again to give a reward that could not be issued (the coupon had run out, points
    were off): with the programme's current coupon or points for that side. An inviter's
    reward issued now marks the referral rewarded. Idempotent: an issued reward is refused
    with 409, never given twice."""
    actor.require(Perm.PROMOTIONS_MANAGE)
    reward = (
        ReferralReward.objects.select_for_update()
        .select_related("referral", "customer")
        .filter(pk=reward_id if isinstance(reward_id, int) else 0)
        .first()
    )
    if reward is None:
        raise NotFound(_("Not found."))
    if reward.status == ReferralReward.Status.ISSUED:
        raise Conflict(_("This reward was issued already."), code="already_issued")
    current = programme()
    kind = getattr(current, f"{reward.side}_reward")
    if kind == RewardKind.NONE:
        reason = _("The programme gives this side no reward now: set one first.")
        raise Conflict(reason, code="no_reward")
    template_id = getattr(current, f"{reward.side}_template_id")
    points = getattr(current, f"{reward.side}_points")
    referral = Referral.objects.select_for_update().get(pk=reward.referral_id)
    coupon_id, problem = _hand_out(
        referral, reward.side, reward.customer, kind, template_id, points
    )
    reward.kind = kind
    reward.status = ReferralReward.Status.FAILED if problem else ReferralReward.Status.ISSUED
    reward.problem = problem
    reward.template_id = template_id if kind == RewardKind.COUPON else None
    reward.coupon_id = coupon_id
    reward.points = points if kind == RewardKind.POINTS and not problem else 0
    reward.save(update_fields=["kind", "status", "problem", "template_id", "coupon", "points"])
    audit.record(
        actor,
        "referrals.reward.retried",
        reward,
        after={"status": reward.status, "problem": problem, "kind": kind},
    )
    issued = reward.status == ReferralReward.Status.ISSUED
    if issued and reward.side == Side.INVITER and referral.status == Status.QUALIFIED:
        _mark_rewarded(referral, reward, clock.now())
    return reward


def give_reward(referral: Referral, side: str, current: ReferralProgramme) -> ReferralReward | None:
    """Give one side of ``referral`` the programme's reward, once: a second call answers the
    first call's row. None when the programme gives this side nothing."""
    existing = ReferralReward.objects.filter(referral=referral, side=side).first()
    if existing is not None:
        return existing
    kind = getattr(current, f"{side}_reward")
    if kind == RewardKind.NONE:
        return None
    customer = referral.invitee if side == Side.INVITEE else referral.inviter
    template_id = getattr(current, f"{side}_template_id")
    points = getattr(current, f"{side}_points")
    coupon_id, problem = _hand_out(referral, side, customer, kind, template_id, points)
    try:
        with transaction.atomic():
            return ReferralReward.objects.create(
                referral=referral,
                side=side,
                customer=customer,
                kind=kind,
                status=ReferralReward.Status.FAILED if problem else ReferralReward.Status.ISSUED,
                problem=problem,
                template_id=template_id if kind == RewardKind.COUPON else None,
                coupon_id=coupon_id,
                points=points if kind == RewardKind.POINTS and not problem else 0,
                created_at=clock.now(),
            )
    except IntegrityError:  # a concurrent delivery of the same event recorded it
        return ReferralReward.objects.get(referral=referral, side=side)


# --- qualifying --------------------------------------------------------------------------------


def _inviter_addresses(inviter: Customer) -> set[str]:
    from siyu.orders.models import Order

    known = {
        rules.normalise_address(a)
        for a in CustomerAddress.objects.filter(customer=inviter).values(*rules.ADDRESS_PARTS)
    }
    shipped = (
        Order.objects.filter(customer=inviter, shipping_address__isnull=False)
        .order_by("-placed_at")
        .values_list("shipping_address", flat=True)[:MAX_FORMER_ADDRESSES]
    )
    known |= {rules.normalise_address(a) for a in shipped if isinstance(a, dict)}
    known.discard("")
    return known


def _is_first_completed(order: object) -> bool:
    from siyu.orders.models import Order

    assert isinstance(order, Order)
    earlier = (
        Order.objects.filter(customer_id=order.customer_id, status=Order.Status.COMPLETED)
        .exclude(pk=order.pk)
        .filter(completed_at__lte=order.completed_at)
        .exclude(refund_state=Order.RefundState.FULL)
    )
    return not earlier.exists()


@transaction.atomic
def qualify(order_id: int) -> Referral | None:
    """The order ``order_id`` completed: if it is its customer's first completed order (not
    refunded in full) and they are a registered invitee, the referral qualifies and the inviter
    is rewarded — or it is blocked when the order goes to the inviter's address. Idempotent:
    a referral past ``registered`` is left alone."""
    from siyu.orders.models import Order

    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.status != Order.Status.COMPLETED:
        return None  # paid, shipped, cancelled: nothing yet
    referral = (
        Referral.objects.select_for_update()
        .select_related("inviter", "invitee")
        .filter(invitee_id=order.customer_id)
        .first()
    )
    if referral is None or referral.status != Status.REGISTERED:
        return referral
    if order.refund_state == Order.RefundState.FULL or not _is_first_completed(order):
        return referral
    current = programme()
    now = clock.now()
    if current.guard_address and rules.same_address(
        order.shipping_address, _inviter_addresses(referral.inviter)
    ):
        referral.status = Status.BLOCKED
        referral.block_reason = rules.SAME_ADDRESS
        referral.block_detail = f"order {order.number}"
        referral.blocked_at = now
        referral.qualifying_order_id = order.pk
        referral.save(
            update_fields=[
                "status",
                "block_reason",
                "block_detail",
                "blocked_at",
                "qualifying_order_id",
            ]
        )
        _emit_blocked(referral)
        return referral
    referral.status = Status.QUALIFIED
    referral.qualified_at = now
    referral.qualifying_order_id = order.pk
    referral.save(update_fields=["status", "qualified_at", "qualifying_order_id"])
    events.emit(
        current_merchant(),
        referral_events.REFERRAL_QUALIFIED,
        {"referral_id": referral.pk, "inviter_id": referral.inviter_id, "order_id": order.pk},
        aggregate=referral,
    )
    reward = give_reward(referral, Side.INVITER, current)
    if reward is None or reward.status == ReferralReward.Status.ISSUED:
        _mark_rewarded(referral, reward, now)
    return referral


def note_coupon_discount(coupon_id: int, discount: int) -> int:
    """A reward coupon was used (``discount`` fen) or given back (0): what it cost, set — not
    added — so a replayed event changes nothing. The rewards updated."""
    return ReferralReward.objects.filter(coupon_id=coupon_id).update(discount_used=max(0, discount))
